namespace Ember.Conformance;

/// <summary>
/// Softmax, layer norm, im2col/col2im and pooling kernels on the device against the CPU backend (and, except
/// softmax, against float64 host references).
/// </summary>
public abstract class NNKernelTests(string device) : DeviceTest(device)
{
    [TestCase(false, DType.Float32), TestCase(true, DType.Float32), TestCase(false, DType.Float64), TestCase(true, DType.Float64)]
    public void Softmax(bool log, DType dt)
    {
        foreach (var cols in new long[] { 1, 10, 70 })
        {
            Conform(d => [Rnd(d, [6, cols], 1, dt, 3), Tensor.Empty([6, cols], dt, d)], (be, t) => be.Softmax(t[0]!, t[1]!, log), [1], 2e-5, 2e-6);
            Conform(d => [Rnd(d, [6, cols], 2, dt), Rnd(d, [6, cols], 3, dt).Apply(UnaryOp.Sigmoid), Tensor.Empty([6, cols], dt, d)],
                (be, t) => be.SoftmaxBackward(t[0]!, t[1]!, t[2]!, log), [2], 2e-5, 2e-6);
        }
    }

    // float64 reference of IBackend.CrossEntropy / CrossEntropyBackward: [loss, lse] or [gradX].
    private static double[][] CrossEntropyRef(double[] x, long[] t, double[]? w, long rows, long c, long ignore, double eps, double[]? g)
    {
        var loss = new double[rows]; var lse = new double[rows]; var gx = new double[rows * c];
        double wsum = w?.Sum() ?? c;
        for (long r = 0; r < rows; r++)
        {
            double m = double.NegativeInfinity; for (long j = 0; j < c; j++) m = Math.Max(m, x[r * c + j]);
            double s = 0; for (long j = 0; j < c; j++) s += Math.Exp(x[r * c + j] - m);
            lse[r] = m + Math.Log(s);
            if (t[r] == ignore) continue;
            double wt = w?[t[r]] ?? 1, smooth = 0;
            for (long j = 0; j < c; j++) smooth += (w?[j] ?? 1) * (lse[r] - x[r * c + j]);
            loss[r] = (1 - eps) * wt * (lse[r] - x[r * c + t[r]]) + eps / c * smooth;
            if (g is null) continue;
            for (long j = 0; j < c; j++)
            {
                double p = Math.Exp(x[r * c + j] - lse[r]);
                gx[r * c + j] = g[r] * ((1 - eps) * wt * (p - (j == t[r] ? 1 : 0)) + eps / c * (wsum * p - (w?[j] ?? 1)));
            }
        }
        return g is null ? [loss, lse] : [gx];
    }

    [TestCase(false, 0.0, DType.Float32), TestCase(true, 0.0, DType.Float32), TestCase(true, 0.2, DType.Float32),
     TestCase(false, 0.1, DType.Float64), TestCase(true, 0.3, DType.Float64)]
    public void CrossEntropy(bool weighted, double eps, DType dt)
    {
        // 4, 300 and 1024 classes run the float32 register-row kernels; 1, 10 and 1025 the group kernels.
        foreach (var c in new long[] { 1, 4, 10, 300, 1024, 1025 })
        {
            const long Rows = 7;
            var targets = Enumerable.Range(0, (int)Rows).Select(i => i == 3 ? -100L : (i * 7L) % c).ToArray();
            var args = new CrossEntropyArgs(-100, eps);
            Tensor?[] Inputs(Device d) => [Rnd(d, [Rows, c], 1, dt, 3), Tensor.FromArray(targets).To(d), weighted ? Rnd(d, [c], 2, dt).Apply(UnaryOp.Sigmoid) : null];
            double[]? W(Tensor?[] t) => t[2] is null ? null : Host(t[2]!);
            Conform(d => [.. Inputs(d), Tensor.Empty([Rows], dt, d), Tensor.Empty([Rows], dt, d)],
                (be, t) => be.CrossEntropy(t[0]!, t[1]!, t[2], args, t[3]!, t[4]!), [3, 4], 2e-5, 2e-6,
                reference: t => CrossEntropyRef(Host(t[0]!), targets, W(t), Rows, c, -100, eps, null));
            Conform(d =>
                {
                    var i = Inputs(d);
                    var lse = Tensor.FromArray(CrossEntropyRef(Host(Rnd(Device.Cpu, [Rows, c], 1, dt, 3)), targets, null, Rows, c, -100, 0, null)[1]).To(dt).To(d);
                    return [Rnd(d, [Rows], 4, dt), .. i, lse, Tensor.Empty([Rows, c], dt, d)];
                },
                (be, t) => be.CrossEntropyBackward(t[0]!, t[1]!, t[2]!, t[3], args, t[4]!, t[5]!), [5], 2e-5, 2e-6,
                reference: t => CrossEntropyRef(Host(t[1]!), targets, W(t[1..]), Rows, c, -100, eps, Host(t[0]!)));
        }
    }

