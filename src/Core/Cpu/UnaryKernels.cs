using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Cpu;

/// <summary>
/// Row kernels of the elementwise unary ops: TensorPrimitives where it has the op (SIMD), scalar
/// generic-math loops otherwise. Rows are contiguous spans; input and output may be the same span.
/// </summary>
internal static class UnaryKernels
{
    public static void Float<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Log1p: TensorPrimitives.LogP1(x, y); break;
            case UnaryOp.Expm1: TensorPrimitives.ExpM1(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); break;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Relu: Relu(x, y); break;
            case UnaryOp.Floor: TensorPrimitives.Floor(x, y); break;
            case UnaryOp.Ceil: TensorPrimitives.Ceiling(x, y); break;
            case UnaryOp.Round: for (int i = 0; i < x.Length; i++) y[i] = T.Round(x[i], MidpointRounding.ToEven); break;
            case UnaryOp.Sign: for (int i = 0; i < x.Length; i++) y[i] = T.IsNaN(x[i]) ? x[i] : T.CreateTruncating(T.Sign(x[i])); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Reciprocal(x, y); break;
            case UnaryOp.AddScalar: TensorPrimitives.Add(x, alpha, y); break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(x, alpha, y); break;
            case UnaryOp.RSubScalar: TensorPrimitives.Subtract(alpha, x, y); break;
            case UnaryOp.RDivScalar: TensorPrimitives.Divide(alpha, x, y); break;
            case UnaryOp.PowScalar: PowScalar(x, y, alpha); break;
            case UnaryOp.RPowScalar: for (int i = 0; i < x.Length; i++) y[i] = T.Pow(alpha, x[i]); break;
            case UnaryOp.Clamp: Clamp(x, y, alpha, beta); break;
            case UnaryOp.LeakyRelu: for (int i = 0; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : alpha * x[i]; break;
            case UnaryOp.Elu: for (int i = 0; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : alpha * (T.Exp(x[i]) - T.One); break;
            case UnaryOp.Silu: Silu(x, y); break;
            case UnaryOp.Softplus: Softplus(x, y, alpha, beta); break;
            case UnaryOp.Erf when typeof(T) == typeof(float): FastMath.Erf(Cast(x), CastW(y)); break;
            case UnaryOp.Gelu when typeof(T) == typeof(float): FastMath.Gelu(Cast(x), CastW(y)); break;
            case UnaryOp.Erf: for (int i = 0; i < x.Length; i++) y[i] = T.CreateTruncating(Special.Erf(double.CreateTruncating(x[i]))); break;
            case UnaryOp.Gelu: Gelu(x, y); break;
            case UnaryOp.GeluTanh: GeluTanh(x, y); break;
            default: throw new NotSupportedException($"CPU backend: unary op {op} is not defined for {typeof(T).Name}.");
        }
    }

    private static ReadOnlySpan<float> Cast<T>(ReadOnlySpan<T> s) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(s);
    private static Span<float> CastW<T>(Span<T> s) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(s);

