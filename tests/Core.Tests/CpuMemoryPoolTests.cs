using System.Runtime.CompilerServices;
using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>The CPU caching allocator: reuse after death or Dispose, never while reachable, limits, threads.</summary>
[NonParallelizable]
public class CpuMemoryPoolTests
{
    // Lengths no other test uses, so bins start empty here.
    private const int Len = 54_321, Len2 = 54_323;

    [SetUp]
    public void Clean()
    {
        // Earlier tests' garbage must not come back into the cache in the middle of this one.
        CpuMemoryPool.Enabled = true;
        // The tests below count forced collections against CollectThresholdBytes alone; the per-thread budget (which
        // depends on this machine's thread count) has a test of its own.
        CpuMemoryPool.CollectBudgetPerThreadBytes = 0;
        GC.Collect(); GC.WaitForPendingFinalizers();
        CpuMemoryPool.EmptyCache();
    }

    [TearDown]
    public void Restore()
    {
        CpuMemoryPool.Enabled = true; CpuMemoryPool.CacheLimitBytes = 1L << 30; CpuMemoryPool.CollectThresholdBytes = 2L << 20;
        CpuMemoryPool.CollectBudgetPerThreadBytes = 0; CpuMemoryPool.CollectOnLentBytes = false;
        CpuMemoryPool.GrowthFactor = 4;
        CpuMemoryPool.EmptyCache();
    }

    private static Array ArrayOf(Tensor t) => ((CpuStorage)t.storage).Data;

    private static void FullCollect()
    {
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
    }

    // Allocates in a frame of its own so no local of the caller keeps the tensor alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<Array> AllocateAndDrop(int n, DType dt = DType.Float32)
    {
        var t = Tensor.Empty([n], dt);
        return new WeakReference<Array>(ArrayOf(t), trackResurrection: true);   // the array is resurrected by its lease's finalizer
    }

