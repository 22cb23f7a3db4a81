using System.Runtime.CompilerServices;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

// One readonly struct per floating-point UnaryOp: F (float32) and D (float64) scalar Invokes that the
// generic kernels in ElementwiseKernels call. Only XMath and plain arithmetic: BCL math breaks ILGPU.

/// <summary>An elementwise float op with scalar parameters alpha (a) and beta (b).</summary>
internal interface IUnaryFn
{
    static abstract float F(float x, float a, float b);
    static abstract double D(double x, double a, double b);
}

/// <summary>Scalar helpers shared by the op structs (accurate log1p/expm1, erf, pow with negative bases).</summary>
internal static class Fn
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log1p(float x)
    {
        float u = 1f + x;
        if (u == 1f) return x;
        if (XMath.IsInfinity(u)) return u;
        return XMath.Log(u) * x / (u - 1f);   // Kahan: cancels the rounding error of 1 + x
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        if (u == 1.0) return x;
        if (XMath.IsInfinity(u)) return u;
        return XMath.Log(u) * x / (u - 1.0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Expm1(float x)
    {
        float u = XMath.Exp(x);
        if (u == 1f) return x;
        float um1 = u - 1f;
        if (um1 == -1f || XMath.IsInfinity(u)) return um1;
        return um1 * x / XMath.Log(u);        // Kahan: exact ratio corrects the rounding of e^x
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Expm1(double x)
    {
        double u = XMath.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        if (um1 == -1.0 || XMath.IsInfinity(u)) return um1;
        return um1 * x / XMath.Log(u);
    }

    /// <summary>erf by the all-positive series (2/√π)e^(−x²)Σ 2ⁿx^(2n+1)/(2n+1)!!, like the CPU's Special.Erf.</summary>
    public static double Erf(double x)
    {
        if (XMath.IsNaN(x)) return x;
        double ax = XMath.Abs(x);
        if (ax >= 6.0) return x < 0 ? -1.0 : 1.0;
        double x2 = ax * ax, term = ax, sum = ax;
        for (int n = 0; n < 200; n++)
        {
            term *= 2.0 * x2 / (2 * n + 3);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double r = 1.1283791670955125739 * XMath.Exp(-x2) * sum;
        return x < 0 ? -r : r;
    }

    /// <summary>float32 erf: the same series in float32 (erf rounds to ±1 beyond |x| = 4).</summary>
    public static float Erf(float x)
    {
        if (XMath.IsNaN(x)) return x;
        float ax = XMath.Abs(x);
        if (ax >= 4f) return x < 0 ? -1f : 1f;
        float x2 = ax * ax, term = ax, sum = ax;
        for (int n = 0; n < 100; n++)
        {
            term *= 2f * x2 / (2 * n + 3);
            sum += term;
            if (term < sum * 1e-8f) break;
        }
        float r = 1.12837917f * XMath.Exp(-x2) * sum;
        return x < 0 ? -r : r;
    }

    /// <summary>x^y with exact small integer powers and negative bases (integer y) handled like C's pow.</summary>
    public static float Pow(float x, float y)
    {
        if (y == 0f) return 1f;
        if (y == 1f) return x;
        if (y == 2f) return x * x;
        if (y == 0.5f) return XMath.Sqrt(x);
        if (x < 0f)
        {
            float fy = XMath.Floor(y);
            if (fy != y) return float.NaN;
            float r = XMath.Pow(-x, y);
            float half = y * 0.5f;
            return XMath.Floor(half) != half ? -r : r;
        }
        return XMath.Pow(x, y);
    }

    /// <summary>Float64 <see cref="Pow(float, float)"/>.</summary>
    public static double Pow(double x, double y)
    {
        if (y == 0.0) return 1.0;
        if (y == 1.0) return x;
        if (y == 2.0) return x * x;
        if (y == 0.5) return XMath.Sqrt(x);
        if (x < 0.0)
        {
            double fy = XMath.Floor(y);
            if (fy != y) return double.NaN;
            double r = XMath.Pow(-x, y);
            double half = y * 0.5;
            return XMath.Floor(half) != half ? -r : r;
        }
        return XMath.Pow(x, y);
    }
}

internal readonly struct NegFn : IUnaryFn { public static float F(float x, float a, float b) => -x; public static double D(double x, double a, double b) => -x; }
internal readonly struct AbsFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Abs(x); public static double D(double x, double a, double b) => XMath.Abs(x); }
internal readonly struct ExpFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Exp(x); public static double D(double x, double a, double b) => XMath.Exp(x); }
internal readonly struct LogFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Log(x); public static double D(double x, double a, double b) => XMath.Log(x); }
internal readonly struct Log1pFn : IUnaryFn { public static float F(float x, float a, float b) => Fn.Log1p(x); public static double D(double x, double a, double b) => Fn.Log1p(x); }
internal readonly struct Expm1Fn : IUnaryFn { public static float F(float x, float a, float b) => Fn.Expm1(x); public static double D(double x, double a, double b) => Fn.Expm1(x); }
internal readonly struct SqrtFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Sqrt(x); public static double D(double x, double a, double b) => XMath.Sqrt(x); }
internal readonly struct RsqrtFn : IUnaryFn { public static float F(float x, float a, float b) => 1f / XMath.Sqrt(x); public static double D(double x, double a, double b) => 1.0 / XMath.Sqrt(x); }
internal readonly struct SquareFn : IUnaryFn { public static float F(float x, float a, float b) => x * x; public static double D(double x, double a, double b) => x * x; }
internal readonly struct SinFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Sin(x); public static double D(double x, double a, double b) => XMath.Sin(x); }
internal readonly struct CosFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Cos(x); public static double D(double x, double a, double b) => XMath.Cos(x); }
internal readonly struct TanhFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Tanh(x); public static double D(double x, double a, double b) => XMath.Tanh(x); }
internal readonly struct SigmoidFn : IUnaryFn { public static float F(float x, float a, float b) => 1f / (1f + XMath.Exp(-x)); public static double D(double x, double a, double b) => 1.0 / (1.0 + XMath.Exp(-x)); }
internal readonly struct ReluFn : IUnaryFn { public static float F(float x, float a, float b) => x > 0f || XMath.IsNaN(x) ? x : 0f; public static double D(double x, double a, double b) => x > 0.0 || XMath.IsNaN(x) ? x : 0.0; }
internal readonly struct GeluFn : IUnaryFn
{
    public static float F(float x, float a, float b) => 0.5f * x * (1f + Fn.Erf(x * 0.707106781f));
    public static double D(double x, double a, double b) => 0.5 * x * (1.0 + Fn.Erf(x * 0.70710678118654752440));
}
internal readonly struct GeluTanhFn : IUnaryFn
{
    public static float F(float x, float a, float b) => 0.5f * x * (1f + XMath.Tanh(0.797884561f * (x + 0.044715f * x * x * x)));
    public static double D(double x, double a, double b) => 0.5 * x * (1.0 + XMath.Tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
}
internal readonly struct SiluFn : IUnaryFn { public static float F(float x, float a, float b) => x / (1f + XMath.Exp(-x)); public static double D(double x, double a, double b) => x / (1.0 + XMath.Exp(-x)); }
/// <summary>(1/β)·ln(1 + e^(βx)), x above the threshold: a = β, b = threshold.</summary>
internal readonly struct SoftplusFn : IUnaryFn
{
    public static float F(float x, float a, float b) { float bx = a * x; return bx > b ? x : Fn.Log1p(XMath.Exp(bx)) / a; }
    public static double D(double x, double a, double b) { double bx = a * x; return bx > b ? x : Fn.Log1p(XMath.Exp(bx)) / a; }
}
internal readonly struct ErfFn : IUnaryFn { public static float F(float x, float a, float b) => Fn.Erf(x); public static double D(double x, double a, double b) => Fn.Erf(x); }
internal readonly struct FloorFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Floor(x); public static double D(double x, double a, double b) => XMath.Floor(x); }
internal readonly struct CeilFn : IUnaryFn { public static float F(float x, float a, float b) => XMath.Ceiling(x); public static double D(double x, double a, double b) => XMath.Ceiling(x); }
// Round half to even spelled out: XMath.RoundToEven gave −1 for −1.5 on CUDA (PyTorch and the CPU give −2).
internal readonly struct RoundFn : IUnaryFn
{
    public static float F(float x, float a, float b)
    {
        float r = XMath.Floor(x), d = x - r;
        if (d > 0.5f) return r + 1f;
        if (d == 0.5f && XMath.Floor(r * 0.5f) != r * 0.5f) return r + 1f;
        return r;
    }

    public static double D(double x, double a, double b)
    {
        double r = XMath.Floor(x), d = x - r;
        if (d > 0.5) return r + 1.0;
        if (d == 0.5 && XMath.Floor(r * 0.5) != r * 0.5) return r + 1.0;
        return r;
    }
}
internal readonly struct SignFn : IUnaryFn
{
    public static float F(float x, float a, float b) => XMath.IsNaN(x) ? x : x > 0f ? 1f : x < 0f ? -1f : 0f;
    public static double D(double x, double a, double b) => XMath.IsNaN(x) ? x : x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0;
}
internal readonly struct ReciprocalFn : IUnaryFn { public static float F(float x, float a, float b) => 1f / x; public static double D(double x, double a, double b) => 1.0 / x; }
internal readonly struct AddScalarFn : IUnaryFn { public static float F(float x, float a, float b) => x + a; public static double D(double x, double a, double b) => x + a; }
internal readonly struct MulScalarFn : IUnaryFn { public static float F(float x, float a, float b) => x * a; public static double D(double x, double a, double b) => x * a; }
internal readonly struct RSubScalarFn : IUnaryFn { public static float F(float x, float a, float b) => a - x; public static double D(double x, double a, double b) => a - x; }
internal readonly struct RDivScalarFn : IUnaryFn { public static float F(float x, float a, float b) => a / x; public static double D(double x, double a, double b) => a / x; }
internal readonly struct PowScalarFn : IUnaryFn { public static float F(float x, float a, float b) => Fn.Pow(x, a); public static double D(double x, double a, double b) => Fn.Pow(x, a); }
internal readonly struct RPowScalarFn : IUnaryFn { public static float F(float x, float a, float b) => Fn.Pow(a, x); public static double D(double x, double a, double b) => Fn.Pow(a, x); }
/// <summary>min(max(x, a), b); a NaN bound is open; NaN x stays NaN.</summary>
internal readonly struct ClampFn : IUnaryFn
{
    public static float F(float x, float a, float b)
    {
        if (XMath.IsNaN(x)) return x;
        if (!XMath.IsNaN(a) && x < a) x = a;
        if (!XMath.IsNaN(b) && x > b) x = b;
        return x;
    }
    public static double D(double x, double a, double b)
    {
        if (XMath.IsNaN(x)) return x;
        if (!XMath.IsNaN(a) && x < a) x = a;
        if (!XMath.IsNaN(b) && x > b) x = b;
        return x;
    }
}
internal readonly struct LeakyReluFn : IUnaryFn { public static float F(float x, float a, float b) => x > 0f ? x : a * x; public static double D(double x, double a, double b) => x > 0.0 ? x : a * x; }
internal readonly struct EluFn : IUnaryFn { public static float F(float x, float a, float b) => x > 0f ? x : a * (XMath.Exp(x) - 1f); public static double D(double x, double a, double b) => x > 0.0 ? x : a * (XMath.Exp(x) - 1.0); }

