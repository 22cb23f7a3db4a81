using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// One launch of one group (<see cref="BatchNormStatsKernels.Update{T, R}"/>) for Float64 statistics (as
    /// <see cref="FusedOps.BatchNorm"/> makes them) and contiguous Float32 or Float64 running statistics; the composite
    /// otherwise.
    /// </remarks>
    public void BatchNormUpdateStats(Tensor mean, Tensor variance, long count, double? momentum, Tensor runningMean, Tensor runningVar,
        Tensor? numBatchesTracked)
    {
        long c = runningMean.Numel;
        bool fast = mean.DType == DType.Float64 && variance.DType == DType.Float64 && runningVar.DType == runningMean.DType
            && runningMean.DType is DType.Float32 or DType.Float64
            && mean.IsContiguous && variance.IsContiguous && runningMean.IsContiguous && runningVar.IsContiguous && c > 0;
        if (!fast)
        {
            CompositeKernels.BatchNormUpdateStats(this, mean, variance, count, momentum, runningMean, runningVar, numBatchesTracked);
            return;
        }
        var d = Dev(runningMean);
        int flags = (numBatchesTracked is null ? 0 : BatchNormStatsKernels.HasCounter) | (momentum is null ? BatchNormStatsKernels.Cumulative : 0);
        double unbias = (double)count / Math.Max(1, count - 1);
        if (runningMean.DType == DType.Float32) U<float, F32>(); else U<double, F64>();

        void U<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadGroupedKernel<ArrayView<double>, ArrayView<double>, ArrayView<T>, ArrayView<T>, ArrayView<long>, long, double, double, int>(
                d, BatchNormStatsKernels.Update<T, R>)(new KernelConfig(new Index1D(1), new Index1D(RowGroupSize(d))),
                ViewAt<double>(mean), ViewAt<double>(variance), ViewAt<T>(runningMean), ViewAt<T>(runningVar),
                numBatchesTracked is null ? ViewOf<long>(Dummy(d)) : ViewAt<long>(numBatchesTracked), c, momentum ?? 0, unbias, flags);
    }
}
