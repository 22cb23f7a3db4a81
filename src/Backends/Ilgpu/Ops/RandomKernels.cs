using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Random fills reproducing the CPU backend's formulas (CpuBackend.Random) exactly: one thread per Philox
/// block of four elements, counter offset + block, lane i % 4; uniforms scaled in double and rounded once;
/// Float32 normals by Box–Muller in float32 (XMath), Float64 in float64. dist: 0 uniform, 1 normal, 2 Bernoulli.
/// </summary>
internal static class RandomKernels
{
    private const double TwoPow32Inv = 2.3283064365386963e-10;

    public static void Fill<T, R>(Index1D blk, ArrayView<T> dst, long start, long n, ulong seed, ulong offset, int dist, double a, double b, int f32)
        where T : unmanaged where R : struct, IReal<T>
    {
        // Core's Philox is pure integer arithmetic, so the very same method runs here and in the CPU backend.
        Ember.Philox.Block(seed, offset + (ulong)(long)blk.X, out uint x0, out uint x1, out uint x2, out uint x3);
        long i0 = 4L * blk.X;
        double v0, v1, v2, v3;
        if (dist == 1)
        {
            if (f32 != 0)
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
            double u0 = U(x0, f32), u1 = U(x1, f32), u2 = U(x2, f32), u3 = U(x3, f32);
            if (dist == 0)
            {
                double span = b - a;
                v0 = a + span * u0; v1 = a + span * u1; v2 = a + span * u2; v3 = a + span * u3;
            }
            else
            {
                v0 = u0 < a ? 1.0 : 0.0; v1 = u1 < a ? 1.0 : 0.0; v2 = u2 < a ? 1.0 : 0.0; v3 = u3 < a ? 1.0 : 0.0;
            }
        }
        dst[start + i0] = R.FromD(v0);
        if (i0 + 1 < n) dst[start + i0 + 1] = R.FromD(v1);
        if (i0 + 2 < n) dst[start + i0 + 2] = R.FromD(v2);
        if (i0 + 3 < n) dst[start + i0 + 3] = R.FromD(v3);
    }

    private static double U(uint x, int f32) => f32 != 0 ? (double)((x >> 8) * (1.0f / 16777216.0f)) : x * TwoPow32Inv;

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
