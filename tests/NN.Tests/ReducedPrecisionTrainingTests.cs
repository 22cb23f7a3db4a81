using Ember.Optim;

namespace Ember.NN.Tests;

/// <summary>Modules converted with Half()/BFloat16() run forward and backward in the narrow dtype and train.</summary>
public class ReducedPrecisionTrainingTests
{
    private static Sequential Mlp() => new(new Linear(6, 16), new LayerNorm([16]), new GELU(), new Linear(16, 4));

    [TestCase(DType.Float16, 2e-2), TestCase(DType.BFloat16, 6e-2)]
    public void NarrowModelMatchesFloat32ModelAndTrains(DType dtype, double tol)
    {
        Tensor.ManualSeed(3);
        var reference = Mlp();
        var narrow = Mlp();
        narrow.LoadStateDict(reference.StateDict());
        narrow = dtype == DType.Float16 ? narrow.Half() : narrow.BFloat16();
        Assert.That(narrow.Parameters().All(p => p.DType == dtype), Is.True, "every parameter converted");

        var x = Tensor.Randn(32, 6);
        var labels = Tensor.RandInt(0, 4, [32]);
        // The narrow forward pass tracks the float32 one within the dtype's precision.
        var y32 = reference.Call(x);
        var yn = narrow.Call(x.To(dtype));
        Assert.That(yn.DType, Is.EqualTo(dtype));
        var diff = (yn.Float() - y32).Abs().Max().Item();
        Assert.That(diff, Is.LessThan(tol), $"max |narrow − float32| = {diff}");

        var opt = new Adam(narrow.Parameters(), lr: 1e-2);
        double first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            opt.ZeroGrad();
            var loss = Functional.CrossEntropy(narrow.Call(x.To(dtype)), labels);
            Assert.That(loss.DType, Is.EqualTo(dtype));
            loss.Backward();
            Assert.That(narrow.Parameters().All(p => p.Grad!.DType == dtype), Is.True, "gradients in the parameters' dtype");
            opt.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.That(narrow.Parameters().All(p => p.DType == dtype), Is.True, "the optimizer keeps the dtype");
        Assert.That(last, Is.LessThan(first * 0.5), $"loss {first} → {last}");
    }
}
