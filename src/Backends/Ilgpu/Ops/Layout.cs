using System.Runtime.CompilerServices;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// The shape an elementwise kernel iterates over (rank ≤ <see cref="Tensor.MaxRank"/>), passed to kernels by value.
/// The host coalesces dimensions first, so most launches see rank 1 or 2.
/// </summary>
internal struct Shape8
{
    /// <summary>Number of dimensions (at least 1).</summary>
    public int Rank;
    /// <summary>1 when the shape has fewer than 2³¹ elements, so index arithmetic may use 32-bit division.</summary>
    public int Int32Indexing;
    /// <summary>Sizes of dimensions 0..7 (unused ones are 1).</summary>
    public long Size0, Size1, Size2, Size3, Size4, Size5, Size6, Size7;

    /// <summary>Size of dimension <paramref name="d"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly long Dim(int d) => d switch { 0 => Size0, 1 => Size1, 2 => Size2, 3 => Size3, 4 => Size4, 5 => Size5, 6 => Size6, _ => Size7 };

    /// <summary>Builds the struct from a host shape.</summary>
    public static Shape8 From(ReadOnlySpan<long> shape)
    {
        var s = new Shape8 { Rank = Math.Max(1, shape.Length), Size0 = 1, Size1 = 1, Size2 = 1, Size3 = 1, Size4 = 1, Size5 = 1, Size6 = 1, Size7 = 1 };
        long numel = 1;
        for (int i = 0; i < shape.Length; i++) { s.Set(i, shape[i]); numel = numel > int.MaxValue ? numel : numel * Math.Min(shape[i], 1L << 31); }
        s.Int32Indexing = numel <= int.MaxValue ? 1 : 0;
        return s;
    }

    private void Set(int d, long v)
    {
        switch (d) { case 0: Size0 = v; break; case 1: Size1 = v; break; case 2: Size2 = v; break; case 3: Size3 = v; break;
            case 4: Size4 = v; break; case 5: Size5 = v; break; case 6: Size6 = v; break; default: Size7 = v; break; }
    }
}

/// <summary>
/// Where one operand's elements are: base offset and per-dimension strides (in elements) over a <see cref="Shape8"/>.
/// <see cref="Contiguous"/> = 1 marks the contiguous fast path (element i at Offset + i).
/// </summary>
internal struct Str8
{
    /// <summary>Offset of element 0 in the storage.</summary>
    public long Offset;
    /// <summary>1 when element i is at <see cref="Offset"/> + i.</summary>
    public int Contiguous;
    /// <summary>Strides of dimensions 0..7.</summary>
    public long Stride0, Stride1, Stride2, Stride3, Stride4, Stride5, Stride6, Stride7;

    /// <summary>Stride of dimension <paramref name="d"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly long Stride(int d) => d switch { 0 => Stride0, 1 => Stride1, 2 => Stride2, 3 => Stride3, 4 => Stride4, 5 => Stride5, 6 => Stride6, _ => Stride7 };

    /// <summary>Storage index of the element with row-major linear index <paramref name="i"/> of <paramref name="shape"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly long At(Shape8 shape, long i)
    {
        if (Contiguous != 0) return Offset + i;
        long off = Offset;
        if (shape.Int32Indexing != 0)
        {
            // 32-bit division is several times cheaper than 64-bit on GPUs.
            int j = (int)i;
            for (int d = shape.Rank - 1; d >= 0; d--)
            {
                int n = (int)shape.Dim(d);
                int q = j / n;
                off += (j - q * n) * Stride(d);
                j = q;
            }
            return off;
        }
        for (int d = shape.Rank - 1; d >= 0; d--)
        {
            long n = shape.Dim(d);
            long q = i / n;
            off += (i - q * n) * Stride(d);
            i = q;
        }
        return off;
    }

    /// <summary>Builds the struct from host strides.</summary>
    public static Str8 From(long offset, long[] strides, bool contiguous = false)
    {
        var s = new Str8 { Offset = offset, Contiguous = contiguous ? 1 : 0 };
        for (int i = 0; i < strides.Length; i++) s.Set(i, strides[i]);
        return s;
    }

    private void Set(int d, long v)
    {
        switch (d) { case 0: Stride0 = v; break; case 1: Stride1 = v; break; case 2: Stride2 = v; break; case 3: Stride3 = v; break;
            case 4: Stride4 = v; break; case 5: Stride5 = v; break; case 6: Stride6 = v; break; default: Stride7 = v; break; }
    }
}

/// <summary>Host-side planning of strided launches: joint coalescing of the dims of several same-shape operands.</summary>
internal static class LayoutPlan
{
    /// <summary>
    /// Coalesces the dims of <paramref name="shape"/> where every operand allows it (size-1 dims dropped,
    /// adjacent dims merged when stride[i] == stride[i+1]·size[i+1] for all operands); returns the launch shape
    /// and one <see cref="Str8"/> per operand (with <see cref="Str8.Contiguous"/> set where it is contiguous).
    /// </summary>
    public static (Shape8 Shape, Str8[] Operands) Plan(ReadOnlySpan<long> shape, params Tensor[] operands)
    {
        var (dims, st) = ShapeUtil.Coalesce(shape.ToArray(), operands);
        var result = new Str8[operands.Length];
        for (int j = 0; j < operands.Length; j++)
            result[j] = Str8.From(operands[j].StorageOffset, st[j], dims.Length == 1 && st[j][0] == 1);
        return (Shape8.From(dims), result);
    }

    /// <summary>
    /// Strides of <paramref name="t"/> over its own shape without coalescing,
    /// with the stride of <paramref name="zeroDim"/> (if ≥ 0) replaced by 0.
    /// </summary>
    public static Str8 Raw(Tensor t, int zeroDim = -1)
    {
        var s = t.StridesSpan.ToArray();
        if (zeroDim >= 0) s[zeroDim] = 0;
        return Str8.From(t.StorageOffset, s);
    }

    /// <summary>A selector over a rank-<paramref name="rank"/> shape: <c>At(shape, i)</c> = offset + coordinate of dim <paramref name="dim"/> · stride.</summary>
    public static Str8 Selector(int rank, int dim, long offset = 0, long stride = 1)
    {
        var s = new long[rank];
        s[dim] = stride;
        return Str8.From(offset, s);
    }
}