    [TestCase(false, 0.0, DType.Float32), TestCase(true, 0.1, DType.Float32), TestCase(false, 0.2, DType.Float64)]
    public void CrossEntropyScaleAndExpandedGradient(bool weighted, double eps, DType dt)
    {
        // The unweighted mean's form: every row's loss and gradient times Scale, the gradient one element expanded over
        // the rows (stride 0, as a sum's backward gives it). 8 and 1024 classes: register rows; 10: the group kernels.
        foreach (var c in new long[] { 8, 10, 1024 })
        {
            const long Rows = 6;
            const double Scale = 0.2;
            var targets = Enumerable.Range(0, (int)Rows).Select(i => i == 2 ? -100L : (i * 5L) % c).ToArray();
            var args = new CrossEntropyArgs(-100, eps, Scale);
            Tensor?[] Inputs(Device d) => [Rnd(d, [Rows, c], 7, dt, 3), Tensor.FromArray(targets).To(d), weighted ? Rnd(d, [c], 8, dt).Apply(UnaryOp.Sigmoid) : null];
            double[]? W(Tensor?[] t) => t[2] is null ? null : Host(t[2]!);
            Conform(d => [.. Inputs(d), Tensor.Empty([Rows], dt, d), Tensor.Empty([Rows], dt, d)],
                (be, t) => be.CrossEntropy(t[0]!, t[1]!, t[2], args, t[3]!, t[4]!), [3, 4], 2e-5, 2e-6,
                reference: t =>
                {
                    var r = CrossEntropyRef(Host(t[0]!), targets, W(t), Rows, c, -100, eps, null);
                    return [r[0].Select(v => v * Scale).ToArray(), r[1]];
                });
            Conform(d =>
                {
                    var i = Inputs(d);
                    var lse = Tensor.FromArray(CrossEntropyRef(Host(Rnd(Device.Cpu, [Rows, c], 7, dt, 3)), targets, null, Rows, c, -100, 0, null)[1]).To(dt).To(d);
                    return [Tensor.Scalar(1.5, dt, d).Expand(Rows), .. i, lse, Tensor.Empty([Rows, c], dt, d)];
                },
                (be, t) => be.CrossEntropyBackward(t[0]!, t[1]!, t[2]!, t[3], args, t[4]!, t[5]!), [5], 2e-5, 2e-6,
                reference: t => CrossEntropyRef(Host(t[1]!), targets, W(t[1..]), Rows, c, -100, eps, Enumerable.Repeat(1.5 * Scale, (int)Rows).ToArray()));
        }
    }

    [TestCase(false, DType.Float32), TestCase(true, DType.Float32), TestCase(false, DType.Float64), TestCase(true, DType.Float64)]
    public void SoftmaxWarpAndGroupRows(bool log, DType dt)
    {
        // Around one warp (32 lanes), up to the warp-per-row limit (1024 columns) and past it (one group per row);
        // 7 rows, so the last group of the warp-per-row launch has a warp without a row.
        foreach (var cols in new long[] { 31, 32, 33, 1024, 1025, 3000 })
        {
            Conform(d => [Rnd(d, [7, cols], 4, dt, 4), Tensor.Empty([7, cols], dt, d)], (be, t) => be.Softmax(t[0]!, t[1]!, log), [1], 2e-5, 2e-6);
            // The backward subtracts (e^y times) a row sum of cols terms of size ~1 (|Σ| ~ √cols): in float32 its rounding
            // depends on the order of summation (CPU: vectorized; device: per lane, then a butterfly), by ~cols·2⁻²⁴ in
            // absolute terms (measured: 1.6e-5 at 1024 columns; the group-tree kernel misses 2e-6 there as well).
            double atol = dt == DType.Float32 ? 2e-6 + 3e-8 * cols : 2e-6;
            Conform(d => [Rnd(d, [7, cols], 5, dt), Rnd(d, [7, cols], 6, dt).Apply(UnaryOp.Sigmoid), Tensor.Empty([7, cols], dt, d)],
                (be, t) => be.SoftmaxBackward(t[0]!, t[1]!, t[2]!, log), [2], 2e-5, atol);
        }
    }

