using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// A ring of host staging buffers ("slots") through which <see cref="IlgpuBackend"/> copies between host memory and a
/// device when <see cref="IlgpuDevice.PinnedStaging"/> is on, in the manner of PyTorch's pinned-memory copies.
/// <list type="bullet">
/// <item><description>Host → device (<see cref="Upload"/>): the source is copied (memcpy) into a slot, a copy from the
/// slot to the device is enqueued on the device's stream, and a fence is recorded after it. The call returns without
/// waiting for the device; the caller may reuse its memory at once, because the device never reads it.</description></item>
/// <item><description>Device → host (<see cref="Download"/>): copies into slots are enqueued (up to
/// <see cref="SlotCount"/> ahead of the host), each followed by a fence; the host waits for each fence in turn and
/// copies the slot out. The last fence completing means all work enqueued before the call has completed.</description></item>
/// <item><description>A slot is written by the host only after the fence recorded after its last use has completed
/// (<see cref="FenceWaits"/> counts the times that had to be checked), so a pending copy never reads bytes of a
/// later copy. Transfers larger than <see cref="SlotBytes"/> go through the ring in chunks, so the host's memcpy of one
/// chunk overlaps the device's copy of the previous ones.</description></item>
/// </list>
/// Slots are pinned managed arrays (the pinned object heap: they never move). On CUDA devices that can map host memory
/// they are also page-locked (<c>cuMemHostRegister</c> through ILGPU's <c>CreatePageLockFromPinned</c>), which is what
/// lets <c>cuMemcpyAsync</c> run asynchronously and at full PCIe/NVLink bandwidth; elsewhere (OpenCL, ILGPU's CPU
/// accelerator) ILGPU cannot page-lock, the slots stay ordinary pinned memory and the ring is still correct
/// (<see cref="IsPageLocked"/> says which). Thread-safe: one transfer at a time per ring.
/// </summary>
public sealed class HostStaging : IDisposable
{
    /// <summary>Default number of slots.</summary>
    public const int DefaultSlotCount = 4;

    /// <summary>Default bytes per slot (2 MiB: 8 MiB of pinned host memory per device by default).</summary>
    public const int DefaultSlotBytes = 2 << 20;

    private readonly object gate = new();
    private readonly IStagingStream stream;
    private readonly Slot[] slots;
    private int next;
    private long uploads, downloads, fenceWaits;
    private bool disposed;

    /// <summary>Creates a ring copying on <paramref name="accelerator"/>'s default stream.</summary>
    /// <param name="accelerator">The device; its context must have profiling enabled (stream fences are ILGPU profiling markers).</param>
    /// <param name="slotCount">Number of slots (at least 1); more slots let more chunks be in flight.</param>
    /// <param name="slotBytes">Bytes per slot (at least 1); the largest chunk of one copy.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slotCount"/> or <paramref name="slotBytes"/> is less than 1.</exception>
    public HostStaging(Accelerator accelerator, int slotCount = DefaultSlotCount, int slotBytes = DefaultSlotBytes)
        : this(accelerator, new AcceleratorStagingStream(accelerator.DefaultStream), slotCount, slotBytes) { }

