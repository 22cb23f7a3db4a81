using System.Runtime.CompilerServices;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Division of an int in [0, 2³¹) by a divisor fixed at launch, as a multiply-high, an add and a shift instead of a
/// division (a 32-bit integer division is a ~20-instruction sequence on NVIDIA GPUs, and an index decomposition does
/// one per dimension for every element). With s = ⌈log₂ d⌉ and m = ⌊2³²·(2^s − d) / d⌋ + 1, n / d =
/// (mulhi(n, m) + n) >> s for every n &lt; 2³¹ (Granlund and Montgomery's round-up method); mulhi(n, m) + n stays
/// below 2³² there.
/// </summary>
internal struct FastDivisor
{
    /// <summary>The multiplier m.</summary>
    public uint Magic;
    /// <summary>The shift s.</summary>
    public int Shift;

    /// <summary>The divisor <paramref name="d"/> (1 ≤ d &lt; 2³¹); the unused identity (d = 1) for anything else.</summary>
    public static FastDivisor For(long d)
    {
        if (d < 1 || d > int.MaxValue) d = 1;
        int s = 0;
        while ((1L << s) < d) s++;
        ulong m = ((1UL << 32) * ((1UL << s) - (ulong)d)) / (ulong)d + 1;
        return new FastDivisor { Magic = (uint)m, Shift = s };
    }

    /// <summary>⌊n / d⌋ for 0 ≤ n &lt; 2³¹.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Divide(int n)
    {
        uint u = (uint)n, hi = (uint)(((ulong)u * Magic) >> 32);
        return (int)((hi + u) >> Shift);
    }
}
