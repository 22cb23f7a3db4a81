using MathNet.Numerics.LinearAlgebra;
using static Ember.Core.Tests.Gemm.GemmTestData;

namespace Ember.Core.Tests.Gemm;

/// <summary>SgemmBatched and DgemmBatched: distinct, broadcast (stride 0) and accumulating (C stride 0) batches.</summary>
[TestFixture]
public unsafe class GemmBatchedTests
{
    /// <summary>
    /// Batched product of row-major (or, with transA, column-major) operands; broadcast operands use batch stride
    /// 0. Returns the relative error against per-entry MathNet products.
    /// </summary>
    private static double CheckSingle(int batch, int m, int n, int k, bool broadcastA, bool broadcastB, bool transA,
        float alpha, float beta, int threads)
    {
        var aMats = Enumerable.Range(0, broadcastA ? 1 : batch).Select(t => Random(m, k, 100 + t)).ToArray();
        var bMats = Enumerable.Range(0, broadcastB ? 1 : batch).Select(t => Random(k, n, 200 + t)).ToArray();
        var cMats = Enumerable.Range(0, batch).Select(t => Random(m, n, 300 + t)).ToArray();
        long aStride = (long)m * k + 3, bStride = (long)k * n + 5, cStride = (long)m * n + 2;
        float[] a = new float[aMats.Length * aStride], b = new float[bMats.Length * bStride], c = new float[batch * cStride];
        for (int t = 0; t < aMats.Length; t++)
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++)
                    a[t * aStride + (transA ? p * m + i : i * k + p)] = (float)aMats[t][i, p];
        for (int t = 0; t < bMats.Length; t++)
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++)
                    b[t * bStride + p * n + j] = (float)bMats[t][p, j];
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    c[t * cStride + i * n + j] = beta == 0 ? float.NaN : (float)cMats[t][i, j];
        fixed (float* pa = a, pb = b, pc = c)
        {
            Ember.Cpu.Gemm.SgemmBatched(batch, m, n, k, alpha,
                pa, broadcastA ? 0 : aStride, transA ? 1 : k, transA ? m : 1,
                pb, broadcastB ? 0 : bStride, n, 1,
                beta, pc, cStride, n, 1, threads);
        }
        double worst = 0;
        for (int t = 0; t < batch; t++)
        {
            var expected = Reference(alpha, aMats[broadcastA ? 0 : t], bMats[broadcastB ? 0 : t], beta, cMats[t]);
            var got = Matrix<double>.Build.Dense(m, n, (i, j) => c[t * cStride + i * n + j]);
            worst = Math.Max(worst, (got - expected).Enumerate().Max(Math.Abs) / Math.Max(1, expected.Enumerate().Max(Math.Abs)));
        }
        return worst;
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        (int, int, int, int)[] shapes = [(1, 5, 7, 3), (4, 1, 300, 50), (3, 40, 1, 80), (3, 17, 33, 65), (8, 16, 16, 64), (5, 64, 80, 70), (2, 130, 70, 300)];
        foreach (var (batch, m, n, k) in shapes)
            foreach (var (ba, bb) in new[] { (false, false), (true, false), (false, true) })
                foreach (int threads in new[] { 1, 2 })
                    yield return new TestCaseData(batch, m, n, k, ba, bb, threads)
                        .SetName($"SgemmBatched b{batch} {m}x{n}x{k} bcastA={ba} bcastB={bb} t{threads}");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesPerEntryProducts(int batch, int m, int n, int k, bool broadcastA, bool broadcastB, int threads)
    {
        Assert.That(CheckSingle(batch, m, n, k, broadcastA, broadcastB, transA: false, 1f, 0f, threads), Is.LessThanOrEqualTo(SingleTolerance(k)));
        Assert.That(CheckSingle(batch, m, n, k, broadcastA, broadcastB, transA: true, -0.5f, 1.5f, threads), Is.LessThanOrEqualTo(SingleTolerance(k)));
    }

    // Fewer entries than pieces of work (3 entries, up to 16 threads): each entry is also split into a grid of cells.
    [TestCase(3, 200, 190, 150, 16)]
    [TestCase(2, 97, 301, 64, 7)]
    [TestCase(5, 130, 70, 260, 16)]
    public void SmallBatchSplitsEachEntryOverTheRemainingThreads(int batch, int m, int n, int k, int threads)
    {
        Assert.That(CheckSingle(batch, m, n, k, false, false, transA: false, 1f, 0f, threads), Is.LessThanOrEqualTo(SingleTolerance(k)));
        Assert.That(CheckSingle(batch, m, n, k, false, true, transA: true, -0.5f, 1.5f, threads), Is.LessThanOrEqualTo(SingleTolerance(k)));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(16)]
    public void ZeroCBatchStrideAccumulates(int threads)
    {
        // C = alpha * sum_t A_t B_t + beta * C: the weight gradient of a batched linear layer.
        const int batch = 6, m = 23, n = 41, k = 37;
        var aMats = Enumerable.Range(0, batch).Select(t => Random(m, k, 400 + t, roundToSingle: false)).ToArray();
        var bMats = Enumerable.Range(0, batch).Select(t => Random(k, n, 500 + t, roundToSingle: false)).ToArray();
        var c0 = Random(m, n, 600, roundToSingle: false);
        double[] a = aMats.SelectMany(x => x.ToRowMajorArray()).ToArray();
        double[] b = bMats.SelectMany(x => x.ToRowMajorArray()).ToArray();
        double[] c = c0.ToRowMajorArray();
        fixed (double* pa = a, pb = b, pc = c)
            Ember.Cpu.Gemm.DgemmBatched(batch, m, n, k, 2.0, pa, m * k, k, 1, pb, k * n, n, 1, 0.25, pc, 0, n, 1, threads);
        var expected = 0.25 * c0;
        for (int t = 0; t < batch; t++)
            expected += 2.0 * aMats[t] * bMats[t];
        var got = Matrix<double>.Build.Dense(m, n, (i, j) => c[i * n + j]);
        Assert.That((got - expected).Enumerate().Max(Math.Abs), Is.LessThan(1e-11));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void DoubleBatchedMatchesPerEntryProducts(int threads)
    {
        const int batch = 7, m = 19, n = 45, k = 33;
        var aMats = Enumerable.Range(0, batch).Select(t => Random(m, k, 700 + t, roundToSingle: false)).ToArray();
        var b0 = Random(n, k, 800, roundToSingle: false); // one B^T shared by every entry
        double[] a = aMats.SelectMany(x => x.ToRowMajorArray()).ToArray();
        double[] b = b0.ToRowMajorArray();
        double[] c = Enumerable.Repeat(double.NaN, batch * m * n).ToArray();
        fixed (double* pa = a, pb = b, pc = c)
            Ember.Cpu.Gemm.DgemmBatched(batch, m, n, k, 1.0, pa, m * k, k, 1, pb, 0, 1, k, 0.0, pc, m * n, n, 1, threads);
        for (int t = 0; t < batch; t++)
        {
            var expected = aMats[t] * b0.Transpose();
            var got = Matrix<double>.Build.Dense(m, n, (i, j) => c[t * m * n + i * n + j]);
            Assert.That((got - expected).Enumerate().Max(Math.Abs), Is.LessThan(1e-12), $"batch entry {t}");
        }
    }

    [Test]
    public void EmptyBatchIsANoOp()
    {
        Assert.DoesNotThrow(() => Ember.Cpu.Gemm.SgemmBatched(0, 3, 3, 3, 1f, null, 9, 3, 1, null, 9, 3, 1, 0f, null, 9, 3, 1));
    }
}
