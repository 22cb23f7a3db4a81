using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// The optional kernels that back the fused primitives (batch norm, the three convolution kernels, attention, column sum)
/// on the device against the CPU backend's fast kernels. On a backend that does not implement a member this checks its
/// composite default (<see cref="CompositeKernels"/>); shapes cover the CPU's direct kernels and its composite fallbacks.
/// </summary>
public abstract class FusedPrimitiveKernelTests(string device) : DeviceTest(device)
{
    // Shapes: a small NCHW batch; channels of more elements than a group has threads (each thread several, the last
    // stride partial); BatchNorm1d's [N, C] (HW = 1: the flat walk over samples).
    [TestCase(DType.Float32, true, new long[] { 4, 3, 5, 2 }), TestCase(DType.Float32, false, new long[] { 4, 3, 5, 2 }),
     TestCase(DType.Float64, true, new long[] { 4, 3, 5, 2 }), TestCase(DType.Float32, true, new long[] { 3, 2, 13, 11 }),
     TestCase(DType.Float32, true, new long[] { 37, 5 })]
    public void BatchNormForwardAndBackward(DType dt, bool affine, long[] shape)
    {
        long c = shape[1];
        int[] dims = [0, .. Enumerable.Range(2, shape.Length - 2)];
        long[] cs = [1, c, .. Enumerable.Repeat(1L, shape.Length - 2)];
        Tensor?[] Inputs(Device d) => [Rnd(d, shape, 1, dt, 2, 0.5), affine ? Rnd(d, [c], 2, dt) : null, affine ? Rnd(d, [c], 3, dt) : null];
        Conform(d => [.. Inputs(d), Tensor.Empty(shape, dt, d), Tensor.Empty([c], DType.Float64, d), Tensor.Empty([c], DType.Float64, d),
                Tensor.Empty([c], DType.Float64, d)],
            (be, t) => be.BatchNorm(t[0]!, t[1], t[2], 1e-5, t[3]!, t[4]!, t[5]!, t[6]!), [3, 4, 5, 6], 2e-5, 2e-6);
        Conform(d =>
            {
                var i = Inputs(d);
                var x = i[0]!;
                var mean = x.To(DType.Float64).Mean(dims);
                var rstd = ((x.To(DType.Float64) - mean.Reshape(cs)).Square().Mean(dims) + 1e-5).Rsqrt();
                return [x, i[1], Rnd(d, shape, 4, dt), mean, rstd, Tensor.Empty(shape, dt, d),
                    affine ? Tensor.Empty([c], dt, d) : null, Tensor.Empty([c], dt, d)];
            },
            (be, t) => be.BatchNormBackward(t[2]!, t[0]!, t[1], t[3]!, t[4]!, t[5], t[6], t[7]), affine ? [5, 6, 7] : [5, 7], 2e-5, 2e-6);
    }

    [Test]
    public void BatchNormBackwardWritesOnlyTheWantedGradients()
    {
        // gradX alone (a frozen affine layer) and the parameter gradients alone (an input that needs none).
        Conform(d => [Rnd(d, [3, 4, 6], 1), Rnd(d, [4], 2), Rnd(d, [3, 4, 6], 3), Rnd(d, [4], 4, DType.Float64), Rnd(d, [4], 5, DType.Float64, 1.5, 0.2),
                Tensor.Empty([3, 4, 6], DType.Float32, d)],
            (be, t) => be.BatchNormBackward(t[2]!, t[0]!, t[1], t[3]!, t[4]!, t[5], null, null), [5], 2e-5, 2e-6);
        Conform(d => [Rnd(d, [3, 4, 6], 1), Rnd(d, [4], 2), Rnd(d, [3, 4, 6], 3), Rnd(d, [4], 4, DType.Float64), Rnd(d, [4], 5, DType.Float64, 1.5, 0.2),
                Tensor.Empty([4], DType.Float32, d), Tensor.Empty([4], DType.Float32, d)],
            (be, t) => be.BatchNormBackward(t[2]!, t[0]!, t[1], t[3]!, t[4]!, null, t[5], t[6]), [5, 6], 2e-5, 2e-6);
    }

