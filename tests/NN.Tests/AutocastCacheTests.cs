using Ember.NN;

namespace Ember.NN.Tests;

/// <summary>
/// Autocast's weight-cast cache against PyTorch's <c>cached_cast</c> rule: a float32 leaf that requires grad is cast to
/// the low-precision dtype once per outermost scope, everything else at each use; gradients reach the leaf through the
/// one cast exactly as through an explicit cast shared by the uses.
/// </summary>
public class AutocastCacheTests
{
    private static readonly DType F = DType.Float32, B = DType.BFloat16;

    private static Tensor Weight() => Tensor.Randn(4, 3).RequiresGrad_();

    // What the MatMul entry would run on: the cast weight.
    private static Tensor CastOf(Tensor w) => Autocast.Cast(AutocastOp.MatMul, w)![0]!;

    [Test]
    public void ALeafThatRequiresGradIsCastOncePerScope()
    {
        var w = Weight();
        Tensor first;
        using (Autocast.Enable(DeviceType.Cpu))
        {
            first = CastOf(w);
            Assert.That(first.DType, Is.EqualTo(B));
            Assert.That(CastOf(w), Is.SameAs(first), "the second use reuses the cast");
            using (Autocast.Enable(DeviceType.Cpu))
                Assert.That(CastOf(w), Is.SameAs(first), "a nested scope shares the outermost one's cache");
            Assert.That(CastOf(w), Is.SameAs(first), "ending the nested scope keeps the cache");
            using (Autocast.Enable(DeviceType.Cpu, enabled: false)) { }
            Assert.That(CastOf(w), Is.SameAs(first), "so does a nested disabled scope");
        }
        using (Autocast.Enable(DeviceType.Cpu))
            Assert.That(CastOf(w), Is.Not.SameAs(first), "the cache was dropped with the outermost scope");
    }

    [Test]
    public void OnlyFloat32LeavesThatRequireGradAreCached()
    {
        var plain = Tensor.Randn(4, 3);
        var w = Weight();
        var nonLeaf = w * 2;
        var part = Tensor.Randn(8, 3).Slice(0, 0, 4).RequiresGrad_();   // a leaf, but half of its storage
        using (Autocast.Enable(DeviceType.Cpu))
        {
            Assert.That(CastOf(plain), Is.Not.SameAs(CastOf(plain)), "no grad: cast at each use");
            Assert.That(CastOf(nonLeaf), Is.Not.SameAs(CastOf(nonLeaf)), "not a leaf");
            Assert.That(CastOf(part), Is.Not.SameAs(CastOf(part)), "a view of part of a storage");
            Assert.That(CastOf(Tensor.Randn(4, 3).To(DType.Float16).RequiresGrad_()).DType, Is.EqualTo(B), "a Float16 leaf is cast, not cached");
        }
        using (Autocast.Enable(DeviceType.Cpu, cacheEnabled: false))
        {
            Assert.That(Autocast.IsCacheEnabled, Is.False);
            Assert.That(CastOf(w), Is.Not.SameAs(CastOf(w)), "cacheEnabled: false");
        }
        Assert.That(Autocast.IsCacheEnabled, Is.False, "outside any scope");
    }

    [Test]
    public void AnInPlaceUpdateOrAMissingGraphMakesANewCast()
    {
        var w = Weight();
        using (Autocast.Enable(DeviceType.Cpu))
        {
            Tensor underNoGrad;
            using (Autograd.NoGrad()) underNoGrad = CastOf(w);
            Assert.That(underNoGrad.RequiresGrad, Is.False);
            var withGrad = CastOf(w);
            Assert.That(withGrad, Is.Not.SameAs(underNoGrad), "a cast without a graph is not reused where one is recorded");
            Assert.That(withGrad.RequiresGrad, Is.True);
            using (Autograd.NoGrad()) Assert.That(CastOf(w), Is.SameAs(withGrad), "a cast with a graph serves no-grad uses too");
            using (Autograd.NoGrad()) w.Add_(Tensor.OnesLike(w));
            var updated = CastOf(w);
            Assert.That(updated, Is.Not.SameAs(withGrad), "the leaf changed in place");
            Assert.That(updated.ToArray<BFloat16>(), Is.EqualTo(w.To(B).ToArray<BFloat16>()));
        }
    }

    [Test]
    public void GradientsFlowThroughTheSharedCastAsThroughOneExplicitCast()
    {
        Tensor.ManualSeed(5);
        var w = Weight();
        var x1 = Tensor.Randn(2, 3);
        var x2 = Tensor.Randn(5, 3);
        Tensor loss;
        using (Autocast.Enable(DeviceType.Cpu))
            loss = Functional.Linear(x1, w).Float().Sum() + Functional.Linear(x2, w).Float().Square().Sum();
        loss.Backward();
        var cached = w.Grad!.ToArray<float>();
        Assert.That(w.Grad!.DType, Is.EqualTo(F));

        // PyTorch's graph: one cast of w, used twice; its bfloat16 gradients are summed, then converted once.
        w.Grad = null;
        var wb = w.To(B);
        (Functional.Linear(x1.To(B), wb).Float().Sum() + Functional.Linear(x2.To(B), wb).Float().Square().Sum()).Backward();
        Assert.That(cached, Is.EqualTo(w.Grad!.ToArray<float>()));
    }
}
