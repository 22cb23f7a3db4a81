using Ember.Cpu;

namespace Ember.AutogradTests;

/// <summary>
/// The engine returns gradient buffers and formula temporaries to the backend as soon as it drops them, and adopts a
/// leaf's only gradient instead of copying it — without disposing anything a user, a hook or a retained/captured
/// gradient can still reach.
/// </summary>
[NonParallelizable]
public class EagerReleaseTests
{
    private static Tensor Chain(Tensor x, int depth)
    {
        var h = x;
        for (int i = 0; i < depth; i++) h = (h * 1.01).Tanh() + h;
        return h.Sum();
    }

    [Test]
    public void BackwardReturnsItsIntermediateGradientsToThePoolAtOnce()
    {
        // 256×256 float32 = 256 KiB per tensor (pooled). Forced collections are kept out of the measurement (the plain
        // miss rule with a huge threshold, nothing else allocating much) so only Dispose can return arrays in between.
        long threshold = CpuMemoryPool.CollectThresholdBytes;
        double growth = CpuMemoryPool.GrowthFactor;
        CpuMemoryPool.CollectThresholdBytes = 1L << 40;
        CpuMemoryPool.GrowthFactor = 0;
        try
        {
            var x = Tensor.Randn([256, 256]).RequiresGrad_();
            var loss = Chain(x, 12);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = CpuMemoryPool.LentBytes;
            loss.Backward();
            long grown = CpuMemoryPool.LentBytes - before;
            // Left lent: x.Grad only. Without eager release: every gradient and temporary of the 12 levels (≥ 36 tensors).
            Assert.That(grown, Is.LessThanOrEqualTo(2L * 256 * 256 * 4), $"lent bytes grew by {grown} during backward");
            Assert.That(x.Grad!.ToArray<float>().All(float.IsFinite));
        }
        finally { CpuMemoryPool.CollectThresholdBytes = threshold; CpuMemoryPool.GrowthFactor = growth; }
    }

    [Test]
    public void GradientsMatchTheSameGraphUnderAnomalyMode()
    {
        // Anomaly mode runs without eager release: the two backward passes must agree exactly.
        var x = T.U([16, 8]);
        Chain(x, 5).Backward();
        var eager = x.Grad!.ToArray<double>();
        x.Grad = null;
        using (Autograd.DetectAnomaly()) Chain(x, 5).Backward();
        Assert.That(x.Grad!.ToArray<double>(), Is.EqualTo(eager));
    }

    [Test]
    public void AHookKeepsTheGradientItSaw()
    {
        var x = T.U([64, 64]);
        var h = (x * 2).Tanh();
        Tensor? seen = null;
        h.RegisterHook(g => { seen = g; return null; });
        (h * 3).Exp().Sum().Backward();
        Assert.That(seen, Is.Not.Null);
        Assert.That(seen!.ToArray<double>().All(double.IsFinite));   // throws if the engine disposed it
    }

    [Test]
    public void AHookThatReturnsAKeptTensorKeepsIt()
    {
        var x = T.U([64, 64]);
        var h = (x * 2).Tanh();
        Tensor? kept = null;
        h.RegisterHook(g => kept = g * 1.0);
        (h * 3).Sum().Backward();
        Assert.That(kept!.ToArray<double>().All(v => Math.Abs(v - 3) < 1e-12));
    }

    [Test]
    public void RetainedAndCapturedGradientsStayUsable()
    {
        var x = T.U([32, 32]);
        var h = (x * 2).Sin();
        h.RetainGrad();
        var y = (h * h).Exp();
        y.Sum().Backward();
        T.Close(h.Grad, (2 * h * y).Detach().ToArray<double>());
        var x2 = T.U([32, 32]);
        var g = Autograd.Grad([((x2 * 3).Tanh() * x2).Sum()], [x2])[0]!;
        Assert.That(g.ToArray<double>().All(double.IsFinite));
    }

    [Test]
    public void LeavesThatShareOneGradientGetIndependentCopies()
    {
        // Add hands the same gradient to both leaves: neither may adopt it.
        var a = T.U([40, 40]);
        var b = T.U([40, 40]);
        ((a * 2).Exp() + b).Sum().Backward();
        var before = b.Grad!.ToArray<double>();
        using (Autograd.NoGrad()) a.Grad!.Mul_(10);
        Assert.That(b.Grad!.ToArray<double>(), Is.EqualTo(before));
        Assert.That(a.Grad, Is.Not.SameAs(b.Grad));
    }

    [Test]
    public void AnAdoptedGradientIsTheLeafsOwn()
    {
        var w = T.U([30, 20]);
        var x = T.U([10, 30], grad: false);
        var y = x.MatMul(w);
        y.Sum().Backward();
        var first = w.Grad!.ToArray<double>();
        x.MatMul(w).Sum().Backward();               // accumulates: a new tensor, the old values doubled
        Assert.That(w.Grad!.ToArray<double>(), Is.EqualTo(first.Select(v => 2 * v).ToArray()));
    }

    [Test]
    public void RetainGraphBackwardTwiceThroughFusedOps()
    {
        var x = T.U([4, 6, 8]);
        var y = FusedOps.LayerNorm(x, 8, null, null, 1e-5);
        var loss = FusedOps.Attention(y, y, y, 0.5, causal: true).Sum();
        loss.Backward(retainGraph: true);
        var once = x.Grad!.ToArray<double>();
        loss.Backward();
        Assert.That(x.Grad!.ToArray<double>(), Is.EqualTo(once.Select(v => 2 * v).ToArray()).Within(1e-12));
    }
}
