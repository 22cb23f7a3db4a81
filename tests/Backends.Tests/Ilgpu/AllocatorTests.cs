using System.Runtime.CompilerServices;
using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

public class AllocatorTests
{
    private static CachingAllocator NewAllocator(long? limit = null) =>
        new(IlgpuTestDevice.Cpu.Accelerator, limit);

    [Test]
    public void RoundsTo512Bytes()
    {
        Assert.That(CachingAllocator.RoundSize(0), Is.EqualTo(512));
        Assert.That(CachingAllocator.RoundSize(1), Is.EqualTo(512));
        Assert.That(CachingAllocator.RoundSize(513), Is.EqualTo(1024));
        using var alloc = NewAllocator();
        using var b = alloc.Allocate(100);
        Assert.That(b.Length, Is.EqualTo(100));
        Assert.That(b.Capacity, Is.EqualTo(512));
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(512));
        Assert.That(alloc.MemoryReserved, Is.EqualTo(CachingAllocator.SegmentBytes));
    }

    [Test]
    public void SmallBlocksShareASegmentAndFreedBlocksAreReused()
    {
        using var alloc = NewAllocator();
        var blocks = Enumerable.Range(0, 10).Select(_ => alloc.Allocate(1000)).ToList();
        Assert.That(alloc.DriverAllocations, Is.EqualTo(1));
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(10 * 1024));
        foreach (var b in blocks) b.Dispose();
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(0));
        Assert.That(alloc.MemoryReserved, Is.EqualTo(CachingAllocator.SegmentBytes));
        using var again = alloc.Allocate(CachingAllocator.SmallLimit);   // freed neighbours merged back
        Assert.That(alloc.DriverAllocations, Is.EqualTo(1));
        Assert.That(alloc.MaxMemoryAllocated, Is.EqualTo(CachingAllocator.SmallLimit));
    }

    [Test]
    public void LargeBlocksAreBestFitAndSplit()
    {
        using var alloc = NewAllocator();
        const long mib = 1 << 20;
        var big = alloc.Allocate(10 * mib);
        var medium = alloc.Allocate(4 * mib);
        Assert.That(alloc.DriverAllocations, Is.EqualTo(2));
        big.Dispose(); medium.Dispose();
        using var fitsMedium = alloc.Allocate(3 * mib);             // best fit: the 4 MiB block, not the 10 MiB one
        Assert.That(alloc.DriverAllocations, Is.EqualTo(2));
        using var fromBig1 = alloc.Allocate(5 * mib);               // splits the 10 MiB block ...
        using var fromBig2 = alloc.Allocate(5 * mib);               // ... and uses the rest
        Assert.That(alloc.DriverAllocations, Is.EqualTo(2));
        Assert.That(alloc.MemoryReserved, Is.EqualTo(14 * mib));
    }

    [Test]
    public void EmptyCacheReleasesOnlyFreeSegments()
    {
        using var alloc = NewAllocator();
        var a = alloc.Allocate(3 << 20);
        using var b = alloc.Allocate(100);
        a.Dispose();
        alloc.EmptyCache();
        Assert.That(alloc.MemoryReserved, Is.EqualTo(CachingAllocator.SegmentBytes));
        Assert.That(alloc.SegmentCount, Is.EqualTo(1));
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(512));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AllocateAndDrop(CachingAllocator alloc, long bytes) => alloc.Allocate(bytes);

    [Test]
    public void FinalizerReturnsBlocks()
    {
        using var alloc = NewAllocator();
        AllocateAndDrop(alloc, 5 << 20);
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(6L << 20));   // 5 MiB segment rounded to 6; 1 MiB rest not split off
        GC.Collect(); GC.WaitForPendingFinalizers();
        using var again = alloc.Allocate(5 << 20);   // drains the finalizer queue, reuses the block
        Assert.That(alloc.DriverAllocations, Is.EqualTo(1));
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(6L << 20));
    }

    [Test]
    public void OutOfMemoryCollectsGarbageBeforeFailing()
    {
        const long mib = 1 << 20;
        using var alloc = NewAllocator(limit: 8 * mib);
        for (int i = 0; i < 20; i++) AllocateAndDrop(alloc, 6 * mib);   // each needs the last one's memory back
        Assert.That(alloc.MemoryReserved, Is.LessThanOrEqualTo(8 * mib));
    }

    [Test]
    public void OutOfMemoryMessageStatesTheNumbers()
    {
        const long mib = 1 << 20;
        using var alloc = NewAllocator(limit: 8 * mib);
        using var live = alloc.Allocate(6 * mib);
        var ex = Assert.Throws<DeviceOutOfMemoryException>(() => alloc.Allocate(4 * mib));
        Assert.That(ex, Is.InstanceOf<OutOfMemoryException>());
        Assert.That(ex!.Requested, Is.EqualTo(4 * mib));
        Assert.That(ex.Message, Does.Contain("4.00 MiB").And.Contain("6.00 MiB in use").And.Contain("reserved").And.Contain("cached"));
    }

    [Test]
    public void DisposeIsIdempotentAndViewsCoverTheRequest()
    {
        using var alloc = NewAllocator();
        var b = alloc.Allocate(40);
        Assert.That(b.View<float>().Length, Is.EqualTo(10));
        Assert.That(b.View<float>(3).Length, Is.EqualTo(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.View<float>(11));
        b.Dispose(); b.Dispose();
        Assert.That(b.IsReleased, Is.True);
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(0));
        Assert.Throws<ObjectDisposedException>(() => _ = b.Bytes);
    }

    [Test]
    public void ConcurrentAllocateAndFreeKeepsCountsConsistent()
    {
        using var alloc = NewAllocator();
        Parallel.For(0, 8, w =>
        {
            var rng = new System.Random(w);
            for (int i = 0; i < 200; i++)
            {
                using var b = alloc.Allocate(rng.Next(1, 3 << 20));
                if (i % 50 == 0) AllocateAndDrop(alloc, 1000);
            }
        });
        GC.Collect(); GC.WaitForPendingFinalizers();
        alloc.EmptyCache();
        Assert.That(alloc.MemoryAllocated, Is.EqualTo(0));
        Assert.That(alloc.MemoryReserved, Is.EqualTo(0));
    }
}