    [Test]
    public void ArrayOfAnUnreachableTensorIsLentAgain()
    {
        var weak = AllocateAndDrop(Len);
        FullCollect();
        long hits = CpuMemoryPool.Hits;
        var t = Tensor.Empty([Len]);
        Assert.That(weak.TryGetTarget(out var old), Is.True, "the pool keeps the returned array alive");
        Assert.That(ArrayOf(t), Is.SameAs(old));
        Assert.That(CpuMemoryPool.Hits, Is.EqualTo(hits + 1));
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    [TestCase(DType.Int32)]
    [TestCase(DType.Int64)]
    public void DisposeReturnsAtOnceForEveryPooledDType(DType dt)
    {
        var t = Tensor.Empty([Len], dt);
        var a = ArrayOf(t);
        t.Dispose();
        Assert.That(CpuMemoryPool.CachedBytes, Is.EqualTo((long)Len * dt.ElementSize()));
        var u = Tensor.Empty([Len], dt);
        Assert.That(ArrayOf(u), Is.SameAs(a));
        Assert.That(CpuMemoryPool.CachedBytes, Is.EqualTo(0));
        t.Dispose();   // a second Dispose must not return the array twice
        Assert.That(CpuMemoryPool.CachedBytes, Is.EqualTo(0));
    }

    [Test]
    public void AnArrayStillReferencedIsNeverLentAgain()
    {
        // A kernel that still reads an input whose tensor died holds only the array: that must keep it out of the pool.
        var held = HoldOnlyTheArray(Len);
        FullCollect();
        var lent = new List<Tensor>();
        for (int i = 0; i < 8; i++) lent.Add(Tensor.Empty([Len]));
        Assert.That(lent.Any(t => ReferenceEquals(ArrayOf(t), held)), Is.False);
        // Once the array is dropped too, it comes back.
        held = null;
        lent.Clear();
        FullCollect();
        Assert.That(CpuMemoryPool.CachedBytes, Is.GreaterThanOrEqualTo((long)Len * 4));
        GC.KeepAlive(held);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float[]? HoldOnlyTheArray(int n)
    {
        var t = Tensor.Full([n], 7f);
        return (float[])ArrayOf(t);
    }

    [Test]
    public void ReusedArraysHoldWhatTheNewTensorWrites()
    {
        for (int round = 0; round < 5; round++)
        {
            var a = Tensor.Full([Len], (float)round);
            var b = Tensor.Full([Len], 1f);
            var c = a + b;
            Assert.That(c.ToArray<float>().All(v => v == round + 1), Is.True);
            a.Dispose(); b.Dispose(); c.Dispose();
        }
        Assert.That(CpuMemoryPool.Hits, Is.GreaterThan(0));
    }

    [Test]
    public void SmallAndBoolArraysAreNotPooled()
    {
        long misses = CpuMemoryPool.Misses, hits = CpuMemoryPool.Hits;
        Tensor.Empty([16]).Dispose();
        Tensor.Empty([Len], DType.Bool).Dispose();
        Assert.That(CpuMemoryPool.CachedBytes, Is.EqualTo(0));
        Assert.That(CpuMemoryPool.Misses + CpuMemoryPool.Hits, Is.EqualTo(misses + hits));
    }

    [Test]
    public void DisabledPoolAllocatesFresh()
    {
        CpuMemoryPool.Enabled = false;
        var t = Tensor.Empty([Len]);
        var a = ArrayOf(t);
        t.Dispose();
        Assert.That(CpuMemoryPool.CachedBytes, Is.EqualTo(0));
        Assert.That(ArrayOf(Tensor.Empty([Len])), Is.Not.SameAs(a));
    }

    [Test]
    public void CacheLimitCapsIdleBytes()
    {
        CpuMemoryPool.CacheLimitBytes = (long)Len * 4 * 2;   // room for two arrays
        var ts = Enumerable.Range(0, 5).Select(_ => Tensor.Empty([Len])).ToList();
        foreach (var t in ts) t.Dispose();
        Assert.That(CpuMemoryPool.CachedBytes, Is.EqualTo((long)Len * 4 * 2));
    }

    [Test]
    public void BinsAreExactLength()
    {
        var t = Tensor.Empty([Len]);
        t.Dispose();
        var u = Tensor.Empty([Len2]);
        Assert.That(ArrayOf(u).Length, Is.EqualTo(Len2));
        Assert.That(CpuMemoryPool.CachedBytes, Is.EqualTo((long)Len * 4), "the other length's array stays cached");
    }

    [Test]
    public void ConcurrentRentAndReturnKeepEveryTensorsValues()
    {
        // Many threads allocate, fill, check and drop tensors of the same length while the GC returns arrays from
        // the finalizer thread: no tensor may ever see another's values.
        int failures = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
        {
            for (int i = 0; i < 200; i++)
            {
                float v = w * 1000 + i;
                var t = Tensor.Full([Len], v);
                if (i % 50 == 0) GC.Collect();
                var d = t.ToArray<float>();
                if (d[0] != v || d[^1] != v || d[Len / 2] != v) Interlocked.Increment(ref failures);
                if (i % 2 == 0) t.Dispose();
            }
        });
        Assert.That(failures, Is.EqualTo(0));
        Assert.That(CpuMemoryPool.Hits, Is.GreaterThan(0));
    }

    [Test]
    public void DisposeFreeLoopHoldsSteadyMemory()
    {
        // 300 steps of a small two-layer network with no Dispose: pooled bytes (lent + cached) after warm-up stay
        // within a small multiple of one step's temporaries plus the collection threshold, and most requests are hits.
        // (The autograd version of this loop is in Autograd.Tests.)
        Tensor.ManualSeed(3);
        var w1 = Tensor.Randn(256, 256); var w2 = Tensor.Randn(256, 64);
        var x = Tensor.Randn(128, 256);
        long Step()
        {
            var h = x.MatMul(w1).Relu();
            var y = h.MatMul(w2).Square();
            var g = h.mT.MatMul(y);   // a gradient-shaped product
            Assert.That(g.Shape[0], Is.EqualTo(256));
            return CpuMemoryPool.LentBytes + CpuMemoryPool.CachedBytes;
        }
        for (int i = 0; i < 50; i++) Step();
        long hits = CpuMemoryPool.Hits, misses = CpuMemoryPool.Misses, max = 0;
        for (int i = 0; i < 300; i++) max = Math.Max(max, Step());
        long stepBytes = 128 * 256 * 4 * 6;   // activations and gradients of one step, roughly
        Assert.That(max, Is.LessThan(64 * stepBytes + CpuMemoryPool.CollectThresholdBytes * 2));
        double hitRate = (CpuMemoryPool.Hits - hits) / (double)(CpuMemoryPool.Hits - hits + CpuMemoryPool.Misses - misses);
        Assert.That(hitRate, Is.GreaterThan(0.5));
    }

    [Test]
    public void SizesNoLongerUsedAreDroppedAtForcedCollections()
    {
        var old = Tensor.Empty([Len]);
        old.Dispose();   // cached, then never asked for again
        CpuMemoryPool.CollectThresholdBytes = 1 << 20;
        long forced = CpuMemoryPool.ForcedCollections;
        var live = new List<Tensor>();
        // Misses of another size (kept alive, so every request misses) force collections past the threshold.
        for (int i = 0; i < 400 && CpuMemoryPool.ForcedCollections < forced + 4; i++) live.Add(Tensor.Empty([Len2 * 2]));
        Assert.That(CpuMemoryPool.ForcedCollections, Is.GreaterThanOrEqualTo(forced + 4));
        long misses = CpuMemoryPool.Misses;
        Tensor.Empty([Len]);
        Assert.That(CpuMemoryPool.Misses, Is.EqualTo(misses + 1), "the stale size's idle array was dropped");
        GC.KeepAlive(live);
    }

    [Test]
    public void PerThreadBudgetDefersForcedCollectionsWithTheThreadCount()
    {
        // Misses that stay alive (every request misses): with a 1 MiB threshold alone the pool forces a collection
        // every few hundred KiB; a budget of 4 MiB per thread lets 12 MiB pass first at 3 threads, 4 MiB at 1.
        // The budget raises the miss threshold of the plain rule (a growing live set under the growth rule collects at
        // geometric intervals instead: GrowingLiveSetCollectsAtGeometricIntervals).
        CpuMemoryPool.GrowthFactor = 0;
        CpuMemoryPool.CollectThresholdBytes = 1 << 20;
        CpuMemoryPool.CollectBudgetPerThreadBytes = 4L << 20;
        long arrayBytes = Len2 * 2 * sizeof(float);
        var live = new List<Tensor>();
        int MissesBetweenForced()
        {
            // Start from a forced collection, so the bytes counted are this call's.
            long forced = CpuMemoryPool.ForcedCollections;
            while (CpuMemoryPool.ForcedCollections == forced) live.Add(Tensor.Empty([Len2 * 2]));
            forced = CpuMemoryPool.ForcedCollections;
            int misses = 0;
            while (CpuMemoryPool.ForcedCollections == forced && misses < 1000) { live.Add(Tensor.Empty([Len2 * 2])); misses++; }
            return misses;
        }
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = 3;
            int three = MissesBetweenForced();
            // The quarter of the lent bytes may raise the threshold further, never lower it.
            Assert.That(three * arrayBytes, Is.GreaterThanOrEqualTo(3 * CpuMemoryPool.CollectBudgetPerThreadBytes));
            live.Clear();
            GC.Collect(); GC.WaitForPendingFinalizers();
            CpuMemoryPool.EmptyCache();
            CpuThreads.Count = 1;
            int one = MissesBetweenForced();
            Assert.That(one, Is.LessThan(three), "with fewer threads the threshold is reached sooner");
        }
        finally { CpuThreads.Count = saved; }
        GC.KeepAlive(live);
    }

