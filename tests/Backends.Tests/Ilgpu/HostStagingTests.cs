using System.Runtime.InteropServices;
using Ember.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// <see cref="HostStaging"/> over a stream that runs no copy until a fence after it is waited on: the most
/// asynchronous device there can be. On ILGPU's CPU accelerator real copies finish before they return, so only
/// this stream can show that the ring never rewrites a slot whose copy is still pending.
/// </summary>
public class HostStagingTests
{
    /// <summary>Queues copies; waiting on a fence runs every copy queued before it, in order (an in-order stream).</summary>
    private sealed class DeferredStream : IStagingStream
    {
        private readonly Queue<(long Seq, Action Copy)> queue = new();
        private long seq;
        public int MaxPending { get; private set; }
        public int Pending => queue.Count;
        public int FencesWaited { get; private set; }

        public void Upload(nint staging, ArrayView<byte> target) => Enqueue(() =>
        {
            // Reads the slot when the copy runs, not when it was enqueued: like a DMA engine.
            var bytes = new byte[target.Length];
            Marshal.Copy(staging, bytes, 0, bytes.Length);
            IlgpuTestDevice.FromHost(target, bytes);
        });

        public void Download(ArrayView<byte> source, nint staging) => Enqueue(() =>
        {
            var bytes = IlgpuTestDevice.ToHost(source);
            Marshal.Copy(bytes, 0, staging, bytes.Length);
        });

        public IStagingFence Record() => new Fence(this, seq);

        /// <summary>Runs everything queued.</summary>
        public void Drain() => RunThrough(long.MaxValue);

        private void Enqueue(Action copy)
        {
            queue.Enqueue((++seq, copy));
            MaxPending = Math.Max(MaxPending, queue.Count);
        }

        private void RunThrough(long last)
        {
            while (queue.Count > 0 && queue.Peek().Seq <= last) queue.Dequeue().Copy();
        }

        private sealed class Fence(DeferredStream s, long last) : IStagingFence
        {
            public void Wait() { s.FencesWaited++; s.RunThrough(last); }
            public void Dispose() { }
        }
    }

    private const int Slots = 3, SlotBytes = 64;
    private static Accelerator Acc => IlgpuTestDevice.Cpu.Accelerator;

    private static byte[] Pattern(int n, int seed)
    {
        var b = new byte[n];
        new System.Random(seed).NextBytes(b);
        return b;
    }

    [Test]
    public void TheDeferredStreamReallyDefers()
    {
        // The other tests can only fail if copies are left pending: check that they are.
        var s = new DeferredStream();
        using var ring = new HostStaging(Acc, s, Slots, SlotBytes);
        using var block = IlgpuTestDevice.Cpu.Allocator.Allocate(SlotBytes);
        IlgpuTestDevice.FromHost(block.Bytes, new byte[SlotBytes]);
        ring.Upload(Pattern(SlotBytes, 1), block.Bytes);
        Assert.That(s.Pending, Is.EqualTo(1));
        Assert.That(IlgpuTestDevice.ToHost(block.Bytes), Is.All.EqualTo(0), "nothing ran yet");
        s.Drain();
        Assert.That(IlgpuTestDevice.ToHost(block.Bytes), Is.EqualTo(Pattern(SlotBytes, 1)));
    }

    [Test]
    public void UploadsNeverOverwriteASlotWhoseCopyIsPending()
    {
        // Many uploads of every awkward size, each from a host array that is scrambled right after the call.
        var s = new DeferredStream();
        using var ring = new HostStaging(Acc, s, Slots, SlotBytes);
        int[] sizes = [1, 63, 64, 65, 127, 128, 129, 191, 192, 193, 500, 1, 2, 700];
        var blocks = sizes.Select(n => IlgpuTestDevice.Cpu.Allocator.Allocate(n)).ToArray();
        try
        {
            for (int i = 0; i < sizes.Length; i++)
            {
                var src = Pattern(sizes[i], 100 + i);
                ring.Upload(src, blocks[i].Bytes);
                Array.Fill(src, (byte)0xEE);
                Assert.That(s.Pending, Is.LessThanOrEqualTo(Slots), "at most one pending copy per slot");
            }
            s.Drain();
            for (int i = 0; i < sizes.Length; i++)
                Assert.That(IlgpuTestDevice.ToHost(blocks[i].Bytes), Is.EqualTo(Pattern(sizes[i], 100 + i)), $"upload {i} ({sizes[i]} bytes)");
            long chunks = sizes.Sum(n => (n + SlotBytes - 1) / SlotBytes);
            Assert.That(ring.UploadChunks, Is.EqualTo(chunks));
            Assert.That(s.MaxPending, Is.EqualTo(Slots), "the whole ring was in flight");
            Assert.That(ring.FenceWaits, Is.EqualTo(chunks - Slots), "every reuse of a slot waited for its last copy");
        }
        finally
        {
            foreach (var b in blocks) b.Dispose();
        }
    }

