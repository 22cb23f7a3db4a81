using ILGPU;
using Ember.Ilgpu.Ops;
using RK = Ember.Ilgpu.Ops.RowKernels;
using WK = Ember.Ilgpu.Ops.WarpRowKernels;
using RR = Ember.Ilgpu.Ops.RegisterRowKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>A contiguous tensor with the same values (this one, or a copy made on the device).</summary>
    internal Tensor Contig(Tensor t)
    {
        if (t.IsContiguous) return t;
        var c = Tensor.Empty(t.ShapeSpan.ToArray(), t.DType, t.Device);
        Copy(t, c);
        return c;
    }

    /// <summary>Rows with at most this many columns are reduced by one warp each (longer rows: one group each).</summary>
    internal const long WarpRowMaxCols = 1024;

    /// <summary>
    /// True when softmax rows run as <see cref="WarpRowKernels"/> on <paramref name="d"/>: CUDA and the CPU
    /// accelerator; ILGPU compiles warp shuffles for OpenCL only on devices with sub-group extensions, so OpenCL keeps
    /// the shared-memory tree kernels of <see cref="RowKernels"/>.
    /// </summary>
    internal static bool WarpRows(IlgpuDevice d) => d.Accelerator.AcceleratorType != ILGPU.Runtime.AcceleratorType.OpenCL;

    /// <summary>Launch of a warp-per-row kernel: whole warps, each owning one row, several rows per group.</summary>
    internal static KernelConfig WarpRowLaunch(IlgpuDevice d, long rows)
    {
        // 4 warps (128 threads) per group on a GPU, as PyTorch's warp softmax; 2 on ILGPU's CPU accelerator, whose group
        // threads are OS threads (still two, so that the last group of an odd row count has a warp with no row).
        int w = d.Accelerator.WarpSize, warps = d.Accelerator.AcceleratorType == ILGPU.Runtime.AcceleratorType.CPU ? 2 : 4;
        long groups = (rows + warps - 1) / warps;
        if (groups > int.MaxValue) throw new NotSupportedException($"ILGPU backend: {rows} rows in one launch are too many.");
        return new KernelConfig(new Index1D((int)groups), new Index1D(warps * w));
    }

    /// <summary>Launch of a group-per-row kernel built of whole warps (8 on a GPU, 2 on the CPU accelerator).</summary>
    internal static KernelConfig BlockRowLaunch(IlgpuDevice d, long rows)
    {
        if (rows > int.MaxValue) throw new NotSupportedException($"ILGPU backend: {rows} rows in one launch; at most {int.MaxValue} are supported.");
        int w = d.Accelerator.WarpSize, warps = d.Accelerator.AcceleratorType == ILGPU.Runtime.AcceleratorType.CPU ? 2 : 8;
        warps = Math.Clamp(Math.Min(warps, d.Accelerator.MaxNumThreadsPerGroup / w), 1, WarpRowKernels.MaxWarps);
        return new KernelConfig(new Index1D((int)rows), new Index1D(warps * w));
    }

    /// <summary>
    /// True when float32 rows of <paramref name="cols"/> columns whose starts are the element offsets
    /// <paramref name="offsets"/> run as <see cref="RegisterRowKernels"/>: warp kernels on this device, at most
    /// <see cref="RegisterRowKernels.MaxCols"/> columns, a multiple of 4, and every offset a multiple of 4 (device
    /// blocks start 512-byte aligned, so each row then starts on a 16-byte boundary for 128-bit loads).
    /// </summary>
    internal static bool RegisterRows(IlgpuDevice d, DType dtype, long cols, params long[] offsets)
    {
        if (dtype != DType.Float32 || !WarpRows(d) || cols > RegisterRowKernels.MaxCols || cols % 4 != 0) return false;
        foreach (var o in offsets) if (o % 4 != 0) return false;
        return true;
    }

    /// <inheritdoc/>
    public void Softmax(Tensor x, Tensor result, bool log)
    {
        if (ReducedPrecision.Any(x)) { CompositeKernels.Softmax(this, x, result, log); return; }
        x = Contig(x);
        long rows = x.ShapeSpan[0], cols = x.ShapeSpan[1];
        if (rows == 0 || cols == 0) return;
        var d = Dev(x);
        var o = new TensorOffsets { A = x.StorageOffset, B = result.StorageOffset };
        if (RegisterRows(d, x.DType, cols, o.A, o.B))
        {
            LoadGroupedKernel<ArrayView<float>, ArrayView<float>, long, int, TensorOffsets, int>(d, RR.Softmax)(
                WarpRowLaunch(d, rows), ViewOf<float>(x), ViewOf<float>(result), rows, (int)(cols / 4), new TensorOffsets { A = o.A / 4, B = o.B / 4 }, log ? 1 : 0);
            return;
        }
        if (x.DType == DType.Float32) S<float, F32>(); else S<double, F64>();

        void S<T, R>() where T : unmanaged where R : struct, IReal<T>
        {
            int lg = log ? 1 : 0;
            if (!WarpRows(d))
                LoadGroupedKernel<ArrayView<T>, ArrayView<T>, long, TensorOffsets, int>(d, RK.Softmax<T, R>)(Rows(d, rows), ViewOf<T>(x), ViewOf<T>(result), cols, o, lg);
            else if (cols <= WarpRowMaxCols)
                LoadGroupedKernel<ArrayView<T>, ArrayView<T>, long, long, TensorOffsets, int>(d, WK.SoftmaxWarp<T, R>)(WarpRowLaunch(d, rows), ViewOf<T>(x), ViewOf<T>(result), rows, cols, o, lg);
            else
                LoadGroupedKernel<ArrayView<T>, ArrayView<T>, long, TensorOffsets, int>(d, WK.SoftmaxBlock<T, R>)(BlockRowLaunch(d, rows), ViewOf<T>(x), ViewOf<T>(result), cols, o, lg);
        }
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log)
    {
        if (ReducedPrecision.Any(grad, output)) { CompositeKernels.SoftmaxBackward(this, grad, output, result, log); return; }
        grad = Contig(grad); output = Contig(output);
        long rows = grad.ShapeSpan[0], cols = grad.ShapeSpan[1];
        if (rows == 0 || cols == 0) return;
        var d = Dev(grad);
        var o = new TensorOffsets { A = grad.StorageOffset, B = output.StorageOffset, C = result.StorageOffset };
        if (RegisterRows(d, grad.DType, cols, o.A, o.B, o.C))
        {
            LoadGroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, TensorOffsets, int>(d, RR.SoftmaxBackward)(
                WarpRowLaunch(d, rows), ViewOf<float>(grad), ViewOf<float>(output), ViewOf<float>(result), rows, (int)(cols / 4),
                new TensorOffsets { A = o.A / 4, B = o.B / 4, C = o.C / 4 }, log ? 1 : 0);
            return;
        }
        if (grad.DType == DType.Float32) S<float, F32>(); else S<double, F64>();

        void S<T, R>() where T : unmanaged where R : struct, IReal<T>
        {
            int lg = log ? 1 : 0;
            if (!WarpRows(d))
                LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, long, TensorOffsets, int>(d, RK.SoftmaxBackward<T, R>)(
                    Rows(d, rows), ViewOf<T>(grad), ViewOf<T>(output), ViewOf<T>(result), cols, o, lg);
            else if (cols <= WarpRowMaxCols)
                LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, long, long, TensorOffsets, int>(d, WK.SoftmaxBackwardWarp<T, R>)(
                    WarpRowLaunch(d, rows), ViewOf<T>(grad), ViewOf<T>(output), ViewOf<T>(result), rows, cols, o, lg);
            else
                LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, long, TensorOffsets, int>(d, WK.SoftmaxBackwardBlock<T, R>)(
                    BlockRowLaunch(d, rows), ViewOf<T>(grad), ViewOf<T>(output), ViewOf<T>(result), cols, o, lg);
        }
    }

    /// <inheritdoc/>
    public void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd)
    {
        if (ReducedPrecision.Any(x, weight, bias)) { CompositeKernels.LayerNorm(this, x, weight, bias, eps, y, mean, rstd); return; }
        x = Contig(x);
        long rows = x.ShapeSpan[0], cols = x.ShapeSpan[1];
        if (rows == 0) return;
        var d = Dev(x);
        var o = new TensorOffsets { A = x.StorageOffset, B = weight?.StorageOffset ?? 0, C = bias?.StorageOffset ?? 0, D = y.StorageOffset, E = mean.StorageOffset, F = rstd.StorageOffset };
        if (weight is not null) weight = Contig(weight);
        if (bias is not null) bias = Contig(bias);
        o.B = weight?.StorageOffset ?? 0; o.C = bias?.StorageOffset ?? 0;
        if (cols > 0 && RegisterRows(d, x.DType, cols, o.A, o.B, o.C, o.D))
        {
            LoadGroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, float, TensorOffsets, int, int>(d, RR.LayerNorm)(
                WarpRowLaunch(d, rows), ViewOf<float>(x), ViewOf<float>(weight ?? x), ViewOf<float>(bias ?? x), ViewOf<float>(y), ViewOf<float>(mean), ViewOf<float>(rstd),
                rows, (int)(cols / 4), (float)eps, o with { A = o.A / 4, B = o.B / 4, C = o.C / 4, D = o.D / 4 }, weight is null ? 0 : 1, bias is null ? 0 : 1);
            return;
        }
        if (x.DType == DType.Float32) L<float, F32>((float)eps); else L<double, F64>(eps);

        void L<T, R>(T e) where T : unmanaged where R : struct, IReal<T> =>
            LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, T, TensorOffsets, int, int>(d, RK.LayerNorm<T, R>)(
                Rows(d, rows), ViewOf<T>(x), ViewOf<T>(weight ?? x), ViewOf<T>(bias ?? x), ViewOf<T>(y), ViewOf<T>(mean), ViewOf<T>(rstd), cols, e, o,
                weight is null ? 0 : 1, bias is null ? 0 : 1);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight,
        Tensor gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, weight)) { CompositeKernels.LayerNormBackward(this, grad, x, mean, rstd, weight, gradX, gradWeight, gradBias); return; }
        grad = Contig(grad); x = Contig(x); mean = Contig(mean); rstd = Contig(rstd);
        if (weight is not null) weight = Contig(weight);
        long rows = x.ShapeSpan[0], cols = x.ShapeSpan[1];
        var d = Dev(x);
        var o = new TensorOffsets { A = grad.StorageOffset, B = x.StorageOffset, C = mean.StorageOffset, D = rstd.StorageOffset, E = weight?.StorageOffset ?? 0, F = gradX.StorageOffset };
        var p = new TensorOffsets { A = grad.StorageOffset, B = x.StorageOffset, C = mean.StorageOffset, D = rstd.StorageOffset, E = gradWeight?.StorageOffset ?? 0, F = gradBias?.StorageOffset ?? 0 };
        if (x.DType == DType.Float32) L<float, F32>(); else L<double, F64>();

        void L<T, R>() where T : unmanaged where R : struct, IReal<T>
        {
            if (rows > 0 && cols > 0 && RegisterRows(d, x.DType, cols, o.A, o.B, o.E, o.F))
                LoadGroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, TensorOffsets, int>(d, RR.LayerNormBackward)(
                    WarpRowLaunch(d, rows), ViewOf<float>(grad), ViewOf<float>(x), ViewOf<float>(mean), ViewOf<float>(rstd), ViewOf<float>(weight ?? x), ViewOf<float>(gradX),
                    rows, (int)(cols / 4), o with { A = o.A / 4, B = o.B / 4, E = o.E / 4, F = o.F / 4 }, weight is null ? 0 : 1);
            else if (rows > 0)
                LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, TensorOffsets, int>(d, RK.LayerNormBackward<T, R>)(
                    Rows(d, rows), ViewOf<T>(grad), ViewOf<T>(x), ViewOf<T>(mean), ViewOf<T>(rstd), ViewOf<T>(weight ?? x), ViewOf<T>(gradX), cols, o, weight is null ? 0 : 1);
            if ((gradWeight is not null || gradBias is not null) && cols > 0)
            {
                // Two passes: column partial sums over row chunks (enough threads to fill the device), then one
                // thread per column adds the chunks. One thread per column over every row left most SMs idle.
                long chunk = Math.Max(8, (rows + 127) / 128), parts = Math.Max(1, (rows + chunk - 1) / chunk);
                var part = Tensor.Empty([2 * parts * cols], x.DType, x.Device);
                LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, long, long, TensorOffsets>(d, RK.LayerNormParamsPartial<T, R>)(
                    Count(cols * parts), ViewOf<T>(grad), ViewOf<T>(x), ViewOf<T>(mean), ViewOf<T>(rstd), ViewAt<T>(part),
                    rows, cols, chunk, p);
                if (WarpRows(d))
                    LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, long, long, TensorOffsets, int, int>(d, WK.LayerNormParamsFinish<T, R>)(
                        WarpRowLaunch(d, cols), ViewAt<T>(part), ViewOf<T>(gradWeight ?? gradBias!), ViewOf<T>(gradBias ?? gradWeight!),
                        parts, cols, p, gradWeight is null ? 0 : 1, gradBias is null ? 0 : 1);
                else
                    LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, long, long, TensorOffsets, int, int>(d, RK.LayerNormParamsFinish<T, R>)(
                        Count(cols), ViewAt<T>(part), ViewOf<T>(gradWeight ?? gradBias!), ViewOf<T>(gradBias ?? gradWeight!),
                        parts, cols, p, gradWeight is null ? 0 : 1, gradBias is null ? 0 : 1);
            }
        }
    }
}
