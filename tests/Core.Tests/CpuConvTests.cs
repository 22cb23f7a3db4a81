using System.Runtime.Intrinsics;
using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>The direct stride-1 convolution kernels (CpuConv) against a float64 loop reference, on 1 and 2 threads.</summary>
[TestFixture]
public class CpuConvTests
{
    // Reference in double: y = b + Σ w·x (zero padding), gx = Σ w·gy, gw = Σ gy·x, gb = Σ gy.
    private static (double[] Y, double[] Gx, double[] Gw, double[] Gb) Reference(float[] x, float[] w, float[] b, float[] gy,
        int n, int c, int h, int wd, int o, int kh, int kw, int ph, int pw)
    {
        int oh = h + 2 * ph - kh + 1, ow = wd + 2 * pw - kw + 1;
        var y = new double[n * o * oh * ow]; var gx = new double[x.Length]; var gw = new double[w.Length]; var gb = new double[o];
        for (int s = 0; s < n; s++)
            for (int oc = 0; oc < o; oc++)
                for (int yy = 0; yy < oh; yy++)
                    for (int xx = 0; xx < ow; xx++)
                    {
                        int yi = ((s * o + oc) * oh + yy) * ow + xx;
                        double acc = b[oc], g = gy[yi];
                        gb[oc] += g;
                        for (int ci = 0; ci < c; ci++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++)
                                {
                                    int iy = yy + ki - ph, ix = xx + kj - pw;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    int xi = ((s * c + ci) * h + iy) * wd + ix, wi = ((oc * c + ci) * kh + ki) * kw + kj;
                                    acc += (double)w[wi] * x[xi];
                                    gx[xi] += (double)w[wi] * g;
                                    gw[wi] += g * x[xi];
                                }
                        y[yi] = acc;
                    }
        return (y, gx, gw, gb);
    }

    private static float[] Values(int count, int seed)
    {
        var r = new System.Random(seed);
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        return v;
    }

