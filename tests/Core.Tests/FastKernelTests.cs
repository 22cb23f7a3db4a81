namespace Ember.Core.Tests;

/// <summary>The vectorized float32 erf/GELU, the tiled strided copy and the staged sum against references.</summary>
public class FastKernelTests
{
    [Test]
    public void Float32ErfAndGeluMatchDoubleReference()
    {
        var xs = Enumerable.Range(0, 4001).Select(i => (float)(-10 + i * 0.005)).Concat([0f, 1e-6f, -1e-6f, 1e-30f]).ToArray();
        var t = Tensor.FromArray(xs, xs.Length);
        var erf = t.Erf().ToArray<float>();
        var gelu = t.Gelu().ToArray<float>();
        for (int i = 0; i < xs.Length; i++)
        {
            double x = xs[i], e = Ember.Cpu.Special.Erf(x);
            Assert.That(erf[i], Is.EqualTo(e).Within(3e-7 + 2e-6 * Math.Abs(e)), $"erf({x})");
            double gl = 0.5 * x * (1 + Ember.Cpu.Special.Erf(x / Math.Sqrt(2)));
            Assert.That(gelu[i], Is.EqualTo(gl).Within(1e-6 + 2e-6 * Math.Abs(gl)), $"gelu({x})");
        }
        var special = Tensor.FromArray(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }, 3).Erf().ToArray<float>();
        Assert.That(float.IsNaN(special[0]), Is.True);
        Assert.That(special[1], Is.EqualTo(1f));
        Assert.That(special[2], Is.EqualTo(-1f));
    }

    [Test]
    public void Float32GeluBackwardMatchesDoubleReference([Values(1, 15, 16, 31, 4005)] int n)
    {
        // 4005 elements: whole 512-bit and 256-bit vectors and a scalar tail; the short lengths only the narrower paths.
        var xs = Enumerable.Range(0, n).Select(i => (float)(-10 + i * 20.0 / Math.Max(1, n - 1))).ToArray();
        var gs = Enumerable.Range(0, n).Select(i => (float)Math.Cos(i)).ToArray();
        var dx = new float[n];
        Ember.Cpu.FastMath.GeluBackward(gs, xs, dx);
        for (int i = 0; i < n; i++)
        {
            double x = xs[i];
            double e = gs[i] * (0.5 * (1 + Ember.Cpu.Special.Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI));
            Assert.That(dx[i], Is.EqualTo(e).Within(2e-6 + 4e-6 * Math.Abs(e)), $"gelu'({x})");
        }
        var nan = new float[17];
        Ember.Cpu.FastMath.GeluBackward(Enumerable.Repeat(1f, 17).ToArray(), Enumerable.Repeat(float.NaN, 17).ToArray(), nan);
        Assert.That(nan, Is.All.NaN);
    }

    [Test]
    public void Float32ExpNonPositiveSumMatchesDoubleReference([Values(1, 16, 37, 4001)] int n)
    {
        var xs = Enumerable.Range(0, n).Select(i => (float)(-100.0 * i / Math.Max(1, n - 1))).ToArray();
        if (n > 2) { xs[1] = float.NegativeInfinity; xs[2] = -1e-7f; }
        var ys = (float[])xs.Clone();
        float sum = Ember.Cpu.FastMath.ExpNonPositiveSum(ys);
        double expectedSum = 0;
        for (int i = 0; i < n; i++)
        {
            double e = Math.Exp(xs[i]);
            expectedSum += e;
            // Relative 2e-7 in float's normal range; below e^-87 (1.6e-38) the kernel flushes to 0.
            Assert.That(ys[i], Is.EqualTo(e).Within(2e-7 * e + 2e-38), $"exp({xs[i]})");
        }
        Assert.That(sum, Is.EqualTo(expectedSum).Within(1e-6 * expectedSum));
        var nan = new[] { float.NaN, -1f, 0f };
        Assert.That(float.IsNaN(Ember.Cpu.FastMath.ExpNonPositiveSum(nan)), Is.True);
        Assert.That(float.IsNaN(nan[0]), Is.True);
        Assert.That(nan[2], Is.EqualTo(1f));
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    [TestCase(DType.Int64)]
    public void TransposedCopyMatchesElementwise(DType dt)
    {
        foreach (var (r, c) in new[] { (1, 1100), (33, 65), (257, 129), (64, 1024) })
        {
            var a = Tensor.Arange(r * c, dt).Reshape(r, c);
            var t = a.T.Contiguous();
            var av = a.To(DType.Float64).ToArray<double>();
            var tv = t.To(DType.Float64).ToArray<double>();
            for (int i = 0; i < c; i++)
                for (int j = 0; j < r; j++)
                    Assert.That(tv[i * r + j], Is.EqualTo(av[j * c + i]), $"[{i},{j}] of {r}x{c}");
        }
        // A 4-D permutation (attention's [b, t, h, d] → [b, h, t, d]) and a sliced source.
        var x = Tensor.Arange(2 * 40 * 3 * 16, dt).Reshape(2, 40, 3, 16);
        var p = x.Permute(0, 2, 1, 3).Contiguous().To(DType.Float64).ToArray<double>();
        var xv = x.To(DType.Float64).ToArray<double>();
        for (int b = 0; b < 2; b++) for (int h = 0; h < 3; h++) for (int ti = 0; ti < 40; ti++) for (int d = 0; d < 16; d++)
            Assert.That(p[((b * 3 + h) * 40 + ti) * 16 + d], Is.EqualTo(xv[((b * 40 + ti) * 3 + h) * 16 + d]));
    }

    [Test]
    public void StagedSumOverNonContiguousDimsMatchesReference()
    {
        var d = U.Data([3, 4, 5, 6], 7);
        var x = Tensor.FromArray(d, 3, 4, 5, 6);
        var s = x.Sum([0, 2, 3]).ToArray<double>();
        var sk = x.Sum([0, 3], keepDim: true);
        Assert.That(sk.Shape.ToArray(), Is.EqualTo(new long[] { 1, 4, 5, 1 }));
        var skv = sk.ToArray<double>();
        for (int c = 0; c < 4; c++)
        {
            double r = 0;
            for (int n = 0; n < 3; n++) for (int h = 0; h < 5; h++) for (int w = 0; w < 6; w++) r += d[((n * 4 + c) * 5 + h) * 6 + w];
            Assert.That(s[c], Is.EqualTo(r).Within(1e-12));
            for (int h = 0; h < 5; h++)
            {
                double q = 0;
                for (int n = 0; n < 3; n++) for (int w = 0; w < 6; w++) q += d[((n * 4 + c) * 5 + h) * 6 + w];
                Assert.That(skv[c * 5 + h], Is.EqualTo(q).Within(1e-12));
            }
        }
        var xi = Tensor.FromArray(d.Select(v => (int)(v * 10)).ToArray(), 3, 4, 5, 6);
        Assert.That(xi.Sum([0, 2, 3]).DType, Is.EqualTo(DType.Int64));
    }
}
