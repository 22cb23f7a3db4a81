namespace Ember.NN.Tests;

/// <summary>The fused CPU Functions (Linear with bias, training BatchNorm) against their composite forms and GradCheck.</summary>
public class FusedKernelTests
{
    internal static Tensor R(DType dt, params long[] shape) => Tensor.Randn(shape, dt);

    internal static void Close(Tensor a, Tensor b, double tol, string what)
    {
        var d = (a.To(DType.Float64) - b.To(DType.Float64)).Abs().Max().Item();
        Assert.That(d, Is.LessThan(tol), what);
    }

    [TestCase(DType.Float32, 1e-4)]
    [TestCase(DType.Float64, 1e-10)]
    public void LinearMatchesComposite(DType dt, double tol)
    {
        Tensor.ManualSeed(11);
        var x = R(dt, 2, 5, 7).RequiresGrad_(); var w = R(dt, 3, 7).RequiresGrad_(); var b = R(dt, 3).RequiresGrad_();
        var y = Functional.Linear(x, w, b);
        var g = R(dt, 2, 5, 3);
        (y * g).Sum().Backward();
        var x2 = x.Detach().RequiresGrad_(); var w2 = w.Detach().RequiresGrad_(); var b2 = b.Detach().RequiresGrad_();
        var y2 = x2.MatMul(w2.T) + b2;
        (y2 * g).Sum().Backward();
        Close(y, y2, tol, "output");
        Close(x.Grad!, x2.Grad!, tol, "grad x");
        Close(w.Grad!, w2.Grad!, tol, "grad w");
        Close(b.Grad!, b2.Grad!, tol * 10, "grad b");
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new long[] { 2, 5, 3 }));
    }

    [Test]
    public void LinearGradCheckFirstAndSecondOrder()
    {
        Tensor.ManualSeed(12);
        Tensor[] inputs = [R(DType.Float64, 4, 3).RequiresGrad_(), R(DType.Float64, 2, 3).RequiresGrad_(), R(DType.Float64, 2).RequiresGrad_()];
        Assert.That(GradCheck.Check(t => Functional.Linear(t[0], t[1], t[2]), inputs), Is.True);
        Assert.That(GradCheck.CheckSecondOrder(t => Functional.Linear(t[0], t[1], t[2]).Square(), inputs), Is.True);
        Assert.That(GradCheck.Check(t => Functional.Linear(t[0], t[1], t[2]), [R(DType.Float64, 3).RequiresGrad_(), inputs[1], inputs[2]]), Is.True);
    }

    [TestCase(DType.Float32, 1e-4)]
    [TestCase(DType.Float64, 1e-10)]
    public void BatchNormMatchesComposite(DType dt, double tol)
    {
        Tensor.ManualSeed(13);
        var x = (R(dt, 4, 3, 5, 6) * 2 + 1).Detach().RequiresGrad_(); var w = R(dt, 3).RequiresGrad_(); var b = R(dt, 3).RequiresGrad_();
        var rm = Tensor.Zeros([3], dt); var rv = Tensor.Ones([3], dt);
        var y = Functional.BatchNorm(x, rm, rv, w, b, training: true);
        var g = R(dt, 4, 3, 5, 6);
        (y * g).Sum().Backward();
        // Composite reference.
        var x2 = x.Detach().RequiresGrad_(); var w2 = w.Detach().RequiresGrad_(); var b2 = b.Detach().RequiresGrad_();
        int[] dims = [0, 2, 3];
        var mean = x2.Mean(dims, keepDim: true);
        var v = (x2 - mean).Square().Mean(dims, keepDim: true);
        var y2 = (x2 - mean) / (v + 1e-5).Sqrt() * w2.Reshape(1, 3, 1, 1) + b2.Reshape(1, 3, 1, 1);
        (y2 * g).Sum().Backward();
        Close(y, y2, tol, "output");
        Close(x.Grad!, x2.Grad!, tol, "grad x");
        Close(w.Grad!, w2.Grad!, tol * 10, "grad w");
        Close(b.Grad!, b2.Grad!, tol * 10, "grad b");
        // Running stats: momentum 0.1 with the unbiased variance.
        long n = 4 * 5 * 6;
        Close(rm, mean.Detach().Reshape(3) * 0.1, tol, "running mean");
        Close(rv, 0.9 + v.Detach().Reshape(3) * ((double)n / (n - 1)) * 0.1, tol, "running var");
    }

    [Test]
    public void BatchNormGradCheckFirstAndSecondOrder()
    {
        Tensor.ManualSeed(14);
        Tensor[] inputs = [R(DType.Float64, 3, 2, 4).RequiresGrad_(), R(DType.Float64, 2).RequiresGrad_(), R(DType.Float64, 2).RequiresGrad_()];
        Assert.That(GradCheck.Check(t => Functional.BatchNorm(t[0], null, null, t[1], t[2], training: true), inputs), Is.True);
        Assert.That(GradCheck.CheckSecondOrder(t => Functional.BatchNorm(t[0], null, null, t[1], t[2], training: true).Square(), inputs), Is.True);
        Assert.That(GradCheck.Check(t => Functional.BatchNorm(t[0], null, null, training: true), [inputs[0]]), Is.True);
    }
}

