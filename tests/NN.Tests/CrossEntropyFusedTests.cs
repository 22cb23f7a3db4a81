namespace Ember.NN.Tests;

/// <summary>The fused cross-entropy Function against its composite definition, GradCheck (first and second order) and its errors.</summary>
public class CrossEntropyFusedTests
{
    private static Tensor R(DType dt, params long[] shape) => FusedKernelTests.R(dt, shape);

    private static void Close(Tensor a, Tensor b, double tol, string what) => FusedKernelTests.Close(a, b, tol, what);

    // The composite definition the fused cross-entropy must equal: log-softmax, then NLL (+ the smoothing term).
    private static Tensor CrossEntropyComposite(Tensor x, Tensor t, Tensor? w, long ignore, Reduction red, double eps)
    {
        var logp = x.LogSoftmax(1);
        var nll = Functional.NllLoss(logp, t, w, ignore, red);
        if (eps == 0) return nll;
        var ignored = t.Eq(ignore);
        var smooth = -(w is null ? logp : logp * w.Reshape(1, -1)).Sum(1).MaskedFill(ignored, 0);
        var keepW = w is null ? ignored.LogicalNot().To(x.DType) : w.IndexSelect(0, Tensor.Where(ignored, Tensor.ZerosLike(t), t)) * ignored.LogicalNot().To(x.DType);
        var sm = red switch { Reduction.Mean => smooth.Sum() / keepW.Sum(), Reduction.Sum => smooth.Sum(), _ => smooth };
        return nll * (1 - eps) + sm * (eps / x.Shape[1]);
    }

    [TestCase(DType.Float32, false, 0.0, Reduction.Mean, 1e-5)]
    [TestCase(DType.Float32, true, 0.1, Reduction.Sum, 1e-4)]
    [TestCase(DType.Float64, true, 0.25, Reduction.None, 1e-12)]
    [TestCase(DType.Float64, false, 0.0, Reduction.None, 1e-12)]
    [TestCase(DType.Float64, true, 0.0, Reduction.Mean, 1e-12)]
    [TestCase(DType.Float64, false, 0.15, Reduction.Mean, 1e-12)]   // the unweighted mean: rows scaled by 1/count in the kernels
    public void CrossEntropyMatchesComposite(DType dt, bool weighted, double eps, Reduction red, double tol)
    {
        Tensor.ManualSeed(21);
        var x = (R(dt, 33, 17) * 3).RequiresGrad_();
        var t = Tensor.FromArray(Enumerable.Range(0, 33).Select(i => i % 5 == 2 ? -1L : (i * 5L) % 17).ToArray());
        var w = weighted ? R(dt, 17).Sigmoid() : null;
        var y = Functional.CrossEntropy(x, t, w, ignoreIndex: -1, reduction: red, labelSmoothing: eps);
        var g = R(dt, y.Shape.ToArray());
        (y * g).Sum().Backward();
        var x2 = x.Detach().RequiresGrad_();
        var y2 = CrossEntropyComposite(x2, t, w, -1, red, eps);
        (y2 * g).Sum().Backward();
        Close(y, y2, tol, "loss");
        Close(x.Grad!, x2.Grad!, tol, "grad");
        Assert.That(y.Shape.ToArray(), Is.EqualTo(y2.Shape.ToArray()));
    }

    [Test]
    public void CrossEntropyGradCheckFirstAndSecondOrder()
    {
        Tensor.ManualSeed(22);
        var t = Tensor.FromArray([2L, 0L, -100L, 3L]);
        var w = Tensor.FromArray([0.5, 1.0, 2.0, 0.25]);
        Tensor[] x = [R(DType.Float64, 4, 4).RequiresGrad_()];
        Assert.That(GradCheck.Check(v => Functional.CrossEntropy(v[0], t, w, labelSmoothing: 0.2), x), Is.True);
        Assert.That(GradCheck.Check(v => Functional.CrossEntropy(v[0], t, reduction: Reduction.None), x), Is.True);
        // Second order goes through the differentiable backward (createGraph).
        Assert.That(GradCheck.CheckSecondOrder(v => Functional.CrossEntropy(v[0], t, w, labelSmoothing: 0.1, reduction: Reduction.Sum), x), Is.True);
        // The unweighted mean (each row's loss and gradient scaled by 1/count inside the fused op), first and second order.
        Assert.That(GradCheck.Check(v => Functional.CrossEntropy(v[0], t, labelSmoothing: 0.3), x), Is.True);
        Assert.That(GradCheck.CheckSecondOrder(v => Functional.CrossEntropy(v[0], t, labelSmoothing: 0.3), x), Is.True);
        // Spatial dims: [N, C, H] with [N, H] targets.
        var t3 = Tensor.FromArray([1L, 0L, 2L, 2L, -100L, 1L], 2, 3);
        Assert.That(GradCheck.Check(v => Functional.CrossEntropy(v[0], t3), [R(DType.Float64, 2, 3, 3).RequiresGrad_()]), Is.True);
    }

    [Test]
    public void CrossEntropyRejectsBadTargetsBeforeAnyKernel()
    {
        var x = Tensor.Zeros(3, 4);
        Assert.That(() => Functional.CrossEntropy(x, Tensor.FromArray([0L, 4L, 1L])),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("CrossEntropy").And.Message.Contains("target 4").And.Message.Contains("4 classes"));
        Assert.That(() => Functional.CrossEntropy(x, Tensor.FromArray([0L, -3L, 1L])), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => Functional.CrossEntropy(x, Tensor.FromArray([0f, 1f, 1f])), Throws.ArgumentException.With.Message.Contains("CrossEntropy"));
        Assert.That(() => Functional.CrossEntropy(x, Tensor.FromArray([0L, 1L, 1L]), Tensor.Ones(3)), Throws.ArgumentException.With.Message.Contains("weight"));
        // Int32 class indices are accepted like Int64; all-ignored mean is NaN (0/0), as in PyTorch.
        Assert.That(Functional.CrossEntropy(x, Tensor.FromArray([0, 1, 3])).Item(), Is.EqualTo(Math.Log(4)).Within(1e-6));
        Assert.That(double.IsNaN(Functional.CrossEntropy(x, Tensor.FromArray([-100L, -100L, -100L])).Item()), Is.True);
    }
}
