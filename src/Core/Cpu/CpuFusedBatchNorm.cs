using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>Fused batch-norm kernels (training statistics, forward and backward in one pass each per channel).</summary>
internal static class CpuFusedBatchNorm
{
    /// <summary>
    /// Training-mode batch norm over a contiguous CPU tensor x [N, C, S…] (S = the product of the trailing dims):
    /// per channel μ, biased σ², rstd = 1/√(σ² + ε), y = (x − μ)·rstd·w + b (w, b optional, shape [C]). Returns
    /// false (nothing written) when x is not a contiguous CPU float tensor. mean/var/rstd receive the statistics.
    /// </summary>
    public static bool Forward(Tensor x, Tensor? w, Tensor? b, double eps, Tensor y, double[] mean, double[] variance, double[] rstd)
    {
        if (x.Device.Type != DeviceType.Cpu || !x.IsContiguous || x.DType is not (DType.Float32 or DType.Float64)) return false;
        if (x.DType == DType.Float32) ForwardT<float>(x, w, b, eps, y, mean, variance, rstd);
        else ForwardT<double>(x, w, b, eps, y, mean, variance, rstd);
        return true;
    }

    private static void ForwardT<T>(Tensor x, Tensor? w, Tensor? b, double eps, Tensor y, double[] mean, double[] variance, double[] rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = (int)x.shape[0], c = (int)x.shape[1];
        int s = (int)(x.Numel / Math.Max(1L, (long)n * c));
        T[] xd = CpuBackend.Data<T>(x), yd = CpuBackend.Data<T>(y);
        T[]? wd = w is null ? null : CpuBackend.Data<T>(w); T[]? bd = b is null ? null : CpuBackend.Data<T>(b);
        long xo = x.offset, yo = y.offset, wo = w?.offset ?? 0, bo = b?.offset ?? 0;
        double cnt = (double)n * s;
        Channels(c, (long)n * s, ch =>
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += double.CreateTruncating(TensorPrimitives.Sum<T>(xd.AsSpan((int)(xo + ((long)i * c + ch) * s), s)));
            double mu = sum / cnt;
            double sq = 0;
            for (int i = 0; i < n; i++) sq += SquaredDeviation<T>(xd.AsSpan((int)(xo + ((long)i * c + ch) * s), s), T.CreateTruncating(mu));
            double v = sq / cnt, r = 1 / Math.Sqrt(v + eps);
            mean[ch] = mu; variance[ch] = v; rstd[ch] = r;
            double scale = r * (wd is null ? 1 : double.CreateTruncating(wd[wo + ch]));
            double shift = (bd is null ? 0 : double.CreateTruncating(bd[bo + ch])) - mu * scale;
            T ts = T.CreateTruncating(scale), tb = T.CreateTruncating(shift);
            for (int i = 0; i < n; i++)
            {
                long off = ((long)i * c + ch) * s;
                var dst = yd.AsSpan((int)(yo + off), s);
                ScaleShift<T>(xd.AsSpan((int)(xo + off), s), ts, tb, dst);
            }
        });
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>: x̂ = (x − μ)·rstd, gb = Σg, gw = Σg·x̂, gx = w·rstd·(g − gb/m − x̂·gw/m)
    /// (m = N·S). g and x contiguous, same shape. gx/gw/gb may be null when not needed.
    /// </summary>
    public static void Backward(Tensor g, Tensor x, Tensor? w, double[] mean, double[] rstd, Tensor? gx, Tensor? gw, Tensor? gb)
    {
        if (x.DType == DType.Float32) BackwardT<float>(g, x, w, mean, rstd, gx, gw, gb);
        else BackwardT<double>(g, x, w, mean, rstd, gx, gw, gb);
    }