/// <summary>The fused CPU attention against the explicit formula, with permuted (fused-qkv) inputs, and GradCheck.</summary>
public class FusedAttentionTests
{
    private static Tensor Reference(Tensor q, Tensor k, Tensor v, bool causal)
    {
        var s = q.MatMul(k.mT) * (1.0 / Math.Sqrt(q.Shape[-1]));
        if (causal) s = s.MaskedFill(Tensor.Ones([q.Shape[-2], k.Shape[-2]], DType.Bool).Tril().LogicalNot(), double.NegativeInfinity);
        return s.Softmax(-1).MatMul(v);
    }

    [TestCase(DType.Float32, false, 1e-5)]
    [TestCase(DType.Float32, true, 1e-5)]
    [TestCase(DType.Float64, true, 1e-12)]
    [TestCase(DType.Float64, false, 1e-12)]
    public void MatchesFormulaOnPermutedViews(DType dt, bool causal, double tol)
    {
        Tensor.ManualSeed(21);
        long b = 2, t = 5, h = 3, hd = 4;
        var qkv = Tensor.Randn([b, t, 3 * h * hd], dt).RequiresGrad_();
        var parts = qkv.Reshape(b, t, 3, h, hd).Permute(2, 0, 3, 1, 4);
        var y = Functional.ScaledDotProductAttention(parts[0], parts[1], parts[2], isCausal: causal);
        var g = Tensor.Randn(y.Shape, dt);
        (y * g).Sum().Backward();
        var qkv2 = qkv.Detach().RequiresGrad_();
        var p2 = qkv2.Reshape(b, t, 3, h, hd).Permute(2, 0, 3, 1, 4);
        var y2 = Reference(p2[0], p2[1], p2[2], causal);
        (y2 * g).Sum().Backward();
        Assert.That((y - y2).Abs().Max().To(DType.Float64).Item(), Is.LessThan(tol));
        Assert.That((qkv.Grad! - qkv2.Grad!).Abs().Max().To(DType.Float64).Item(), Is.LessThan(tol * 10));
    }

    [Test]
    public void CrossAttentionShapesAndGradCheck()
    {
        Tensor.ManualSeed(22);
        Tensor[] inputs = [Tensor.Randn([2, 3, 4], DType.Float64).RequiresGrad_(), Tensor.Randn([2, 5, 4], DType.Float64).RequiresGrad_(),
            Tensor.Randn([2, 5, 6], DType.Float64).RequiresGrad_()];
        var y = Functional.ScaledDotProductAttention(inputs[0], inputs[1], inputs[2]);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new long[] { 2, 3, 6 }));
        Assert.That((y - Reference(inputs[0], inputs[1], inputs[2], false)).Abs().Max().Item(), Is.LessThan(1e-12));
        Assert.That(GradCheck.Check(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2]), inputs), Is.True);
        Assert.That(GradCheck.Check(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true), inputs), Is.True);
        Assert.That(GradCheck.CheckSecondOrder(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true), inputs), Is.True);
    }
}

