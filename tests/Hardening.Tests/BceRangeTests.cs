using Ember.NN;

namespace Ember.Hardening.Tests;

/// <summary>BinaryCrossEntropy checks that input and target lie in [0, 1] (PyTorch's messages).</summary>
public class BceRangeTests
{
    [TestCase(1.5f)]
    [TestCase(-0.1f)]
    [TestCase(float.NaN)]
    public void InputOutsideZeroOneIsRefused(float bad)
    {
        var x = Tensor.FromArray(new float[] { 0.2f, bad, 0.7f });
        var y = Tensor.FromArray(new float[] { 0, 1, 1 });
        Assert.That(() => Functional.BinaryCrossEntropy(x, y), Throws.ArgumentException.With.Message.Contains("all elements of input should be between 0 and 1"));
    }

    [TestCase(2f)]
    [TestCase(-1f)]
    public void TargetOutsideZeroOneIsRefused(float bad)
    {
        var x = Tensor.FromArray(new float[] { 0.2f, 0.5f, 0.7f });
        var y = Tensor.FromArray(new float[] { 0, bad, 1 });
        Assert.That(() => new BCELoss().Forward(x, y), Throws.ArgumentException.With.Message.Contains("all elements of target should be between 0 and 1"));
    }

    [Test]
    public void BoundsAreAccepted()
    {
        var x = Tensor.FromArray(new double[] { 0, 1, 0.5 });
        var y = Tensor.FromArray(new double[] { 0, 1, 0.25 });
        var loss = Functional.BinaryCrossEntropy(x, y, reduction: Reduction.Sum).Item();
        Assert.That(loss, Is.EqualTo(-(0.25 * Math.Log(0.5) + 0.75 * Math.Log(0.5))).Within(1e-12));
    }
}