    private static void BackwardT<T>(Tensor g, Tensor x, Tensor? w, double[] mean, double[] rstd, Tensor? gx, Tensor? gw, Tensor? gb)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = (int)x.shape[0], c = (int)x.shape[1];
        int s = (int)(x.Numel / Math.Max(1L, (long)n * c));
        T[] xd = CpuBackend.Data<T>(x), gd = CpuBackend.Data<T>(g);
        T[]? wd = w is null ? null : CpuBackend.Data<T>(w);
        T[]? gxd = gx is null ? null : CpuBackend.Data<T>(gx);
        long xo = x.offset, go = g.offset, wo = w?.offset ?? 0, gxo = gx?.offset ?? 0;
        double cnt = (double)n * s;
        var sumG = new double[c]; var sumGx = new double[c];
        Channels(c, (long)n * s, ch =>
        {
            double sg = 0, sgd = 0;
            T mu = T.CreateTruncating(mean[ch]);
            for (int i = 0; i < n; i++)
            {
                long off = ((long)i * c + ch) * s;
                var (a, b) = SumAndDotDeviation<T>(gd.AsSpan((int)(go + off), s), xd.AsSpan((int)(xo + off), s), mu);
                sg += a; sgd += b;
            }
            double r = rstd[ch];
            sumG[ch] = sg; sumGx[ch] = sgd * r;             // gb, gw
            if (gxd is null) return;
            double wv = wd is null ? 1 : double.CreateTruncating(wd[wo + ch]);
            // gx = k1·g + k2·x + k3
            double k1 = wv * r, k2 = -wv * r * r * sumGx[ch] / cnt, k3 = -wv * r * sg / cnt - k2 * mean[ch];
            T t1 = T.CreateTruncating(k1), t2 = T.CreateTruncating(k2), t3 = T.CreateTruncating(k3);
            for (int i = 0; i < n; i++)
            {
                long off = ((long)i * c + ch) * s;
                Affine2<T>(gd.AsSpan((int)(go + off), s), t1, xd.AsSpan((int)(xo + off), s), t2, t3, gxd.AsSpan((int)(gxo + off), s));
            }
        });
        if (gw is not null) { var a = CpuBackend.Data<T>(gw); for (int j = 0; j < c; j++) a[gw.offset + j] = T.CreateTruncating(sumGx[j]); }
        if (gb is not null) { var a = CpuBackend.Data<T>(gb); for (int j = 0; j < c; j++) a[gb.offset + j] = T.CreateTruncating(sumG[j]); }
    }

    private static void Channels(int c, long perChannel, Action<int> body)
    {
        // Contiguous channel ranges on the GEMM workers (the convolution before a batch norm just used them).
        CpuParallel.For(c, perChannel, (c0, count) => { for (long i = c0; i < c0 + count; i++) body((int)i); });
    }

    // Σ (x − m)² with vector accumulators (512-bit where accelerated), returned in double.
    private static double SquaredDeviation<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        double r = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<T>.Zero; var mv = Vector512.Create(m);
            for (; i <= x.Length - Vector512<T>.Count; i += Vector512<T>.Count) { var d = Vector512.Create(x.Slice(i, Vector512<T>.Count)) - mv; acc += d * d; }
            r = double.CreateTruncating(Vector512.Sum(acc));
        }
        else
        {
            var acc = Vector<T>.Zero; var mv = new Vector<T>(m);
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count) { var d = new Vector<T>(x.Slice(i)) - mv; acc += d * d; }
            r = double.CreateTruncating(Vector.Sum(acc));
        }
        for (; i < x.Length; i++) { double d = double.CreateTruncating(x[i] - m); r += d * d; }
        return r;
    }

    // (Σ g, Σ g·(x − m)) in one pass, returned in double.
    private static (double Sum, double Dot) SumAndDotDeviation<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        double s = 0, r = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            int w = Vector512<T>.Count;
            var sum = Vector512<T>.Zero; var acc = Vector512<T>.Zero; var mv = Vector512.Create(m);
            for (; i <= x.Length - w; i += w)
            {
                var gv = Vector512.Create(g.Slice(i, w));
                sum += gv;
                acc += gv * (Vector512.Create(x.Slice(i, w)) - mv);
            }
            s = double.CreateTruncating(Vector512.Sum(sum)); r = double.CreateTruncating(Vector512.Sum(acc));
        }
        else
        {
            int w = Vector<T>.Count;
            var sum = Vector<T>.Zero; var acc = Vector<T>.Zero; var mv = new Vector<T>(m);
            for (; i <= x.Length - w; i += w) { var gv = new Vector<T>(g.Slice(i)); sum += gv; acc += gv * (new Vector<T>(x.Slice(i)) - mv); }
            s = double.CreateTruncating(Vector.Sum(sum)); r = double.CreateTruncating(Vector.Sum(acc));
        }
        for (; i < x.Length; i++) { s += double.CreateTruncating(g[i]); r += double.CreateTruncating(g[i] * (x[i] - m)); }
        return (s, r);
    }

    // y = (x·scale) + shift in one pass, rounded after the product and after the sum (as Multiply then Add).
    private static void ScaleShift<T>(ReadOnlySpan<T> x, T scale, T shift, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            int w = Vector512<T>.Count;
            Vector512<T> vs = Vector512.Create(scale), vb = Vector512.Create(shift);
            for (; i <= y.Length - w; i += w) (Vector512.Create(x.Slice(i, w)) * vs + vb).CopyTo(y.Slice(i));
        }
        for (; i < y.Length; i++) y[i] = x[i] * scale + shift;
    }

    // y = a·ka + b·kb + k.
    private static void Affine2<T>(ReadOnlySpan<T> a, T ka, ReadOnlySpan<T> b, T kb, T k, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            int w = Vector512<T>.Count;
            Vector512<T> va = Vector512.Create(ka), vb = Vector512.Create(kb), vk = Vector512.Create(k);
            for (; i <= y.Length - w; i += w) (Vector512.Create(a.Slice(i, w)) * va + Vector512.Create(b.Slice(i, w)) * vb + vk).CopyTo(y.Slice(i));
        }
        else
        {
            int w = Vector<T>.Count;
            Vector<T> va = new(ka), vb = new(kb), vk = new(k);
            for (; i <= y.Length - w; i += w) (new Vector<T>(a.Slice(i)) * va + new Vector<T>(b.Slice(i)) * vb + vk).CopyTo(y.Slice(i));
        }
        for (; i < y.Length; i++) y[i] = a[i] * ka + b[i] * kb + k;
    }
}
