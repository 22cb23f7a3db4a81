using ILGPU;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// A bitonic network on the device (<see cref="SortKernels"/>): rows padded to a power of two p, ½·log₂p·(log₂p + 1)
    /// launches over all rows at once; nothing is copied to the host.
    /// </remarks>
    public void Argsort(Tensor keys, Tensor indices, bool descending)
    {
        long rows = keys.ShapeSpan[0], n = keys.ShapeSpan[1];
        if (rows * n == 0) return;
        if (n > int.MaxValue / 2) throw new NotSupportedException($"ILGPU backend: Argsort rows of {n} elements; at most {int.MaxValue / 2} are supported.");
        int p = 1;
        while (p < n) p <<= 1;
        var d = Dev(keys);
        var slots = Tensor.Empty([rows, p], DType.Int64, keys.Device);
        LoadKernel<ArrayView<long>, int>(d, SortKernels.Init)(Count(rows * p), ViewOf<long>(slots), p);
        var step = LoadKernel<ArrayView<double>, ArrayView<long>, long, int, int, int, int, int>(d, SortKernels.Step);
        for (int k = 2; k <= p; k <<= 1)
            for (int j = k >> 1; j > 0; j >>= 1)
                step(Count(rows * p), ViewOf<double>(keys), ViewOf<long>(slots), keys.StorageOffset, (int)n, p, k, j, descending ? 1 : 0);
        LoadKernel<ArrayView<long>, ArrayView<long>, long, int, int>(d, SortKernels.Gather)(
            Count(rows * n), ViewOf<long>(slots), ViewOf<long>(indices), indices.StorageOffset, (int)n, p);
    }
}