    [Test]
    public void LoopThatDropsItsOutputEveryStepStopsMissingWithTheLentRule()
    {
        CpuMemoryPool.CollectOnLentBytes = true;
        // c = f(c): each step asks for a new array while the last output is live and the one before it is garbage.
        // After a few steps a collection hands the garbage back at each request instead of the pool growing by one
        // more array per collection interval.
        var c = NextOutput(Tensor.Empty([Len * 8]));
        for (int i = 0; i < 10; i++) c = NextOutput(c);
        long misses = CpuMemoryPool.Misses, hits = CpuMemoryPool.Hits;
        for (int i = 0; i < 40; i++) c = NextOutput(c);
        Assert.That(CpuMemoryPool.Misses, Is.EqualTo(misses));
        Assert.That(CpuMemoryPool.Hits - hits, Is.EqualTo(40));
        GC.KeepAlive(c);
    }

    [Test]
    public void PlainMissRuleKeepsGrowingTheSameLoop()
    {
        // GrowthFactor 0 (the rule before it): only misses count, so each collection interval of the loop above ends
        // in misses that add arrays for good.
        CpuMemoryPool.GrowthFactor = 0;
        var c = NextOutput(Tensor.Empty([Len * 8]));
        for (int i = 0; i < 10; i++) c = NextOutput(c);
        long misses = CpuMemoryPool.Misses;
        for (int i = 0; i < 40; i++) c = NextOutput(c);
        Assert.That(CpuMemoryPool.Misses, Is.GreaterThan(misses));
        GC.KeepAlive(c);
    }