    [Test]
    public void SoftmaxRowsAtAnyStorageOffset([Values] bool log, [Values(0, 2, 4)] int offset, [Values(32, 36, 1024)] int cols)
    {
        // Offsets that are multiples of 4 keep the 128-bit register-row kernel; 2 falls back to the scalar warp kernel.
        Tensor In(Device d, int seed) => Rnd(d, [offset + 6 * cols], seed, scale: 3).Narrow(0, offset, 6 * cols).View(6, cols);
        Conform(d => [In(d, 1), Tensor.Zeros([offset + 6 * cols], DType.Float32, d).Narrow(0, offset, 6 * cols).View(6, cols)],
            (be, t) => be.Softmax(t[0]!, t[1]!, log), [1], 2e-5, 2e-6);
        Conform(d => [In(d, 2), In(d, 3).Apply(UnaryOp.Sigmoid), Tensor.Zeros([offset + 6 * cols], DType.Float32, d).Narrow(0, offset, 6 * cols).View(6, cols)],
            (be, t) => be.SoftmaxBackward(t[0]!, t[1]!, t[2]!, log), [2], 2e-5, 2e-6 + 1e-7 * cols);
    }

    // 1, 33 and 4097 columns: the scalar warp and group kernels; 40 and 1024: the float32 register rows (1024 the
    // longest they take); 1100: one group per row.
    [Test]
    public void SoftmaxEdgeRowsMatchTheCpu([Values] bool log, [Values(1, 33, 40, 1024, 1100, 4097)] int cols)
    {
        // Row 0 all −∞ (NaN out), 1 some −∞, 2 one +∞ (NaN), 3 one NaN, 4 large values (e^x overflows without the max
        // shift), 5 an increasing row (the running max grows at every step), 6 ordinary values.
        double[] Row(int r, int c) => r switch
        {
            0 => Enumerable.Repeat(double.NegativeInfinity, c).ToArray(),
            1 => Enumerable.Range(0, c).Select(j => j % 3 == 0 ? double.NegativeInfinity : j * 0.01).ToArray(),
            2 => Enumerable.Range(0, c).Select(j => j == c / 2 ? double.PositiveInfinity : 1.0).ToArray(),
            3 => Enumerable.Range(0, c).Select(j => j == c - 1 ? double.NaN : -1.0).ToArray(),
            4 => Enumerable.Range(0, c).Select(j => 500.0 + (j % 7)).ToArray(),
            5 => Enumerable.Range(0, c).Select(j => j * 0.05).ToArray(),
            _ => Enumerable.Range(0, c).Select(j => Math.Sin(j)).ToArray(),
        };
        var data = Enumerable.Range(0, 7).SelectMany(r => Row(r, cols)).ToArray();
        Conform(d => [Tensor.FromArray(data, 7, cols).To(DType.Float32).To(d), Tensor.Empty([7, cols], DType.Float32, d)],
            (be, t) => be.Softmax(t[0]!, t[1]!, log), [1], 2e-5, 2e-6);
        var y = Tensor.FromArray(data, 7, cols).To(Dev).Softmax(-1).ToArray<double>();
        Assert.That(y.Take(cols), Is.All.NaN, "an all −∞ row is NaN, as in PyTorch");
    }

    private static double[][] LayerNormRef(Tensor?[] t, double eps)
    {
        Tensor x = t[0]!; long rows = x.Shape[0], cols = x.Shape[1];
        var xv = Host(x); var w = t[1] is null ? null : Host(t[1]!); var b = t[2] is null ? null : Host(t[2]!);
        var y = new double[rows * cols]; var mean = new double[rows]; var rstd = new double[rows];
        for (long r = 0; r < rows; r++)
        {
            double m = 0; for (long c = 0; c < cols; c++) m += xv[r * cols + c]; m /= cols;
            double v = 0; for (long c = 0; c < cols; c++) v += (xv[r * cols + c] - m) * (xv[r * cols + c] - m); v /= cols;
            double rs = 1 / Math.Sqrt(v + eps);
            mean[r] = m; rstd[r] = rs;
            for (long c = 0; c < cols; c++) y[r * cols + c] = (xv[r * cols + c] - m) * rs * (w?[c] ?? 1) + (b?[c] ?? 0);
        }
        return [y, mean, rstd];
    }

