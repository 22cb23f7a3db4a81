using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>The fused float32 layer-norm backward row kernel against a double-precision evaluation of the formula.</summary>
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
    public void WithoutParameterGradientsLeavesNothingElse()
    {
        var random = new System.Random(3);
        float[] g = Values(random, 40), x = Values(random, 40), gx = new float[40];
        LayerNormRows.Backward(g, x, [], 0.1f, 2f, gx, [], [], wantParams: false);
        Assert.That(gx.All(float.IsFinite), Is.True);
    }

    private static float[] Values(System.Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
}