    [Test]
    public void DefaultGrowthRuleStopsMissingInTheSameLoop()
    {
        // The default: the pool grows to GrowthFactor × the live bytes, then collects when a size runs dry, so after
        // the warm-up every request of the loop is a hit and the pool stays within the factor of what is live.
        var c = NextOutput(Tensor.Empty([Len * 8]));
        for (int i = 0; i < 30; i++) c = NextOutput(c);
        long misses = CpuMemoryPool.Misses, hits = CpuMemoryPool.Hits, forced = CpuMemoryPool.ForcedCollections, most = 0;
        for (int i = 0; i < 100; i++)
        {
            c = NextOutput(c);
            most = Math.Max(most, CpuMemoryPool.LentBytes + CpuMemoryPool.CachedBytes);
        }
        Assert.That(CpuMemoryPool.Misses, Is.EqualTo(misses));
        Assert.That(CpuMemoryPool.Hits - hits, Is.EqualTo(100));
        Assert.That(CpuMemoryPool.ForcedCollections, Is.GreaterThan(forced), "the garbage came back through collections");
        // Two arrays are live at a time (the last output and the new one); the factor allows 4× what was live.
        long array = Len * 8L * sizeof(float);
        Assert.That(most, Is.LessThanOrEqualTo(4 * 2 * array + CpuMemoryPool.CollectThresholdBytes));
        GC.KeepAlive(c);
    }

    [Test]
    public void GrowingLiveSetCollectsAtGeometricIntervals()
    {
        // Every array stays alive, so no collection can return anything: the limit follows the live set, and the
        // pool collects about once per growth by the factor (not once per few misses).
        var live = new List<Tensor>();
        long forced = CpuMemoryPool.ForcedCollections;
        for (int i = 0; i < 400; i++) live.Add(Tensor.Empty([Len2]));   // 400 × 217 KB ≈ 87 MB
        long collections = CpuMemoryPool.ForcedCollections - forced;
        Assert.That(collections, Is.LessThanOrEqualTo(8), "2 MiB first, then one per fourfold growth and a few futile ones");
        GC.KeepAlive(live);
    }

    // The new output is allocated while the previous one is still reachable, as in c = a.MatMul(b) in a loop.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor NextOutput(Tensor previous)
    {
        var next = Tensor.Empty([Len * 8]);
        GC.KeepAlive(previous);
        return next;
    }
}
