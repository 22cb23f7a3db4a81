using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>
/// A caching device allocator in the manner of PyTorch's CUDA caching allocator, one per accelerator.
/// <list type="bullet">
/// <item><description>Requests round up to 512 bytes. Requests up to 1 MiB are served from 2 MiB
/// segments shared by many blocks (the small pool); larger ones from segments of the request rounded
/// up to 2 MiB (the large pool).</description></item>
/// <item><description>A freed block stays reserved; the next request takes the smallest free block
/// that fits (best fit), splitting off the rest when it is at least 512 bytes (small pool) or more than
/// 1 MiB (large pool). Freed neighbours in a segment merge again.</description></item>
/// <item><description>Bytes reserved from the driver are reported to the GC with
/// <see cref="GC.AddMemoryPressure"/> so that unreachable tensors are collected when device memory,
/// not managed memory, is what runs short.</description></item>
/// <item><description>Before reserving past a soft limit (<see cref="GcSoftLimit"/>, or twice the
/// bytes live after the last collection) it collects garbage (gen 1; every 8th time a full collection), waits
/// for finalizers and reuses what they returned, so a training loop without any Dispose call stays flat.</description></item>
/// <item><description>When the driver refuses, the allocator releases its free segments and retries;
/// then runs <c>GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();</c>, takes back what the
/// finalizers returned, releases free segments and retries; then throws
/// <see cref="DeviceOutOfMemoryException"/>.</description></item>
/// </list>
/// Thread-safe. Blocks are returned by <see cref="DeviceBlock.Dispose"/> or its finalizer.
/// </summary>
public sealed class CachingAllocator : IDisposable
{
    /// <summary>Granularity of block sizes (bytes).</summary>
    public const long RoundBytes = 512;
    /// <summary>Largest request served from the small pool (1 MiB).</summary>
    public const long SmallLimit = 1L << 20;
    /// <summary>Segment size of the small pool and rounding of large segments (2 MiB).</summary>
    public const long SegmentBytes = 2L << 20;
    /// <summary>The smallest default <see cref="GcSoftLimit"/>.</summary>
    public const long MinSoftLimit = 1L << 30;
    private long softLimit = MinSoftLimit;
    private int forcedCollections;

    private readonly object gate = new();
    private readonly SortedSet<Chunk> smallFree = new(ChunkOrder.Instance);
    private readonly SortedSet<Chunk> largeFree = new(ChunkOrder.Instance);
    private readonly List<Segment> segments = new();
    private readonly ConcurrentQueue<Chunk> returned = new();
    private long allocated, reserved, maxAllocated, serial;
    private int driverAllocations;
    private bool disposed;

    /// <summary>Creates an allocator for <paramref name="accelerator"/>.</summary>
    /// <param name="accelerator">The device whose memory this allocator manages.</param>
    /// <param name="reserveLimit">
    /// Optional cap on bytes reserved from the driver; a reservation beyond it fails as if the driver
    /// refused (for tests, and to leave room for other processes).
    /// </param>
    public CachingAllocator(Accelerator accelerator, long? reserveLimit = null)
    {
        Accelerator = accelerator;
        ReserveLimit = reserveLimit;
        // A sixteenth of the device (5 GiB on an 80 GiB H100), at least 1 GiB and at most 8 GiB: each forced
        // collection costs milliseconds, so a GPT step with ~300 MB of temporaries must not collect every step.
        long device = accelerator.MemorySize > 0 ? accelerator.MemorySize : 0;
        GcSoftLimit = Math.Clamp(device / 16, MinSoftLimit, 8L << 30);
        softLimit = GcSoftLimit;
    }

