namespace Ember;

/// <summary>
/// How a kernel without a Float16/BFloat16 form runs those dtypes: every reduced-precision tensor is replaced by a
/// contiguous float32 copy on the same device, the float32 kernel runs (so it computes and accumulates in float32, as
/// PyTorch's kernels do in their <c>opmath_type</c>), and each reduced-precision output is rounded back into the
/// caller's view once, to nearest even. Matmul, reductions, convolution, normalization, softmax, losses, attention and
/// the optimizer steps take this path on every backend that has no narrow kernel of its own; elementwise ops convert
/// row by row instead (no temporaries).
/// </summary>
public static class ReducedPrecision
{
    /// <summary>True when any of the non-null tensors is Float16 or BFloat16.</summary>
    public static bool Any(params ReadOnlySpan<Tensor?> tensors)
    {
        foreach (var t in tensors)
            if (t is not null && t.DType.IsReducedPrecision()) return true;
        return false;
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> with float32 stand-ins for the Float16/BFloat16 tensors among
    /// <paramref name="inputs"/> and <paramref name="outputs"/> (other tensors and nulls are passed as they are), then
    /// rounds each stand-in of an output back into that output. Outputs are widened with their current contents, so
    /// accumulating and in-place kernels (matmul with accumulate, scatter-add, optimizer steps) see them.
    /// </summary>
    /// <param name="backend">The backend that owns every tensor (it does the conversions).</param>
    /// <param name="inputs">Tensors the kernel only reads.</param>
    /// <param name="outputs">Tensors the kernel writes (or reads and writes).</param>
    /// <param name="kernel">The float32 kernel, given the stand-ins in the same positions.</param>
    /// <param name="overwritten">True when the kernel writes every element of every output without reading it (the
    /// stand-ins then start uninitialized instead of as widened copies of the outputs).</param>
    public static void ViaFloat32(IBackend backend, Tensor?[] inputs, Tensor?[] outputs, Action<Tensor?[], Tensor?[]> kernel, bool overwritten = false) =>
        Via(backend, inputs, outputs, kernel, d => d.IsReducedPrecision(), DType.Float32, overwritten);

    /// <summary>True when any of the non-null tensors is UInt8, Int8 or Int16.</summary>
    public static bool AnySmallInteger(params ReadOnlySpan<Tensor?> tensors)
    {
        foreach (var t in tensors)
            if (t is not null && IsSmallInteger(t.DType)) return true;
        return false;
    }

    /// <summary>
    /// <see cref="ViaFloat32"/> for the 8- and 16-bit integers: the kernel runs on Int64 stand-ins and each output is
    /// narrowed back by wrapping, which gives exactly the modular results of PyTorch's uint8/int8/int16 arithmetic
    /// (200 + 100 = 44 in uint8).
    /// </summary>
    /// <param name="backend">The backend that owns every tensor.</param>
    /// <param name="inputs">Tensors the kernel only reads.</param>
    /// <param name="outputs">Tensors the kernel writes (or reads and writes).</param>
    /// <param name="kernel">The Int64 kernel, given the stand-ins in the same positions.</param>
    public static void ViaInt64(IBackend backend, Tensor?[] inputs, Tensor?[] outputs, Action<Tensor?[], Tensor?[]> kernel) =>
        Via(backend, inputs, outputs, kernel, IsSmallInteger, DType.Int64, overwritten: false);

    private static bool IsSmallInteger(DType d) => d is DType.UInt8 or DType.Int8 or DType.Int16;

    private static void Via(IBackend backend, Tensor?[] inputs, Tensor?[] outputs, Action<Tensor?[], Tensor?[]> kernel,
        Func<DType, bool> widen, DType wide, bool overwritten)
    {
        var wideIn = Array.ConvertAll(inputs, t => Widen(backend, t, widen, wide, copy: true));
        var wideOut = Array.ConvertAll(outputs, t => Widen(backend, t, widen, wide, copy: !overwritten));
        kernel(wideIn, wideOut);
        for (int i = 0; i < outputs.Length; i++)
            if (outputs[i] is { } o && !ReferenceEquals(o, wideOut[i])) backend.Copy(wideOut[i]!, o);
    }

    // A copy in the wide dtype (exact: every narrow value is a wide one) of a tensor `widen` selects, or only its wide
    // buffer when the kernel overwrites it; others unchanged. The copy is contiguous, except for a view whose elements
    // fill a dense range of its storage in another order (a transposed or permuted contiguous tensor): that range is
    // widened as one contiguous run (the vectorized conversion) and viewed with the same strides, where an element-by-
    // element strided conversion took about 2 ns per element (a matmul's transposed operand under autocast).
    private static Tensor? Widen(IBackend backend, Tensor? t, Func<DType, bool> widen, DType wide, bool copy)
    {
        if (t is null || !widen(t.DType)) return t;
        if (copy && !t.IsContiguous && t.Numel > 1 && IsDensePermutation(t))
        {
            long n = t.Numel;
            var flat = Tensor.Alloc([n], wide, t.Device);
            backend.Copy(new Tensor(t.storage, t.offset, [n], [1]), flat);
            return new Tensor(flat.storage, 0, t.Shape.ToArray(), t.StridesSpan.ToArray());
        }
        var w = Tensor.Alloc(t.Shape.ToArray(), wide, t.Device);
        if (copy) backend.Copy(t, w);
        return w;
    }

    // Whether t's elements are exactly storage[offset, offset + numel) in some dim order: its strides, sorted (size-1 dims
    // aside), are those of a contiguous tensor of the sorted sizes.
    private static bool IsDensePermutation(Tensor t)
    {
        var shape = t.ShapeSpan; var strides = t.StridesSpan;
        Span<(long Stride, long Size)> dims = stackalloc (long, long)[shape.Length];
        int count = 0;
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] != 1) dims[count++] = (strides[i], shape[i]);
        dims = dims[..count];
        dims.Sort();
        long expected = 1;
        foreach (var (stride, size) in dims)
        {
            if (stride != expected) return false;
            expected *= size;
        }
        return true;
    }
}