    private static void Relu<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // max(x, 0) but NaN stays NaN as in PyTorch (TensorPrimitives.Max propagates NaN).
        TensorPrimitives.Max(x, T.Zero, y);
    }

    private static void PowScalar<T>(ReadOnlySpan<T> x, Span<T> y, T e) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (e == T.CreateTruncating(2)) TensorPrimitives.Multiply(x, x, y);
        else if (e == T.One) x.CopyTo(y);
        else if (e == T.CreateTruncating(0.5)) TensorPrimitives.Sqrt(x, y);
        else TensorPrimitives.Pow(x, e, y);
    }

    private static void Clamp<T>(ReadOnlySpan<T> x, Span<T> y, T lo, T hi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // NaN bounds mean "open on that side"; NaN inputs stay NaN.
        if (!T.IsNaN(lo)) { TensorPrimitives.Max(x, lo, y); x = y; }
        if (!T.IsNaN(hi)) TensorPrimitives.Min(x, hi, y);
        else if (T.IsNaN(lo)) x.CopyTo(y);
    }

    private static void Silu<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Overlaps(y))
        {
            for (int i = 0; i < x.Length; i++) y[i] = x[i] / (T.One + T.Exp(-x[i]));
            return;
        }
        TensorPrimitives.Sigmoid(x, y);
        TensorPrimitives.Multiply(x, y, y);
    }

    private static void Softplus<T>(ReadOnlySpan<T> x, Span<T> y, T beta, T threshold) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            T bx = beta * x[i];
            // Above the threshold softplus is x to within rounding; log1p(exp) would overflow.
            y[i] = bx > threshold ? x[i] : T.LogP1(T.Exp(bx)) / beta;
        }
    }

    private static void Gelu<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const double InvSqrt2 = 0.70710678118654752440;
        for (int i = 0; i < x.Length; i++)
        {
            double v = double.CreateTruncating(x[i]);
            y[i] = T.CreateTruncating(0.5 * v * (1 + Special.Erf(v * InvSqrt2)));
        }
    }

    private static void GeluTanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T k = T.CreateTruncating(0.79788456080286535588), c = T.CreateTruncating(0.044715), half = T.CreateTruncating(0.5);
        for (int i = 0; i < x.Length; i++)
        {
            T v = x[i];
            y[i] = half * v * (T.One + T.Tanh(k * (v + c * v * v * v)));
        }
    }

    public static void Integer<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, double alpha, double beta)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
    {
        T a = T.CreateTruncating(alpha);
        for (int i = 0; i < x.Length; i++)
        {
            T v = x[i];
            y[i] = op switch
            {
                UnaryOp.Neg => -v,
                UnaryOp.Abs => T.Abs(v),
                UnaryOp.Square => v * v,
                UnaryOp.Sign => T.CreateTruncating(T.Sign(v)),
                UnaryOp.Relu => T.Max(v, T.Zero),
                UnaryOp.AddScalar => v + a,
                UnaryOp.MulScalar => T.CreateTruncating(double.CreateTruncating(v) * alpha),
                UnaryOp.RSubScalar => a - v,
                UnaryOp.Floor or UnaryOp.Ceil or UnaryOp.Round => v,
                UnaryOp.PowScalar => T.CreateTruncating(Math.Pow(double.CreateTruncating(v), alpha)),
                UnaryOp.Clamp => ClampInt(v, alpha, beta),
                _ => throw new NotSupportedException($"CPU backend: unary op {op} is not defined for {typeof(T).Name}."),
            };
        }
    }

    private static T ClampInt<T>(T v, double lo, double hi) where T : unmanaged, IBinaryInteger<T>
    {
        if (!double.IsNaN(lo) && double.CreateTruncating(v) < lo) v = T.CreateTruncating(Math.Ceiling(lo));
        if (!double.IsNaN(hi) && double.CreateTruncating(v) > hi) v = T.CreateTruncating(Math.Floor(hi));
        return v;
    }
}

/// <summary>Special functions the BCL lacks.</summary>
public static class Special
{
    private const double TwoOverSqrtPi = 1.1283791670955125739;

    /// <summary>
    /// The error function erf x = (2/√π)∫₀ˣ e^(−t²) dt to full double precision, from the series
    /// erf x = (2/√π)·e^(−x²)·Σₙ 2ⁿx^(2n+1) / (1·3·…·(2n+1)), whose terms are all positive (no
    /// cancellation); |x| ≥ 6 gives ±1 (erfc 6 ≈ 2e−17 is below double resolution).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6) return Math.Sign(x);
        double x2 = ax * ax, term = ax, sum = ax;
        for (int n = 0; n < 200; n++)
        {
            term *= 2 * x2 / (2 * n + 3);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double r = TwoOverSqrtPi * Math.Exp(-x2) * sum;
        return x < 0 ? -r : r;
    }
}
