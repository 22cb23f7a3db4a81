using System.Runtime.InteropServices;

namespace Ember.Serialization;

/// <summary>A storage named by a pickle's persistent id: its key in the file, element type and element count.</summary>
internal sealed record TorchStorageRef(string Key, TorchStorageType Type, long Numel)
{
    /// <summary>The storage's size in bytes (checked: the count comes from the file).</summary>
    public long ByteLength => checked(Numel * Type.ElementSize);
}

/// <summary>
/// A tensor as the pickle describes it (<c>_rebuild_tensor_v2(storage, storage_offset, size, stride, …)</c>), validated against its
/// storage when it is created, materialized once the storage bytes have been read (a legacy file stores them after the pickle).
/// </summary>
internal sealed class TorchTensorRecord
{
    public TorchStorageRef Storage { get; }
    public long Offset { get; }
    public long[] Shape { get; }
    public long[] Strides { get; }
    public bool RequiresGrad { get; set; }

    /// <summary>The loaded tensor, set by <see cref="Materialize"/> (several references to one record share it).</summary>
    public Tensor? Result { get; private set; }

    /// <summary>Validates the view against the storage: every element it addresses lies inside the storage.</summary>
    /// <exception cref="InvalidDataException">A size, stride or offset is negative, the rank is over <see cref="Tensor.MaxRank"/>, or the view reaches past the storage.</exception>
    public TorchTensorRecord(TorchStorageRef storage, long offset, long[] shape, long[] strides, bool requiresGrad, Func<string, Exception> bad)
    {
        if (shape.Length != strides.Length)
            throw bad($"tensor size ({Fmt(shape)}) and stride ({Fmt(strides)}) have different lengths.");
        if (shape.Length > Tensor.MaxRank)
            throw bad($"tensor of rank {shape.Length} (size {Fmt(shape)}): Ember tensors have at most {Tensor.MaxRank} dims.");
        if (offset < 0 || shape.Any(s => s < 0) || strides.Any(s => s < 0))
            throw bad($"tensor with storage_offset {offset}, size {Fmt(shape)}, stride {Fmt(strides)}: offsets, sizes and strides must be non-negative.");
        try
        {
            long numel = 1;
            foreach (var s in shape) numel = checked(numel * s);
            // The last element addressed is offset + sum((size_i - 1) * stride_i); an empty tensor addresses none.
            long last = offset;
            if (numel > 0)
                for (int i = 0; i < shape.Length; i++) last = checked(last + (shape[i] - 1) * strides[i]);
            if (numel > 0 ? last >= storage.Numel : offset > storage.Numel)
                throw bad($"tensor with storage_offset {offset}, size {Fmt(shape)}, stride {Fmt(strides)} reaches element {last} of storage " +
                          $"'{storage.Key}', which has {storage.Numel} elements.");
        }
        catch (OverflowException)
        {
            throw bad($"tensor with storage_offset {offset}, size {Fmt(shape)}, stride {Fmt(strides)}: its extent overflows a 64-bit integer.");
        }
        Storage = storage;
        Offset = offset;
        Shape = shape;
        Strides = strides;
        RequiresGrad = requiresGrad;
    }

    private static string Fmt(long[] v) => "(" + string.Join(", ", v) + ")";

    /// <summary>Copies the viewed elements (row-major) out of the storage bytes into a new contiguous CPU tensor of <paramref name="dtype"/>.</summary>
    public Tensor Materialize(byte[] storageBytes, DType dtype)
    {
        if (Result is not null) return Result;
        var t = Storage.Type.ClassName switch
        {
            "FloatStorage" => Make(Gather(MemoryMarshal.Cast<byte, float>(storageBytes))),
            "DoubleStorage" => Make(Gather(MemoryMarshal.Cast<byte, double>(storageBytes))),
            "LongStorage" => Make(Gather(MemoryMarshal.Cast<byte, long>(storageBytes))),
            "IntStorage" => Make(Gather(MemoryMarshal.Cast<byte, int>(storageBytes))),
            // PyTorch stores bool as one byte 0/1; any nonzero byte reads as true.
            "BoolStorage" => Make(Array.ConvertAll(Gather<byte>(storageBytes), b => b != 0)),
            "HalfStorage" => Make(Gather(MemoryMarshal.Cast<byte, Half>(storageBytes))),
            "BFloat16Storage" => Make(Gather(MemoryMarshal.Cast<byte, BFloat16>(storageBytes))),
            "ByteStorage" => Make(Gather<byte>(storageBytes)),
            "CharStorage" => Make(Gather(MemoryMarshal.Cast<byte, sbyte>(storageBytes))),
            "ShortStorage" => Make(Gather(MemoryMarshal.Cast<byte, short>(storageBytes))),
            _ => throw new NotSupportedException($"{Storage.Type.TorchDType} tensors cannot be loaded."),
        };
        // upcast: float16/bfloat16 → float32, 8/16-bit integers → int32, all exact.
        if (t.DType != dtype) t = t.To(dtype);
        if (RequiresGrad && dtype.IsFloatingPoint()) t.RequiresGrad_();
        return Result = t;
    }

    private Tensor Make<T>(T[] data) where T : unmanaged =>
        Shape.Length == 0 ? Tensor.FromArray(data).Reshape() : Tensor.FromArray(data, Shape);

    private bool IsContiguous()
    {
        long expected = 1;
        for (int d = Shape.Length - 1; d >= 0; d--)
        {
            if (Shape[d] != 1 && Strides[d] != expected) return false;
            expected *= Shape[d];
        }
        return true;
    }

    /// <summary>The elements of the view in row-major order (bounds were checked in the constructor).</summary>
    private T[] Gather<T>(ReadOnlySpan<T> src)
    {
        long numel = 1;
        foreach (var s in Shape) numel *= s;
        var dst = new T[numel];
        if (numel == 0) return dst;
        if (IsContiguous()) { src.Slice((int)Offset, (int)numel).CopyTo(dst); return dst; }
        int rank = Shape.Length;
        var idx = new long[rank];
        long pos = Offset;
        for (long i = 0; i < numel; i++)
        {
            dst[i] = src[(int)pos];
            // Odometer increment over the multi-index, adjusting pos by the strides.
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < Shape[d]) { pos += Strides[d]; break; }
                pos -= (Shape[d] - 1) * Strides[d];
                idx[d] = 0;
            }
        }
        return dst;
    }
}
