namespace Ember.Cpu;

/// <summary>
/// CPU storage: a managed array the GC owns (float[], double[], int[], long[] or bool[]). Large arrays come from
/// <see cref="CpuMemoryPool"/> and go back to it when nothing references them any more (or at once on Dispose).
/// </summary>
public sealed class CpuStorage : Storage
{
    private readonly PoolLease? lease;

    internal CpuStorage(IBackend backend, DType dtype, long length) : base(backend, Device.Cpu, dtype, length)
    {
        if (length > Array.MaxLength) throw new ArgumentException($"CPU tensors hold at most {Array.MaxLength} elements (the largest .NET array), asked for {length}.");
        data = CpuMemoryPool.Rent(dtype, (int)length, out lease);
    }

    private readonly Array data;

    /// <summary>
    /// The elements. The array has exactly <see cref="Storage.Length"/> elements; holding a reference to it keeps
    /// it out of the pool (it is reused only once unreachable).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The storage was disposed: its array may already hold another tensor. Every
    /// CPU read and write goes through here, so this is the one check that keeps released memory unreadable.</exception>
    public Array Data
    {
        get
        {
            if (IsDisposed)
                throw new ObjectDisposedException(nameof(Tensor), $"A {DType} tensor storage of {Length} elements was used after it was disposed (Dispose or the end of a Tensor.Scope).");
            return data;
        }
    }

    /// <summary>The elements as T[] (T must match the dtype).</summary>
    public T[] Get<T>() where T : unmanaged => (T[])Data;

    /// <inheritdoc/>
    public override System.Buffers.MemoryHandle? PinHostMemory()
    {
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(Data, System.Runtime.InteropServices.GCHandleType.Pinned);
        unsafe { return new System.Buffers.MemoryHandle((void*)handle.AddrOfPinnedObject(), handle); }
    }

    /// <summary>Hands a pooled array back to <see cref="CpuMemoryPool"/> at once.</summary>
    protected override void Release() => lease?.Return();
}
