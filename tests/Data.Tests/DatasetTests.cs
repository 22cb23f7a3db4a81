namespace Ember.Data.Tests;

public class DatasetTests
{
    private static TensorDataset Numbers(int n) =>
        new(Tensor.Arange(n, DType.Float32).Reshape(n, 1), Tensor.Arange(n));

    [Test]
    public void TensorDatasetSlicesAlongDimZero()
    {
        var ds = new TensorDataset(Tensor.Arange(12, DType.Float32).Reshape(4, 3), Tensor.Arange(4));
        var (x, y) = ds[2];
        Assert.That(ds.Count, Is.EqualTo(4));
        Assert.That(x.ToArray<float>(), Is.EqualTo(new float[] { 6, 7, 8 }));
        Assert.That(y.Item<long>(), Is.EqualTo(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = ds[4]);
        Assert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros(4)));
    }

    [Test]
    public void TensorArrayDatasetHoldsAnyNumberOfTensors()
    {
        var ds = new TensorArrayDataset(Tensor.Arange(3), Tensor.Arange(3) * 10, Tensor.Arange(3) * 100);
        var (a, b, c) = ds[1];
        Assert.That((a.Item<long>(), b.Item<long>(), c.Item<long>()), Is.EqualTo((1L, 10L, 100L)));
    }

    [Test]
    public void SubsetAndConcat()
    {
        var ds = Numbers(10);
        var sub = new Subset<(Tensor Input, Tensor Target)>(ds, [7, 2, 5]);
        Assert.That(sub.Count, Is.EqualTo(3));
        Assert.That(sub[0].Target.Item<long>(), Is.EqualTo(7));
        var cat = new ConcatDataset<(Tensor Input, Tensor Target)>(sub, Numbers(0), Numbers(2));
        Assert.That(cat.Count, Is.EqualTo(5));
        Assert.That(Enumerable.Range(0, 5).Select(i => cat[i].Target.Item<long>()), Is.EqualTo(new long[] { 7, 2, 5, 0, 1 }));
        Assert.That((ds + ds).Count, Is.EqualTo(20));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = cat[5]);
    }

    [Test]
    public void RandomSplitLengthsMatchPyTorchAndPartsAreDisjoint()
    {
        foreach (var c in Golden.Load("random_split.json").EnumerateArray())
        {
            int n = c.GetProperty("n").GetInt32();
            var fractions = c.GetProperty("fractions").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var parts = Dataset.RandomSplit(Numbers(n), fractions, new Generator(0));
            Assert.That(parts.Select(p => p.Count), Is.EqualTo(Golden.Ints(c.GetProperty("lengths"))));
            var all = parts.SelectMany(p => p.Indices).ToArray();
            Assert.That(all.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, n)));
        }
    }

    [Test]
    public void RandomSplitIsReproducibleWithASeed()
    {
        var a = Dataset.RandomSplit(Numbers(30), [20, 10], new Generator(4));
        var b = Dataset.RandomSplit(Numbers(30), [20, 10], new Generator(4));
        Assert.That(a[0].Indices, Is.EqualTo(b[0].Indices));
        Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(Numbers(30), [20, 9]));
    }

    [Test]
    public void MapAppliesLazily()
    {
        int calls = 0;
        var mapped = Numbers(5).Map(p => { calls++; return p.Target.Item<long>() * 2; });
        Assert.That(calls, Is.Zero);
        Assert.That(mapped[3], Is.EqualTo(6));
        Assert.That(calls, Is.EqualTo(1));
    }
}
