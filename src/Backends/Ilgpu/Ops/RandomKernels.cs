using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Random fills reproducing the CPU backend's formulas (CpuBackend.Random) exactly: one thread per Philox
/// block of four elements, counter offset + block, lane i % 4; uniforms scaled in double and rounded once;
/// Float32 normals by Box–Muller in float32 (XMath), Float64 in float64.
/// </summary>
internal static class RandomKernels
{
    private const double TwoPow32Inv = 2.3283064365386963e-10;

    public static void Fill<T, R>(Index1D block, ArrayView<T> dst, long start, long n, ulong seed, ulong offset, RandomDistribution distribution,
        double a, double b, int float32)
        where T : unmanaged where R : struct, IReal<T>
    {
        // Core's Philox is pure integer arithmetic, so the very same method runs here and in the CPU backend.
        Ember.Philox.Block(seed, offset + (ulong)(long)block.X, out uint x0, out uint x1, out uint x2, out uint x3);
        long i0 = 4L * block.X;
        double v0, v1, v2, v3;
        if (distribution == RandomDistribution.Normal)
        {
            if (float32 != 0)
            {
                Normal32(x0, x1, out v0, out v1);
                Normal32(x2, x3, out v2, out v3);
            }
            else
            {
                Normal64(x0, x1, out v0, out v1);
                Normal64(x2, x3, out v2, out v3);
            }
            v0 = a + b * v0; v1 = a + b * v1; v2 = a + b * v2; v3 = a + b * v3;
        }
        else
        {
            double u0 = Uniform(x0, float32), u1 = Uniform(x1, float32), u2 = Uniform(x2, float32), u3 = Uniform(x3, float32);
            if (distribution == RandomDistribution.Uniform)
            {
                double span = b - a;
                v0 = a + span * u0; v1 = a + span * u1; v2 = a + span * u2; v3 = a + span * u3;
            }
            else // Bernoulli (the host launches no other distribution)
            {
                v0 = u0 < a ? 1.0 : 0.0; v1 = u1 < a ? 1.0 : 0.0; v2 = u2 < a ? 1.0 : 0.0; v3 = u3 < a ? 1.0 : 0.0;
            }
        }
        dst[start + i0] = R.FromD(v0);
        if (i0 + 1 < n) dst[start + i0 + 1] = R.FromD(v1);
        if (i0 + 2 < n) dst[start + i0 + 2] = R.FromD(v2);
        if (i0 + 3 < n) dst[start + i0 + 3] = R.FromD(v3);
    }

    /// <summary>A uniform in [0, 1) from 32 random bits: 24 of them in float32 (as the CPU), all 32 in float64.</summary>
    private static double Uniform(uint x, int float32) => float32 != 0 ? (double)((x >> 8) * (1.0f / 16777216.0f)) : x * TwoPow32Inv;

    private static void Normal32(uint x0, uint x1, out double z0, out double z1)
    {
        float u1 = 1f - (x0 >> 8) * (1.0f / 16777216.0f), u2 = (x1 >> 8) * (1.0f / 16777216.0f);   // u1 in (0, 1]
        float rad = XMath.Sqrt(-2f * XMath.Log(u1)), th = 6.28318548f * u2;   // 2f·MathF.PI, as the CPU rounds it
        z0 = rad * XMath.Cos(th);
        z1 = rad * XMath.Sin(th);
    }

    private static void Normal64(uint x0, uint x1, out double z0, out double z1)
    {
        double u1 = 1.0 - x0 * TwoPow32Inv, u2 = x1 * TwoPow32Inv;
        double rad = XMath.Sqrt(-2.0 * XMath.Log(u1)), th = 6.283185307179586 * u2;
        z0 = rad * XMath.Cos(th);
        z1 = rad * XMath.Sin(th);
    }
}
