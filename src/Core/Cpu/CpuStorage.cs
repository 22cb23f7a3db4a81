namespace Ember.Cpu;

/// <summary>CPU storage: a managed array the GC owns (float[], double[], int[], long[] or bool[]).</summary>
public sealed class CpuStorage : Storage
{
    internal CpuStorage(IBackend backend, DType dtype, long length) : base(backend, Device.Cpu, dtype, length)
    {
        if (length > int.MaxValue) throw new ArgumentException($"CPU tensors hold at most {int.MaxValue} elements, asked for {length}.");
        int n = (int)length;
        Data = dtype switch
        {
            DType.Float32 => GC.AllocateUninitializedArray<float>(n),
            DType.Float64 => GC.AllocateUninitializedArray<double>(n),
            DType.Int32 => GC.AllocateUninitializedArray<int>(n),
            DType.Int64 => GC.AllocateUninitializedArray<long>(n),
            DType.Bool => new bool[n],
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
    }

    /// <summary>The elements.</summary>
    public Array Data { get; }

    /// <summary>The elements as T[] (T must match the dtype).</summary>
    public T[] Get<T>() where T : unmanaged => (T[])Data;
}
