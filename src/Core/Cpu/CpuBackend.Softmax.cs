using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    /// <remarks>Per row: m = max x, e = exp(x − m), softmax = e / Σe, log-softmax = x − m − ln Σe. Rows run in parallel when large.</remarks>
    public void Softmax(Tensor x, Tensor result, bool log)
    {
        if (ReducedPrecision.Any(x)) { CompositeKernels.Softmax(this, x, result, log); return; }
        if (x.DType == DType.Float32) SoftmaxTyped<float>(x, result, log);
        else SoftmaxTyped<double>(x, result, log);
    }

    private static void SoftmaxTyped<T>(Tensor x, Tensor result, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xd = Data<T>(x); var rd = Data<T>(result);
        long rows = x.shape[0]; int cols = checked((int)x.shape[1]);
        if (cols == 0) return;
        ForRowBlocks(rows, cols, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                var xs = xd.AsSpan(checked((int)(x.offset + r * cols)), cols);
                var ys = rd.AsSpan(checked((int)(result.offset + r * cols)), cols);
                T m = TensorPrimitives.Max<T>(xs);
                if (T.IsNegativeInfinity(m)) m = T.Zero; // an all −∞ row: e = 0 everywhere, result NaN/−∞ as PyTorch
                TensorPrimitives.Subtract(xs, m, ys);
                if (log)
                {
                    var buf = ArrayPool<T>.Shared.Rent(cols);
                    var e = buf.AsSpan(0, cols);
                    TensorPrimitives.Exp(ys, e);
                    T lse = T.Log(TensorPrimitives.Sum<T>(e));
                    ArrayPool<T>.Shared.Return(buf);
                    TensorPrimitives.Subtract(ys, lse, ys);
                }
                else
                {
                    T s = FastMath.ExpNonPositiveSum(ys);   // exp and its sum in one pass; ys = x − m ≤ 0 (or NaN)
                    TensorPrimitives.Multiply(ys, T.One / s, ys);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log)
    {
        if (ReducedPrecision.Any(grad, output)) { CompositeKernels.SoftmaxBackward(this, grad, output, result, log); return; }
        if (grad.DType == DType.Float32) SoftmaxBackwardTyped<float>(grad, output, result, log);
        else SoftmaxBackwardTyped<double>(grad, output, result, log);
    }

    private static void SoftmaxBackwardTyped<T>(Tensor grad, Tensor output, Tensor result, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gd = Data<T>(grad); var yd = Data<T>(output); var rd = Data<T>(result);
        long rows = grad.shape[0]; int cols = checked((int)grad.shape[1]);
        if (cols == 0) return;
        ForRowBlocks(rows, cols, (r0, r1) =>
        {
            var buf = ArrayPool<T>.Shared.Rent(cols);
            var tmp = buf.AsSpan(0, cols);
            for (long r = r0; r < r1; r++)
            {
                var g = gd.AsSpan(checked((int)(grad.offset + r * cols)), cols);
                var y = yd.AsSpan(checked((int)(output.offset + r * cols)), cols);
                var gx = rd.AsSpan(checked((int)(result.offset + r * cols)), cols);
                if (log)
                {
                    // gx = g − e^y · Σ g
                    T s = TensorPrimitives.Sum<T>(g);
                    TensorPrimitives.Exp(y, tmp);
                    TensorPrimitives.Multiply(tmp, s, tmp);
                    TensorPrimitives.Subtract(g, tmp, gx);
                }
                else
                {
                    // gx = y ⊙ (g − Σ g⊙y)
                    T s = TensorPrimitives.Dot<T>(g, y);
                    TensorPrimitives.Subtract(g, s, tmp);
                    TensorPrimitives.Multiply(y, tmp, gx);
                }
            }
            ArrayPool<T>.Shared.Return(buf);
        });
    }

    // Runs body over row ranges, in parallel over CpuThreads when the tensor is large.
    private static void ForRowBlocks(long rows, long cols, Action<long, long> body)
    {
        if (rows < 2 || rows * cols < 32768) { body(0, rows); return; }
        CpuParallel.For(rows, cols, (r0, n) => body(r0, r0 + n));
    }
}
