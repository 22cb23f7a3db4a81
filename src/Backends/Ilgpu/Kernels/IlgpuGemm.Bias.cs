using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>Which bias the float32 GEMM adds where it writes C.</summary>
internal enum GemmEpilogue
{
    /// <summary>None: C = alpha · op(A)·op(B) + beta · C.</summary>
    None,
    /// <summary>A bias row, bias[j] added to column j (<see cref="RowBias"/>).</summary>
    RowBias,
    /// <summary>A bias column, bias[i] added to row i (<see cref="ColumnBias"/>).</summary>
    ColumnBias,
}

public static partial class IlgpuGemm
{
    /// <summary>
    /// Queues <c>C = alpha · op(A) · op(B) + beta · C + bias</c> with the bias a column: <c>bias[i]</c> is added to every
    /// element of row i of each batch entry of C (a convolution's per-channel bias on its [O, OH·OW] output), in the
    /// GEMM's epilogue as <see cref="SgemmBias"/> adds a bias row (one launch; two with split-K). Returns false, having
    /// queued nothing, when the kernel <paramref name="algorithm"/> resolves to has no bias epilogue (<see cref="GemmAlgorithm.Tf32"/>).
    /// </summary>
    /// <param name="device">The device the views belong to.</param>
    /// <param name="transA">As <see cref="Sgemm(IlgpuDevice, bool, bool, int, int, int, float, ArrayView{float}, int, long, ArrayView{float}, int, long, float, ArrayView{float}, int, long, int, GemmAlgorithm)"/>.</param>
    /// <param name="transB">As for Sgemm.</param>
    /// <param name="m">Rows of op(A) and C, and the bias's length.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="strideA">Elements between batch entries of A (0 reuses one A).</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="strideB">Elements between batch entries of B.</param>
    /// <param name="beta">Scale of the old C; 0 means C is only written.</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="strideC">Elements between batch entries of C.</param>
    /// <param name="bias">The bias column: element i is added to row i (at least m elements, contiguous).</param>
    /// <param name="batch">Number of matrices (at least 1); every batch entry gets the same bias.</param>
    /// <param name="algorithm">Which kernel to use (<see cref="GemmAlgorithm.TiledK16Async"/> runs as <see cref="GemmAlgorithm.TiledK16"/>).</param>
    /// <returns>True when the product was queued; false when the algorithm has no bias epilogue.</returns>
    /// <exception cref="ArgumentException">A size, leading dimension, stride or view length is inconsistent; the message names it.</exception>
    public static bool SgemmColumnBias(IlgpuDevice device, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<float> a, int lda, long strideA,
        ArrayView<float> b, int ldb, long strideB,
        float beta, ArrayView<float> c, int ldc, long strideC, ArrayView<float> bias,
        int batch = 1, GemmAlgorithm algorithm = GemmAlgorithm.Auto)
    {
        if (m > 0 && bias.Length < m)
            throw new ArgumentException($"SgemmColumnBias: the bias needs {m} elements but its view has {bias.Length}.");
        return Run(device, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, algorithm, bias, GemmEpilogue.ColumnBias);
    }

    /// <summary>
    /// The tiled bias-epilogue kernel (<see cref="GemmKernels.TiledBias{TA, TB}"/> or its 16-deep sibling; the
    /// <c>ColumnBias</c> ones when <paramref name="column"/>) for the operands' layouts.
    /// </summary>
    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> LaunchBias(
        KernelCache kernels, bool transA, bool vecA, bool transB, bool vecB, bool k16, bool column) => (transA, vecA) switch
    {
        (false, false) => PickBiasB<KMajorLayout>(kernels, transB, vecB, k16, column),
        (false, true) => PickBiasB<KMajorVecLayout>(kernels, transB, vecB, k16, column),
        (true, false) => PickBiasB<RMajorLayout>(kernels, transB, vecB, k16, column),
        (true, true) => PickBiasB<RMajorVecLayout>(kernels, transB, vecB, k16, column),
    };

    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> PickBiasB<TA>(
        KernelCache kernels, bool transB, bool vecB, bool k16, bool column) where TA : struct, IOperandLayout => (transB, vecB) switch
    {
        (false, false) => PickBias<TA, RMajorLayout>(kernels, k16, column),
        (false, true) => PickBias<TA, RMajorVecLayout>(kernels, k16, column),
        (true, false) => PickBias<TA, KMajorLayout>(kernels, k16, column),
        (true, true) => PickBias<TA, KMajorVecLayout>(kernels, k16, column),
    };

    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> PickBias<TA, TB>(
        KernelCache kernels, bool k16, bool column) where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        kernels.Grouped<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>((k16, column) switch
        {
            (true, false) => GemmKernels.Tiled16Bias<TA, TB>,
            (false, false) => GemmKernels.TiledBias<TA, TB>,
            (true, true) => GemmKernels.Tiled16ColumnBias<TA, TB>,
            (false, true) => GemmKernels.TiledColumnBias<TA, TB>,
        });
}
