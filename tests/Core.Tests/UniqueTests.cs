namespace Ember.Core.Tests;

/// <summary>Unique and UniqueConsecutive beyond the golden rows: exact Int64, NaN, positional meaning, empty input, errors.</summary>
public class UniqueTests
{
    [Test]
    public void Int64ValuesAboveTwoToThe53AreKeptApart()
    {
        long big = 1L << 60;
        var (v, inv, c) = Tensor.FromArray(new[] { big + 1, big, big + 1, -3 }).Unique(returnInverse: true, returnCounts: true);
        Assert.That(v.ToArray<long>(), Is.EqualTo(new[] { -3, big, big + 1 }));
        Assert.That(inv!.ToArray<long>(), Is.EqualTo(new long[] { 2, 1, 2, 0 }));
        Assert.That(c!.ToArray<long>(), Is.EqualTo(new long[] { 1, 1, 2 }));
    }

    [Test]
    public void NaNsAreDistinctAndLast()
    {
        var (v, _, c) = Tensor.FromArray(new[] { double.NaN, 1.0, double.NaN, 1.0 }).Unique(returnCounts: true);
        var values = v.ToArray<double>();
        Assert.That(values[0], Is.EqualTo(1.0));
        Assert.That(values.Skip(1).All(double.IsNaN), Is.True);
        Assert.That(c!.ToArray<long>(), Is.EqualTo(new long[] { 2, 1, 1 }));
    }

    [Test]
    public void FirstPositionalArgumentIsSortedAsInPyTorch()
    {
        // torch.unique(x, True) means sorted=True: no inverse is returned.
        var (_, inv, counts) = Tensor.FromArray(new long[] { 3, 1, 3 }).Unique(true);
        Assert.That(inv, Is.Null);
        Assert.That(counts, Is.Null);
    }

    [Test]
    public void UniqueDimAndConsecutiveHandleEmptyAndNegativeDims()
    {
        var x = Tensor.FromArray(new long[] { 1, 2, 1, 2, 3, 4 }, 3, 2);
        var (v, inv, _) = x.Unique(returnInverse: true, dim: -2);
        Assert.That(v.ToArray<long>(), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
        Assert.That(inv!.ToArray<long>(), Is.EqualTo(new long[] { 0, 0, 1 }));
        var (e, ei, ec) = Tensor.Zeros([0, 3], DType.Int64).UniqueConsecutive(true, true, dim: 0);
        Assert.That(e.Shape.ToArray(), Is.EqualTo(new long[] { 0, 3 }));
        Assert.That(ei!.Numel + ec!.Numel, Is.EqualTo(0));
        U.Throws<ArgumentOutOfRangeException>(() => x.Unique(dim: 2), "Unique");
        U.Throws<ArgumentOutOfRangeException>(() => x.UniqueConsecutive(dim: -3), "UniqueConsecutive");
    }
}
