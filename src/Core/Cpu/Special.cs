using System.Numerics;

namespace Ember.Cpu;

/// <summary>
/// Row kernel of the integer unary ops (floating-point ops are operator structs in Ember.Operators).
/// Rows are contiguous spans; input and output may be the same span.
/// </summary>
internal static class UnaryKernels
{
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
