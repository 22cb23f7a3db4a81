using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>
/// CPU kernels that take their per-chunk scratch and accumulators from the shared array pool (stale arrays, often
/// longer than asked for): layer-norm backward and column sums. Calls that alternate widths and thread counts give the
/// float64 reference every time.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CpuPooledScratchTests
{
    [Test]
    public void ColumnSumsOfChangingWidthsMatchTheFloat64Reference()
    {
        int saved = Threads.Count;
        try
        {
            foreach (int threads in new[] { 1, 3 })
            {
                Threads.Count = threads;
                foreach (var (m, n) in new[] { (300, 1030), (70, 9), (257, 513), (64, 1024), (5, 33) })
                {
                    var g = Tensor.Randn([m, n], generator: new Generator((ulong)(m * 7919 + n)));
                    var result = Tensor.Empty([n]);
                    ((CpuBackend)g.Backend).ColumnSum(g, result);
                    float[] gs = g.ToArray<float>();
                    var expected = new double[n];
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) expected[j] += gs[i * n + j];
                    Assert.That(result.ToArray<float>(), Is.EqualTo(expected).Within(1e-3), $"[{m}, {n}] at {threads} threads");
                }
            }
        }
        finally { Threads.Count = saved; }
    }

    [Test]
    public void RepeatedCallsOfChangingWidthsMatchTheFloat64Reference()
    {
        int saved = Threads.Count;
        try
        {
            int call = 0;
            foreach (int threads in new[] { 1, 3 })
            {
                Threads.Count = threads;
                foreach (int cols in new[] { 1024, 5, 300, 64, 1024, 7 })
                    Check(rows: 257 + 31 * call++, cols);
            }
        }
        finally { Threads.Count = saved; }
    }

    private static void Check(int rows, int cols)
    {
        var gen = new Generator((ulong)(rows * 1000 + cols));
        Tensor x = Tensor.Randn([rows, cols], generator: gen), w = Tensor.Randn([cols], generator: gen), g = Tensor.Randn([rows, cols], generator: gen);
        Tensor y = Tensor.Empty([rows, cols]), mean = Tensor.Empty([rows]), rstd = Tensor.Empty([rows]);
        var be = (CpuBackend)x.Backend;
        be.LayerNorm(x, w, null, 1e-5, y, mean, rstd);
        Tensor gx = Tensor.Empty([rows, cols]), gw = Tensor.Empty([cols]), gb = Tensor.Empty([cols]);
        be.LayerNormBackward(g, x, mean, rstd, w, gx, gw, gb);

        float[] xs = x.ToArray<float>(), ws = w.ToArray<float>(), gs = g.ToArray<float>(), ms = mean.ToArray<float>(), rs = rstd.ToArray<float>();
        var refGx = new double[rows * cols];
        var refGw = new double[cols];
        var refGb = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            double s1 = 0, s2 = 0;
            for (int j = 0; j < cols; j++)
            {
                double xh = (xs[r * cols + j] - (double)ms[r]) * rs[r], gwj = gs[r * cols + j] * (double)ws[j];
                s1 += gwj; s2 += gwj * xh;
                refGw[j] += gs[r * cols + j] * xh;
                refGb[j] += gs[r * cols + j];
            }
            s1 /= cols; s2 /= cols;
            for (int j = 0; j < cols; j++)
            {
                double xh = (xs[r * cols + j] - (double)ms[r]) * rs[r];
                refGx[r * cols + j] = rs[r] * (gs[r * cols + j] * (double)ws[j] - s1 - xh * s2);
            }
        }
        string at = $"[{rows}, {cols}]";
        Assert.That(gx.ToArray<float>(), Is.EqualTo(refGx).Within(1e-4), $"gradX {at}");
        // Sums over up to ~400 rows of float products (float32 within blocks of 64 rows).
        Assert.That(gw.ToArray<float>(), Is.EqualTo(refGw).Within(2e-3), $"gradWeight {at}");
        Assert.That(gb.ToArray<float>(), Is.EqualTo(refGb).Within(2e-3), $"gradBias {at}");
    }
}
