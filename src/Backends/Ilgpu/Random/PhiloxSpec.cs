namespace Ember.Ilgpu;

/// <summary>
/// The contract every Ember backend follows for random fills, so that <c>Random.Seed(s)</c> gives the
/// same values on the CPU and on every GPU. This class is the written specification and a scalar
/// reference implementation (plain C#, <see cref="MathF"/>/<see cref="Math"/>); the ILGPU kernels in
/// <see cref="PhiloxKernels"/> and the CPU backend implement exactly this.
/// <list type="number">
/// <item><description><b>Generator.</b> Philox 4x32-10 (<see cref="Philox.Block(Philox4,uint,uint)"/>):
/// round multipliers 0xD2511F53 and 0xCD9E8D57, Weyl key increments 0x9E3779B9 and 0xBB67AE85,
/// ten rounds. It matches Random123's published known-answer vectors.</description></item>
/// <item><description><b>Key.</b> A 64-bit seed gives key word 0 = low 32 bits, key word 1 = high 32 bits.</description></item>
/// <item><description><b>Counter.</b> A fill of a contiguous output of n elements with (seed, offset):
/// element i uses the 64-bit block counter <c>offset + i / 4</c>, written as counter words
/// (low 32 bits, high 32 bits, 0, 0), and takes lane <c>i % 4</c> of the block's four output words.
/// A fill consumes <c>ceil(n / 4)</c> counters, so the generator's offset advances by that much.</description></item>
/// <item><description><b>Uniform float32</b> in [0, 1): <c>(x &gt;&gt; 8) * 2^-24</c>.
/// <b>Uniform float64</b> in [0, 1): <c>x * 2^-32</c>. Both are exact, so GPU and CPU agree bit for bit.
/// A range [low, high) is <c>low + (high - low) * u</c>; a GPU compiler may fuse that into one
/// fused multiply-add, so scaled uniforms may differ by one ulp.</description></item>
/// <item><description><b>Normal</b> (Box–Muller): lanes (0, 1) of a block give the normals of lanes 0 and 1,
/// lanes (2, 3) those of lanes 2 and 3. For a pair (xa, xb): <c>u1 = 1 - uniform(xa)</c> in (0, 1]
/// (never log 0), <c>u2 = uniform(xb)</c>, <c>r = sqrt(-2 ln u1)</c>, <c>θ = 2π u2</c> (2π rounded to the output type, <see cref="TwoPiF"/>),
/// first lane <c>r cos θ</c>, second lane <c>r sin θ</c>. float32 outputs compute in float32
/// (XMath on the device, MathF on the CPU); float64 outputs in float64. The transcendental
/// functions differ between devices, so GPU and CPU normals agree to about 1e-6 (float32)
/// relative to the value's magnitude, not bit for bit. A normal with mean μ and std σ is
/// <c>μ + σ z</c>.</description></item>
/// </list>
/// </summary>
public static class PhiloxSpec
{
    /// <summary>Output words per Philox block (and elements per counter).</summary>
    public const int ElementsPerCounter = 4;

    /// <summary>2π as float32 (6.28318548f), the angle factor of float32 Box–Muller.</summary>
    public const float TwoPiF = 6.28318548f;

    /// <summary>2π as float64, the angle factor of float64 Box–Muller.</summary>
    public const double TwoPiD = 6.283185307179586;

    /// <summary>Counters consumed by a fill of <paramref name="numel"/> elements: <c>ceil(numel / 4)</c>.</summary>
    public static ulong CountersFor(long numel) => (ulong)((numel + 3) / 4);

    /// <summary>The raw 32-bit word element <paramref name="i"/> of a fill with (seed, offset) uses.</summary>
    public static uint Word(ulong seed, ulong offset, long i) =>
        Philox.Block(seed, offset + (ulong)(i / 4)).Lane((int)(i % 4));

    /// <summary>Reference float32 uniform in [0, 1) of element <paramref name="i"/>.</summary>
    public static float UniformFloat(ulong seed, ulong offset, long i) => Philox.UniformFloat(Word(seed, offset, i));

    /// <summary>Reference float64 uniform in [0, 1) of element <paramref name="i"/>.</summary>
    public static double UniformDouble(ulong seed, ulong offset, long i) => Philox.UniformDouble(Word(seed, offset, i));

    /// <summary>Reference float32 standard normal of element <paramref name="i"/> (MathF).</summary>
    public static float NormalFloat(ulong seed, ulong offset, long i)
    {
        Philox4 b = Philox.Block(seed, offset + (ulong)(i / 4));
        int lane = (int)(i % 4);
        uint xa = lane < 2 ? b.X0 : b.X2, xb = lane < 2 ? b.X1 : b.X3;
        float r = MathF.Sqrt(-2.0f * MathF.Log(Philox.BoxMullerU1Float(xa)));
        float theta = TwoPiF * Philox.UniformFloat(xb);
        return (lane & 1) == 0 ? r * MathF.Cos(theta) : r * MathF.Sin(theta);
    }

    /// <summary>Reference float64 standard normal of element <paramref name="i"/> (Math).</summary>
    public static double NormalDouble(ulong seed, ulong offset, long i)
    {
        Philox4 b = Philox.Block(seed, offset + (ulong)(i / 4));
        int lane = (int)(i % 4);
        uint xa = lane < 2 ? b.X0 : b.X2, xb = lane < 2 ? b.X1 : b.X3;
        double r = Math.Sqrt(-2.0 * Math.Log(Philox.BoxMullerU1Double(xa)));
        double theta = TwoPiD * Philox.UniformDouble(xb);
        return (lane & 1) == 0 ? r * Math.Cos(theta) : r * Math.Sin(theta);
    }
}
