using ILGPU;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>Same values as the CPU backend: uniforms and Bernoulli bit for bit; normals to float rounding of the transcendental functions.</remarks>
    /// <exception cref="NotSupportedException">The destination is not Float32 or Float64, or the distribution is unknown.</exception>
    public void Random(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b)
    {
        if (ReducedPrecision.Any(destination)) { ReducedPrecision.ViaFloat32(this, [], [destination], (_, o) => Random(distribution, o[0]!, seed, offset, a, b)); return; }
        if (distribution is not (RandomDistribution.Uniform or RandomDistribution.Normal or RandomDistribution.Bernoulli))
            throw new NotSupportedException($"ILGPU backend: Random has no kernel for distribution {distribution}.");
        if (destination.Numel == 0) return;
        DeviceElement.VisitReal(destination.DType, "Random", new RandomLauncher(distribution, destination, seed, offset, a, b));
    }

    /// <summary>One thread per Philox block of four elements.</summary>
    private readonly struct RandomLauncher(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b)
        : IDeviceRealVisitor
    {
        public void Visit<T, R>() where T : unmanaged where R : struct, IReal<T>
        {
            long n = destination.Numel, blocks = (n + 3) / 4;
            LoadKernel<ArrayView<T>, long, long, ulong, ulong, RandomDistribution, double, double, int>(Dev(destination), RandomKernels.Fill<T, R>)(
                Count(blocks), ViewOf<T>(destination), destination.StorageOffset, n, seed, offset, distribution, a, b, typeof(T) == typeof(float) ? 1 : 0);
        }
    }
}
