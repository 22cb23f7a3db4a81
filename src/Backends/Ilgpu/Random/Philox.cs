using System.Runtime.CompilerServices;

namespace Ember.Ilgpu;

// This file is deliberately free of ILGPU and BCL-math references: the same arithmetic runs
// inside ILGPU kernels (CUDA, OpenCL, ILGPU's CPU accelerator) and in plain C# on the CPU
// backend, so both produce bit-identical raw 32-bit outputs and identical uniform floats.

/// <summary>The four 32-bit words of a Philox counter or output block.</summary>
public struct Philox4
{
    /// <summary>Word 0.</summary>
    public uint X0;
    /// <summary>Word 1.</summary>
    public uint X1;
    /// <summary>Word 2.</summary>
    public uint X2;
    /// <summary>Word 3.</summary>
    public uint X3;

    /// <summary>Creates a block from its four words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Philox4(uint x0, uint x1, uint x2, uint x3) { X0 = x0; X1 = x1; X2 = x2; X3 = x3; }

    /// <summary>Word <paramref name="lane"/> (0..3); lane 3 for any value above 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly uint Lane(int lane) => lane == 0 ? X0 : lane == 1 ? X1 : lane == 2 ? X2 : X3;
}

/// <summary>
/// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
/// written so the same code compiles for ILGPU kernels and for ordinary C#: only integer
/// arithmetic, no arrays, no BCL calls. See <see cref="PhiloxSpec"/> for how Ember maps
/// (seed, offset, element index) to counters and outputs to floats.
/// </summary>
public static class Philox
{
    /// <summary>Round multiplier for words 0/1 (0xD2511F53).</summary>
    public const uint M0 = 0xD2511F53u;
    /// <summary>Round multiplier for words 2/3 (0xCD9E8D57).</summary>
    public const uint M1 = 0xCD9E8D57u;
    /// <summary>Weyl key increment for key word 0 (0x9E3779B9, the golden ratio).</summary>
    public const uint W0 = 0x9E3779B9u;
    /// <summary>Weyl key increment for key word 1 (0xBB67AE85, sqrt(3) - 1).</summary>
    public const uint W1 = 0xBB67AE85u;

    /// <summary>The full 64-bit product <c>a * b</c> split into its high and low 32-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint MulHiLo(uint a, uint b, out uint lo)
    {
        ulong p = (ulong)a * b;
        lo = (uint)p;
        return (uint)(p >> 32);
    }

    /// <summary>
    /// One Philox round: with (hi0, lo0) = M0·c0 and (hi1, lo1) = M1·c2, the new counter is
    /// (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Philox4 Round(Philox4 c, uint k0, uint k1)
    {
        uint hi0 = MulHiLo(M0, c.X0, out uint lo0);
        uint hi1 = MulHiLo(M1, c.X2, out uint lo1);
        return new Philox4(hi1 ^ c.X1 ^ k0, lo1, hi0 ^ c.X3 ^ k1, lo0);
    }

    /// <summary>
    /// Philox 4x32-10 of <paramref name="counter"/> under key (<paramref name="k0"/>,
    /// <paramref name="k1"/>): ten rounds, the key bumped by the Weyl constants between rounds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Philox4 Block(Philox4 counter, uint k0, uint k1)
    {
        Philox4 c = Round(counter, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        k0 += W0; k1 += W1; c = Round(c, k0, k1);
        return c;
    }

    /// <summary>
    /// Ember's block for a seed and a 64-bit block counter: key = (seed lo, seed hi),
    /// counter = (counter lo, counter hi, 0, 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Philox4 Block(ulong seed, ulong counter) =>
        Block(new Philox4((uint)counter, (uint)(counter >> 32), 0u, 0u), (uint)seed, (uint)(seed >> 32));

    /// <summary>Uniform float32 in [0, 1) from one word: <c>(x &gt;&gt; 8) * 2^-24</c> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float UniformFloat(uint x) => (x >> 8) * (1.0f / 16777216.0f);

    /// <summary>Uniform float64 in [0, 1) from one word: <c>x * 2^-32</c> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double UniformDouble(uint x) => x * 2.3283064365386962890625e-10;

    /// <summary>
    /// The Box–Muller radius argument for float32 normals: <c>u1 = 1 - UniformFloat(x)</c>, in (0, 1],
    /// so <c>log(u1)</c> is finite. Exact in float32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BoxMullerU1Float(uint x) => 1.0f - UniformFloat(x);

    /// <summary>The Box–Muller radius argument for float64 normals: <c>1 - x * 2^-32</c>, in (0, 1]. Exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double BoxMullerU1Double(uint x) => 1.0 - UniformDouble(x);
}