    internal HostStaging(Accelerator accelerator, IStagingStream stream, int slotCount, int slotBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotBytes, 1);
        this.stream = stream;
        SlotBytes = slotBytes;
        // Page-lock only where ILGPU really can: elsewhere CreatePageLockFromPinned returns a no-op scope after writing a
        // "not supported" line to the trace listeners.
        IsPageLocked = accelerator is CudaAccelerator cuda && cuda.Device.SupportsMappingHostMemory;
        slots = new Slot[slotCount];
        for (int i = 0; i < slotCount; i++) slots[i] = new Slot(accelerator, slotBytes, IsPageLocked);
    }

    /// <summary>Number of slots.</summary>
    public int SlotCount => slots.Length;

    /// <summary>Bytes per slot: copies larger than this go through the ring in chunks of at most this size.</summary>
    public int SlotBytes { get; }

    /// <summary>True when the slots are page-locked for the device (CUDA devices that can map host memory).</summary>
    public bool IsPageLocked { get; }

    /// <summary>Chunks copied host → device since creation.</summary>
    public long UploadChunks => Interlocked.Read(ref uploads);

    /// <summary>Chunks copied device → host since creation.</summary>
    public long DownloadChunks => Interlocked.Read(ref downloads);

    /// <summary>Times a slot was reused while the fence of its previous copy was outstanding (and so was waited for).</summary>
    public long FenceWaits => Interlocked.Read(ref fenceWaits);

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/> through the ring and returns without waiting for
    /// the device: the copy is ordered on the stream before any work enqueued afterwards.
    /// </summary>
    /// <param name="source">Host bytes; read completely before the call returns.</param>
    /// <param name="target">Device bytes, as long as <paramref name="source"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="ObjectDisposedException">The ring was disposed.</exception>
    public void Upload(ReadOnlySpan<byte> source, ArrayView<byte> target)
    {
        if (target.Length != source.Length)
            throw new ArgumentException($"HostStaging.Upload: {source.Length} source bytes but a {target.Length}-byte target.", nameof(target));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            for (int done = 0; done < source.Length;)
            {
                int n = Math.Min(SlotBytes, source.Length - done);
                var slot = Acquire();
                // The host writes the slot only now, after Acquire saw its previous copy complete.
                source.Slice(done, n).CopyTo(slot.Span);
                stream.Upload(slot.Pointer, target.SubView(done, n));
                slot.Fence = stream.Record();
                done += n;
                Interlocked.Increment(ref uploads);
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> through the ring, after all work enqueued
    /// on the stream before the call (so it returns only when that work has completed, when there is any byte to copy).
    /// </summary>
    /// <param name="source">Device bytes, as long as <paramref name="destination"/>.</param>
    /// <param name="destination">Host bytes; written completely before the call returns.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="ObjectDisposedException">The ring was disposed.</exception>
    public void Download(ArrayView<byte> source, Span<byte> destination)
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"HostStaging.Download: a {source.Length}-byte source but {destination.Length} destination bytes.", nameof(destination));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            int chunks = (int)((destination.Length + (long)SlotBytes - 1) / SlotBytes);
            // In flight: chunk k sits in window[k % SlotCount]. At most SlotCount chunks are issued and not yet copied
            // out, and slots are handed out round robin, so the slot Acquire returns for chunk k last held chunk
            // k - SlotCount, which was copied out already: a downloaded slot is never overwritten before it is read.
            var window = new (Slot Slot, int Offset, int Length)[slots.Length];
            int issued = 0, drained = 0;
            while (drained < chunks)
            {
                while (issued < chunks && issued - drained < slots.Length)
                {
                    int offset = issued * SlotBytes, n = Math.Min(SlotBytes, destination.Length - offset);
                    var slot = Acquire();
                    stream.Download(source.SubView(offset, n), slot.Pointer);
                    slot.Fence = stream.Record();
                    window[issued++ % slots.Length] = (slot, offset, n);
                }
                var (s, off, len) = window[drained++ % slots.Length];
                Complete(s);   // the chunk's device → slot copy (and all work before it) has completed
                s.Span[..len].CopyTo(destination.Slice(off, len));
                Interlocked.Increment(ref downloads);
            }
        }
    }

    /// <summary>Waits for every outstanding copy, then unregisters and releases the slots. Idempotent.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            // Unregistering or freeing a slot that a pending copy still reads would be undefined: drain first.
            foreach (var s in slots) Complete(s);
            foreach (var s in slots) s.Dispose();
        }
    }

    /// <summary>The next slot round robin, once the copy last enqueued from or into it has completed.</summary>
    private Slot Acquire()
    {
        var slot = slots[next];
        next = (next + 1) % slots.Length;
        if (slot.Fence is not null)
        {
            Interlocked.Increment(ref fenceWaits);
            Complete(slot);
        }
        return slot;
    }

    private static void Complete(Slot slot)
    {
        if (slot.Fence is null) return;
        slot.Fence.Wait();
        slot.Fence.Dispose();
        slot.Fence = null;
    }

    /// <summary>One staging buffer: pinned memory, its page lock (if any) and the fence after its last copy.</summary>
    private sealed class Slot : IDisposable
    {
        private readonly byte[] memory;
        private readonly PageLockScope<byte>? pageLock;

        public Slot(Accelerator accelerator, int bytes, bool pageLock)
        {
            memory = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
            Pointer = Marshal.UnsafeAddrOfPinnedArrayElement(memory, 0);
            if (!pageLock) return;
            // ILGPU 1.5.3's CreatePageLockFromPinned does not bind the accelerator (cuMemHostRegister needs the CUDA
            // context current on this thread, which the ring's first copy may run on); disposing the scope binds itself.
            using var bound = accelerator.BindScoped();
            this.pageLock = accelerator.CreatePageLockFromPinned<byte>(Pointer, bytes);
        }

        /// <summary>Address of the slot (stable: the array lives on the pinned object heap).</summary>
        public nint Pointer { get; }

        public Span<byte> Span => memory;

        /// <summary>Recorded after the last copy from or into the slot; null once that copy is known to be complete.</summary>
        public IStagingFence? Fence { get; set; }

        public void Dispose() => pageLock?.Dispose();
    }
}
