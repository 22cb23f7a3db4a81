namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Random(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b)
    {
        // Float16/BFloat16: the float32 values of the same Philox stream, rounded (the same numbers on every backend).
        if (ReducedPrecision.Any(destination))
        {
            ReducedPrecision.ViaFloat32(this, [], [destination], (_, o) => Random(distribution, o[0]!, seed, offset, a, b));
            return;
        }
        long n = destination.Numel;
        long blocks = (n + 3) / 4;
        bool f32 = destination.DType == DType.Float32;
        float[]? fd = f32 ? Data<float>(destination) : null;
        double[]? dd = f32 ? null : Data<double>(destination);
        long baseOff = destination.offset;
        void Body(long b0, long b1)
        {
            Span<double> v = stackalloc double[4];
            for (long blk = b0; blk < b1; blk++)
            {
                Philox.Block(seed, offset + (ulong)blk, out var r0, out var r1, out var r2, out var r3);
                Values(distribution, f32, r0, r1, r2, r3, a, b, v);
                long i0 = blk * 4;
                for (int l = 0; l < 4 && i0 + l < n; l++)
                {
                    if (fd != null) fd[baseOff + i0 + l] = (float)v[l];
                    else dd![baseOff + i0 + l] = v[l];
                }
            }
        }
        if (n < 65536) { Body(0, blocks); return; }
        CpuParallel.For(blocks, 4, (b0, count) => Body(b0, b0 + count));
    }

    // The per-lane values of one Philox block; the GPU kernels compute the same formulas (see Philox).
    private static void Values(RandomDistribution dist, bool f32, uint r0, uint r1, uint r2, uint r3, double a, double b, Span<double> v)
    {
        switch (dist)
        {
            case RandomDistribution.Uniform:
                v[0] = a + (b - a) * U(r0, f32); v[1] = a + (b - a) * U(r1, f32);
                v[2] = a + (b - a) * U(r2, f32); v[3] = a + (b - a) * U(r3, f32);
                break;
            case RandomDistribution.Bernoulli:
                v[0] = U(r0, f32) < a ? 1 : 0; v[1] = U(r1, f32) < a ? 1 : 0;
                v[2] = U(r2, f32) < a ? 1 : 0; v[3] = U(r3, f32) < a ? 1 : 0;
                break;
            default:
                BoxMuller(r0, r1, f32, out v[0], out v[1]);
                BoxMuller(r2, r3, f32, out v[2], out v[3]);
                for (int l = 0; l < 4; l++) v[l] = a + b * v[l];
                break;
        }
    }

    private static double U(uint r, bool f32) => f32 ? Philox.ToUniformFloat(r) : Philox.ToUniformDouble(r);

    private static void BoxMuller(uint x0, uint x1, bool f32, out double z0, out double z1)
    {
        if (f32)
        {
            // Float32 math, as the GPU kernels do it, so both backends agree to float rounding.
            float u1 = 1f - Philox.ToUniformFloat(x0), u2 = Philox.ToUniformFloat(x1);
            float rad = MathF.Sqrt(-2f * MathF.Log(u1)), th = 2f * MathF.PI * u2;
            z0 = rad * MathF.Cos(th); z1 = rad * MathF.Sin(th);
        }
        else
        {
            double u1 = 1.0 - Philox.ToUniformDouble(x0), u2 = Philox.ToUniformDouble(x1);
            double rad = Math.Sqrt(-2 * Math.Log(u1)), th = 2 * Math.PI * u2;
            z0 = rad * Math.Cos(th); z1 = rad * Math.Sin(th);
        }
    }
}