    [Test]
    public void LayerNormForward([Values] bool affine, [Values(1, 4, 32, 37, 1024, 4097)] int cols)
    {
        // Multiples of 4 up to 1024 columns run the float32 register-row kernel (one warp per row); the rest the group kernel.
        Conform(d => [Rnd(d, [5, cols], 1, scale: 2, shift: 1), affine ? Rnd(d, [cols], 2) : null, affine ? Rnd(d, [cols], 3) : null,
                      Tensor.Empty([5, cols], DType.Float32, d), Tensor.Empty([5], DType.Float32, d), Tensor.Empty([5], DType.Float32, d)],
            (be, t) => be.LayerNorm(t[0]!, t[1], t[2], 1e-5, t[3]!, t[4]!, t[5]!), [3, 4, 5], 1e-4, 1e-5,
            reference: t => LayerNormRef(t, 1e-5));
    }

    [Test]
    public void LayerNormBackward([Values] bool affine, [Values(1, 19, 32, 36, 1024, 4097)] int cols) => CheckLayerNormBackward(affine, 4, cols);

    // The parameter gradients sum row chunks of max(8, ⌈rows / 128⌉) rows four at a time (11: one chunk, a tail of 3;
    // 300: 38 chunks of 8, the last of 4; 1031: 115 chunks of 9, the last of 5), then a warp per column adds the chunks.
    [Test]
    public void LayerNormBackwardOverManyRows([Values(11, 300, 1031)] int rows) => CheckLayerNormBackward(true, rows, 36);

    private void CheckLayerNormBackward(bool affine, long R, long C)
    {
        Tensor?[] Make(Device d)
        {
            var x = Rnd(d, [R, C], 1, scale: 2);
            var stats = LayerNormRef([Rnd(Device.Cpu, [R, C], 1, scale: 2), null, null], 1e-5);
            var mean = Tensor.FromArray(stats[1].Select(v => (float)v).ToArray()).To(d);
            var rstd = Tensor.FromArray(stats[2].Select(v => (float)v).ToArray()).To(d);
            return [Rnd(d, [R, C], 2), x, mean, rstd, affine ? Rnd(d, [C], 3) : null,
                    Tensor.Empty([R, C], DType.Float32, d), affine ? Tensor.Empty([C], DType.Float32, d) : null, affine ? Tensor.Empty([C], DType.Float32, d) : null];
        }
        double[][] Reference(Tensor?[] t)
        {
            var g = Host(t[0]!); var x = Host(t[1]!); var mean = Host(t[2]!); var rstd = Host(t[3]!); var w = t[4] is null ? null : Host(t[4]!);
            var gx = new double[R * C]; var gw = new double[C]; var gb = new double[C];
            for (long r = 0; r < R; r++)
            {
                double s1 = 0, s2 = 0;
                for (long c = 0; c < C; c++)
                {
                    double xh = (x[r * C + c] - mean[r]) * rstd[r], gwv = g[r * C + c] * (w?[c] ?? 1);
                    s1 += gwv; s2 += gwv * xh; gw[c] += g[r * C + c] * xh; gb[c] += g[r * C + c];
                }
                for (long c = 0; c < C; c++)
                {
                    double xh = (x[r * C + c] - mean[r]) * rstd[r], gwv = g[r * C + c] * (w?[c] ?? 1);
                    gx[r * C + c] = rstd[r] * (gwv - s1 / C - xh * s2 / C);
                }
            }
            return affine ? [gx, gw, gb] : [gx];
        }
        Conform(Make, (be, t) => be.LayerNormBackward(t[0]!, t[1]!, t[2]!, t[3]!, t[4], t[5]!, t[6], t[7]), affine ? [5, 6, 7] : [5], 1e-4, 1e-5,
            reference: Reference);
    }

    private static readonly ConvGeometry Conv = new(Channels: 3, Height: 7, Width: 6, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 2);

