using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// Device memory of one tensor storage: a <see cref="DeviceBlock"/> lent by the device's
/// <see cref="CachingAllocator"/>. <see cref="Storage.Dispose"/> returns the block at once; when nobody
/// disposes the storage, the block's own finalizer returns it after the GC collects both (the block is
/// reachable only through this storage), so there is exactly one return either way.
/// Bool elements are stored as one byte each (0 or 1).
/// </summary>
public sealed class IlgpuStorage : Storage
{
    internal IlgpuStorage(IBackend backend, IlgpuDevice owner, DType dtype, long length)
        : base(backend, owner.Device, dtype, length)
    {
        Owner = owner;
        Block = owner.Allocator.Allocate(length * dtype.ElementSize());
    }

    /// <summary>The opened device (accelerator, kernels, allocator) the memory belongs to.</summary>
    public IlgpuDevice Owner { get; }

    /// <summary>The allocator's block holding the elements.</summary>
    public DeviceBlock Block { get; }

    /// <summary>The elements as an ILGPU view of <typeparamref name="T"/> (byte for Bool).</summary>
    /// <exception cref="ObjectDisposedException">The storage was disposed.</exception>
    public ArrayView<T> View<T>() where T : unmanaged => Block.View<T>(Length);

    /// <summary>Returns the block to the allocator.</summary>
    protected override void Release() => Block.Dispose();
}
