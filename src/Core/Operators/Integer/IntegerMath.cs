using System.Numerics;

namespace Ember.Operators;

/// <summary>Integer helpers the integer operator structs share (ILGPU compiles them: generic math, no conversions).</summary>
public static class IntegerMath
{
    /// <summary>
    /// xᵉ exactly by squaring, wrapping on overflow like a machine multiply (a float pow is not exact: CUDA's gave 3⁴ = 80).
    /// A negative exponent gives 1 for base 1, ±1 for base −1 and 0 otherwise (integer division's truncation).
    /// </summary>
    public static T Pow<T>(T x, T e) where T : IBinaryInteger<T>, ISignedNumber<T>
    {
        if (e < T.Zero) return x == T.One ? T.One : x == -T.One ? ((e & T.One) == T.Zero ? T.One : -T.One) : T.Zero;
        T r = T.One;
        while (e > T.Zero)
        {
            if ((e & T.One) != T.Zero) r *= x;
            x *= x;
            e >>= 1;
        }
        return r;
    }
}
