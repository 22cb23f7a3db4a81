namespace Ember.AutogradTests;

/// <summary>ActivationCheckpoint.Run: same values and gradients as the plain call, recomputation in backward, random state replayed.</summary>
public class ActivationCheckpointTests
{
    private static Tensor Block(Tensor x, Tensor w, Tensor b) => (x.MatMul(w) + b).Tanh().MatMul(w.mT).Sigmoid();

    [Test]
    public void ValuesAndGradientsMatchTheUncheckpointedSegment()
    {
        var x = T.U([3, 4]); var w = T.U([4, 4]); var b = T.U([4]);
        var plain = Block(x, w, b);
        (plain * plain).Sum().Backward();
        var gx = x.Grad!.Clone(); var gw = w.Grad!.Clone(); var gb = b.Grad!.Clone();
        x.Grad = null; w.Grad = null; b.Grad = null;

        int calls = 0;
        var y = ActivationCheckpoint.Run(xs => { calls++; return Block(xs[0], w, b); }, x);
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(y.GradFn!.Name, Is.EqualTo("CheckpointFunctionBackward"));
        T.Close(y, T.D(plain), 1e-14);
        (y * y).Sum().Backward();
        Assert.That(calls, Is.EqualTo(2), "backward recomputes the segment once");
        T.Close(x.Grad, T.D(gx), 1e-12);
        T.Close(w.Grad, T.D(gw), 1e-12);   // parameters captured by the segment get their gradients too
        T.Close(b.Grad, T.D(gb), 1e-12);
    }

    [Test]
    public void GradCheckThroughTheCheckpointWithTwoInputs()
    {
        var w = T.U([4, 2], grad: false);
        Assert.That(GradCheck.Check(a => ActivationCheckpoint.Run(xs => (xs[0].MatMul(w) * xs[1]).Exp(), a[0], a[1]), [T.U([3, 4]), T.U([3, 2])]), Is.True);
    }

    [Test]
    public void RandomOpsInsideDrawTheSameNumbersWhenRecomputed()
    {
        var x = T.U([64]);
        Tensor Dropoutish(Tensor v) => v * Tensor.RandLike(v).Gt(0.5).To(DType.Float64) * 2.0;
        Ember.Random.Default.ManualSeed(7);
        var y = ActivationCheckpoint.Run(xs => Dropoutish(xs[0]), x);
        var mask = T.D(y).Zip(T.D(x), (a, b) => a != 0 ? 2.0 : 0.0).ToArray();
        var after = Ember.Random.Default.GetState();
        y.Sum().Backward();
        // The gradient is the forward's mask (×2): the recomputation replayed the same random numbers …
        T.Close(x.Grad, mask);
        Assert.That(mask.Count(m => m == 0), Is.InRange(10, 54), "the mask is random");
        // … and the generator continues where the forward left it.
        Assert.That(Ember.Random.Default.GetState(), Is.EqualTo(after));
    }

    [Test]
    public void UnderNoGradItIsAPlainCallAndNeedsAnInput()
    {
        var x = T.U([2]);
        int calls = 0;
        using (Autograd.NoGrad())
        {
            var y = ActivationCheckpoint.Run(v => { calls++; return v[0] * 3; }, x);
            Assert.That(y.GradFn, Is.Null);
        }
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(() => ActivationCheckpoint.Run(_ => x, Array.Empty<Tensor>()),
            Throws.ArgumentException.With.Message.Contains("ActivationCheckpoint.Run: expected at least one input tensor"));
    }

    [Test]
    public void ModifyingASavedInputInPlaceBeforeBackwardIsReported()
    {
        var x = T.U([3]);
        var h = x * 1.0;
        var y = ActivationCheckpoint.Run(v => v[0].Exp(), h);
        using (Autograd.NoGrad()) h.Add_(1.0);
        Assert.That(() => y.Sum().Backward(), Throws.InvalidOperationException);
    }
}
