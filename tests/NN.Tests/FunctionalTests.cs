namespace Ember.NN.Tests;

public class FunctionalTests
{
    [TestCase("sdpa")]
    [TestCase("sdpa_causal")]
    [TestCase("sdpa_boolmask")]
    [TestCase("sdpa_floatmask")]
    public void ScaledDotProductAttentionMatchesPyTorch(string name)
    {
        var c = Golden.Case("functional", name);
        var x = c["inputs"]!.AsArray().Select(n => Golden.T(n).RequiresGrad_()).ToArray();
        var mask = c["mask"] is { } m ? Golden.T(m) : null;
        var y = Functional.ScaledDotProductAttention(x[0], x[1], x[2], mask, isCausal: name == "sdpa_causal");
        Golden.AssertClose(y, Golden.T(c["output"]), 1e-10, 1e-8, "output");
        (y * Golden.T(c["grad_output"])).Sum().Backward();
        for (int i = 0; i < 3; i++) Golden.AssertClose(x[i].Grad!, Golden.T(c["input_grads"]![i]), 1e-10, 1e-8, $"grad {i}");
    }

    private static Tensor R(params long[] shape) => Tensor.Randn(shape, DType.Float64);

    [Test]
    public void GradCheckConvPoolNorm()
    {
        Tensor.ManualSeed(5);
        Assert.That(GradCheck.Check(t => Functional.Conv2d(t[0], t[1], t[2], (2, 1), (1, 1), (1, 2), groups: 2), [R(1, 4, 4, 5).RequiresGrad_(), R(2, 2, 2, 2).RequiresGrad_(), R(2).RequiresGrad_()]), Is.True);
        Assert.That(GradCheck.Check(t => Functional.ConvTranspose2d(t[0], t[1], t[2], (2, 2), (1, 0), (1, 0)), [R(1, 2, 3, 3).RequiresGrad_(), R(2, 3, 3, 2).RequiresGrad_(), R(3).RequiresGrad_()]), Is.True);
        Assert.That(GradCheck.Check(t => Functional.LayerNorm(t[0], [3], t[1], t[2]), [R(4, 3).RequiresGrad_(), R(3).RequiresGrad_(), R(3).RequiresGrad_()]), Is.True);
        Assert.That(GradCheck.Check(t => Functional.MaxPool2d(t[0], (2, 2), (1, 1)), [R(1, 2, 3, 3).RequiresGrad_()]), Is.True);
        Assert.That(GradCheck.Check(t => Functional.AvgPool2d(t[0], (3, 3), (2, 2), (1, 1), countIncludePad: false), [R(1, 1, 4, 5).RequiresGrad_()]), Is.True);
        Assert.That(GradCheck.Check(t => Functional.GroupNorm(t[0], 2, t[1], t[2]), [R(2, 4, 3).RequiresGrad_(), R(4).RequiresGrad_(), R(4).RequiresGrad_()]), Is.True);
        Assert.That(GradCheck.Check(t => Functional.CrossEntropy(t[0], Tensor.FromArray([2L, 0L, 1L]), labelSmoothing: 0.1), [R(3, 4).RequiresGrad_()]), Is.True);
    }

    [Test]
    public void ShapeErrorsNameTheOp()
    {
        Assert.That(() => Functional.Conv2d(Tensor.Zeros(1, 3, 4, 4), Tensor.Zeros(2, 2, 3, 3)), Throws.ArgumentException.With.Message.Contains("Conv2d"));
        Assert.That(() => Functional.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(3, 4)), Throws.ArgumentException.With.Message.Contains("Linear"));
        Assert.That(() => Functional.LayerNorm(Tensor.Zeros(2, 5), [4]), Throws.ArgumentException.With.Message.Contains("LayerNorm"));
    }
}
