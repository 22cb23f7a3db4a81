using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// Compile-time choice of the float32 GEMM's epilogue, as a generic argument of the kernels' bodies: whether a bias row
/// is added where C is written (<c>C[i, j] = alpha · Σ_k op(A)·op(B) + beta · C[i, j] + bias[j]</c>). The plain entry
/// points instantiate <see cref="NoBias"/>, whose branch folds away, so their code is what it was without the epilogue.
/// </summary>
internal interface IGemmBias
{
    /// <summary>True when the kernel adds <c>bias[j]</c> (broadcast along the rows of C) to each element it writes.</summary>
    static abstract bool Has();
}

/// <summary>No bias: C is written as alpha · product + beta · C.</summary>
internal readonly struct NoBias : IGemmBias
{
    public static bool Has() => false;
}

/// <summary>A bias row: bias[j] is added to every element of column j of C.</summary>
internal readonly struct RowBias : IGemmBias
{
    public static bool Has() => true;
}

/// <summary>
/// The bias-epilogue entry points of the float32 GEMM (Linear's forward in one launch): the same kernels as the plain
/// ones with <see cref="RowBias"/>, plus a fifth view <c>bias</c> of at least N elements. The bias is added after the
/// (alpha-scaled) sum over K, as cuBLAS's epilogue does for PyTorch's addmm, instead of being the sum's starting value.
/// </summary>
internal static partial class GemmKernels
{
    /// <summary><see cref="Naive"/> with <c>bias[n]</c> added to each element of C.</summary>
    public static void NaiveBias(Index3D idx, GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias) =>
        NaiveCore<RowBias>(idx, p, a, b, c, bias);

    /// <summary><see cref="SumSplits"/> with <c>bias[col]</c> added once to each summed element (the slabs carry no bias).</summary>
    public static void SumSplitsBias(Index1D i, GemmParams p, ArrayView<float> w, ArrayView<float> c, ArrayView<float> bias) =>
        SumSplitsCore<RowBias>(i, p, w, c, bias);

    /// <summary><see cref="Tiled{TA, TB}"/> with <c>bias[n]</c> added to each element of C; launched the same way.</summary>
    public static void TiledBias<TA, TB>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        TiledCore<TA, TB, RowBias>(p, a, b, c, bias);

    /// <summary><see cref="Tiled16{TA, TB}"/> with <c>bias[n]</c> added to each element of C; launched the same way.</summary>
    public static void Tiled16Bias<TA, TB>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        Tiled16Core<TA, TB, RowBias>(p, a, b, c, bias);
}