    // Momentum 0.1 with a counter (the layers' default), momentum null (the cumulative average 1/n from the counter on the
    // device), a momentum without a counter, Float64 running statistics; C = 37 runs several channels per thread.
    [TestCase(DType.Float32, 0.1, true, 5), TestCase(DType.Float32, null, true, 5), TestCase(DType.Float32, 0.3, false, 5),
     TestCase(DType.Float32, null, false, 4), TestCase(DType.Float64, null, true, 37), TestCase(DType.Float32, 0.1, true, 37)]
    public void BatchNormUpdateStats(DType dt, double? momentum, bool counter, int c)
    {
        const long count = 7;
        Conform(d => [Rnd(d, [c], 1, DType.Float64), Pos(d, [c], 2, dtype: DType.Float64), Rnd(d, [c], 3, dt), Pos(d, [c], 4, dtype: dt),
                counter ? Tensor.Scalar(4, DType.Int64, d) : null],
            (be, t) => be.BatchNormUpdateStats(t[0]!, t[1]!, count, momentum, t[2]!, t[3]!, t[4]), counter ? [2, 3, 4] : [2, 3], 1e-6, 1e-7,
            reference: t =>
            {
                // f = momentum, or 1/(4 + 1) after the increment; 0 with neither.
                double f = momentum ?? (counter ? 1.0 / 5 : 0);
                double[] mean = Host(t[0]!), variance = Host(t[1]!), rm = Host(t[2]!), rv = Host(t[3]!);
                double[] em = [.. rm.Select((r, i) => (1 - f) * r + f * mean[i])];
                double[] ev = [.. rv.Select((r, i) => (1 - f) * r + f * variance[i] * count / (count - 1))];
                return counter ? [em, ev, [5]] : [em, ev];
            });
    }

    // (C, H, W, O, k, stride, pad, groups): stride-1 float32 with an output width of 16 takes the CPU's direct kernels.
    private static IEnumerable<TestCaseData> ConvCases()
    {
        yield return new TestCaseData(3, 6, 16, 4, 3, 1, 1, 1).SetName("Conv direct 3x6x16 o4 k3 p1");
        yield return new TestCaseData(4, 7, 6, 6, 3, 2, 1, 2).SetName("Conv columns 4x7x6 o6 k3 s2 p1 g2");
        yield return new TestCaseData(2, 5, 5, 3, 2, 1, 0, 1).SetName("Conv columns 2x5x5 o3 k2");
    }

    [TestCaseSource(nameof(ConvCases))]
    public void Convolution(int c, int h, int w, int o, int k, int stride, int pad, int groups)
    {
        var g = new ConvGeometry(c, h, w, k, k, stride, stride, pad, pad, 1, 1);
        long n = 2;
        long[] xs = [n, c, h, w], ws = [o, c / groups, k, k], ys = [n, o, g.OutH, g.OutW];
        Conform(d => [Rnd(d, xs, 1), Rnd(d, ws, 2, scale: 0.5), Rnd(d, [o], 3), Tensor.Empty(ys, DType.Float32, d)],
            (be, t) => be.Conv2d(t[0]!, t[1]!, t[2], g, groups, t[3]!), [3], 2e-5, 2e-5);
        Conform(d => [Rnd(d, ys, 4), Rnd(d, ws, 2, scale: 0.5), Tensor.Empty(xs, DType.Float32, d)],
            (be, t) => be.Conv2dInputGrad(t[0]!, t[1]!, g, groups, t[2]!), [2], 2e-5, 2e-5);
        Conform(d => [Rnd(d, ys, 4), Rnd(d, xs, 1), Tensor.Empty(ws, DType.Float32, d), Tensor.Empty([o], DType.Float32, d)],
            (be, t) => be.Conv2dWeightGrad(t[0]!, t[1]!, g, groups, t[2]!, t[3]), [2, 3], 2e-5, 2e-5);
    }

