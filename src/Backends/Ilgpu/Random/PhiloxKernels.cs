using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>
/// Random fills on an ILGPU device following <see cref="PhiloxSpec"/>: one thread per Philox block
/// (four consecutive elements). The kernels are loaded once per device through its <see cref="KernelCache"/>.
/// </summary>
public static class PhiloxKernels
{
    /// <summary>Fills <paramref name="dst"/> with the raw 32-bit Philox words of (seed, offset).</summary>
    public static void FillBits(IlgpuDevice device, ArrayView<uint> dst, ulong seed, ulong offset)
    {
        if (dst.Length == 0) return;
        device.Kernels.AutoGrouped<Index1D, ArrayView<uint>, ulong, ulong>(BitsKernel)(Blocks(dst.Length), dst, seed, offset);
    }

    /// <summary>Fills <paramref name="dst"/> with uniforms in [low, high): <c>low + (high - low) * u</c>.</summary>
    public static void FillUniform(IlgpuDevice device, ArrayView<float> dst, ulong seed, ulong offset, float low = 0f, float high = 1f)
    {
        if (dst.Length == 0) return;
        device.Kernels.AutoGrouped<Index1D, ArrayView<float>, ulong, ulong, float, float>(UniformF32Kernel)(
            Blocks(dst.Length), dst, seed, offset, low, high - low);
    }

    /// <summary>Fills <paramref name="dst"/> with float64 uniforms in [low, high): <c>low + (high - low) * u</c>.</summary>
    public static void FillUniform(IlgpuDevice device, ArrayView<double> dst, ulong seed, ulong offset, double low = 0, double high = 1)
    {
        if (dst.Length == 0) return;
        device.Kernels.AutoGrouped<Index1D, ArrayView<double>, ulong, ulong, double, double>(UniformF64Kernel)(
            Blocks(dst.Length), dst, seed, offset, low, high - low);
    }

    /// <summary>Fills <paramref name="dst"/> with normals <c>mean + std * z</c> (Box–Muller in float32).</summary>
    public static void FillNormal(IlgpuDevice device, ArrayView<float> dst, ulong seed, ulong offset, float mean = 0f, float std = 1f)
    {
        if (dst.Length == 0) return;
        device.Kernels.AutoGrouped<Index1D, ArrayView<float>, ulong, ulong, float, float>(NormalF32Kernel)(
            Blocks(dst.Length), dst, seed, offset, mean, std);
    }

    /// <summary>Fills <paramref name="dst"/> with float64 normals <c>mean + std * z</c> (Box–Muller in float64).</summary>
    public static void FillNormal(IlgpuDevice device, ArrayView<double> dst, ulong seed, ulong offset, double mean = 0, double std = 1)
    {
        if (dst.Length == 0) return;
        device.Kernels.AutoGrouped<Index1D, ArrayView<double>, ulong, ulong, double, double>(NormalF64Kernel)(
            Blocks(dst.Length), dst, seed, offset, mean, std);
    }

    private static Index1D Blocks(long n) => checked((int)PhiloxSpec.CountersFor(n));

    private static void BitsKernel(Index1D b, ArrayView<uint> dst, ulong seed, ulong offset)
    {
        Philox4 r = Philox.Block(seed, offset + (ulong)(long)b.X);
        long i = 4L * b.X, n = dst.Length;
        dst[i] = r.X0;
        if (i + 1 < n) dst[i + 1] = r.X1;
        if (i + 2 < n) dst[i + 2] = r.X2;
        if (i + 3 < n) dst[i + 3] = r.X3;
    }

    private static void UniformF32Kernel(Index1D b, ArrayView<float> dst, ulong seed, ulong offset, float low, float span)
    {
        Philox4 r = Philox.Block(seed, offset + (ulong)(long)b.X);
        long i = 4L * b.X, n = dst.Length;
        dst[i] = low + span * Philox.UniformFloat(r.X0);
        if (i + 1 < n) dst[i + 1] = low + span * Philox.UniformFloat(r.X1);
        if (i + 2 < n) dst[i + 2] = low + span * Philox.UniformFloat(r.X2);
        if (i + 3 < n) dst[i + 3] = low + span * Philox.UniformFloat(r.X3);
    }

    private static void UniformF64Kernel(Index1D b, ArrayView<double> dst, ulong seed, ulong offset, double low, double span)
    {
        Philox4 r = Philox.Block(seed, offset + (ulong)(long)b.X);
        long i = 4L * b.X, n = dst.Length;
        dst[i] = low + span * Philox.UniformDouble(r.X0);
        if (i + 1 < n) dst[i + 1] = low + span * Philox.UniformDouble(r.X1);
        if (i + 2 < n) dst[i + 2] = low + span * Philox.UniformDouble(r.X2);
        if (i + 3 < n) dst[i + 3] = low + span * Philox.UniformDouble(r.X3);
    }

    private static void NormalF32Kernel(Index1D b, ArrayView<float> dst, ulong seed, ulong offset, float mean, float std)
    {
        Philox4 r = Philox.Block(seed, offset + (ulong)(long)b.X);
        long i = 4L * b.X, n = dst.Length;
        float rho = XMath.Sqrt(-2.0f * XMath.Log(Philox.BoxMullerU1Float(r.X0)));
        float theta = PhiloxSpec.TwoPiF * Philox.UniformFloat(r.X1);
        dst[i] = mean + std * (rho * XMath.Cos(theta));
        if (i + 1 < n) dst[i + 1] = mean + std * (rho * XMath.Sin(theta));
        if (i + 2 >= n) return;
        rho = XMath.Sqrt(-2.0f * XMath.Log(Philox.BoxMullerU1Float(r.X2)));
        theta = PhiloxSpec.TwoPiF * Philox.UniformFloat(r.X3);
        dst[i + 2] = mean + std * (rho * XMath.Cos(theta));
        if (i + 3 < n) dst[i + 3] = mean + std * (rho * XMath.Sin(theta));
    }

    private static void NormalF64Kernel(Index1D b, ArrayView<double> dst, ulong seed, ulong offset, double mean, double std)
    {
        Philox4 r = Philox.Block(seed, offset + (ulong)(long)b.X);
        long i = 4L * b.X, n = dst.Length;
        double rho = XMath.Sqrt(-2.0 * XMath.Log(Philox.BoxMullerU1Double(r.X0)));
        double theta = PhiloxSpec.TwoPiD * Philox.UniformDouble(r.X1);
        dst[i] = mean + std * (rho * XMath.Cos(theta));
        if (i + 1 < n) dst[i + 1] = mean + std * (rho * XMath.Sin(theta));
        if (i + 2 >= n) return;
        rho = XMath.Sqrt(-2.0 * XMath.Log(Philox.BoxMullerU1Double(r.X2)));
        theta = PhiloxSpec.TwoPiD * Philox.UniformDouble(r.X3);
        dst[i + 2] = mean + std * (rho * XMath.Cos(theta));
        if (i + 3 < n) dst[i + 3] = mean + std * (rho * XMath.Sin(theta));
    }
}
