using ILGPU;
using Ember.Ilgpu.Ops;
using BK = Ember.Ilgpu.Ops.BatchNormKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// Two launches (<see cref="BatchNormKernels.ForwardPartials{TS, T, R, S}"/>, <see cref="BatchNormKernels.Forward{TS, T, R, S}"/>), also for Float16/BFloat16 x and y with float32 (or
    /// no) weight and bias (autocast's mixed batch norm: x read and y written as 16-bit, computed in float32); other
    /// Float16/BFloat16 calls through float32 copies.
    /// </remarks>
    public void BatchNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor variance, Tensor rstd)
    {
        bool narrow = x.DType.IsReducedPrecision() && y.DType == x.DType && Float32OrNull(weight) && Float32OrNull(bias);
        if (!narrow && ReducedPrecision.Any(x, weight, bias, y))
        {
            ReducedPrecision.ViaFloat32(this, [x, weight, bias], [y, mean, variance, rstd], (i, o) => BatchNorm(i[0]!, i[1], i[2], eps, o[0]!, o[1]!, o[2]!, o[3]!), overwritten: true);
            return;
        }
        x = Contig(x);
        long n = x.ShapeSpan[0], c = x.ShapeSpan[1], hw = c == 0 || n == 0 ? 0 : x.Numel / (n * c);
        if (c == 0) return;
        if (n * hw == 0) { CompositeKernels.BatchNorm(this, x, weight, bias, eps, y, mean, variance, rstd); return; }   // NaN statistics, as the composite gives
        var d = Dev(x);
        if (weight is not null) weight = Contig(weight);
        if (bias is not null) bias = Contig(bias);
        var p = Split(d, n, c, hw);
        p.Eps = eps;
        p.Flags = (weight is null ? 0 : 1) | (bias is null ? 0 : 2);
        using var partials = Tensor.Empty([c * p.Parts * 2], DType.Float64, x.Device);
        var cfg = Rows(d, c * p.Parts);
        if (narrow && x.DType == DType.Float16) F<ushort, float, F32, Narrowed<F16>>();
        else if (narrow) F<ushort, float, F32, Narrowed<BF16>>();
        else if (x.DType == DType.Float32) F<float, float, F32, Plain<float>>();
        else F<double, double, F64, Plain<double>>();

        void F<TS, T, R, S>() where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
        {
            LoadGroupedKernel<ArrayView<TS>, ArrayView<double>, BatchNormParams>(d, BK.ForwardPartials<TS, T, R, S>)(
                cfg, ViewAt<TS>(x), ViewAt<double>(partials), p);
            LoadGroupedKernel<ArrayView<TS>, ArrayView<T>, ArrayView<T>, ArrayView<TS>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, BatchNormParams>(
                d, BK.Forward<TS, T, R, S>)(cfg, ViewAt<TS>(x), Placeholder<T>(weight, mean), Placeholder<T>(bias, mean), ViewAt<TS>(y),
                ViewAt<double>(mean), ViewAt<double>(variance), ViewAt<double>(rstd), ViewAt<double>(partials), p);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Two launches (<see cref="BatchNormKernels.BackwardPartials{TS, T, R, S}"/>, <see cref="BatchNormKernels.Backward{TS, T, R, S}"/>), also for Float16/BFloat16 grad, x and gradX with
    /// float32 (or no) weight and float32 parameter gradients (the mixed batch norm's backward); other Float16/BFloat16
    /// calls through float32 copies.
    /// </remarks>
    public void BatchNormBackward(Tensor grad, Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor? gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        bool narrow = x.DType.IsReducedPrecision() && grad.DType == x.DType && (gradX is null || gradX.DType == x.DType)
            && Float32OrNull(weight) && Float32OrNull(gradWeight) && Float32OrNull(gradBias);
        if (!narrow && ReducedPrecision.Any(grad, x, weight, gradX, gradWeight, gradBias))
        {
            ReducedPrecision.ViaFloat32(this, [grad, x, weight, mean, rstd], [gradX, gradWeight, gradBias], (i, o) => BatchNormBackward(i[0]!, i[1]!, i[2], i[3]!, i[4]!, o[0], o[1], o[2]), overwritten: true);
            return;
        }
        grad = Contig(grad); x = Contig(x); mean = Contig(mean); rstd = Contig(rstd);
        if (weight is not null) weight = Contig(weight);
        long n = x.ShapeSpan[0], c = x.ShapeSpan[1], hw = c == 0 || n == 0 ? 0 : x.Numel / (n * c);
        if (c == 0 || gradX is null && gradWeight is null && gradBias is null) return;
        if (n * hw == 0) { CompositeKernels.BatchNormBackward(this, grad, x, weight, mean, rstd, gradX, gradWeight, gradBias); return; }
        var d = Dev(x);
        var p = Split(d, n, c, hw);
        p.Flags = (weight is null ? 0 : 1) | (gradX is null ? 0 : 2) | (gradWeight is null ? 0 : 4) | (gradBias is null ? 0 : 8);
        using var partials = Tensor.Empty([c * p.Parts * 2], DType.Float64, x.Device);
        var cfg = Rows(d, c * p.Parts);
        if (narrow && x.DType == DType.Float16) B<ushort, float, F32, Narrowed<F16>>();
        else if (narrow) B<ushort, float, F32, Narrowed<BF16>>();
        else if (x.DType == DType.Float32) B<float, float, F32, Plain<float>>();
        else B<double, double, F64, Plain<double>>();

        void B<TS, T, R, S>() where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
        {
            LoadGroupedKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<double>, ArrayView<double>, ArrayView<double>, BatchNormParams>(
                d, BK.BackwardPartials<TS, T, R, S>)(cfg, ViewAt<TS>(grad), ViewAt<TS>(x), ViewAt<double>(mean), ViewAt<double>(rstd), ViewAt<double>(partials), p);
            LoadGroupedKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<T>, ArrayView<double>, ArrayView<double>, ArrayView<TS>, ArrayView<T>, ArrayView<T>, ArrayView<double>, BatchNormParams>(
                d, BK.Backward<TS, T, R, S>)(cfg, ViewAt<TS>(grad), ViewAt<TS>(x), Placeholder<T>(weight, mean), ViewAt<double>(mean), ViewAt<double>(rstd),
                ViewAt<TS>(gradX ?? x), Placeholder<T>(gradWeight, mean), Placeholder<T>(gradBias, mean), ViewAt<double>(partials), p);
        }
    }

    /// <summary>Elements per group of a batch-norm launch (at least; a channel with fewer is one chunk).</summary>
    internal const long BatchNormChunk = 4096;

    /// <summary>
    /// The chunking of <see cref="BatchNormKernels"/>: chunks of at least <see cref="BatchNormChunk"/> elements, at most
    /// about 2,048 groups in all (and at least one chunk per channel).
    /// </summary>
    private static BatchNormParams Split(IlgpuDevice d, long n, long c, long hw)
    {
        long m = n * hw;
        long parts = Math.Clamp((m + BatchNormChunk - 1) / BatchNormChunk, 1, Math.Max(1, 2048 / c));
        long chunk = (m + parts - 1) / parts;
        parts = (m + chunk - 1) / chunk;
        if (c * parts > int.MaxValue) throw new NotSupportedException($"BatchNorm on {d.Device}: {c} channels in one launch; at most {int.MaxValue} are supported.");
        return new BatchNormParams { N = n, Hw = hw, Chunk = chunk, Parts = (int)parts };
    }

    private static bool Float32OrNull(Tensor? t) => t is null || t.DType == DType.Float32;

    /// <summary>
    /// The view of an optional parameter tensor, or where it is null (the kernel's flags say so and never read or write
    /// the view) <paramref name="stand"/>'s storage reinterpreted: the Float64 statistics, never empty when a kernel runs.
    /// </summary>
    private static ArrayView<T> Placeholder<T>(Tensor? t, Tensor stand) where T : unmanaged =>
        t is not null ? ViewAt<T>(t) : ViewOf<T>(stand);
}