/// <summary>The fused ReLU backward and the 2×2/stride-2 max-pool fast path against element-wise references.</summary>
public class FusedPointwiseTests
{
    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void ReluBackwardPassesGradientWhereOutputPositive(DType dt)
    {
        var xs = Enumerable.Range(0, 1037).Select(i => (i % 7 == 0) ? 0.0 : Math.Sin(i) * 3).ToArray();
        var x = Tensor.FromArray(xs, xs.Length).To(dt).RequiresGrad_();
        var g = Tensor.FromArray(Enumerable.Range(0, xs.Length).Select(i => 1.0 + i).ToArray(), xs.Length).To(dt);
        (x.Relu() * g).Sum().Backward();
        var gx = x.Grad!.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < xs.Length; i++) Assert.That(gx[i], Is.EqualTo(xs[i] > 0 ? 1.0 + i : 0.0), $"element {i}");
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void MaxPool2x2MatchesWindowMaximaAndRoutesGradients(DType dt)
    {
        var d = Enumerable.Range(0, 2 * 3 * 6 * 7).Select(i => Math.Round(Math.Sin(i * 1.7) * 4)).ToArray();   // rounding makes ties
        d[5] = double.NaN;
        var x = Tensor.FromArray(d, 2, 3, 6, 7).To(dt).RequiresGrad_();
        var y = Functional.MaxPool2d(x, (2, 2));
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new long[] { 2, 3, 3, 3 }));
        var yv = y.To(DType.Float64).ToArray<double>();
        (y * 2).Sum().Backward();
        var gx = x.Grad!.To(DType.Float64).ToArray<double>();
        var expectG = new double[d.Length];
        for (int p = 0; p < 6; p++)
            for (int oy = 0; oy < 3; oy++)
                for (int ox = 0; ox < 3; ox++)
                {
                    double best = double.NegativeInfinity; int bi = -1;
                    foreach (var (ky, kx) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
                    {
                        int f = p * 42 + (2 * oy + ky) * 7 + 2 * ox + kx;
                        if (bi < 0 || d[f] > best || double.IsNaN(d[f])) { best = d[f]; bi = f; if (double.IsNaN(best)) break; }
                    }
                    double got = yv[(p * 3 + oy) * 3 + ox];
                    if (double.IsNaN(best)) Assert.That(double.IsNaN(got), Is.True); else Assert.That(got, Is.EqualTo(best));
                    expectG[bi] += 2;
                }
        Assert.That(gx, Is.EqualTo(expectG));
    }
}

/// <summary>Conv2d's chunked CPU path (several samples per GEMM) equals running the samples one by one.</summary>
public class ConvChunkTests
{
    [TestCase(DType.Float64, 1e-12)]
    [TestCase(DType.Float32, 1e-4)]
    public void BatchEqualsPerSample(DType dt, double tol)
    {
        Tensor.ManualSeed(31);
        var x = Tensor.Randn([5, 3, 7, 6], dt).RequiresGrad_(); var w = Tensor.Randn([4, 3, 3, 3], dt).RequiresGrad_(); var b = Tensor.Randn([4], dt).RequiresGrad_();
        var y = Functional.Conv2d(x, w, b, padding: (1, 1));
        var g = Tensor.Randn(y.Shape, dt);
        (y * g).Sum().Backward();
        var gw = Tensor.Zeros([4, 3, 3, 3], dt); var gb = Tensor.Zeros([4], dt);
        for (int i = 0; i < 5; i++)
        {
            var xi = x.Detach()[i..(i + 1)].RequiresGrad_(); var wi = w.Detach().RequiresGrad_(); var bi = b.Detach().RequiresGrad_();
            var yi = Functional.Conv2d(xi, wi, bi, padding: (1, 1));
            Assert.That((yi - y.Detach()[i..(i + 1)]).Abs().Max().To(DType.Float64).Item(), Is.LessThan(tol), $"output {i}");
            (yi * g[i..(i + 1)]).Sum().Backward();
            Assert.That((xi.Grad! - x.Grad![i..(i + 1)]).Abs().Max().To(DType.Float64).Item(), Is.LessThan(tol), $"grad x {i}");
            gw = gw + wi.Grad!; gb = gb + bi.Grad!;
        }
        Assert.That((gw - w.Grad!).Abs().Max().To(DType.Float64).Item(), Is.LessThan(tol * 10));
        Assert.That((gb - b.Grad!).Abs().Max().To(DType.Float64).Item(), Is.LessThan(tol * 10));
    }
}
