using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>
/// A block of device memory lent by a <see cref="CachingAllocator"/>. The block goes back to the
/// allocator's cache (never to the driver) when it is disposed or, if nobody disposes it, when the
/// garbage collector finalizes it: the finalizer only enqueues the block, and the allocator takes
/// it back on its next allocation, so no lock is taken on the finalizer thread.
/// Reuse is ordered by the accelerator's default stream: a block freed while a kernel that reads
/// it is still queued is only handed to work queued after that kernel.
/// The block's start is aligned to 512 bytes.
/// </summary>
public sealed class DeviceBlock : IDisposable
{
    private readonly CachingAllocator owner;
    private int released;

    internal DeviceBlock(CachingAllocator owner, CachingAllocator.Chunk chunk, long length)
    {
        this.owner = owner;
        Chunk = chunk;
        Length = length;
    }

    /// <summary>Finalizer: queues the block for return to its allocator.</summary>
    ~DeviceBlock()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) owner.EnqueueReturn(Chunk);
    }

    internal CachingAllocator.Chunk Chunk { get; }

    /// <summary>The allocator that lent the block.</summary>
    public CachingAllocator Allocator => owner;

    /// <summary>Bytes asked for.</summary>
    public long Length { get; }

    /// <summary>Bytes the block really occupies (the request rounded up to the allocator's bin size).</summary>
    public long Capacity => Chunk.Size;

    /// <summary>True once the block went back to the allocator.</summary>
    public bool IsReleased => Volatile.Read(ref released) != 0;

    /// <summary>The block's <see cref="Length"/> bytes as an ILGPU view.</summary>
    /// <exception cref="ObjectDisposedException">The block was released.</exception>
    public ArrayView<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsReleased, this);
            return Chunk.Segment.View.SubView(Chunk.Offset, Length);
        }
    }

    /// <summary>
    /// The block as <paramref name="count"/> elements of <typeparamref name="T"/> (all that fit when
    /// <paramref name="count"/> is negative).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More elements than fit in <see cref="Length"/>.</exception>
    /// <exception cref="ObjectDisposedException">The block was released.</exception>
    public ArrayView<T> View<T>(long count = -1) where T : unmanaged
    {
        long fit = Length / Unsafe.SizeOf<T>();
        if (count < 0) count = fit;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, fit);
        return Bytes.Cast<T>().SubView(0, count);
    }

    /// <summary>Returns the block to its allocator now. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref released, 1) != 0) return;
        owner.Return(Chunk);
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A device allocation failed even after the garbage collector ran, pending finalizers returned
/// their blocks and the allocator's cache was given back to the driver.
/// </summary>
public sealed class DeviceOutOfMemoryException : OutOfMemoryException
{
    /// <summary>Creates the exception; the message states the request and the allocator's state.</summary>
    public DeviceOutOfMemoryException(string device, long requested, long allocated, long reserved, long cached, Exception? inner)
        : base($"{device}: out of memory allocating {Format(requested)}: {Format(allocated)} in use by live blocks, " +
               $"{Format(reserved)} reserved from the driver, {Format(cached)} cached and free. " +
               "Release tensors (Dispose, Tensor.Scope) or use smaller batches.", inner)
    {
        Requested = requested; Allocated = allocated; Reserved = reserved;
    }

    /// <summary>Bytes the failed allocation asked for.</summary>
    public long Requested { get; }
    /// <summary>Bytes in live blocks when it failed.</summary>
    public long Allocated { get; }
    /// <summary>Bytes reserved from the driver when it failed.</summary>
    public long Reserved { get; }

    internal static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} bytes",
    };
}