    private static void Close(float[] actual, double[] expected, double tol, string what)
    {
        double scale = 1e-30, worst = 0;
        foreach (double e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        Assert.That(worst / scale, Is.LessThan(tol), what);
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        // n, c, h, w, o, kh, kw, ph, pw: odd channel counts (partial 14-row tiles and 4×6 blocks), one-run last tiles
        // (l = 16 mod 32), batch 1, 1×1 / 2×2 / 5×5 / 3×5 kernels, padding 0 to k − 1.
        int[][] shapes =
        [
            [2, 3, 32, 32, 32, 3, 3, 1, 1], [3, 5, 16, 16, 17, 3, 3, 1, 1], [1, 7, 15, 16, 29, 3, 3, 1, 1],
            [2, 4, 18, 18, 6, 3, 3, 0, 0], [2, 4, 20, 16, 6, 5, 5, 2, 2], [2, 4, 16, 32, 6, 1, 1, 0, 0],
            [1, 2, 9, 17, 3, 2, 2, 0, 0], [2, 3, 7, 15, 5, 2, 2, 1, 1], [2, 6, 17, 16, 15, 3, 5, 2, 2], [1, 33, 8, 48, 1, 3, 3, 2, 1],
        ];
        foreach (var s in shapes)
            foreach (int threads in new[] { 1, 2, 16 })
                yield return new TestCaseData(s, threads).SetName($"CpuConv n{s[0]} c{s[1]} {s[2]}x{s[3]} o{s[4]} k{s[5]}x{s[6]} p{s[7]},{s[8]} t{threads}");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesReference(int[] s, int threads)
    {
        int n = s[0], c = s[1], h = s[2], wd = s[3], o = s[4], kh = s[5], kw = s[6], ph = s[7], pw = s[8];
        var g = new ConvGeometry(c, h, wd, kh, kw, 1, 1, ph, pw, 1, 1);
        float[] xv = Values(n * c * h * wd, 1), wv = Values(o * c * kh * kw, 2), bv = Values(o, 3), gyv = Values(n * o * g.OutH * g.OutW, 4);
        var x = Tensor.FromArray(xv, n, c, h, wd); var w = Tensor.FromArray(wv, o, c, kh, kw); var b = Tensor.FromArray(bv, o);
        var gy = Tensor.FromArray(gyv, n, o, g.OutH, g.OutW);
        bool forward = CpuConv.SupportsForward(x, w, g, 1), input = CpuConv.SupportsInputGrad(x, w, g, 1);
        // Every shape here has a multiple-of-16 output width; the input gradient also needs one for the input width.
        Assert.That(forward, Is.EqualTo(Vector512.IsHardwareAccelerated));
        Assert.That(input, Is.EqualTo(Vector512.IsHardwareAccelerated && wd % 16 == 0));
        if (!forward) return;
        var (ry, rgx, rgw, rgb) = Reference(xv, wv, bv, gyv, n, c, h, wd, o, kh, kw, ph, pw);
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = threads;
            var y = Tensor.Empty([n, o, g.OutH, g.OutW]);
            CpuConv.Forward(x, w, b, g, y);
            Close(y.ToArray<float>(), ry, 1e-5, "forward");
            var gw = Tensor.Empty([o, c, kh, kw]); var gb = Tensor.Empty([o]);
            CpuConv.BackwardWeight(gy, x, g, gw, gb);
            Close(gw.ToArray<float>(), rgw, 1e-5, "weight gradient");
            Close(gb.ToArray<float>(), rgb, 1e-5, "bias gradient");
            if (input)
            {
                var gx = Tensor.Empty([n, c, h, wd]);
                CpuConv.BackwardInput(gy, w, g, gx);
                Close(gx.ToArray<float>(), rgx, 1e-5, "input gradient");
            }
        }
        finally { CpuThreads.Count = saved; }
    }

    [Test]
    public void ResultsDoNotDependOnThreadCount()
    {
        var g = new ConvGeometry(9, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1);
        var x = Tensor.FromArray(Values(3 * 9 * 16 * 32, 5), 3, 9, 16, 32); var w = Tensor.FromArray(Values(21 * 9 * 9, 6), 21, 9, 3, 3);
        var gy = Tensor.FromArray(Values(3 * 21 * 16 * 32, 7), 3, 21, 16, 32);
        Assert.That(CpuConv.SupportsForward(x, w, g, 1), Is.EqualTo(Vector512.IsHardwareAccelerated));
        if (!Vector512.IsHardwareAccelerated) return;
        float[][] Run(int threads)
        {
            int saved = CpuThreads.Count;
            try
            {
                CpuThreads.Count = threads;
                var y = Tensor.Empty([3, 21, 16, 32]); var gx = Tensor.Empty([3, 9, 16, 32]); var gw = Tensor.Empty([21, 9, 3, 3]); var gb = Tensor.Empty([21]);
                CpuConv.Forward(x, w, null, g, y);
                CpuConv.BackwardInput(gy, w, g, gx);
                CpuConv.BackwardWeight(gy, x, g, gw, gb);
                return [y.ToArray<float>(), gx.ToArray<float>(), gw.ToArray<float>(), gb.ToArray<float>()];
            }
            finally { CpuThreads.Count = saved; }
        }
        var one = Run(1);
        // 3, 4 and 16 threads split the weight gradient into 3 x 1, 2 x 2 and wider grids of (output, input-channel) blocks.
        foreach (int threads in new[] { 2, 3, 4, 16 })
        {
            var many = Run(threads);
            for (int i = 0; i < one.Length; i++)
                Assert.That(many[i], Is.EqualTo(one[i]), $"output {i}, {threads} threads");
        }
    }

    [Test]
    public void UnsupportedGeometriesAreRejected()
    {
        var x = Tensor.Zeros([1, 4, 16, 16]); var w = Tensor.Zeros([4, 4, 3, 3]);
        Assert.That(CpuConv.SupportsForward(x, w, new ConvGeometry(4, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1), 1), Is.False, "stride 2");
        Assert.That(CpuConv.SupportsForward(x, w, new ConvGeometry(4, 16, 16, 3, 3, 1, 1, 2, 2, 2, 2), 1), Is.False, "dilation 2");
        Assert.That(CpuConv.SupportsForward(x, Tensor.Zeros([4, 2, 3, 3]), new ConvGeometry(4, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1), 2), Is.False, "groups 2");
        Assert.That(CpuConv.SupportsForward(x, w, new ConvGeometry(4, 16, 16, 3, 3, 1, 1, 0, 0, 1, 1), 1), Is.False, "output width 14");
        Assert.That(CpuConv.SupportsInputGrad(x, w, new ConvGeometry(4, 16, 16, 3, 3, 1, 1, 3, 3, 1, 1), 1), Is.False, "padding ≥ kernel");
        var x64 = Tensor.Zeros([1, 4, 16, 16], DType.Float64); var w64 = Tensor.Zeros([4, 4, 3, 3], DType.Float64);
        Assert.That(CpuConv.SupportsForward(x64, w64, new ConvGeometry(4, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1), 1), Is.False, "float64");
    }
}

/// <summary>CpuParallel.For: every item in exactly one range, ranges in order, for 1 to 3 threads.</summary>
[TestFixture]
public class CpuParallelTests
{
    [TestCase(0, 1, 2)]
    [TestCase(1, 1 << 20, 2)]
    [TestCase(7, 1 << 16, 3)]
    [TestCase(1000, 1, 2)]
    [TestCase(1000, 1 << 10, 1)]
    [TestCase(4097, 1 << 10, 2)]
    public void CoversEveryItemOnce(int n, int workPerItem, int threads)
    {
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = threads;
            var hits = new int[n];
            var ranges = new System.Collections.Concurrent.ConcurrentBag<(long Start, long Count)>();
            CpuParallel.For(n, workPerItem, (start, count) =>
            {
                ranges.Add((start, count));
                for (long i = start; i < start + count; i++) Interlocked.Increment(ref hits[i]);
            });
            Assert.That(hits, Is.All.EqualTo(1));
            Assert.That(ranges.Count, Is.LessThanOrEqualTo(Math.Max(1, threads)));
            Assert.That(ranges.All(r => r.Count > 0), Is.True);
        }
        finally { CpuThreads.Count = saved; }
    }
}
