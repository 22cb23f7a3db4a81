using ILGPU;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>Same values as the CPU backend: uniforms and Bernoulli bit for bit; normals to float rounding of the transcendental functions.</remarks>
    public void Random(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b)
    {
        long n = destination.Numel;
        if (n == 0) return;
        var d = Dev(destination);
        long blocks = (n + 3) / 4;
        int dist = distribution switch { RandomDistribution.Uniform => 0, RandomDistribution.Normal => 1, _ => 2 };
        if (destination.DType == DType.Float32)
            K<ArrayView<float>, long, long, ulong, ulong, int, double, double, int>(d, RandomKernels.Fill<float, F32>)(
                Count(blocks), V<float>(destination), destination.offset, n, seed, offset, dist, a, b, 1);
        else if (destination.DType == DType.Float64)
            K<ArrayView<double>, long, long, ulong, ulong, int, double, double, int>(d, RandomKernels.Fill<double, F64>)(
                Count(blocks), V<double>(destination), destination.offset, n, seed, offset, dist, a, b, 0);
        else
            throw new NotSupportedException($"ILGPU backend: Random fills Float32 or Float64 tensors, got {destination.DType}.");
    }
}
