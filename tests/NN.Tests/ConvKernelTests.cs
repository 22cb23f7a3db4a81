using Ember.Cpu;

namespace Ember.NN.Tests;

/// <summary>
/// Conv2d on the CPU in float32 (the direct stride-1 kernels where they apply, im2col + GEMM elsewhere) against the
/// float64 path (always im2col + GEMM) and against finite differences.
/// </summary>
public class ConvKernelTests
{
    private static double RelErr(Tensor a, Tensor b)
    {
        var d = (a.To(DType.Float64) - b.To(DType.Float64)).Abs().Max().Item();
        return d / Math.Max(b.To(DType.Float64).Abs().Max().Item(), 1e-30);
    }

    public static IEnumerable<TestCaseData> Shapes()
    {
        // n, c, h, w, o, k, stride, pad, bias: direct forward and both backward kernels (3×3/pad 1 on 16- and 32-wide
        // planes, odd channel counts, batch 1), direct forward with the im2col input gradient (input width 18),
        // and the im2col path (stride 2, width 15).
        int[][] shapes =
        [
            [2, 3, 32, 32, 32, 3, 1, 1, 1], [1, 5, 16, 16, 17, 3, 1, 1, 0], [3, 32, 16, 16, 64, 3, 1, 1, 1],
            [2, 7, 9, 32, 15, 3, 1, 1, 1], [2, 4, 18, 18, 6, 3, 1, 0, 1], [2, 3, 15, 15, 5, 3, 2, 1, 1],
            [1, 6, 11, 16, 9, 5, 1, 2, 0],
        ];
        foreach (var s in shapes)
            foreach (int threads in new[] { 1, 2 })
                yield return new TestCaseData(s, threads).SetName($"Conv2d f32 vs f64 n{s[0]} c{s[1]} {s[2]}x{s[3]} o{s[4]} k{s[5]} s{s[6]} p{s[7]} b{s[8]} t{threads}");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Float32MatchesFloat64(int[] s, int threads)
    {
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = threads;
            Tensor.ManualSeed(21);
            var x = Tensor.Randn([s[0], s[1], s[2], s[3]]).RequiresGrad_();
            var w = Tensor.Randn([s[4], s[1], s[5], s[5]]).RequiresGrad_();
            Tensor? b = s[8] == 1 ? Tensor.Randn([s[4]]).RequiresGrad_() : null;
            var y = Functional.Conv2d(x, w, b, (s[6], s[6]), (s[7], s[7]));
            var gy = Tensor.Randn(y.Shape.ToArray());
            y.Backward(gy);
            var x2 = x.Detach().To(DType.Float64).RequiresGrad_(); var w2 = w.Detach().To(DType.Float64).RequiresGrad_();
            var b2 = b?.Detach().To(DType.Float64).RequiresGrad_();
            var y2 = Functional.Conv2d(x2, w2, b2, (s[6], s[6]), (s[7], s[7]));
            y2.Backward(gy.To(DType.Float64));
            Assert.That(RelErr(y, y2), Is.LessThan(1e-5), "output");
            Assert.That(RelErr(x.Grad!, x2.Grad!), Is.LessThan(1e-5), "grad x");
            Assert.That(RelErr(w.Grad!, w2.Grad!), Is.LessThan(1e-5), "grad w");
            if (b is not null) Assert.That(RelErr(b.Grad!, b2!.Grad!), Is.LessThan(1e-5), "grad b");
        }
        finally { CpuThreads.Count = saved; }
    }

