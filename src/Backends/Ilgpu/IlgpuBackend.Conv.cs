using ILGPU;
using Ember.Ilgpu.Ops;
using CK = Ember.Ilgpu.Ops.ConvPoolKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// Float16/BFloat16 x, weight, bias and y of one dtype (autocast's convolution): im2col and the GEMMs on 16-bit storage
    /// (<see cref="CompositeKernels.Conv2dInDType"/>; tensor cores on CUDA, float32 accumulation); otherwise the composite.
    /// </remarks>
    public void Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry geometry, int groups, Tensor y)
    {
        if (SameNarrow(x, weight, bias, y)) CompositeKernels.Conv2dInDType(this, x, weight, bias, geometry, groups, y, ColumnBudget16);
        else CompositeKernels.Conv2d(this, x, weight, bias, geometry, groups, y);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Float16/BFloat16 of one dtype: the GEMM into 16-bit columns and the one-launch 16-bit col2im
    /// (<see cref="CompositeKernels.Conv2dInputGradInDType"/>); otherwise the composite.
    /// </remarks>
    public void Conv2dInputGrad(Tensor grad, Tensor weight, ConvGeometry geometry, int groups, Tensor gradInput)
    {
        if (SameNarrow(grad, weight, null, gradInput)) CompositeKernels.Conv2dInputGradInDType(this, grad, weight, geometry, groups, gradInput, ColumnBudget16);
        else CompositeKernels.Conv2dInputGrad(this, grad, weight, geometry, groups, gradInput);
    }

    // Every given tensor Float16 (or every one BFloat16).
    private static bool SameNarrow(Tensor a, Tensor b, Tensor? c, Tensor d) =>
        a.DType.IsReducedPrecision() && b.DType == a.DType && (c is null || c.DType == a.DType) && d.DType == a.DType;

    // Column elements the 16-bit convolutions stage per chunk of samples (32 MB of 16-bit values): a small CNN's batch in
    // one im2col and one GEMM per convolution.
    private const long ColumnBudget16 = 1L << 24;

    /// <inheritdoc/>
    /// <remarks>
    /// Float16/BFloat16 of one dtype, one group (autocast's convolution): per chunk of samples one im2col into window rows
    /// [C·kH·kW, samples·OH·OW] (<see cref="ConvPoolKernels.Im2ColRows{T}"/>), grad's copy as [O, samples·OH·OW] and one
    /// GEMM over K = samples·OH·OW (tensor cores on CUDA, float32 accumulation, gradWeight rounded once per chunk: once for
    /// batches up to <see cref="ColumnBudget16"/> window elements); the bias gradient sums the same copy. Otherwise the
    /// composite.
    /// </remarks>
    public void Conv2dWeightGrad(Tensor grad, Tensor x, ConvGeometry geometry, int groups, Tensor gradWeight, Tensor? gradBias)
    {
        if (groups != 1 || !SameNarrow(grad, x, gradBias, gradWeight) || !gradWeight.IsContiguous)
        {
            CompositeKernels.Conv2dWeightGrad(this, grad, x, geometry, groups, gradWeight, gradBias);
            return;
        }
        x = Contig(x);
        long n = x.ShapeSpan[0], o = gradWeight.ShapeSpan[0], l = (long)geometry.OutH * geometry.OutW;
        long rows = (long)geometry.Channels * geometry.KernelH * geometry.KernelW, plane = x.Numel / Math.Max(1, n);
        if (n == 0 || l == 0)
        {
            Fill(gradWeight, 0);
            if (gradBias is not null) Fill(gradBias, 0);
            return;
        }
        long chunk = Math.Clamp(ColumnBudget16 / (rows * l), 1, n);
        var d = Dev(x);
        var cols = Tensor.Empty([rows * chunk * l], x.DType, x.Device);
        var rowsOfGrad = Tensor.Empty([o * chunk * l], grad.DType, grad.Device);
        var g3 = grad.Reshape(n, o, l);   // a view where the strides allow; the copy below reads any strides
        var gw = gradWeight.Reshape(1, o, rows);
        for (long i = 0; i < n; i += chunk)
        {
            long m = Math.Min(chunk, n - i), k = m * l;
            var c = cols.Narrow(0, 0, rows * k).Reshape(1, rows, k);
            var gt = rowsOfGrad.Narrow(0, 0, o * k).Reshape(1, o, k);
            var geo = ConvGeo(m, geometry);
            LoadKernel<ArrayView<ushort>, ArrayView<ushort>, Geo, long, long>(d, CK.Im2ColRows<ushort>)(Count(rows * k), ViewOf<ushort>(x), ViewOf<ushort>(c), geo,
                x.StorageOffset + i * plane, c.StorageOffset);
            Copy(g3.Narrow(0, i, m).Permute(1, 0, 2), gt.Reshape(o, m, l));
            MatMul(gt, c.mT, gw, accumulate: i > 0);
            // One chunk: the bias gradient is the row sums of the same copy (float32 accumulation, rounded once), read
            // as 16 bits (two launches instead of the widened copy, the reduction and the rounding copy).
            if (gradBias is not null && chunk >= n)
            {
                if (gradBias.IsContiguous) NarrowRowSums(d, gt.Reshape(o, k), gradBias);
                else Reduce(ReduceOp.Sum, gt.Reshape(o, k), gradBias, null);
            }
        }
        if (gradBias is not null && chunk < n) Copy(grad.Sum([0, 2, 3]), gradBias);
    }
    /// <summary>
    /// result [n] = the row sums of the contiguous 16-bit g [n, k] (<see cref="NarrowRowSumKernels"/>, then
    /// <see cref="NarrowColumnSumKernels.Finish{TN}"/>), in float32 and rounded once; result contiguous, of g's dtype.
    /// </summary>
    private static void NarrowRowSums(IlgpuDevice d, Tensor g, Tensor result)
    {
        long n = g.ShapeSpan[0], k = g.ShapeSpan[1];
        // About 32768 threads in all (as the column sums), each summing at least 16 elements.
        long parts = Math.Max(1, Math.Min((k + 15) / 16, (32768 + n - 1) / n));
        var partials = Tensor.Empty([parts * n], DType.Float32, g.Device);
        if (g.DType == DType.Float16) Run<F16>(); else Run<BF16>();

        void Run<TN>() where TN : struct, INarrow
        {
            LoadKernel<ArrayView<ushort>, ArrayView<float>, long, long, long>(d, NarrowRowSumKernels.Partial<TN>)(
                Count(parts * n), ViewAt<ushort>(g), ViewAt<float>(partials), n, k, parts);
            LoadKernel<ArrayView<float>, ArrayView<ushort>, long, long>(d, NarrowColumnSumKernels.Finish<TN>)(
                Count(n), ViewAt<float>(partials), ViewAt<ushort>(result), n, parts);
        }
    }
}
