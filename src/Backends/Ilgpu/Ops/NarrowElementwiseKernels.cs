using ILGPU;
using Ember.Operators;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Elementwise kernels on Float16/BFloat16 storage (ushort bits): each element is widened to float32, the float32
/// operator struct runs, and the result is rounded once to the 16-bit type (to nearest even), in one launch. The result
/// is bit for bit what the float32 kernel between two conversion launches gives, as PyTorch's kernels compute 16-bit
/// elementwise ops in float32 (<c>opmath_type</c>) and round once.
/// </summary>
internal static class NarrowElementwiseKernels
{
    /// <summary>y = op(x) over one 16-bit type <typeparamref name="TN"/>.</summary>
    public static void Map<TN, TOp>(Index1D i, ArrayView<ushort> x, ArrayView<ushort> y, Shape8 sh, Str8 xs, Str8 ys, TOp op)
        where TN : struct, INarrow where TOp : struct, IUnaryOperator<float> =>
        y[ys.At(sh, i)] = TN.FromF(op.Invoke(TN.ToF(x[xs.At(sh, i)])));

    /// <summary>y = op(a, b) over one 16-bit type <typeparamref name="TN"/>, with broadcast operands.</summary>
    public static void Combine<TN, TOp>(Index1D i, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> y, Shape8 sh, Str8 as_, Str8 bs, Str8 ys, TOp op)
        where TN : struct, INarrow where TOp : struct, IBinaryOperator<float> =>
        y[ys.At(sh, i)] = TN.FromF(op.Invoke(TN.ToF(a[as_.At(sh, i)]), TN.ToF(b[bs.At(sh, i)])));

    /// <summary>
    /// y = op(a, b) into float32 where one operand is 16-bit (<paramref name="narrow"/>) and the other float32
    /// (<paramref name="wide"/>): a is the 16-bit one when <paramref name="narrowFirst"/> is 1. No rounding: the 16-bit
    /// values are exact in float32 (PyTorch's promotion of a mixed add).
    /// </summary>
    public static void CombineMixed<TN, TOp>(Index1D i, ArrayView<ushort> narrow, ArrayView<float> wide, ArrayView<float> y, Shape8 sh, Str8 ns, Str8 ws, Str8 ys,
        int narrowFirst, TOp op)
        where TN : struct, INarrow where TOp : struct, IBinaryOperator<float>
    {
        float n = TN.ToF(narrow[ns.At(sh, i)]), w = wide[ws.At(sh, i)];
        y[ys.At(sh, i)] = narrowFirst != 0 ? op.Invoke(n, w) : op.Invoke(w, n);
    }
}