    [Test]
    public void ConvolutionOverSeveralChunks()
    {
        // 3·3·3 × 21·21 = 11,907 column elements per sample; with every column budget (the ILGPU backend's float32 and
        // 16-bit ones, the composite's) at three samples' worth, 7 samples run as chunks of 3, 3 and 1: the forward with
        // its bias epilogue, the input gradient, and the weight gradient (ILGPU: one GEMM per chunk accumulating into
        // gradWeight, the bias summed apart; the composite: batched products summed per chunk) on every backend.
        var g = new ConvGeometry(3, 21, 21, 3, 3, 1, 1, 1, 1, 1, 1);
        long[] xs = [7, 3, 21, 21], ws = [2, 3, 3, 3], ys = [7, 2, 21, 21];
        WithColumnBudget(3 * 27 * 21 * 21, () =>
        {
            Conform(d => [Rnd(d, xs, 1), Rnd(d, ws, 2, scale: 0.5), Rnd(d, [2], 3), Tensor.Empty(ys, DType.Float32, d)],
                (be, t) => be.Conv2d(t[0]!, t[1]!, t[2], g, 1, t[3]!), [3], 2e-5, 2e-5);
            Conform(d => [Rnd(d, ys, 4), Rnd(d, ws, 2, scale: 0.5), Tensor.Empty(xs, DType.Float32, d)],
                (be, t) => be.Conv2dInputGrad(t[0]!, t[1]!, g, 1, t[2]!), [2], 2e-5, 2e-5);
            // Sums of 3,087 products in float32, in different orders on each backend: 1e-4 (a lost or doubled chunk
            // moves a weight gradient by about a third of its size).
            Conform(d => [Rnd(d, ys, 4), Rnd(d, xs, 1), Tensor.Empty(ws, DType.Float32, d), Tensor.Empty([2], DType.Float32, d)],
                (be, t) => be.Conv2dWeightGrad(t[0]!, t[1]!, g, 1, t[2]!, t[3]), [2, 3], 1e-4, 1e-4);
        });
    }

    // Runs body with every convolution column budget (IlgpuBackend's two, the composite's default) at `columns`
    // elements, restoring them after.
    private static void WithColumnBudget(long columns, Action body)
    {
        long composite = CompositeKernels.DefaultColumnBudget, b16 = IlgpuBackend.ColumnBudget16, b32 = IlgpuBackend.ColumnBudget32;
        CompositeKernels.DefaultColumnBudget = IlgpuBackend.ColumnBudget16 = IlgpuBackend.ColumnBudget32 = columns;
        try { body(); }
        finally
        {
            CompositeKernels.DefaultColumnBudget = composite;
            IlgpuBackend.ColumnBudget16 = b16;
            IlgpuBackend.ColumnBudget32 = b32;
        }
    }

    [TestCase(false, DType.Float32), TestCase(true, DType.Float32), TestCase(true, DType.Float64)]
    public void AttentionForwardAndBackward(bool causal, DType dt)
    {
        long[] qs = [2, 3, 5, 4], ks = [2, 3, 6, 4], vs = [2, 3, 6, 3], ps = [2, 3, 5, 6], os = [2, 3, 5, 3];
        const double Scale = 0.5;
        Conform(d => [Rnd(d, qs, 1, dt), Rnd(d, ks, 2, dt), Rnd(d, vs, 3, dt), Tensor.Empty(ps, dt, d), Tensor.Empty(os, dt, d)],
            (be, t) => be.Attention(t[0]!, t[1]!, t[2]!, Scale, causal, t[3]!, t[4]!), [3, 4], 2e-5, 2e-6);
        Conform(d =>
            {
                Tensor q = Rnd(d, qs, 1, dt), k = Rnd(d, ks, 2, dt), v = Rnd(d, vs, 3, dt);
                var scores = q.MatMul(k.mT) * Scale;
                if (causal) scores = scores.MaskedFill(Tensor.Ones([5, 6], DType.Bool, d).Tril().LogicalNot(), double.NegativeInfinity);
                return [Rnd(d, os, 4, dt), q, k, v, scores.Softmax(-1), Tensor.Empty(qs, dt, d), Tensor.Empty(ks, dt, d), Tensor.Empty(vs, dt, d)];
            },
            (be, t) => be.AttentionBackward(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, Scale, causal, t[5]!, t[6]!, t[7]!), [5, 6, 7], 2e-5, 2e-6);
    }

