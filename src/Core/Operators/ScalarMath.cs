using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ember.Operators;

/// <summary>
/// Scalar formulas the operator structs share, in generic math that ILGPU compiles (no conversions from double:
/// constants are built from <c>T.One</c> and <c>T.Pi</c>, and series stop when a term no longer changes the sum).
/// </summary>
public static class ScalarMath
{
    /// <summary>2 in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Two<T>() where T : IFloatingPointIeee754<T> => T.One + T.One;

    /// <summary>½ in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Half<T>() where T : IFloatingPointIeee754<T> => T.One / (T.One + T.One);

    /// <summary>ln(1 + x), accurate near 0 (Kahan: the exact ratio x / (u − 1) cancels the rounding error of u = 1 + x).</summary>
    public static T Log1p<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T u = T.One + x;
        if (u == T.One) return x;
        if (T.IsInfinity(u)) return u;
        return T.Log(u) * x / (u - T.One);
    }

    /// <summary>eˣ − 1, accurate near 0 (Kahan: (u − 1)·x / ln u corrects the rounding of u = eˣ).</summary>
    public static T Expm1<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T u = T.Exp(x);
        if (u == T.One) return x;
        T um1 = u - T.One;
        if (um1 == -T.One || T.IsInfinity(u)) return um1;
        return um1 * x / T.Log(u);
    }

    /// <summary>
    /// erf x by the all-positive series (2/√π)·e^(−x²)·Σₙ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (no cancellation), summed until a
    /// term no longer changes the sum in T's precision; |x| ≥ 6 gives ±1 (erfc 6 ≈ 2e−17 is below double resolution).
    /// </summary>
    public static T Erf<T>(T x) where T : IFloatingPointIeee754<T>
    {
        if (T.IsNaN(x)) return x;
        T ax = T.Abs(x), two = Two<T>();
        T six = two + two + two;
        if (ax >= six) return x < T.Zero ? -T.One : T.One;
        T x2 = ax * ax, term = ax, sum = ax, denominator = T.One;
        for (int n = 0; n < 200; n++)
        {
            denominator += two;
            term *= two * x2 / denominator;
            T next = sum + term;
            if (next == sum) break;
            sum = next;
        }
        T r = two / T.Sqrt(T.Pi) * T.Exp(-x2) * sum;
        return x < T.Zero ? -r : r;
    }

    /// <summary>xʸ with exact small powers (0, 1, 2, ½) and C's rules for negative bases (integer y: signed; else NaN).</summary>
    public static T Pow<T>(T x, T y) where T : IFloatingPointIeee754<T>
    {
        if (y == T.Zero) return T.One;
        if (y == T.One) return x;
        if (y == Two<T>()) return x * x;
        if (y == Half<T>()) return T.Sqrt(x);
        if (x < T.Zero)
        {
            if (T.Floor(y) != y) return T.NaN;
            T r = T.Pow(-x, y);
            T half = y * Half<T>();
            return T.Floor(half) != half ? -r : r;
        }
        return T.Pow(x, y);
    }

    /// <summary>Rounds half to even, spelled out (ILGPU's RoundToEven gave −1 for −1.5 on CUDA; PyTorch gives −2).</summary>
    public static T RoundHalfToEven<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T r = T.Floor(x), d = x - r, half = Half<T>();
        if (d > half) return r + T.One;
        if (d == half && T.Floor(r * half) != r * half) return r + T.One;
        return r;
    }

    /// <summary>σ(x) = 1 / (1 + e^(−x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));
}