    private static double[] Im2ColRef(double[] x, long n, ConvGeometry g)
    {
        long rows = g.Channels * g.KernelH * g.KernelW, l = g.OutH * g.OutW;
        var col = new double[n * rows * l];
        for (long b = 0; b < n; b++)
            for (int c = 0; c < g.Channels; c++)
                for (int kh = 0; kh < g.KernelH; kh++)
                    for (int kw = 0; kw < g.KernelW; kw++)
                        for (int oh = 0; oh < g.OutH; oh++)
                            for (int ow = 0; ow < g.OutW; ow++)
                            {
                                int h = oh * g.StrideH - g.PadH + kh * g.DilationH, w = ow * g.StrideW - g.PadW + kw * g.DilationW;
                                long row = (c * g.KernelH + kh) * g.KernelW + kw;
                                col[(b * rows + row) * l + oh * g.OutW + ow] = h >= 0 && h < g.Height && w >= 0 && w < g.Width
                                    ? x[((b * g.Channels + c) * g.Height + h) * g.Width + w] : 0;
                            }
        return col;
    }

    [Test]
    public void Im2Col()
    {
        long rows = Conv.Channels * Conv.KernelH * Conv.KernelW, l = Conv.OutH * Conv.OutW;
        Conform(d => [Rnd(d, [2, 3, 7, 6], 1), Tensor.Empty([2, rows, l], DType.Float32, d)], (be, t) => be.Im2Col(t[0]!, Conv, t[1]!), [1], 0, 0,
            reference: t => [Im2ColRef(Host(t[0]!), 2, Conv)]);
    }

    [Test]
    public void Col2ImIsTheAdjointOfIm2Col()
    {
        long rows = Conv.Channels * Conv.KernelH * Conv.KernelW, l = Conv.OutH * Conv.OutW;
        Conform(d => [Rnd(d, [2, rows, l], 2), Tensor.Empty([2, 3, 7, 6], DType.Float32, d)], (be, t) => be.Col2Im(t[0]!, Conv, t[1]!), [1], 1e-5, 1e-6,
            reference: t =>
            {
                // <col2im(c), x> = <c, im2col(x)> for every x: sum each column entry into the pixel im2col read it from.
                var c = Host(t[0]!); var x = new double[2 * 3 * 7 * 6];
                for (int p = 0; p < x.Length; p++)
                {
                    var e = new double[x.Length]; e[p] = 1;
                    var colE = Im2ColRef(e, 2, Conv);
                    double s = 0; for (int q = 0; q < c.Length; q++) s += colE[q] * c[q];
                    x[p] = s;
                }
                return [x];
            });
    }

    private static readonly PoolGeometry Pool = new(Height: 7, Width: 6, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutH: 4, OutW: 4);

    private static (double[] Y, double[] Idx, double[] Avg, double[] AvgNoPad) PoolRef(double[] x, long nc, PoolGeometry g)
    {
        long o = g.OutH * g.OutW;
        var y = new double[nc * o]; var idx = new double[nc * o]; var avg = new double[nc * o]; var avg2 = new double[nc * o];
        for (long p = 0; p < nc; p++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    double best = double.NegativeInfinity, s = 0; long bi = -1; int cnt = 0;
                    int h0 = oh * g.StrideH - g.PadH, w0 = ow * g.StrideW - g.PadW;
                    int h1 = Math.Min(h0 + g.KernelH, g.Height + g.PadH), w1 = Math.Min(w0 + g.KernelW, g.Width + g.PadW);
                    int pool = (h1 - h0) * (w1 - w0);
                    for (int h = Math.Max(h0, 0); h < Math.Min(h1, g.Height); h++)
                        for (int w = Math.Max(w0, 0); w < Math.Min(w1, g.Width); w++)
                        {
                            double v = x[(p * g.Height + h) * g.Width + w];
                            if (bi < 0 || v > best) { best = v; bi = h * g.Width + w; }
                            s += v; cnt++;
                        }
                    long k = p * o + oh * g.OutW + ow;
                    y[k] = best; idx[k] = bi; avg[k] = s / pool; avg2[k] = s / cnt;
                }
        return (y, idx, avg, avg2);
    }

