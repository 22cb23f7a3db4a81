using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>Tensor.Scope: what it disposes, Keep, nesting, Suspend, misuse errors.</summary>
[NonParallelizable]
public class TensorScopeTests
{
    [Test]
    public void DisposesWhatWasAllocatedInsideExceptKept()
    {
        var outside = Tensor.Ones(1000);
        Tensor inner, kept, view;
        using (var scope = Tensor.Scope())
        {
            inner = outside * 2;
            kept = scope.Keep(inner + 1);
            view = kept.Reshape(10, 100);   // a view shares the kept storage
            Assert.That(scope.Count, Is.EqualTo(1));
        }
        Assert.That(inner.storage.IsDisposed, Is.True);
        Assert.That(kept.storage.IsDisposed, Is.False);
        Assert.That(outside.storage.IsDisposed, Is.False);
        Assert.That(view.Sum().Item(), Is.EqualTo(3000));
        Assert.That(() => inner.Sum(), Throws.InstanceOf<ObjectDisposedException>().With.Message.Contains("[1000]"));
    }

    [Test]
    public void DisposedArraysAreReusedWithoutACollection()
    {
        var x = Tensor.Ones(64, 1024);
        void Step()
        {
            using var scope = Tensor.Scope();
            var y = (x * 3 + 1).Relu();
            Assert.That(y.Mean().Item(), Is.EqualTo(4));
        }
        Step();   // the first step may miss (and, after earlier tests' misses, collect)
        long hits = CpuMemoryPool.Hits, misses = CpuMemoryPool.Misses, forced = CpuMemoryPool.ForcedCollections;
        for (int i = 0; i < 20; i++) Step();
        Assert.That(CpuMemoryPool.Hits - hits, Is.GreaterThanOrEqualTo(20 * 3), "every step reuses the last step's arrays");
        Assert.That(CpuMemoryPool.Misses, Is.EqualTo(misses));
        Assert.That(CpuMemoryPool.ForcedCollections, Is.EqualTo(forced));
    }

    [Test]
    public void KeptTensorsMoveToTheEnclosingScope()
    {
        Tensor a;
        using (var outer = Tensor.Scope())
        {
            using (var inner = Tensor.Scope())
                a = inner.Keep(Tensor.Zeros(3));
            Assert.That(a.storage.IsDisposed, Is.False);
            Assert.That(outer.Count, Is.EqualTo(1));
        }
        Assert.That(a.storage.IsDisposed, Is.True);
    }

    [Test]
    public void SuspendLeavesTensorsUntracked()
    {
        Tensor state;
        using (var scope = Tensor.Scope())
        {
            using (TensorScope.Suspend()) state = Tensor.Zeros(5);
            Assert.That(scope.Count, Is.EqualTo(0));
        }
        Assert.That(state.storage.IsDisposed, Is.False);
    }

    [Test]
    public void MisuseIsReported()
    {
        var outer = Tensor.Scope();
        var inner = Tensor.Scope();
        Assert.That(() => outer.Dispose(), Throws.InvalidOperationException.With.Message.Contains("innermost first"));
        inner.Dispose();
        outer.Dispose();
        Assert.That(TensorScope.Current, Is.Null);
        Assert.That(() => outer.Keep(Tensor.Zeros(1)), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void OtherThreadsAreNotTracked()
    {
        using var scope = Tensor.Scope();
        var t = Task.Run(() => Tensor.Ones(10)).Result;
        Assert.That(scope.Count, Is.EqualTo(0));
        Assert.That(t.Sum().Item(), Is.EqualTo(10));
    }
}
