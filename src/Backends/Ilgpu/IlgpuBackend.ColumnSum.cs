using ILGPU;
using Ember.Ilgpu.Ops;
using CK = Ember.Ilgpu.Ops.NarrowColumnSumKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>Most rows the one-launch <see cref="ColumnSumKernels"/> takes (256 per thread with 32 warps).</summary>
    internal const long ColumnSumMaxRows = 8192;

    /// <inheritdoc/>
    /// <remarks>
    /// Float16/BFloat16 (Linear's bias gradient under autocast): one launch, or two for long columns, on 16-bit storage
    /// (<see cref="NarrowColumnSumKernels"/>) instead of five (widen g, widen the result, reduce, copy, round).
    /// Float32/Float64: one launch of <see cref="ColumnSumKernels"/> (a group per tile of columns) on CUDA and the CPU
    /// accelerator for up to <see cref="ColumnSumMaxRows"/> rows; otherwise the composite's column reduction written
    /// straight into the result (the composite reduces into a new tensor and copies it over). Other dtypes take the
    /// composite.
    /// </remarks>
    public void ColumnSum(Tensor g, Tensor result)
    {
        if (g.DType is DType.Float32 or DType.Float64 && result.DType == g.DType && g.Dim == 2 && result.Dim == 1)
        {
            long rows = g.ShapeSpan[0], cols = g.ShapeSpan[1];
            if (cols == 0) return;
            var dev = Dev(result);
            int lanes = dev.Accelerator.WarpSize;
            // One group per tile: with more than ColumnSumMaxRows rows each thread would walk too many rows in turn
            // (a batch of Linear's usual sizes has a few thousand); taller matrices take the two-stage reduction.
            if (g.IsContiguous && WarpRows(dev) && lanes <= 32 && rows <= ColumnSumMaxRows)
            {
                // 32 warps per group on a GPU (enough loads in flight for a few thousand rows); 2 on the CPU accelerator.
                int warps = dev.Accelerator.AcceleratorType == ILGPU.Runtime.AcceleratorType.CPU ? 2 : ColumnSumKernels.MaxWarps;
                warps = Math.Clamp(Math.Min(warps, dev.Accelerator.MaxNumThreadsPerGroup / lanes), 1, ColumnSumKernels.MaxWarps);
                long tiles = (cols + lanes - 1) / lanes;
                var cfg = new KernelConfig(new Index1D(checked((int)tiles)), new Index1D(warps * lanes));
                if (g.DType == DType.Float32) Launch<float, F32>(); else Launch<double, F64>();
                return;

                void Launch<T, R>() where T : unmanaged where R : struct, IReal<T> =>
                    LoadGroupedKernel<ArrayView<T>, ArrayView<T>, long, long, long, long, long>(dev, ColumnSumKernels.Sum<T, R>)(
                        cfg, ViewOf<T>(g), ViewOf<T>(result), rows, cols, g.StorageOffset, result.StorageOffset, result.StridesSpan[0]);
            }
            // The same [n, m] view of gᵀ and the same Reduce launch as the composite's g.Sum(0), so the sums are
            // bitwise the same; only the copy is gone.
            bool grad = GradMode.Set(false);   // the transposed view is never recorded
            try { Reduce(ReduceOp.Sum, g.T, result, null); }
            finally { GradMode.Set(grad); }
            return;
        }
        if (!(g.DType is DType.Float16 or DType.BFloat16) || result.DType != g.DType || !g.IsContiguous || !result.IsContiguous)
        {
            CompositeKernels.ColumnSum(this, g, result);
            return;
        }
        long m = g.ShapeSpan[0], n = g.ShapeSpan[1];
        if (n == 0) return;
        var d = Dev(result);
        // The float32 column reduction's split (IlgpuBackend.Reduce): rows in chunks of at least 16, at most about
        // 32768 threads in all, so that the sums run in the same order as there.
        long parts = Math.Min(Math.Max(1, (m + 15) / 16), Math.Max(1, (32768 + n - 1) / n));
        long chunk = parts == 1 ? m : (m + parts - 1) / parts;
        if (parts > 1) parts = (m + chunk - 1) / chunk;
        if (g.DType == DType.Float16) Run<F16>(); else Run<BF16>();

        void Run<TN>() where TN : struct, INarrow
        {
            if (parts <= 1)
            {
                LoadKernel<ArrayView<ushort>, ArrayView<ushort>, long, long>(d, CK.Whole<TN>)(Count(n), ViewAt<ushort>(g), ViewAt<ushort>(result), n, m);
                return;
            }
            var partials = Tensor.Empty([parts * n], DType.Float32, result.Device);
            LoadKernel<ArrayView<ushort>, ArrayView<float>, long, long, long>(d, CK.Partial<TN>)(Count(parts * n), ViewAt<ushort>(g), ViewAt<float>(partials), n, m, chunk);
            LoadKernel<ArrayView<float>, ArrayView<ushort>, long, long>(d, CK.Finish<TN>)(Count(n), ViewAt<float>(partials), ViewAt<ushort>(result), n, parts);
        }
    }
}
