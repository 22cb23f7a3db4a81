using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Ember.Operators;

namespace Ember.Cpu;

/// <summary>
/// Float16/BFloat16 rows ↔ float32 rows for the CPU's elementwise kernels, which run the float32 operator struct on a
/// widened row and round the result back once per element (PyTorch computes reduced-precision elementwise ops the
/// same way). Half uses TensorPrimitives' vectorized conversions; BFloat16 is a shift one way and
/// <see cref="BFloat16.FromSingle"/> the other.
/// </summary>
internal static class NarrowConvert
{
    /// <summary>w[i] = (float)x[i] (exact).</summary>
    public static void Widen<TN>(ReadOnlySpan<TN> x, Span<float> w) where TN : unmanaged
    {
        if (typeof(TN) == typeof(Half)) TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<TN, Half>(x), w);
        else
        {
            var b = MemoryMarshal.Cast<TN, ushort>(x);
            var wu = MemoryMarshal.Cast<float, uint>(w);
            for (int i = 0; i < b.Length; i++) wu[i] = (uint)b[i] << 16;
        }
    }

    /// <summary>y[i] = x[i] rounded to the nearest <typeparamref name="TN"/>, ties to even.</summary>
    public static void Narrow<TN>(ReadOnlySpan<float> x, Span<TN> y) where TN : unmanaged
    {
        if (typeof(TN) == typeof(Half)) TensorPrimitives.ConvertToHalf(x, MemoryMarshal.Cast<TN, Half>(y));
        else
        {
            var b = MemoryMarshal.Cast<TN, BFloat16>(y);
            for (int i = 0; i < x.Length; i++) b[i] = BFloat16.FromSingle(x[i]);
        }
    }

    /// <summary>
    /// The float32 operator (<typeparamref name="T"/> is float: the compute type) over a narrow row: widen, op in place,
    /// round back.
    /// </summary>
    public static void Unary<TN, T, TOp>(TOp op, ReadOnlySpan<TN> x, Span<TN> y)
        where TN : unmanaged where T : unmanaged where TOp : struct, IUnaryOperator<T>
    {
        float[] buffer = ArrayPool<float>.Shared.Rent(x.Length);
        var w = buffer.AsSpan(0, x.Length);
        Widen(x, w);
        var wt = MemoryMarshal.Cast<float, T>(w);
        op.Invoke(wt, wt);
        Narrow(w, y);
        ArrayPool<float>.Shared.Return(buffer);
    }

    /// <summary>The float32 operator (<typeparamref name="T"/> is float) over narrow rows: widen both, op, round back.</summary>
    public static void Binary<TN, T, TOp>(TOp op, ReadOnlySpan<TN> a, ReadOnlySpan<TN> b, Span<TN> y)
        where TN : unmanaged where T : unmanaged where TOp : struct, IBinaryOperator<T>
    {
        float[] ba = ArrayPool<float>.Shared.Rent(a.Length), bb = ArrayPool<float>.Shared.Rent(a.Length);
        Span<float> wa = ba.AsSpan(0, a.Length), wb = bb.AsSpan(0, a.Length);
        Widen(a, wa);
        Widen(b, wb);
        var ta = MemoryMarshal.Cast<float, T>(wa);
        op.Invoke(ta, MemoryMarshal.Cast<float, T>(wb), ta);
        Narrow(wa, y);
        ArrayPool<float>.Shared.Return(ba);
        ArrayPool<float>.Shared.Return(bb);
    }

    /// <summary>A comparison of narrow rows (exact in float32).</summary>
    public static void Compare<TN>(BinaryOp op, ReadOnlySpan<TN> a, ReadOnlySpan<TN> b, Span<bool> y) where TN : unmanaged
    {
        float[] ba = ArrayPool<float>.Shared.Rent(a.Length), bb = ArrayPool<float>.Shared.Rent(a.Length);
        Span<float> wa = ba.AsSpan(0, a.Length), wb = bb.AsSpan(0, a.Length);
        Widen(a, wa);
        Widen(b, wb);
        BinaryKernels.Compare<float>(op, wa, wb, y);
        ArrayPool<float>.Shared.Return(ba);
        ArrayPool<float>.Shared.Return(bb);
    }
}
