using System.Numerics;
using System.Numerics.Tensors;

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
                TensorPrimitives.Multiply(xd.AsSpan((int)(xo + off), s), ts, dst);
                TensorPrimitives.Add(dst, tb, dst);
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
                var gs = gd.AsSpan((int)(go + off), s);
                sg += double.CreateTruncating(TensorPrimitives.Sum<T>(gs));
                sgd += DotDeviation<T>(gs, xd.AsSpan((int)(xo + off), s), mu);
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
        int threads = CpuThreads.Count;
        if (threads <= 1 || c < 2 || c * perChannel < 32768) { for (int i = 0; i < c; i++) body(i); return; }
        Parallel.For(0, c, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    // Σ (x − m)² with vector accumulators, returned in double.
    private static double SquaredDeviation<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0, wdt = Vector<T>.Count;
        var acc = Vector<T>.Zero; var mv = new Vector<T>(m);
        for (; i <= x.Length - wdt; i += wdt) { var d = new Vector<T>(x.Slice(i)) - mv; acc += d * d; }
        double r = double.CreateTruncating(Vector.Sum(acc));
        for (; i < x.Length; i++) { double d = double.CreateTruncating(x[i] - m); r += d * d; }
        return r;
    }

    // Σ g·(x − m).
    private static double DotDeviation<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0, wdt = Vector<T>.Count;
        var acc = Vector<T>.Zero; var mv = new Vector<T>(m);
        for (; i <= x.Length - wdt; i += wdt) acc += new Vector<T>(g.Slice(i)) * (new Vector<T>(x.Slice(i)) - mv);
        double r = double.CreateTruncating(Vector.Sum(acc));
        for (; i < x.Length; i++) r += double.CreateTruncating(g[i] * (x[i] - m));
        return r;
    }

    // y = a·ka + b·kb + k.
    private static void Affine2<T>(ReadOnlySpan<T> a, T ka, ReadOnlySpan<T> b, T kb, T k, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0, wdt = Vector<T>.Count;
        Vector<T> va = new(ka), vb = new(kb), vk = new(k);
        for (; i <= y.Length - wdt; i += wdt) (new Vector<T>(a.Slice(i)) * va + new Vector<T>(b.Slice(i)) * vb + vk).CopyTo(y.Slice(i));
        for (; i < y.Length; i++) y[i] = a[i] * ka + b[i] * kb + k;
    }
}