// ---- binary -------------------------------------------------------------------------------------

/// <summary>An elementwise float op of two operands.</summary>
internal interface IBinaryFn
{
    static abstract float F(float x, float y);
    static abstract double D(double x, double y);
}

internal readonly struct AddFn : IBinaryFn { public static float F(float x, float y) => x + y; public static double D(double x, double y) => x + y; }
internal readonly struct SubFn : IBinaryFn { public static float F(float x, float y) => x - y; public static double D(double x, double y) => x - y; }
internal readonly struct MulFn : IBinaryFn { public static float F(float x, float y) => x * y; public static double D(double x, double y) => x * y; }
internal readonly struct DivFn : IBinaryFn { public static float F(float x, float y) => x / y; public static double D(double x, double y) => x / y; }
internal readonly struct PowFn : IBinaryFn { public static float F(float x, float y) => Fn.Pow(x, y); public static double D(double x, double y) => Fn.Pow(x, y); }
/// <summary>NaN-propagating maximum.</summary>
internal readonly struct MaximumFn : IBinaryFn
{
    public static float F(float x, float y) => XMath.IsNaN(x) ? x : XMath.IsNaN(y) ? y : x > y ? x : y;
    public static double D(double x, double y) => XMath.IsNaN(x) ? x : XMath.IsNaN(y) ? y : x > y ? x : y;
}
/// <summary>NaN-propagating minimum.</summary>
internal readonly struct MinimumFn : IBinaryFn
{
    public static float F(float x, float y) => XMath.IsNaN(x) ? x : XMath.IsNaN(y) ? y : x < y ? x : y;
    public static double D(double x, double y) => XMath.IsNaN(x) ? x : XMath.IsNaN(y) ? y : x < y ? x : y;
}
/// <summary>Python's %: the remainder takes the divisor's sign.</summary>
internal readonly struct RemainderFn : IBinaryFn
{
    public static float F(float x, float y) { float r = x % y; return r != 0f && (r < 0f) != (y < 0f) ? r + y : r; }
    public static double D(double x, double y) { double r = x % y; return r != 0.0 && (r < 0.0) != (y < 0.0) ? r + y : r; }
}