    /// <summary>
    /// Reserved bytes below which the allocator grows without first collecting garbage (default: a sixteenth
    /// of the device's memory, clamped to [1 GiB, 8 GiB]). Larger means fewer collections and more memory held.
    /// </summary>
    public long GcSoftLimit
    {
        get => Interlocked.Read(ref gcSoftLimit);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 0L);
            Interlocked.Exchange(ref gcSoftLimit, value);
            lock (gate) softLimit = Math.Max(softLimit, value);
        }
    }

    private long gcSoftLimit;

    /// <summary>The accelerator whose memory this allocator manages.</summary>
    public Accelerator Accelerator { get; }
    /// <summary>Cap on reserved bytes, if any.</summary>
    public long? ReserveLimit { get; }
    /// <summary>Bytes in live blocks (rounded sizes), like <c>torch.cuda.memory_allocated</c>.</summary>
    public long MemoryAllocated => Interlocked.Read(ref allocated);
    /// <summary>
    /// Garbage collections this allocator has forced (past its soft limit, or when the driver refused) so that
    /// finalizers return unreachable tensors' blocks; each costs a blocking collection and a finalizer wait.
    /// </summary>
    public int ForcedCollections => Volatile.Read(ref forcedCollections);
    /// <summary>Bytes reserved from the driver, live or cached, like <c>torch.cuda.memory_reserved</c>.</summary>
    public long MemoryReserved => Interlocked.Read(ref reserved);
    /// <summary>Peak of <see cref="MemoryAllocated"/> since creation or <see cref="ResetPeakStats"/>.</summary>
    public long MaxMemoryAllocated => Interlocked.Read(ref maxAllocated);
    /// <summary>Reserved bytes not in live blocks.</summary>
    public long MemoryCached => MemoryReserved - MemoryAllocated;
    /// <summary>Number of segments ever reserved from the driver.</summary>
    public int DriverAllocations => Volatile.Read(ref driverAllocations);
    /// <summary>Number of segments reserved now.</summary>
    public int SegmentCount { get { lock (gate) return segments.Count; } }

    /// <summary>Sets <see cref="MaxMemoryAllocated"/> to the current <see cref="MemoryAllocated"/>.</summary>
    public void ResetPeakStats() { lock (gate) maxAllocated = allocated; }

    /// <summary>Rounds a request to the size of the block that serves it.</summary>
    public static long RoundSize(long bytes) => Math.Max(RoundBytes, (bytes + RoundBytes - 1) / RoundBytes * RoundBytes);

    /// <summary>Lends a block of at least <paramref name="bytes"/> bytes (contents undefined).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is negative.</exception>
    /// <exception cref="DeviceOutOfMemoryException">The device has no room even after collecting garbage.</exception>
    /// <exception cref="ObjectDisposedException">The allocator was disposed.</exception>
    public DeviceBlock Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long size = RoundSize(bytes);
        Exception? failure = null;
        bool collected = false;
        while (true)
        {
            DrainReturned();
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                var chunk = TakeFree(size);
                // Past the soft limit, collect before growing: unreachable tensors' blocks come back only
                // through finalizers, and the GC cannot see device bytes, so without this a Dispose-free
                // training loop grows until the driver refuses (measured: 13 GiB over 10,000 MLP steps).
                bool mayGrow = collected || reserved + size <= softLimit;
                if (chunk is null && mayGrow)
                {
                    chunk = Reserve(size, ref failure);
                    // Growth despite a fresh collection (fragmentation): let reserved grow by a quarter before
                    // the next forced collection, else every pool miss would collect (measured: 0.6 full GCs
                    // per GPT step).
                    if (chunk is not null && collected) softLimit = Math.Max(softLimit, reserved + reserved / 4);
                }
                if (chunk is not null) return Lend(chunk, size, bytes);
                if (collected) break;
            }
            // Tensors die young: a gen-1 collection finds nearly all of them and costs far less than a full
            // one. Every 8th forced collection (and whenever the driver refused) is full, for the few that
            // reached gen 2.
            bool full = failure is not null || Interlocked.Increment(ref forcedCollections) % 8 == 0;
            GC.Collect(full ? GC.MaxGeneration : 1, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(full ? GC.MaxGeneration : 1, GCCollectionMode.Forced, blocking: true);
            collected = true;
            DrainReturned();
            // Next collection when reserved memory would pass twice what is live now (amortizes GC cost).
            lock (gate) softLimit = Math.Max(GcSoftLimit, 2 * allocated + size);
        }
        throw new DeviceOutOfMemoryException(Accelerator.Name, bytes, MemoryAllocated, MemoryReserved, MemoryCached, failure);
    }

    /// <summary>
    /// Gives every wholly free segment back to the driver (like <c>torch.cuda.empty_cache</c>).
    /// Blocks still lent are untouched.
    /// </summary>
    public void EmptyCache()
    {
        DrainReturned();
        lock (gate) ReleaseFreeSegments();
    }

    /// <summary>Frees all device memory, live blocks included. Later returns are ignored.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            foreach (var s in segments) FreeSegment(s);
            segments.Clear(); smallFree.Clear(); largeFree.Clear();
            allocated = 0;
        }
    }

    /// <summary>Called by <see cref="DeviceBlock.Dispose"/>.</summary>
    internal void Return(Chunk chunk)
    {
        lock (gate) Free(chunk);
    }

    /// <summary>Called by the block's finalizer: no lock, just a queue.</summary>
    internal void EnqueueReturn(Chunk chunk) => returned.Enqueue(chunk);

    /// <summary>Takes back the blocks that finalizers returned since the last allocation (so stats are current).</summary>
    public void ReclaimFinalized() => DrainReturned();

    private void DrainReturned()
    {
        if (returned.IsEmpty) return;
        lock (gate)
            while (returned.TryDequeue(out var chunk)) Free(chunk);
    }

    private DeviceBlock Lend(Chunk chunk, long size, long bytes)
    {
        bool small = chunk.Segment.Small;
        long rest = chunk.Size - size;
        if (small ? rest >= RoundBytes : rest > SmallLimit)
        {
            var tail = new Chunk(chunk.Segment, chunk.Offset + size, rest, ++serial) { Prev = chunk, Next = chunk.Next };
            if (chunk.Next is not null) chunk.Next.Prev = tail;
            chunk.Next = tail;
            chunk.Size = size;
            PoolOf(tail).Add(tail);
        }
        chunk.InUse = true;
        allocated += chunk.Size;
        if (allocated > maxAllocated) maxAllocated = allocated;
        return new DeviceBlock(this, chunk, bytes);
    }

    private void Free(Chunk chunk)
    {
        if (disposed || !chunk.InUse) return;
        chunk.InUse = false;
        allocated -= chunk.Size;
        var pool = PoolOf(chunk);
        // Merge with free neighbours of the same segment.
        if (chunk.Prev is { InUse: false } prev)
        {
            pool.Remove(prev);
            prev.Size += chunk.Size;
            prev.Next = chunk.Next;
            if (chunk.Next is not null) chunk.Next.Prev = prev;
            chunk = prev;
        }
        if (chunk.Next is { InUse: false } next)
        {
            pool.Remove(next);
            chunk.Size += next.Size;
            chunk.Next = next.Next;
            if (next.Next is not null) next.Next.Prev = chunk;
        }
        pool.Add(chunk);
    }

    private SortedSet<Chunk> PoolOf(Chunk c) => c.Segment.Small ? smallFree : largeFree;

    private Chunk? TakeFree(long size)
    {
        var pool = size <= SmallLimit ? smallFree : largeFree;
        if (pool.Count == 0) return null;
        var probe = new Chunk(null!, 0, size, long.MinValue);
        var fits = pool.GetViewBetween(probe, new Chunk(null!, 0, long.MaxValue, long.MaxValue));
        var best = fits.Min;
        if (best is null) return null;
        pool.Remove(best);
        return best;
    }

    private Chunk? Reserve(long size, ref Exception? failure)
    {
        bool small = size <= SmallLimit;
        long segmentSize = small ? SegmentBytes : (size + SegmentBytes - 1) / SegmentBytes * SegmentBytes;
        var segment = TryReserveSegment(segmentSize, small, ref failure);
        if (segment is null && (smallFree.Count > 0 || largeFree.Count > 0))
        {
            ReleaseFreeSegments();
            segment = TryReserveSegment(segmentSize, small, ref failure);
        }
        return segment is null ? null : new Chunk(segment, 0, segmentSize, ++serial);
    }

    private Segment? TryReserveSegment(long bytes, bool small, ref Exception? failure)
    {
        if (ReserveLimit is long limit && reserved + bytes > limit) return null;
        MemoryBuffer1D<byte, Stride1D.Dense> buffer;
        try
        {
            buffer = Accelerator.Allocate1D<byte>(bytes);
        }
        catch (Exception e) when (e is AcceleratorException or OutOfMemoryException or InvalidOperationException)
        {
            failure = e;
            return null;
        }
        var segment = new Segment(buffer, bytes, small);
        segments.Add(segment);
        reserved += bytes;
        driverAllocations++;
        GC.AddMemoryPressure(bytes);
        return segment;
    }

    private void ReleaseFreeSegments()
    {
        for (int i = segments.Count - 1; i >= 0; i--)
        {
            var s = segments[i];
            var whole = s.First;
            if (whole is null || whole.InUse || whole.Size != s.Size) continue;
            PoolOf(whole).Remove(whole);
            segments.RemoveAt(i);
            FreeSegment(s);
        }
    }

    private void FreeSegment(Segment s)
    {
        s.Buffer.Dispose();
        reserved -= s.Size;
        GC.RemoveMemoryPressure(s.Size);
    }

    /// <summary>One driver allocation.</summary>
    internal sealed class Segment
    {
        public Segment(MemoryBuffer1D<byte, Stride1D.Dense> buffer, long size, bool small)
        {
            Buffer = buffer; Size = size; Small = small; View = buffer.View.AsContiguous();
        }
        public MemoryBuffer1D<byte, Stride1D.Dense> Buffer { get; }
        public ArrayView<byte> View { get; }
        public long Size { get; }
        public bool Small { get; }
        /// <summary>The chunk at offset 0; when it is free and as large as the segment, the segment is free.</summary>
        public Chunk? First { get; set; }
    }

    /// <summary>A range of a segment, lent or free; neighbours are linked for merging.</summary>
    internal sealed class Chunk
    {
        public Chunk(Segment segment, long offset, long size, long serial)
        {
            Segment = segment; Offset = offset; Size = size; Serial = serial;
            if (segment is not null && offset == 0) segment.First = this;
        }
        public Segment Segment { get; }
        public long Offset { get; }
        public long Size { get; set; }
        public long Serial { get; }
        public bool InUse { get; set; }
        public Chunk? Prev { get; set; }
        public Chunk? Next { get; set; }
    }

    private sealed class ChunkOrder : IComparer<Chunk>
    {
        public static readonly ChunkOrder Instance = new();
        public int Compare(Chunk? x, Chunk? y)
        {
            int c = x!.Size.CompareTo(y!.Size);
            return c != 0 ? c : x.Serial.CompareTo(y.Serial);
        }
    }
}
