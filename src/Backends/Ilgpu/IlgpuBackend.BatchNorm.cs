using ILGPU;
using Ember.Ilgpu.Ops;
using BK = Ember.Ilgpu.Ops.BatchNormKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>One launch (<see cref="BatchNormKernels.Forward{T, R}"/>); Float16/BFloat16 through float32 copies.</remarks>
    public void BatchNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor variance, Tensor rstd)
    {
        if (ReducedPrecision.Any(x, weight, bias, y))
        {
            ReducedPrecision.ViaFloat32(this, [x, weight, bias], [y, mean, variance, rstd], (i, o) => BatchNorm(i[0]!, i[1], i[2], eps, o[0]!, o[1]!, o[2]!, o[3]!));
            return;
        }
        x = Contig(x);
        long n = x.ShapeSpan[0], c = x.ShapeSpan[1], hw = c == 0 || n == 0 ? 0 : x.Numel / (n * c);
        if (c == 0) return;
        if (n * hw == 0) { CompositeKernels.BatchNorm(this, x, weight, bias, eps, y, mean, variance, rstd); return; }   // NaN statistics, as the composite gives
        var d = Dev(x);
        if (weight is not null) weight = Contig(weight);
        if (bias is not null) bias = Contig(bias);
        if (x.DType == DType.Float32) F<float, F32>(); else F<double, F64>();

        void F<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, ArrayView<double>, ArrayView<double>, long, long, double, int, int>(
                d, BK.Forward<T, R>)(Rows(d, c), ViewAt<T>(x), ViewAt<T>(weight ?? x), ViewAt<T>(bias ?? x), ViewAt<T>(y), ViewAt<double>(mean), ViewAt<double>(variance), ViewAt<double>(rstd),
                n, hw, eps, weight is null ? 0 : 1, bias is null ? 0 : 1);
    }

    /// <inheritdoc/>
    /// <remarks>One launch (<see cref="BatchNormKernels.Backward{T, R}"/>); Float16/BFloat16 through float32 copies.</remarks>
    public void BatchNormBackward(Tensor grad, Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor? gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, weight, gradX, gradWeight, gradBias))
        {
            ReducedPrecision.ViaFloat32(this, [grad, x, weight, mean, rstd], [gradX, gradWeight, gradBias], (i, o) => BatchNormBackward(i[0]!, i[1]!, i[2], i[3]!, i[4]!, o[0], o[1], o[2]));
            return;
        }
        grad = Contig(grad); x = Contig(x); mean = Contig(mean); rstd = Contig(rstd);
        if (weight is not null) weight = Contig(weight);
        long n = x.ShapeSpan[0], c = x.ShapeSpan[1], hw = c == 0 || n == 0 ? 0 : x.Numel / (n * c);
        if (c == 0 || gradX is null && gradWeight is null && gradBias is null) return;
        if (n * hw == 0) { CompositeKernels.BatchNormBackward(this, grad, x, weight, mean, rstd, gradX, gradWeight, gradBias); return; }
        var d = Dev(x);
        if (x.DType == DType.Float32) B<float, F32>(); else B<double, F64>();

        void B<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, ArrayView<double>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, long, int>(
                d, BK.Backward<T, R>)(Rows(d, c), ViewAt<T>(grad), ViewAt<T>(x), ViewAt<T>(weight ?? x), ViewAt<double>(mean), ViewAt<double>(rstd),
                ViewAt<T>(gradX ?? x), ViewAt<T>(gradWeight ?? x), ViewAt<T>(gradBias ?? x), n, hw,
                (weight is null ? 0 : 1) | (gradX is null ? 0 : 2) | (gradWeight is null ? 0 : 4) | (gradBias is null ? 0 : 8));
    }
}
