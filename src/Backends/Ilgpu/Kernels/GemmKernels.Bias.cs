using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// Compile-time choice of the float32 GEMM's epilogue, as a generic argument of the kernels' bodies: whether a bias row
/// (<c>C[i, j] = alpha · Σ_k op(A)·op(B) + beta · C[i, j] + bias[j]</c>, Linear) or a bias column (<c>… + bias[i]</c>,
/// a convolution's per-channel bias on [O, OH·OW]) is added where C is written. The plain entry points instantiate
/// <see cref="NoBias"/>, whose Add returns its argument (no branch), so their code is what it was without the epilogue.
/// </summary>
internal interface IGemmBias
{
    /// <summary><paramref name="v"/> (element i, j of C), plus its bias when the epilogue has one (no branch: the plain variant returns v).</summary>
    static abstract float Add(float v, ArrayView<float> bias, int i, int j);

    /// <summary>The four values of columns j..j+3 of row i, plus their bias when the epilogue has one (scalar loads: the bias need not be 16-byte aligned).</summary>
    static abstract Float4 Add(Float4 v, ArrayView<float> bias, int i, int j);
}

/// <summary>No bias: C is written as alpha · product + beta · C.</summary>
internal readonly struct NoBias : IGemmBias
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float v, ArrayView<float> bias, int i, int j) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float4 Add(Float4 v, ArrayView<float> bias, int i, int j) => v;
}

/// <summary>A bias row: bias[j] is added to every element of column j of C.</summary>
internal readonly struct RowBias : IGemmBias
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float v, ArrayView<float> bias, int i, int j) => v + bias[j];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float4 Add(Float4 v, ArrayView<float> bias, int i, int j) =>
        new(v.X + bias[j], v.Y + bias[j + 1], v.Z + bias[j + 2], v.W + bias[j + 3]);
}

/// <summary>A bias column: bias[i] is added to every element of row i of C (the same for every batch entry).</summary>
internal readonly struct ColumnBias : IGemmBias
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float v, ArrayView<float> bias, int i, int j) => v + bias[i];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float4 Add(Float4 v, ArrayView<float> bias, int i, int j)
    {
        float b = bias[i];
        return new(v.X + b, v.Y + b, v.Z + b, v.W + b);
    }
}

/// <summary>
/// The bias-epilogue entry points of the float32 GEMM (Linear's forward in one launch): the same kernels as the plain
/// ones with <see cref="RowBias"/>, plus a fifth view <c>bias</c> of at least N elements; the <c>ColumnBias</c> ones
/// (a convolution's forward) with <see cref="ColumnBias"/> and a bias of at least M elements. The bias is added after
/// the (alpha-scaled) sum over K, as cuBLAS's epilogue does for PyTorch's addmm, instead of being the sum's starting value.
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

    /// <summary><see cref="Naive"/> with <c>bias[m]</c> added to each element of row m of C.</summary>
    public static void NaiveColumnBias(Index3D idx, GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias) =>
        NaiveCore<ColumnBias>(idx, p, a, b, c, bias);

    /// <summary><see cref="SumSplits"/> with <c>bias[row]</c> added once to each summed element.</summary>
    public static void SumSplitsColumnBias(Index1D i, GemmParams p, ArrayView<float> w, ArrayView<float> c, ArrayView<float> bias) =>
        SumSplitsCore<ColumnBias>(i, p, w, c, bias);

    /// <summary><see cref="Tiled{TA, TB}"/> with <c>bias[m]</c> added to each element of row m of C; launched the same way.</summary>
    public static void TiledColumnBias<TA, TB>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        TiledCore<TA, TB, ColumnBias>(p, a, b, c, bias);

    /// <summary><see cref="Tiled16{TA, TB}"/> with <c>bias[m]</c> added to each element of row m of C; launched the same way.</summary>
    public static void Tiled16ColumnBias<TA, TB>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        Tiled16Core<TA, TB, ColumnBias>(p, a, b, c, bias);
}