    [Test]
    public void DownloadsPipelineThroughTheRingAndComeBackInOrder()
    {
        var s = new DeferredStream();
        using var ring = new HostStaging(Acc, s, Slots, SlotBytes);
        foreach (int n in new[] { 1, 64, 65, 192, 193, 1000 })
        {
            using var block = IlgpuTestDevice.Cpu.Allocator.Allocate(n);
            IlgpuTestDevice.FromHost(block.Bytes, Pattern(n, n));
            var dst = new byte[n];
            ring.Download(block.Bytes, dst);
            Assert.That(dst, Is.EqualTo(Pattern(n, n)), $"{n} bytes");
            Assert.That(s.Pending, Is.EqualTo(0), "a download returns only after its copies ran");
        }
        Assert.That(s.MaxPending, Is.EqualTo(Slots), "up to the whole ring was in flight at once");
    }

    [Test]
    public void ADownloadSeesEveryEarlierUpload()
    {
        // Uploads left pending, then a download of the same bytes: the download's fences come after the uploads on
        // the in-order stream, so waiting for them runs the uploads first.
        var s = new DeferredStream();
        using var ring = new HostStaging(Acc, s, Slots, SlotBytes);
        using var block = IlgpuTestDevice.Cpu.Allocator.Allocate(300);
        ring.Upload(Pattern(300, 7), block.Bytes);
        ring.Upload(Pattern(50, 8), block.Bytes.SubView(100, 50));
        Assert.That(s.Pending, Is.GreaterThan(0));
        var expected = Pattern(300, 7);
        Pattern(50, 8).CopyTo(expected, 100);
        var dst = new byte[300];
        ring.Download(block.Bytes, dst);
        Assert.That(dst, Is.EqualTo(expected));
    }

    [Test]
    public void DisposeWaitsForPendingCopiesAndThenRefusesWork()
    {
        var s = new DeferredStream();
        var ring = new HostStaging(Acc, s, Slots, SlotBytes);
        using var block = IlgpuTestDevice.Cpu.Allocator.Allocate(100);
        ring.Upload(Pattern(100, 3), block.Bytes);
        ring.Dispose();
        Assert.That(s.Pending, Is.EqualTo(0), "the slots are released only after their copies ran");
        Assert.That(IlgpuTestDevice.ToHost(block.Bytes), Is.EqualTo(Pattern(100, 3)));
        Assert.Throws<ObjectDisposedException>(() => ring.Upload(new byte[1], block.Bytes.SubView(0, 1)));
        ring.Dispose();
    }

    [Test]
    public void ArgumentsAreChecked()
    {
        using var ring = new HostStaging(Acc, 2, 16);
        using var block = IlgpuTestDevice.Cpu.Allocator.Allocate(8);
        Assert.Throws<ArgumentException>(() => ring.Upload(new byte[9], block.Bytes));
        Assert.Throws<ArgumentException>(() => ring.Download(block.Bytes, new byte[7]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HostStaging(Acc, 0, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HostStaging(Acc, 2, 0));
        Assert.That((ring.SlotCount, ring.SlotBytes), Is.EqualTo((2, 16)));
    }

    [Test]
    public void RealStreamRoundTripOnTheCpuAcceleratorWhichCannotPageLock()
    {
        using var ring = new HostStaging(Acc, 2, 16);
        Assert.That(ring.IsPageLocked, Is.False, "ILGPU cannot page-lock for its CPU accelerator");
        using var block = IlgpuTestDevice.Cpu.Allocator.Allocate(100);
        ring.Upload(Pattern(100, 9), block.Bytes);
        var dst = new byte[100];
        ring.Download(block.Bytes, dst);
        Assert.That(dst, Is.EqualTo(Pattern(100, 9)));
        Assert.That((ring.UploadChunks, ring.DownloadChunks), Is.EqualTo((7L, 7L)));
    }

    [TestCase(AcceleratorType.CPU, null, true)]
    [TestCase(AcceleratorType.Cuda, null, false)]
    [TestCase(AcceleratorType.OpenCL, null, false)]
    [TestCase(AcceleratorType.Cuda, "1", true)]
    [TestCase(AcceleratorType.CPU, "0", false)]
    [TestCase(AcceleratorType.OpenCL, " 1 ", true)]
    [TestCase(AcceleratorType.Cuda, "yes", false)]
    public void PinnedStagingDefaults(AcceleratorType type, string? variable, bool expected) =>
        Assert.That(IlgpuDevice.DefaultPinnedStaging(type, variable), Is.EqualTo(expected));
}
