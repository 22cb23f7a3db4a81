namespace Ember;

/// <summary>
/// A flat buffer of elements owned by a backend. Tensors are views into a storage
/// (offset, shape, strides). Only the owning backend reads or writes the memory.
/// </summary>
public abstract class Storage : IDisposable
{
    /// <summary>Creates the bookkeeping of a storage of <paramref name="length"/> elements.</summary>
    protected Storage(IBackend backend, Device device, DType dtype, long length)
    {
        Backend = backend; Device = device; DType = dtype; Length = length;
    }

    /// <summary>The backend that owns the memory.</summary>
    public IBackend Backend { get; }
    /// <summary>The device the memory lives on.</summary>
    public Device Device { get; }
    /// <summary>Element type.</summary>
    public DType DType { get; }
    /// <summary>Number of elements.</summary>
    public long Length { get; }
    /// <summary>Size in bytes.</summary>
    public long ByteLength => Length * DType.ElementSize();

    /// <summary>
    /// Version counter, bumped by every in-place write through a tensor. Autograd compares it with the
    /// version it saw when it saved a tensor, to detect in-place modification of saved values.
    /// </summary>
    public int Version { get; private set; }

    /// <summary>Marks an in-place modification.</summary>
    public void BumpVersion() => Version++;

    /// <summary>True once the memory was released.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Returns the memory to the backend now instead of when the GC finalizes it.</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases backend memory; called once.</summary>
    protected virtual void Release() { }

    /// <summary>
    /// Pins the storage's memory when it is host memory a native library can address (the CPU backend's arrays) and
    /// returns the handle whose <c>Pointer</c> is element 0; null for device memory. Dispose the handle to unpin. For
    /// transports such as MPI, which read and write host buffers by address.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The storage was disposed.</exception>
    public virtual System.Buffers.MemoryHandle? PinHostMemory() => null;
}
