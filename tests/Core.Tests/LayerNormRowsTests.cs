using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>The fused float32 layer-norm row kernels (forward and backward) against double-precision evaluations of the formulas.</summary>
[TestFixture]
public class LayerNormRowsTests
{
    [Test]
    public void MatchesDoubleReference([Values(1, 7, 16, 33, 256, 301)] int n, [Values(true, false)] bool withWeight)
    {
        var random = new System.Random(n);
        float[] g = Values(random, n), x = Values(random, n), w = withWeight ? Values(random, n) : [];
        float[] blockW = Values(random, n), blockB = Values(random, n);
        double[] w0 = blockW.Select(v => (double)v).ToArray(), b0 = blockB.Select(v => (double)v).ToArray();
        double muD = x.Average(v => (double)v);
        double rsD = 1 / Math.Sqrt(x.Average(v => (v - muD) * (v - muD)) + 1e-5);
        float mu = (float)muD, rs = (float)rsD;
        var gx = new float[n];

        LayerNormRows.Backward(g, x, w, mu, rs, gx, blockW, blockB, wantParams: true);

        double[] xh = x.Select(v => (v - (double)mu) * rs).ToArray();
        double[] gw = g.Select((v, j) => withWeight ? (double)v * w[j] : v).ToArray();
        double m1 = gw.Average(), m2 = gw.Select((v, j) => v * xh[j]).Average();
        for (int j = 0; j < n; j++)
        {
            double expected = rs * (gw[j] - m1 - xh[j] * m2);
            Assert.That(gx[j], Is.EqualTo(expected).Within(1e-4 * (1 + Math.Abs(expected))), $"gx[{j}]");
            Assert.That(blockW[j], Is.EqualTo(w0[j] + g[j] * xh[j]).Within(1e-4), $"blockW[{j}]");
            Assert.That(blockB[j], Is.EqualTo(b0[j] + g[j]).Within(1e-5), $"blockB[{j}]");
        }
    }

    [Test]
    public void ForwardMatchesDoubleReference([Values(1, 7, 16, 33, 256, 301)] int n, [Values(true, false)] bool affine)
    {
        var random = new System.Random(n + 100);
        float[] x = Values(random, n).Select(v => v * 3 + 1).ToArray();
        float[] w = affine ? Values(random, n) : [], b = affine ? Values(random, n) : [];
        var y = new float[n];
        LayerNormRows.Forward(x, w, b, 1e-5, y, out float mean, out float rstd);
        double mu = x.Average(v => (double)v), rs = 1 / Math.Sqrt(x.Average(v => (v - mu) * (v - mu)) + 1e-5);
        Assert.That(mean, Is.EqualTo(mu).Within(1e-5 * (1 + Math.Abs(mu))));
        Assert.That(rstd, Is.EqualTo(rs).Within(1e-4 * rs));
        for (int j = 0; j < n; j++)
        {
            double expected = (x[j] - mu) * rs * (affine ? w[j] : 1) + (affine ? b[j] : 0);
            Assert.That(y[j], Is.EqualTo(expected).Within(1e-4 * (1 + Math.Abs(expected))), $"y[{j}]");
        }
        // In place (y is x) gives the same values.
        var inPlace = (float[])x.Clone();
        LayerNormRows.Forward(inPlace, w, b, 1e-5, inPlace, out _, out _);
        Assert.That(inPlace, Is.EqualTo(y));
    }

    [Test]
    public void WithoutParameterGradientsLeavesNothingElse()
    {
        var random = new System.Random(3);
        float[] g = Values(random, 40), x = Values(random, 40), gx = new float[40];
        LayerNormRows.Backward(g, x, [], 0.1f, 2f, gx, [], [], wantParams: false);
        Assert.That(gx.All(float.IsFinite), Is.True);
    }

    private static float[] Values(System.Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
}
