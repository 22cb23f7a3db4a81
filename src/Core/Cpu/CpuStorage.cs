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
        if (length > int.MaxValue) throw new ArgumentException($"CPU tensors hold at most {int.MaxValue} elements, asked for {length}.");
        Data = CpuMemoryPool.Rent(dtype, (int)length, out lease);
    }

    /// <summary>
    /// The elements. The array has exactly <see cref="Storage.Length"/> elements; holding a reference to it keeps
    /// it out of the pool (it is reused only once unreachable).
    /// </summary>
    public Array Data { get; }

    /// <summary>The elements as T[] (T must match the dtype).</summary>
    public T[] Get<T>() where T : unmanaged => (T[])Data;

    /// <summary>Hands a pooled array back to <see cref="CpuMemoryPool"/> at once.</summary>
    protected override void Release() => lease?.Return();
}
