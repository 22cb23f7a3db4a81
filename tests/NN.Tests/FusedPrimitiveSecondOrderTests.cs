namespace Ember.NN.Tests;

/// <summary>
/// Second-order gradients through the fused primitives whose backward entries are themselves differentiable ops:
/// the three convolution primitives (each one's gradients are the other two) and layer norm's createGraph formula.
/// Float64, against finite differences of the first-order gradients.
/// </summary>
public class FusedPrimitiveSecondOrderTests
{
    private static Tensor R(params long[] shape) => Tensor.Randn(shape, DType.Float64).RequiresGrad_();

    [SetUp]
    public void Seed() => Tensor.ManualSeed(11);

    [Test]
    public void Conv2dStridedGroupedWithBias() =>
        Assert.That(GradCheck.CheckSecondOrder(t => Functional.Conv2d(t[0], t[1], t[2], (2, 1), (1, 1), groups: 2).Square(),
            [R(2, 4, 5, 4), R(4, 2, 3, 2), R(4)]), Is.True);

    [Test]
    public void Conv2dStrideOneTakesTheSameFormulas() =>
        Assert.That(GradCheck.CheckSecondOrder(t => Functional.Conv2d(t[0], t[1], null, padding: (1, 1)).Square(),
            [R(1, 2, 4, 4), R(3, 2, 3, 3)]), Is.True);

    [Test]
    public void ConvTranspose2d() =>
        Assert.That(GradCheck.CheckSecondOrder(t => Functional.ConvTranspose2d(t[0], t[1], t[2], (2, 2), (1, 0), (1, 0)).Square(),
            [R(1, 2, 3, 3), R(2, 3, 3, 2), R(3)]), Is.True);

    [Test]
    public void LayerNormWithAffine() =>
        Assert.That(GradCheck.CheckSecondOrder(t => Functional.LayerNorm(t[0], [2, 3], t[1], t[2]).Square(),
            [R(4, 2, 3), R(2, 3), R(2, 3)]), Is.True);
}
