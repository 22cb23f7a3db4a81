namespace Ember.AutogradTests;

/// <summary>
/// The engine writes slices' gradients straight into one buffer per input (no zero fill of the whole input per slice):
/// the values must equal the formula's (zeros outside every window, sums where windows overlap, dense uses added).
/// Anomaly mode runs each slice's formula instead, so it is the reference.
/// </summary>
public class SliceGradientTests
{
    private static double[] GradOf(Tensor x, Func<Tensor, Tensor> f, bool formula)
    {
        x.Grad = null;
        if (formula)
            using (Autograd.DetectAnomaly()) f(x).Backward();
        else f(x).Backward();
        return T.D(x.Grad!);
    }

    private static void SameAsFormula(long[] shape, Func<Tensor, Tensor> f, bool nonContiguous = false)
    {
        var x = T.U(shape, nonContiguous: nonContiguous);
        var expected = GradOf(x, f, formula: true);
        var actual = GradOf(x, f, formula: false);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-12));
    }

    // Σ_k Σ part_k ⊙ w_k with weights that differ per part, so a gradient in the wrong window shows.
    private static Tensor Weighted(Tensor[] parts) =>
        parts.Select((p, k) => (p * (Tensor.Arange(p.Numel, DType.Float64).Reshape(p.Shape.ToArray()) * 0.1 + k)).Sum())
            .Aggregate((a, b) => a + b);

    [Test]
    public void UnbindOfThePermutedQkvCoversTheBuffer() =>
        SameAsFormula([2, 5, 3 * 4], x => Weighted(x.Reshape(2, 5, 3, 2, 2).Permute(2, 0, 3, 1, 4).Unbind(0)));

    [Test]
    public void SelectsOfANonContiguousInput() =>
        SameAsFormula([4, 3, 5], x => Weighted([x[1], x[3], x[0]]), nonContiguous: true);

    [Test]
    public void UncoveredPositionsAreZero()
    {
        // Rows 1, 2 (narrow) and 3, 5 (step 2) are read; rows 0 and 4 get zero gradient.
        SameAsFormula([6, 3], x => Weighted([x.Narrow(0, 1, 2), x.Slice(0, 3, 6, 2)]));
        var x = T.U([6, 3]);
        Weighted([x.Narrow(0, 1, 2), x.Slice(0, 3, 6, 2)]).Backward();
        var g = T.D(x.Grad!);
        Assert.That(g[0..3].Concat(g[12..15]), Is.All.EqualTo(0.0));
    }

    [Test]
    public void OverlappingWindowsAddUp()
    {
        SameAsFormula([5, 2], x => Weighted([x.Narrow(0, 0, 3), x.Narrow(0, 2, 3)]));
        SameAsFormula([5, 2], x => Weighted([x.Narrow(0, 0, 2), x.Narrow(0, 1, 3), x.Narrow(0, 0, 5)]));
    }

    [Test]
    public void SlicesAndDenseUsesAddUp()
    {
        SameAsFormula([4, 3], x => Weighted([x.Narrow(0, 0, 2), x * 2, x.Narrow(0, 3, 1)]));
        SameAsFormula([4, 3], x => Weighted([x * 3, x.Narrow(1, 1, 2)]));
    }

    [Test]
    public void SlicesAlongDifferentDims() =>
        SameAsFormula([4, 6], x => Weighted([x.Narrow(0, 1, 2), x.Narrow(1, 0, 3), x.Narrow(0, 0, 1)]));

    [Test]
    public void ChunksOfAnIntermediate() =>
        SameAsFormula([3, 8], x => Weighted((x.Exp() * 2).Chunk(4, 1)));

    [Test]
    public void TheSecondBackwardWithRetainGraphMatches()
    {
        var x = T.U([3, 4]);
        var y = Weighted(x.Unbind(0));
        y.Backward(retainGraph: true);
        var first = T.D(x.Grad!);
        x.Grad = null;
        y.Backward();
        Assert.That(T.D(x.Grad!), Is.EqualTo(first).Within(1e-12));
    }
}