    // (batch, heads, L, S, D, Dv, causal, layout): odd lengths around the 32-key chunks (lengths kept small: ilgpu-cpu
    // emulates every warp shuffle, and CI runs these on 2 cores), head widths 1..128, L ≠ S with and without the
    // mask (causal keeps key j ≤ query i: PyTorch's top-left alignment); layout 0 contiguous, 1 heads permuted out of
    // [B, L, H, D] (strided q, k, v, grad and gradient outputs), 2 the model's q/k/v: one [B, L, 3, H, D] buffer
    // permuted (2, 0, 3, 1, 4) and selected.
    private static IEnumerable<TestCaseData> AttentionCases()
    {
        yield return new TestCaseData(1L, 1L, 1L, 1L, 1L, 1L, true, 0).SetName("Attention L1 D1 causal");
        yield return new TestCaseData(2L, 3L, 7L, 7L, 5L, 3L, true, 0).SetName("Attention L7 D5 Dv3 causal");
        yield return new TestCaseData(2L, 2L, 7L, 9L, 16L, 16L, false, 1).SetName("Attention L7 S9 D16 strided");
        yield return new TestCaseData(1L, 2L, 70L, 70L, 64L, 64L, true, 2).SetName("Attention L70 D64 causal qkv");
        yield return new TestCaseData(1L, 1L, 9L, 70L, 128L, 96L, false, 1).SetName("Attention L9 S70 D128 Dv96 strided");
        yield return new TestCaseData(1L, 1L, 65L, 65L, 128L, 128L, true, 1).SetName("Attention L65 D128 causal strided");
        yield return new TestCaseData(2L, 1L, 9L, 7L, 5L, 3L, true, 0).SetName("Attention L9 S7 D5 causal");
        yield return new TestCaseData(1L, 2L, 33L, 45L, 8L, 12L, true, 1).SetName("Attention L33 S45 D8 Dv12 causal strided");
        yield return new TestCaseData(1L, 1L, 5L, 3L, 129L, 2L, false, 0).SetName("Attention D129 (composite)");
    }

    private static Tensor AttentionInput(Device d, long b, long h, long rows, long width, int seed, DType dt, int layout) => layout == 0
        ? Rnd(d, [b, h, rows, width], seed, dt)
        : Rnd(d, [b, rows, h, width], seed, dt).Permute(0, 2, 1, 3);

    private static Tensor AttentionOutput(Device d, long b, long h, long rows, long width, DType dt, int layout) => layout == 0
        ? Tensor.Empty([b, h, rows, width], dt, d)
        : Tensor.Empty([b, rows, h, width], dt, d).Permute(0, 2, 1, 3);

    [TestCaseSource(nameof(AttentionCases))]
    public void AttentionShapes(long b, long h, long l, long s, long dim, long dv, bool causal, int layout)
    {
        const DType Dt = DType.Float32;
        double scale = 1 / Math.Sqrt(dim);
        Tensor[] Qkv(Device d)
        {
            if (layout == 2)
            {
                var parts = Rnd(d, [b, l, 3, h, dim], 1, Dt).Permute(2, 0, 3, 1, 4);
                return [parts[0], parts[1], parts[2]];
            }
            return [AttentionInput(d, b, h, l, dim, 1, Dt, layout), AttentionInput(d, b, h, s, dim, 2, Dt, layout), AttentionInput(d, b, h, s, dv, 3, Dt, layout)];
        }
        Conform(d => [.. Qkv(d), Tensor.Empty([b, h, l, s], Dt, d), Tensor.Empty([b, h, l, dv], Dt, d)],
            (be, t) => be.Attention(t[0]!, t[1]!, t[2]!, scale, causal, t[3]!, t[4]!), [3, 4], 2e-5, 2e-6);
        Conform(d =>
            {
                var qkv = Qkv(d);
                var p = CompositeKernels.AttentionProbabilities(qkv[0], qkv[1], scale, causal);
                int gl = layout == 2 ? 1 : layout;
                return [AttentionInput(d, b, h, l, dv, 4, Dt, gl), .. qkv, p, AttentionOutput(d, b, h, l, dim, Dt, gl),
                    AttentionOutput(d, b, h, s, dim, Dt, gl), AttentionOutput(d, b, h, s, dv, Dt, gl)];
            },
            (be, t) => be.AttentionBackward(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, scale, causal, t[5]!, t[6]!, t[7]!), [5, 6, 7], 5e-5, 5e-6);
    }

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void ColumnSum(DType dt) =>
        Conform(d => [Rnd(d, [70, 9], 1, dt), Tensor.Empty([9], dt, d)], (be, t) => be.ColumnSum(t[0]!, t[1]!), [1], 2e-5, 2e-5);

