using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// One pass over each row for the max and Σe^{x−m} (TensorPrimitives), then the loss from lse, x[t] and Σ w·x:
    /// Σ_c w_c·(lse − x_c) = lse·W − Σ_c w_c·x_c, so no log-probabilities are materialized. Rows run in parallel.
    /// </remarks>
    public void CrossEntropy(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor logSumExp)
    {
        if (ReducedPrecision.Any(x, weight)) { CompositeKernels.CrossEntropy(this, x, target, weight, args, loss, logSumExp); return; }
        if (x.DType == DType.Float32) CrossEntropyTyped<float>(x, target, weight, args, loss, logSumExp);
        else CrossEntropyTyped<double>(x, target, weight, args, loss, logSumExp);
    }

    private static void CrossEntropyTyped<T>(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor lse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xd = Data<T>(x); var td = Data<long>(target); var ld = Data<T>(loss); var sd = Data<T>(lse);
        long rows = x.shape[0]; int c = checked((int)x.shape[1]);
        if (rows == 0) return;
        var (wd, eps, keep, perClass, wsum) = CeConstants<T>(weight, args, c);
        T scale = T.CreateTruncating(args.Scale);
        ForRowBlocks(rows, c, (r0, r1) =>
        {
            var buf = ArrayPool<T>.Shared.Rent(c);
            var e = buf.AsSpan(0, c);
            var ws = wd is null ? default : new ReadOnlySpan<T>(wd, checked((int)weight!.offset), c);
            for (long r = r0; r < r1; r++)
            {
                var xs = new ReadOnlySpan<T>(xd, checked((int)(x.offset + r * c)), c);
                T m = TensorPrimitives.Max<T>(xs);
                bool infinite = T.IsInfinity(m);
                if (infinite) m = T.Zero;   // an all −∞ (or +∞) row: let the arithmetic give PyTorch's inf/NaN
                TensorPrimitives.Subtract(xs, m, e);
                T l = m + T.Log(infinite ? FastMath.ExpSum(e) : FastMath.ExpNonPositiveSum(e));   // the fast exp takes x ≤ 0 only
                sd[lse.offset + r] = l;
                long t = td[target.offset + r];
                if (t == args.IgnoreIndex) { ld[loss.offset + r] = T.Zero; continue; }
                T wt = wd is null ? T.One : ws[(int)t];
                T v = keep * wt * (l - xs[(int)t]);
                if (eps != T.Zero)
                {
                    T wx = wd is null ? TensorPrimitives.Sum<T>(xs) : TensorPrimitives.Dot<T>(ws, xs);
                    v += perClass * (l * wsum - wx);
                }
                ld[loss.offset + r] = v * scale;
            }
            ArrayPool<T>.Shared.Return(buf);
        });
    }

    // The weight array (null when unweighted), ε, 1 − ε, ε/C and W = Σ w (C when unweighted).
    private static (T[]? W, T Eps, T Keep, T PerClass, T WSum) CeConstants<T>(Tensor? weight, CrossEntropyArgs args, int c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var wd = weight is null ? null : Data<T>(weight);
        T eps = T.CreateTruncating(args.LabelSmoothing);
        T wsum = wd is null ? T.CreateTruncating(c) : TensorPrimitives.Sum<T>(wd.AsSpan(checked((int)weight!.offset), c));
        return (wd, eps, T.One - eps, eps / T.CreateTruncating(c), wsum);
    }

    /// <inheritdoc/>
    /// <remarks>Per row, one vectorized pass: gx = g·a·e^{x − lse} − g·(ε/C)·w, then gx[t] −= g·(1 − ε)·w[t], with a = (1 − ε)·w[t] + (ε/C)·W.</remarks>
    public void CrossEntropyBackward(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor logSumExp, Tensor gradX)
    {
        if (ReducedPrecision.Any(grad, x, weight)) { CompositeKernels.CrossEntropyBackward(this, grad, x, target, weight, args, logSumExp, gradX); return; }
        if (x.DType == DType.Float32) CrossEntropyBackwardTyped<float>(grad, x, target, weight, args, logSumExp, gradX);
        else CrossEntropyBackwardTyped<double>(grad, x, target, weight, args, logSumExp, gradX);
    }

    private static void CrossEntropyBackwardTyped<T>(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args,
        Tensor lse, Tensor gradX) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gd = Data<T>(grad); var xd = Data<T>(x); var td = Data<long>(target); var sd = Data<T>(lse); var rd = Data<T>(gradX);
        long rows = x.shape[0]; int c = checked((int)x.shape[1]);
        if (rows == 0) return;
        var (wd, eps, keep, perClass, wsum) = CeConstants<T>(weight, args, c);
        T scale = T.CreateTruncating(args.Scale);
        long gs = grad.Dim == 0 ? 0 : grad.strides[0];   // stride 0: a sum's gradient expanded over the rows
        ForRowBlocks(rows, c, (r0, r1) =>
        {
            var ws = wd is null ? default : new ReadOnlySpan<T>(wd, checked((int)weight!.offset), c);
            for (long r = r0; r < r1; r++)
            {
                var xs = new ReadOnlySpan<T>(xd, checked((int)(x.offset + r * c)), c);
                var gx = rd.AsSpan(checked((int)(gradX.offset + r * c)), c);
                long t = td[target.offset + r];
                if (t == args.IgnoreIndex) { gx.Clear(); continue; }
                T g = gd[grad.offset + r * gs] * scale, wt = wd is null ? T.One : ws[(int)t];
                TensorPrimitives.Subtract(xs, sd[lse.offset + r], gx);
                FastMath.ExpNonPositiveSum(gx);   // the softmax row (x − log Σ e^x ≤ 0)
                TensorPrimitives.Multiply(gx, g * (keep * wt + perClass * wsum), gx);
                if (eps != T.Zero)
                {
                    if (wd is null) TensorPrimitives.Subtract(gx, g * perClass, gx);
                    else TensorPrimitives.MultiplyAdd(ws, -(g * perClass), gx, gx);
                }
                gx[(int)t] -= g * keep * wt;
            }
        });
    }
}
