using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    // Rows are converted in blocks of this many elements on the stack (8 KiB of floats): no allocation, and the block is
    // still in L1 when the op reads it and when it is rounded back.
    private const int Block = 2048;

    /// <summary>w[i] = (float)x[i] (exact).</summary>
    public static void Widen<TN>(ReadOnlySpan<TN> x, Span<float> w) where TN : unmanaged
    {
        if (typeof(TN) == typeof(Half)) { TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<TN, Half>(x), w); return; }
        var b = MemoryMarshal.Cast<TN, ushort>(x);
        var wu = MemoryMarshal.Cast<float, uint>(w);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<ushort>.Count <= b.Length; i += Vector256<ushort>.Count)
            {
                // BFloat16 is the upper half of a float32: widen each 16-bit lane to 32 bits and shift it up.
                var (lo, hi) = Vector256.Widen(Vector256.Create<ushort>(b.Slice(i)));
                (lo << 16).CopyTo(wu.Slice(i));
                (hi << 16).CopyTo(wu.Slice(i + Vector256<uint>.Count));
            }
        for (; i < b.Length; i++) wu[i] = (uint)b[i] << 16;
    }

    /// <summary>y[i] = x[i] rounded to the nearest <typeparamref name="TN"/>, ties to even (NaN stays NaN).</summary>
    public static void Narrow<TN>(ReadOnlySpan<float> x, Span<TN> y) where TN : unmanaged
    {
        if (typeof(TN) == typeof(Half)) { TensorPrimitives.ConvertToHalf(x, MemoryMarshal.Cast<TN, Half>(y)); return; }
        var xu = MemoryMarshal.Cast<float, uint>(x);
        var b = MemoryMarshal.Cast<TN, ushort>(y);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<ushort>.Count <= b.Length; i += Vector256<ushort>.Count)
                Vector256.Narrow(RoundToBFloat16(Vector256.Create<uint>(xu.Slice(i))),
                    RoundToBFloat16(Vector256.Create<uint>(xu.Slice(i + Vector256<uint>.Count)))).CopyTo(b.Slice(i));
        var tail = MemoryMarshal.Cast<TN, BFloat16>(y);
        for (; i < b.Length; i++) tail[i] = BFloat16.FromSingle(x[i]);
    }

    // BFloat16.FromSingle on 8 lanes, the result in the low 16 bits of each: the same round-half-to-even addition, and
    // NaN lanes (|u| above ∞'s bits) replaced by their upper half with the quiet bit set.
    private static Vector256<uint> RoundToBFloat16(Vector256<uint> u)
    {
        var rounded = (u + Vector256.Create(0x7FFFu) + ((u >> 16) & Vector256<uint>.One)) >> 16;
        var nan = Vector256.GreaterThan(u & Vector256.Create(0x7FFFFFFFu), Vector256.Create(0x7F800000u));
        return Vector256.ConditionalSelect(nan, (u >> 16) | Vector256.Create(0x40u), rounded);
    }

    /// <summary>
    /// The float32 operator (<typeparamref name="T"/> is float: the compute type) over a narrow row: widen a block, op in
    /// place, round back.
    /// </summary>
    public static void Unary<TN, T, TOp>(TOp op, ReadOnlySpan<TN> x, Span<TN> y)
        where TN : unmanaged where T : unmanaged where TOp : struct, IUnaryOperator<T>
    {
        Span<float> w = stackalloc float[Block];
        for (int s = 0; s < x.Length; s += Block)
        {
            int n = Math.Min(Block, x.Length - s);
            var wb = w[..n];
            Widen(x.Slice(s, n), wb);
            var wt = MemoryMarshal.Cast<float, T>(wb);
            op.Invoke(wt, wt);
            Narrow(wb, y.Slice(s, n));
        }
    }

    /// <summary>The float32 operator (<typeparamref name="T"/> is float) over narrow rows: widen both blocks, op, round back.</summary>
    public static void Binary<TN, T, TOp>(TOp op, ReadOnlySpan<TN> a, ReadOnlySpan<TN> b, Span<TN> y)
        where TN : unmanaged where T : unmanaged where TOp : struct, IBinaryOperator<T>
    {
        Span<float> wa = stackalloc float[Block], wb = stackalloc float[Block];
        for (int s = 0; s < a.Length; s += Block)
        {
            int n = Math.Min(Block, a.Length - s);
            Widen(a.Slice(s, n), wa[..n]);
            Widen(b.Slice(s, n), wb[..n]);
            var ta = MemoryMarshal.Cast<float, T>(wa[..n]);
            op.Invoke(ta, MemoryMarshal.Cast<float, T>(wb[..n]), ta);
            Narrow(wa[..n], y.Slice(s, n));
        }
    }

    /// <summary>A comparison of narrow rows (exact in float32).</summary>
    public static void Compare<TN>(BinaryOp op, ReadOnlySpan<TN> a, ReadOnlySpan<TN> b, Span<bool> y) where TN : unmanaged
    {
        Span<float> wa = stackalloc float[Block], wb = stackalloc float[Block];
        for (int s = 0; s < a.Length; s += Block)
        {
            int n = Math.Min(Block, a.Length - s);
            Widen(a.Slice(s, n), wa[..n]);
            Widen(b.Slice(s, n), wb[..n]);
            BinaryKernels.Compare<float>(op, wa[..n], wb[..n], y.Slice(s, n));
        }
    }
}