    [Test]
    public void MaxPoolForwardAndBackward()
    {
        Conform(d => [Rnd(d, [2, 3, 7, 6], 4), Tensor.Empty([2, 3, 4, 4], DType.Float32, d), Tensor.Empty([2, 3, 4, 4], DType.Int64, d)],
            (be, t) => be.MaxPool2d(t[0]!, Pool, t[1]!, t[2]!), [1, 2], 0, 0,
            reference: t => { var r = PoolRef(Host(t[0]!), 6, Pool); return [r.Y, r.Idx]; });
        Tensor Indices(Device d)
        {
            var x = Rnd(Device.Cpu, [2, 3, 7, 6], 4);
            return Tensor.FromArray(PoolRef(Host(x), 6, Pool).Idx.Select(v => (long)v).ToArray(), 2, 3, 4, 4).To(d);
        }
        Conform(d => [Rnd(d, [2, 3, 4, 4], 5), Indices(d), Tensor.Empty([2, 3, 7, 6], DType.Float32, d), Rnd(d, [2, 3, 7, 6], 4)],
            (be, t) => be.MaxPool2dBackward(t[0]!, t[3]!, t[1]!, Pool, t[2]!), [2], 1e-6, 1e-6,
            reference: t =>
            {
                var g = Host(t[0]!); var idx = Host(t[1]!); var gi = new double[2 * 3 * 7 * 6];
                for (int k = 0; k < g.Length; k++) gi[k / 16 * 42 + (long)idx[k]] += g[k];
                return [gi];
            });
    }

    // Windows that do not overlap (2×2 stride 2 padded, 2×2 stride 3 with uncovered rows and columns): the ILGPU backend's
    // one-launch gather, which must write every element of a gradInput with stale contents (0 where no window reads).
    [TestCase(2, 2, 1, 4, 4), TestCase(2, 3, 0, 2, 2)]
    public void MaxPoolBackwardOfDisjointWindows(int kernel, int stride, int pad, int outH, int outW)
    {
        var pool = new PoolGeometry(Height: 7, Width: 6, KernelH: kernel, KernelW: kernel, StrideH: stride, StrideW: stride,
            PadH: pad, PadW: pad, OutH: outH, OutW: outW);
        long[] ys = [2, 3, outH, outW];
        Tensor Indices(Device d)
        {
            var x = Rnd(Device.Cpu, [2, 3, 7, 6], 4);
            return Tensor.FromArray(PoolRef(Host(x), 6, pool).Idx.Select(v => (long)v).ToArray(), ys).To(d);
        }
        Conform(d => [Rnd(d, ys, 5), Indices(d), Tensor.Full([2, 3, 7, 6], 5.0, DType.Float32, d), Rnd(d, [2, 3, 7, 6], 4)],
            (be, t) => be.MaxPool2dBackward(t[0]!, t[3]!, t[1]!, pool, t[2]!), [2], 0, 0,
            reference: t =>
            {
                var g = Host(t[0]!); var idx = Host(t[1]!); var gi = new double[2 * 3 * 7 * 6];
                long o = outH * outW;
                for (int k = 0; k < g.Length; k++) gi[k / o * 42 + (long)idx[k]] += g[k];
                return [gi];
            });
    }

    [TestCase(true), TestCase(false)]
    public void AvgPoolForwardAndBackward(bool countIncludePad)
    {
        Conform(d => [Rnd(d, [2, 3, 7, 6], 6), Tensor.Empty([2, 3, 4, 4], DType.Float32, d)],
            (be, t) => be.AvgPool2d(t[0]!, Pool, countIncludePad, t[1]!), [1], 1e-5, 1e-6,
            reference: t => { var r = PoolRef(Host(t[0]!), 6, Pool); return [countIncludePad ? r.Avg : r.AvgNoPad]; });
        Conform(d => [Rnd(d, [2, 3, 4, 4], 7), Tensor.Empty([2, 3, 7, 6], DType.Float32, d)],
            (be, t) => be.AvgPool2dBackward(t[0]!, Pool, countIncludePad, t[1]!), [1], 1e-5, 1e-6,
            reference: t =>
            {
                // The adjoint of the forward map: gradInput[p] = Σ_k grad[k]·∂avg[k]/∂x[p].
                var g = Host(t[0]!); var gi = new double[2 * 3 * 7 * 6];
                for (int p = 0; p < gi.Length; p++)
                {
                    var e = new double[gi.Length]; e[p] = 1;
                    var r = PoolRef(e, 6, Pool);
                    var a = countIncludePad ? r.Avg : r.AvgNoPad;
                    double s = 0; for (int k = 0; k < g.Length; k++) s += g[k] * a[k];
                    gi[p] = s;
                }
                return [gi];
            });
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class NNKernels(string device) : NNKernelTests(device);