    // Rows around the four-rows-per-step loop of the one-launch kernel (0, 1, 3, 8, 67, 300) and columns around a tile
    // (1, 31, 33, 70, 1030), each value at least twice and every row remainder (m % 4) beside a multi-tile width, with
    // a strided result. Not the full 6 x 5 grid: ilgpu-cpu emulates each group's threads, and the 300 x 1030 cases
    // alone took 15-25 s apiece on CI's two cores.
    private static readonly (int M, int N)[] ColumnSumSizes =
        [(0, 33), (0, 1030), (1, 1), (1, 1030), (3, 31), (3, 70), (8, 33), (8, 1030), (67, 1), (67, 1030), (300, 31), (300, 70)];

    private static IEnumerable<TestCaseData> ColumnSumCases() =>
        from dt in new[] { DType.Float32, DType.Float64 } from s in ColumnSumSizes select new TestCaseData(dt, s.M, s.N);

    [TestCaseSource(nameof(ColumnSumCases))]
    public void ColumnSumShapes(DType dt, int m, int n)
    {
        double atol = 1e-6 * Math.Sqrt(m + 1);
        Conform(d => [Rnd(d, [m, n], 2, dt), Tensor.Empty([n], dt, d)], (be, t) => be.ColumnSum(t[0]!, t[1]!), [1], 2e-5, atol,
            reference: t => [Sums(Host(t[0]!), m, n)]);
        Conform(d => [Rnd(d, [m, n], 3, dt), Tensor.Zeros([2 * n], dt, d).Narrow(0, 0, n)], (be, t) => be.ColumnSum(t[0]!, t[1]!), [1], 2e-5, atol);
        Conform(d => [Rnd(d, [m, n], 4, dt), Tensor.Zeros([n, 2], dt, d).Select(1, 1)], (be, t) => be.ColumnSum(t[0]!, t[1]!), [1], 2e-5, atol,
            reference: t => [Sums(Host(t[0]!), m, n)]);
    }

    [Test]
    public void ColumnSumOfATallMatrixTakesTheTwoStageReduction([Values(DType.Float32, DType.Float64)] DType dt) =>
        // Past IlgpuBackend.ColumnSumMaxRows (8192) rows the one-launch kernel hands over to the column reduction.
        Conform(d => [Rnd(d, [8200, 3], 5, dt), Tensor.Empty([3], dt, d)], (be, t) => be.ColumnSum(t[0]!, t[1]!), [1], 2e-5, 1e-4,
            reference: t => [Sums(Host(t[0]!), 8200, 3)]);

    private static double[] Sums(double[] g, int m, int n)
    {
        var s = new double[n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) s[j] += g[i * n + j];
        return s;
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class FusedPrimitiveKernels(string device) : FusedPrimitiveKernelTests(device);

/// <summary>Batch norm, convolution, attention and column-sum composites on a backend with only the required core.</summary>
[TestFixture]
public sealed class FusedPrimitiveKernelsOnRequiredCore() : FusedPrimitiveKernelTests(RequiredCoreBackend.Device.ToString());
