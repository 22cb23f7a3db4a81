using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>
/// Vectorized float32 special functions for the CPU backend: erf, exact GELU and its derivative.
/// float64 goes through the accurate scalar <see cref="Special.Erf"/>.
/// </summary>
internal static class FastMath
{
    // erf x ≈ x·P(x²)/Q(x²) on [−4, 4] (a published rational minimax fit for float32, as in Eigen/XLA),
    // clamped to ±1 outside; absolute error a few float32 ulps.
    private const float A13 = -2.72614225801306e-10f, A11 = 2.77068142495902e-08f, A9 = -2.10102402082508e-06f,
        A7 = -5.69250639462346e-05f, A5 = -7.34990630326855e-04f, A3 = -2.95459980854025e-03f, A1 = -1.60960333262415e-02f;
    private const float B8 = -1.45660718464996e-05f, B6 = -2.13374055278905e-04f, B4 = -1.68282697438203e-03f,
        B2 = -7.37332916720468e-03f, B0 = -1.42647390514189e-02f;
    private const float InvSqrt2 = 0.70710678118654752440f;
    private const float InvSqrt2Pi = 0.39894228040143267794f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Erf(Vector<float> x)
    {
        var c = Vector.Min(Vector.Max(x, new Vector<float>(-4f)), new Vector<float>(4f));
        var x2 = c * c;
        var p = Vector.FusedMultiplyAdd(x2, new Vector<float>(A13), new Vector<float>(A11));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(A9));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(A7));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(A5));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(A3));
        p = Vector.FusedMultiplyAdd(x2, p, new Vector<float>(A1));
        var q = Vector.FusedMultiplyAdd(x2, new Vector<float>(B8), new Vector<float>(B6));
        q = Vector.FusedMultiplyAdd(x2, q, new Vector<float>(B4));
        q = Vector.FusedMultiplyAdd(x2, q, new Vector<float>(B2));
        q = Vector.FusedMultiplyAdd(x2, q, new Vector<float>(B0));
        var r = Vector.Min(Vector.Max(c * p / q, new Vector<float>(-1f)), Vector<float>.One);
        // NaN in, NaN out (Min/Max above may have dropped it).
        return Vector.ConditionalSelect(Vector.Equals(x, x), r, x);
    }

    // The same fit over 512-bit vectors (AVX-512 machines, where Vector<float> stays 256 bits wide). Inlined: a call
    // passes and returns the vectors through memory.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Erf(Vector512<float> x)
    {
        var c = Vector512.Min(Vector512.Max(x, Vector512.Create(-4f)), Vector512.Create(4f));
        var x2 = c * c;
        var p = Vector512.FusedMultiplyAdd(x2, Vector512.Create(A13), Vector512.Create(A11));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A9));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A7));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A5));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A1));
        var q = Vector512.FusedMultiplyAdd(x2, Vector512.Create(B8), Vector512.Create(B6));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B4));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B2));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B0));
        // 1/q by the 14-bit hardware estimate and one Newton step (about 2^-27 relative, below float's rounding): cheaper
        // than a 512-bit divide. q is in [-0.0143, -0.0042] on the clamped range, never near 0.
        var inverse = System.Runtime.Intrinsics.X86.Avx512F.Reciprocal14(q);
        inverse *= Vector512.FusedMultiplyAdd(-q, inverse, Vector512.Create(2f));
        var r = Vector512.Min(Vector512.Max(c * p * inverse, Vector512.Create(-1f)), Vector512<float>.One);
        // NaN in, NaN out (Min/Max above may have dropped it).
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), r, x);
    }

    /// <summary>Scalar form of the float32 erf (tails of spans).</summary>
    public static float Erf(float x)
    {
        if (float.IsNaN(x)) return x;
        float c = Math.Clamp(x, -4f, 4f), x2 = c * c;
        float p = MathF.FusedMultiplyAdd(x2, A13, A11);
        p = MathF.FusedMultiplyAdd(x2, p, A9); p = MathF.FusedMultiplyAdd(x2, p, A7); p = MathF.FusedMultiplyAdd(x2, p, A5);
        p = MathF.FusedMultiplyAdd(x2, p, A3); p = MathF.FusedMultiplyAdd(x2, p, A1);
        float q = MathF.FusedMultiplyAdd(x2, B8, B6);
        q = MathF.FusedMultiplyAdd(x2, q, B4); q = MathF.FusedMultiplyAdd(x2, q, B2); q = MathF.FusedMultiplyAdd(x2, q, B0);
        return Math.Clamp(c * p / q, -1f, 1f);
    }

    /// <summary>y = erf x over float32 spans (x and y may be the same span).</summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0, w = Vector<float>.Count;
        for (; i <= x.Length - w; i += w) Erf(new Vector<float>(x.Slice(i))).CopyTo(y.Slice(i));
        for (; i < x.Length; i++) y[i] = Erf(x[i]);
    }

    /// <summary>y = ½x(1 + erf(x/√2)) over float32 spans.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0, w = Vector<float>.Count;
        if (Vector512.IsHardwareAccelerated && Vector<float>.Count < Vector512<float>.Count)
            i = Gelu512(x, y);
        var half = new Vector<float>(0.5f);
        for (; i <= x.Length - w; i += w)
        {
            var v = new Vector<float>(x.Slice(i));
            (half * v * (Vector<float>.One + Erf(v * InvSqrt2))).CopyTo(y.Slice(i));
        }
        for (; i < x.Length; i++) y[i] = 0.5f * x[i] * (1f + Erf(x[i] * InvSqrt2));
    }

    /// <summary>dx = g·(Φ(x) + x·φ(x)) with Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π) (exact GELU's derivative).</summary>
    public static void GeluBackward(ReadOnlySpan<float> g, ReadOnlySpan<float> x, Span<float> dx)
    {
        int i = 0, w = Vector<float>.Count;
        if (Vector512.IsHardwareAccelerated && Vector<float>.Count < Vector512<float>.Count)
            i = GeluBackward512(g, x, dx);
        var half = new Vector<float>(0.5f);
        for (; i <= x.Length - w; i += w)
        {
            var v = new Vector<float>(x.Slice(i));
            var cdf = half * (Vector<float>.One + Erf(v * InvSqrt2));
            var pdf = Vector.Exp(-half * v * v) * InvSqrt2Pi;
            (new Vector<float>(g.Slice(i)) * Vector.FusedMultiplyAdd(v, pdf, cdf)).CopyTo(dx.Slice(i));
        }
        for (; i < x.Length; i++)
        {
            float v = x[i];
            float cdf = 0.5f * (1f + Erf(v * InvSqrt2));
            float pdf = MathF.Exp(-0.5f * v * v) * InvSqrt2Pi;
            dx[i] = g[i] * (cdf + v * pdf);
        }
    }

    // The 512-bit body of Gelu: whole vectors only; returns how many elements it wrote.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Gelu512(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0, w = Vector512<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x), yr = ref MemoryMarshal.GetReference(y);
        var half = Vector512.Create(0.5f);
        for (; i <= x.Length - w; i += w)
        {
            var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
            (half * v * (Vector512<float>.One + Erf(v * InvSqrt2))).StoreUnsafe(ref yr, (nuint)i);
        }
        return i;
    }

    // The 512-bit body of GeluBackward: whole vectors only; returns how many elements it wrote.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int GeluBackward512(ReadOnlySpan<float> g, ReadOnlySpan<float> x, Span<float> dx)
    {
        int i = 0, w = Vector512<float>.Count;
        ref float gr = ref MemoryMarshal.GetReference(g), xr = ref MemoryMarshal.GetReference(x), dr = ref MemoryMarshal.GetReference(dx);
        var half = Vector512.Create(0.5f);
        for (; i <= x.Length - w; i += w)
        {
            var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
            var cdf = half * (Vector512<float>.One + Erf(v * InvSqrt2));
            // −x²/2 ≤ 0: the softmax exp applies (it flushes below e^−87, where the density times g is negligible anyway).
            var pdf = ExpNonPositive(-half * v * v) * InvSqrt2Pi;
            (Vector512.LoadUnsafe(ref gr, (nuint)i) * Vector512.FusedMultiplyAdd(v, pdf, cdf)).StoreUnsafe(ref dr, (nuint)i);
        }
        return i;
    }

    /// <summary>
    /// <see cref="ExpNonPositiveSum(Span{float})"/> for any float type: float32 through the one-pass exp, others through
    /// <see cref="ExpSum{T}"/>. Every x must be ≤ 0 (or NaN): a row with its maximum subtracted.
    /// </summary>
    public static T ExpNonPositiveSum<T>(Span<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? T.CreateTruncating(ExpNonPositiveSum(MemoryMarshal.Cast<T, float>(x))) : ExpSum(x);

    /// <summary>x ← e^x in place for any x (the BCL's vector exp) and returns Σ e^x.</summary>
    public static T ExpSum<T>(Span<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Exp<T>(x, x);
        return TensorPrimitives.Sum<T>(x);
    }

    /// <summary>
    /// x ← e^x in place over x ≤ 0 (softmax rows after the row maximum was subtracted) and returns Σ e^x, on AVX-512
    /// machines in one 512-bit pass; elsewhere through <see cref="TensorPrimitives.Exp{T}(ReadOnlySpan{T}, Span{T})"/>.
    /// Inputs below −87 give 0 (e^−87 ≈ 1.6e−38 is below float's normal range and negligible next to a sum ≥ 1),
    /// NaN gives NaN; positive inputs are not supported (they are clamped to 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpNonPositiveSum(Span<float> x)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            TensorPrimitives.Exp(x, x);
            return TensorPrimitives.Sum<float>(x);
        }
        int i = 0, w = Vector512<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        var sum = Vector512<float>.Zero;
        for (; i <= x.Length - w; i += w)
        {
            var e = ExpNonPositive(Vector512.LoadUnsafe(ref xr, (nuint)i));
            e.StoreUnsafe(ref xr, (nuint)i);
            sum += e;
        }
        if (i < x.Length)
        {
            // The tail through a masked copy: pad with −∞ (e^−∞ = 0 adds nothing to the sum).
            Span<float> tail = stackalloc float[16];
            tail.Fill(float.NegativeInfinity);
            x[i..].CopyTo(tail);
            var e = ExpNonPositive(Vector512.Create((ReadOnlySpan<float>)tail));
            e.CopyTo(tail);
            tail[..(x.Length - i)].CopyTo(x[i..]);
            sum += e;
        }
        return Vector512.Sum(sum);
    }

    // e^x for x ≤ 0: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its degree-7 Taylor polynomial (truncation error
    // below 6e−9 relative), 2^n built in the exponent bits. n is rounded by the 1.5·2^23 trick: adding it leaves
    // round(x·log2 e) in the low mantissa bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        const float Magic = 12582912f, Log2E = 1.44269504088896341f;
        // ln 2 split so that n·Ln2Hi is exact for |n| < 2^9 (Cody–Waite reduction).
        const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
        var c = Vector512.Min(Vector512.Max(x, Vector512.Create(-87f)), Vector512<float>.Zero);
        var t = Vector512.FusedMultiplyAdd(c, Vector512.Create(Log2E), Vector512.Create(Magic));
        var n = t - Vector512.Create(Magic);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), c);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(r, Vector512.Create(1f / 5040), Vector512.Create(1f / 720));
        p = Vector512.FusedMultiplyAdd(r, p, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(r, p, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(r, p, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(r, p, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(r, p, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(r, p, Vector512<float>.One);
        // The bits of t are those of Magic plus n; 0x4B400000 is Magic's bit pattern, 127 the exponent bias.
        var scale = Vector512.ShiftLeft(t.AsInt32() - Vector512.Create(0x4B400000 - 127), 23).AsSingle();
        var e = p * scale;
        e = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-87f)), Vector512<float>.Zero, e);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), e, x);
    }

    /// <summary>float64 form of <see cref="GeluBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> (accurate erf).</summary>
    public static void GeluBackward(ReadOnlySpan<double> g, ReadOnlySpan<double> x, Span<double> dx)
    {
        const double S = 0.70710678118654752440, P = 0.39894228040143267794;
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            dx[i] = g[i] * (0.5 * (1 + Special.Erf(v * S)) + v * P * Math.Exp(-0.5 * v * v));
        }
    }
}
