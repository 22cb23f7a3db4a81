using ILGPU;
using Ember.Ilgpu.Ops;
using CK = Ember.Ilgpu.Ops.ConvPoolKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// Float16/BFloat16 x, weight, bias and y of one dtype (autocast's convolution): im2col and the GEMMs on 16-bit storage
    /// (<see cref="CompositeKernels.Conv2dInDType"/>; tensor cores on CUDA, float32 accumulation). Float32: the same
    /// composite with chunks of up to <see cref="ColumnBudget32"/> column elements (a small CNN's batch in one im2col and
    /// one batched GEMM instead of one pair per megaelement of columns); with a bias and one group, the bias is added in
    /// the GEMM's epilogue (<see cref="IlgpuGemm.SgemmColumnBias"/>) instead of a broadcast copy into y that the GEMM
    /// accumulates onto. Otherwise the composite.
    /// </remarks>
    public void Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry geometry, int groups, Tensor y)
    {
        if (SameNarrow(x, weight, bias, y)) CompositeKernels.Conv2dInDType(this, x, weight, bias, geometry, groups, y, ColumnBudget16);
        else if (ConvLaunchCuts && AllFloat32(x, weight, bias, y) && bias is not null && groups == 1 && bias.IsContiguous && y.IsContiguous)
            Conv2dBiasEpilogue(x, weight, bias, geometry, y);
        else if (ConvLaunchCuts && AllFloat32(x, weight, bias, y)) CompositeKernels.Conv2dInDType(this, x, weight, bias, geometry, groups, y, ColumnBudget32);
        else CompositeKernels.Conv2d(this, x, weight, bias, geometry, groups, y);
    }

    /// <summary>
    /// Float32, one group, contiguous bias and y: per chunk of samples (<see cref="ColumnBudget32"/> column elements) one
    /// im2col and one batched GEMM y[s] = W·columns[s] + bias (the weight read in place for every sample, the bias
    /// added after the sum over K, as cuBLAS's epilogue for PyTorch). Where the GEMM has no bias epilogue (TF32), the
    /// chunk's bias is copied into y and the GEMM accumulates onto it, as the composite.
    /// </summary>
    private void Conv2dBiasEpilogue(Tensor x, Tensor weight, Tensor bias, ConvGeometry g, Tensor y)
    {
        long n = x.ShapeSpan[0], o = weight.ShapeSpan[0], rows = (long)g.Channels * g.KernelH * g.KernelW, l = (long)g.OutH * g.OutW;
        if (n == 0 || o == 0 || l == 0) return;
        var d = Dev(y);
        var wc = weight.Contiguous().Reshape(1, o, rows);
        long chunk = Math.Clamp(ColumnBudget32 / Math.Max(1, rows * l), 1, n);
        var buf = Tensor.Empty([chunk, rows, l], x.DType, x.Device);
        for (long i = 0; i < n; i += chunk)
        {
            long m = Math.Min(chunk, n - i);
            var b = buf.Narrow(0, 0, m);
            Im2Col(x.Narrow(0, i, m), g, b);
            Tensor a = wc.Expand(m, o, rows), c = y.Narrow(0, i, m).Reshape(m, o, l);
            if (Blas(a, b, c, out var bl) && IlgpuGemm.SgemmColumnBias(d, bl.TransA, bl.TransB, (int)o, (int)l, (int)rows,
                    1f, ViewAt<float>(a), bl.Lda, bl.StrideA, ViewAt<float>(b), bl.Ldb, bl.StrideB,
                    0f, ViewAt<float>(c), bl.Ldc, bl.StrideC, ViewAt<float>(bias), (int)m))
                continue;
            Copy(bias.Reshape(1, o, 1).Expand(m, o, l), c);
            MatMul(a, b, c, accumulate: true);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Float16/BFloat16 of one dtype: the GEMM into 16-bit columns and the one-launch 16-bit col2im
    /// (<see cref="CompositeKernels.Conv2dInputGradInDType"/>); Float32: the same composite in chunks of up to
    /// <see cref="ColumnBudget32"/> column elements (one GEMM and one col2im for a small CNN's batch); otherwise the composite.
    /// </remarks>
    public void Conv2dInputGrad(Tensor grad, Tensor weight, ConvGeometry geometry, int groups, Tensor gradInput)
    {
        if (SameNarrow(grad, weight, null, gradInput)) CompositeKernels.Conv2dInputGradInDType(this, grad, weight, geometry, groups, gradInput, ColumnBudget16);
        else if (ConvLaunchCuts && AllFloat32(grad, weight, null, gradInput)) CompositeKernels.Conv2dInputGradInDType(this, grad, weight, geometry, groups, gradInput, ColumnBudget32);
        else CompositeKernels.Conv2dInputGrad(this, grad, weight, geometry, groups, gradInput);
    }

    // Every given tensor Float16 (or every one BFloat16).
    private static bool SameNarrow(Tensor a, Tensor b, Tensor? c, Tensor d) =>
        a.DType.IsReducedPrecision() && b.DType == a.DType && (c is null || c.DType == a.DType) && d.DType == a.DType;

    /// <summary>
    /// Environment variable: <c>0</c> turns off the float32 convolution and max-pool launch cuts (the weight gradient as
    /// one GEMM, the forward's bias epilogue, 32 MB column chunks, the one-launch max-pool backward of disjoint windows)
    /// and runs the composites and kernels of before, for A/B timings with one build.
    /// </summary>
    public const string ConvLaunchCutsVariable = "EMBER_ILGPU_CONV_LAUNCH_CUTS";

    private static readonly bool ConvLaunchCuts = Environment.GetEnvironmentVariable(ConvLaunchCutsVariable) != "0";

    // Every given tensor Float32.
    private static bool AllFloat32(Tensor a, Tensor b, Tensor? c, Tensor d) =>
        a.DType == DType.Float32 && b.DType == DType.Float32 && (c is null || c.DType == DType.Float32) && d.DType == DType.Float32;

    // Column elements the 16-bit convolutions stage per chunk of samples (32 MB of 16-bit values): a small CNN's batch in
    // one im2col and one GEMM per convolution. Settable (internal) so that tests take several chunks with a small batch.
    internal static long ColumnBudget16 = 1L << 24;

    // Column elements the float32 convolutions stage per chunk of samples (32 MB, the 16-bit budget's bytes; the
    // composite's default is 4 MB): a small CNN's batch of 64 in one im2col and one GEMM per convolution. Settable as above.
    internal static long ColumnBudget32 = 1L << 23;

    /// <inheritdoc/>
    /// <remarks>
    /// One group, contiguous gradWeight, every tensor Float32 or every one the same 16-bit dtype: per chunk of samples
    /// one im2col into window rows [C·kH·kW, samples·OH·OW] (<see cref="ConvPoolKernels.Im2ColRows{T}"/>), grad's copy as
    /// [O, samples·OH·OW] and one GEMM over K = samples·OH·OW (float32: the tiled GEMM, split over K where its tiles
    /// would leave the device idle; 16-bit: tensor cores on CUDA, float32 accumulation, gradWeight rounded once per
    /// chunk). A batch within <see cref="ColumnBudget32"/> (16-bit: <see cref="ColumnBudget16"/>) window elements is one
    /// chunk, and then the bias gradient is the row sums of the same copy (one launch; 16-bit: two); a larger one
    /// accumulates each chunk's GEMM into gradWeight and sums the bias gradient apart. Grouped, mixed dtypes or a
    /// non-contiguous gradWeight: the composite (a batched GEMM and a sum per chunk of samples). Before all that, a
    /// one-group convolution with few outputs (O·(C·kH·kW + 1) ≤ 1024, a first layer) takes two launches straight from
    /// x and grad (<see cref="ConvWeightGradKernels"/>).
    /// </remarks>
    public void Conv2dWeightGrad(Tensor grad, Tensor x, ConvGeometry geometry, int groups, Tensor gradWeight, Tensor? gradBias)
    {
        bool narrow = SameNarrow(grad, x, gradBias, gradWeight);
        bool single = ConvLaunchCuts && AllFloat32(grad, x, gradBias, gradWeight);
        if (groups != 1 || !(narrow || single) || !gradWeight.IsContiguous)
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
        if (TryConvWeightGradDirect(grad, x, geometry, gradWeight, gradBias)) return;
        long chunk = Math.Clamp((narrow ? ColumnBudget16 : ColumnBudget32) / (rows * l), 1, n);
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
            if (narrow)
                LoadKernel<ArrayView<ushort>, ArrayView<ushort>, Geo, long, long>(d, CK.Im2ColRows<ushort>)(Count(rows * k), ViewOf<ushort>(x), ViewOf<ushort>(c), geo,
                    x.StorageOffset + i * plane, c.StorageOffset);
            else
                LoadKernel<ArrayView<float>, ArrayView<float>, Geo, long, long>(d, CK.Im2ColRows<float>)(Count(rows * k), ViewOf<float>(x), ViewOf<float>(c), geo,
                    x.StorageOffset + i * plane, c.StorageOffset);
            Copy(g3.Narrow(0, i, m).Permute(1, 0, 2), gt.Reshape(o, m, l));
            MatMul(gt, c.mT, gw, accumulate: i > 0);
            // One chunk: the bias gradient is the row sums of the same copy (16-bit: float32 accumulation, rounded once,
            // read as 16 bits: two launches instead of the widened copy, the reduction and the rounding copy).
            if (gradBias is not null && chunk >= n)
            {
                if (narrow && gradBias.IsContiguous) NarrowRowSums(d, gt.Reshape(o, k), gradBias);
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
