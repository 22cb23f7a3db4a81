using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
/// counter-based generator of every Ember backend. Pure integer arithmetic without BCL calls, so the
/// same methods compile for ILGPU kernels.
/// </summary>
/// <remarks>
/// Mapping from a fill of n contiguous elements with (seed, offset): element i uses counter
/// (lo, hi, 0, 0) = (offset + i / 4) and key (seed low 32 bits, seed high 32 bits), output lane i % 4.
/// Float32 uniform: (x &gt;&gt; 8)·2⁻²⁴ ∈ [0, 1). Float64 uniform: x·2⁻³² ∈ [0, 1).
/// Normals: Box–Muller on lane pairs (0, 1) and (2, 3): u1 = 1 − uniform(x₀) ∈ (0, 1] (never 0, exact),
/// u2 = uniform(x₁) (float32 or float64 uniform as above, math in the output's precision),
/// z₀ = √(−2 ln u1)·cos 2πu2, z₁ = √(−2 ln u1)·sin 2πu2.
/// </remarks>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>Ten rounds of Philox 4x32 on counter (c0..c3) with key (k0, k1); returns the four outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1,
        out uint r0, out uint r1, out uint r2, out uint r3)
    {
        for (int i = 0; i < 10; i++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            uint n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0; k1 += W1;
        }
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }

    /// <summary>The four outputs of block <paramref name="counter"/> under <paramref name="seed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(ulong seed, ulong counter, out uint r0, out uint r1, out uint r2, out uint r3) =>
        Block((uint)counter, (uint)(counter >> 32), 0, 0, (uint)seed, (uint)(seed >> 32), out r0, out r1, out r2, out r3);

    /// <summary>Float32 uniform in [0, 1) from 24 high bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToUniformFloat(uint x) => (x >> 8) * (1.0f / 16777216.0f);

    /// <summary>Float64 uniform in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToUniformDouble(uint x) => x * 2.3283064365386963e-10;
}