    [TestCase(1)]
    [TestCase(2)]
    public void Float32GradCheck(int threads)
    {
        // Conv2d is linear in each input, so central differences with a large step are exact up to float32 rounding
        // (about ulp(y)/eps ≈ 1e-5 here): the float32 kernels can be checked against them directly.
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = threads;
            Tensor.ManualSeed(22);
            Tensor[] inputs = [Tensor.Randn([2, 3, 5, 16], DType.Float64).RequiresGrad_(), Tensor.Randn([4, 3, 3, 3], DType.Float64).RequiresGrad_(),
                Tensor.Randn([4], DType.Float64).RequiresGrad_()];
            Tensor F(Tensor[] t) => Functional.Conv2d(t[0].To(DType.Float32), t[1].To(DType.Float32), t[2].To(DType.Float32), padding: (1, 1)).To(DType.Float64);
            Assert.That(GradCheck.Check(F, inputs, eps: 1e-2, atol: 1e-3, rtol: 1e-3), Is.True);
        }
        finally { CpuThreads.Count = saved; }
    }

    [Test]
    public void Float32SecondOrderMatchesFloat64()
    {
        // createGraph after a direct-kernel forward rebuilds the columns; the weight gradient stays differentiable
        // through the output gradient (here 2y, so back through the forward convolution to x).
        Tensor.ManualSeed(23);
        var x = Tensor.Randn([2, 3, 6, 16]).RequiresGrad_(); var w = Tensor.Randn([5, 3, 3, 3]).RequiresGrad_();
        var x2 = x.Detach().To(DType.Float64).RequiresGrad_(); var w2 = w.Detach().To(DType.Float64).RequiresGrad_();
        Tensor SecondOrder(Tensor xi, Tensor wi)
        {
            var y = Functional.Conv2d(xi, wi, padding: (1, 1));
            var gw = Autograd.Grad([y.Square().Sum()], [wi], createGraph: true)[0]!;
            return Autograd.Grad([gw.Square().Sum()], [xi])[0]!;
        }
        Assert.That(RelErr(SecondOrder(x, w), SecondOrder(x2, w2)), Is.LessThan(1e-4));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void NonContiguousOutputGradients(int threads)
    {
        // The direct backward kernels read the output gradient through its strides: an expanded one (the gradient of
        // Sum) and a transposed one (through Transpose) against the float64 path.
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = threads;
            Tensor.ManualSeed(25);
            var x = Tensor.Randn([2, 5, 16, 16]).RequiresGrad_(); var w = Tensor.Randn([7, 5, 3, 3]).RequiresGrad_(); var b = Tensor.Randn([7]).RequiresGrad_();
            var x2 = x.Detach().To(DType.Float64).RequiresGrad_(); var w2 = w.Detach().To(DType.Float64).RequiresGrad_(); var b2 = b.Detach().To(DType.Float64).RequiresGrad_();
            var gt = Tensor.Randn([2, 7, 16, 16]);
            Func<Tensor, Tensor>[] losses = [y => y.Sum(), y => (y.Transpose(2, 3) * gt.To(y.DType)).Sum()];
            foreach (var loss in losses)
            {
                x.Grad = null; w.Grad = null; b.Grad = null; x2.Grad = null; w2.Grad = null; b2.Grad = null;
                loss(Functional.Conv2d(x, w, b, padding: (1, 1))).Backward();
                loss(Functional.Conv2d(x2, w2, b2, padding: (1, 1))).Backward();
                Assert.That(RelErr(x.Grad!, x2.Grad!), Is.LessThan(1e-5), "grad x");
                Assert.That(RelErr(w.Grad!, w2.Grad!), Is.LessThan(1e-5), "grad w");
                Assert.That(RelErr(b.Grad!, b2.Grad!), Is.LessThan(1e-5), "grad b");
            }
        }
        finally { CpuThreads.Count = saved; }
    }

    [Test]
    public void Conv1dFloat32MatchesFloat64()
    {
        Tensor.ManualSeed(24);
        var x = Tensor.Randn([3, 4, 48]).RequiresGrad_(); var w = Tensor.Randn([6, 4, 3]).RequiresGrad_(); var b = Tensor.Randn([6]).RequiresGrad_();
        var y = Functional.Conv1d(x, w, b, padding: 1);
        y.Square().Sum().Backward();
        var x2 = x.Detach().To(DType.Float64).RequiresGrad_(); var w2 = w.Detach().To(DType.Float64).RequiresGrad_(); var b2 = b.Detach().To(DType.Float64).RequiresGrad_();
        var y2 = Functional.Conv1d(x2, w2, b2, padding: 1);
        y2.Square().Sum().Backward();
        Assert.That(RelErr(y, y2), Is.LessThan(1e-5), "output");
        Assert.That(RelErr(x.Grad!, x2.Grad!), Is.LessThan(1e-5), "grad x");
        Assert.That(RelErr(w.Grad!, w2.Grad!), Is.LessThan(1e-5), "grad w");
        Assert.That(RelErr(b.Grad!, b2.Grad!), Is.LessThan(1e-5), "grad b");
    }
}

/// <summary>The AVX-512 2×2/stride-2 float32 max pool against the scalar float64 loop (same values, same argmax).</summary>
public class MaxPoolKernelTests
{
    [TestCase(2, 3, 32, 32, 1)]
    [TestCase(2, 3, 32, 32, 2)]
    [TestCase(1, 2, 38, 38, 2)]
    [TestCase(3, 1, 9, 35, 1)]
    [TestCase(2, 2, 6, 8, 2)]
    [TestCase(2, 3, 16, 16, 2)]
    [TestCase(1, 2, 12, 17, 1)]
    [TestCase(2, 2, 10, 16, 2)]
    public void Float32MatchesFloat64WithTiesAndNaN(int n, int c, int h, int w, int threads)
    {
        int saved = Cpu.CpuThreads.Count;
        try
        {
            Cpu.CpuThreads.Count = threads;
            Tensor.ManualSeed(31);
            // Values on a coarse grid (many ties) with some NaNs (the first NaN of a window wins).
            var v = (Tensor.Randn([n, c, h, w]) * 2).Round().ToArray<float>();
            var r = new System.Random(5);
            for (int i = 0; i < v.Length; i++) if (r.Next(17) == 0) v[i] = float.NaN;
            var x = Tensor.FromArray(v, n, c, h, w).RequiresGrad_();
            var x2 = x.Detach().To(DType.Float64).RequiresGrad_();
            var y = Functional.MaxPool2d(x, (2, 2));
            var y2 = Functional.MaxPool2d(x2, (2, 2));
            Assert.That(y.ToArray<float>(), Is.EqualTo(y2.To(DType.Float32).ToArray<float>()), "values");
            var g = Tensor.Randn(y.Shape.ToArray());
            y.Backward(g); y2.Backward(g.To(DType.Float64));
            Assert.That(x.Grad!.ToArray<float>(), Is.EqualTo(x2.Grad!.To(DType.Float32).ToArray<float>()), "gradient (argmax positions)");
        }
        finally { Cpu.CpuThreads.Count = saved; }
    }
}
