using ILGPU;
using Ember.Ilgpu.Ops;
using RK = Ember.Ilgpu.Ops.RowKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>A contiguous tensor with the same values (this one, or a copy made on the device).</summary>
    internal Tensor Contig(Tensor t)
    {
        if (t.IsContiguous) return t;
        var c = Tensor.Alloc((long[])t.shape.Clone(), t.DType, t.Device);
        Copy(t, c);
        return c;
    }

    /// <inheritdoc/>
    public void Softmax(Tensor x, Tensor result, bool log)
    {
        x = Contig(x);
        long rows = x.shape[0], cols = x.shape[1];
        if (rows == 0) return;
        var d = Dev(x);
        var o = new Offs { A = x.offset, B = result.offset };
        if (x.DType == DType.Float32) S<float, F32>(); else S<double, F64>();

        void S<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            G<ArrayView<T>, ArrayView<T>, long, Offs, int>(d, RK.Softmax<T, R>)(Rows(d, rows), V<T>(x), V<T>(result), cols, o, log ? 1 : 0);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log)
    {
        grad = Contig(grad); output = Contig(output);
        long rows = grad.shape[0], cols = grad.shape[1];
        if (rows == 0) return;
        var d = Dev(grad);
        var o = new Offs { A = grad.offset, B = output.offset, C = result.offset };
        if (grad.DType == DType.Float32) S<float, F32>(); else S<double, F64>();

        void S<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            G<ArrayView<T>, ArrayView<T>, ArrayView<T>, long, Offs, int>(d, RK.SoftmaxBackward<T, R>)(
                Rows(d, rows), V<T>(grad), V<T>(output), V<T>(result), cols, o, log ? 1 : 0);
    }

    /// <inheritdoc/>
    public void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd)
    {
        x = Contig(x);
        long rows = x.shape[0], cols = x.shape[1];
        if (rows == 0) return;
        var d = Dev(x);
        var o = new Offs { A = x.offset, B = weight?.offset ?? 0, C = bias?.offset ?? 0, D = y.offset, E = mean.offset, F = rstd.offset };
        if (weight is not null) weight = Contig(weight);
        if (bias is not null) bias = Contig(bias);
        o.B = weight?.offset ?? 0; o.C = bias?.offset ?? 0;
        if (x.DType == DType.Float32) L<float, F32>((float)eps); else L<double, F64>(eps);

        void L<T, R>(T e) where T : unmanaged where R : struct, IReal<T> =>
            G<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, T, Offs, int, int>(d, RK.LayerNorm<T, R>)(
                Rows(d, rows), V<T>(x), V<T>(weight ?? x), V<T>(bias ?? x), V<T>(y), V<T>(mean), V<T>(rstd), cols, e, o,
                weight is null ? 0 : 1, bias is null ? 0 : 1);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight,
        Tensor gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        grad = Contig(grad); x = Contig(x); mean = Contig(mean); rstd = Contig(rstd);
        if (weight is not null) weight = Contig(weight);
        long rows = x.shape[0], cols = x.shape[1];
        var d = Dev(x);
        var o = new Offs { A = grad.offset, B = x.offset, C = mean.offset, D = rstd.offset, E = weight?.offset ?? 0, F = gradX.offset };
        var p = new Offs { A = grad.offset, B = x.offset, C = mean.offset, D = rstd.offset, E = gradWeight?.offset ?? 0, F = gradBias?.offset ?? 0 };
        if (x.DType == DType.Float32) L<float, F32>(); else L<double, F64>();

        void L<T, R>() where T : unmanaged where R : struct, IReal<T>
        {
            if (rows > 0)
                G<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, Offs, int>(d, RK.LayerNormBackward<T, R>)(
                    Rows(d, rows), V<T>(grad), V<T>(x), V<T>(mean), V<T>(rstd), V<T>(weight ?? x), V<T>(gradX), cols, o, weight is null ? 0 : 1);
            if ((gradWeight is not null || gradBias is not null) && cols > 0)
            {
                // Two passes: column partial sums over row chunks (enough threads to fill the device), then one
                // thread per column adds the chunks. One thread per column over every row left most SMs idle.
                long chunk = Math.Max(8, (rows + 127) / 128), parts = Math.Max(1, (rows + chunk - 1) / chunk);
                var part = Tensor.Alloc([2 * parts * cols], x.DType, x.Device);
                K<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, long, long, Offs>(d, RK.LayerNormParamsPartial<T, R>)(
                    Count(cols * parts), V<T>(grad), V<T>(x), V<T>(mean), V<T>(rstd), V<T>(part).SubView(part.offset),
                    rows, cols, chunk, p);
                K<ArrayView<T>, ArrayView<T>, ArrayView<T>, long, long, Offs, int, int>(d, RK.LayerNormParamsFinish<T, R>)(
                    Count(cols), V<T>(part).SubView(part.offset), V<T>(gradWeight ?? gradBias!), V<T>(gradBias ?? gradWeight!),
                    parts, cols, p, gradWeight is null ? 0 : 1, gradBias is null ? 0 : 1);
            }
        }
    }
}
