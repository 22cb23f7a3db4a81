namespace Ember.AutogradTests;

/// <summary>The backward pass: accumulation, graph freeing, Grad(), errors, deep graphs, higher order.</summary>
public class EngineTests
{
    [Test]
    public void ATensorUsedTwiceGetsBothContributions()
    {
        var x = T.Of([2, 3]);
        (x * x + x).Sum().Backward();        // d/dx (x² + x) = 2x + 1
        T.Close(x.Grad, [5, 7]);
    }

    [Test]
    public void SecondBackwardAddsIntoGrad()
    {
        var x = T.Of([1, 2]);
        (x * 3).Sum().Backward();
        var first = x.Grad!;
        (x * 3).Sum().Backward();
        T.Close(x.Grad, [6, 6]);
        T.Close(first, [3, 3]);    // accumulation made a new tensor; the old one is untouched
    }

    [Test]
    public void GradOfLeafIsNotSharedBetweenLeaves()
    {
        var a = T.Of([1, 2]);
        var b = T.Of([3, 4]);
        (a + b).Sum().Backward();
        Assert.That(a.Grad, Is.Not.SameAs(b.Grad));
        using (Autograd.NoGrad()) a.Grad!.Mul_(10);
        T.Close(b.Grad, [1, 1]);
    }

    [Test]
    public void ChainOfTenThousandOpsDoesNotOverflowTheStack()
    {
        var x = T.Of([1.0]);
        var y = x;
        for (int i = 0; i < 10_000; i++) y = y * 1.0001;
        y.Sum().Backward();
        Assert.That(x.Grad!.Item(), Is.EqualTo(Math.Pow(1.0001, 10_000)).Within(1e-9));
        Assert.That(Autograd.ToDot(y), Does.StartWith("digraph"));
    }

    [Test]
    public void SecondBackwardThroughFreedGraphThrows()
    {
        var x = T.Of([1, 2]);
        var y = (x.Exp() * x).Sum();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(e!.Message, Does.Contain("Trying to backward through the graph a second time").And.Contain("retainGraph: true"));
    }

    [Test]
    public void RetainGraphAllowsASecondBackward()
    {
        var x = T.Of([1, 2]);
        var y = (x.Exp() * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        var e1 = Math.E; var e2 = Math.Exp(2);
        T.Close(x.Grad, [2 * (e1 + e1), 2 * (e2 + 2 * e2)], 1e-9);
    }

    [Test]
    public void NonScalarBackwardNeedsAGradient()
    {
        var x = T.Of([1, 2]);
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2).Backward());
        Assert.That(e!.Message, Does.Contain("grad can be implicitly created only for scalar outputs").And.Contain("[2]"));
        (x * 2).Backward(Tensor.FromArray(new[] { 1.0, 10.0 }, 2));
        T.Close(x.Grad, [2, 20]);
    }

    [Test]
    public void GradientShapeMismatchThrows()
    {
        var x = T.Of([1, 2]);
        var e = Assert.Throws<ArgumentException>(() => (x * 2).Backward(Tensor.Ones([3], DType.Float64)));
        Assert.That(e!.Message, Does.Contain("[3]").And.Contain("[2]"));
    }

    [Test]
    public void BackwardOnATensorThatDoesNotRequireGradThrows()
    {
        var x = Tensor.Ones([2], DType.Float64);
        var e = Assert.Throws<InvalidOperationException>(() => x.Sum().Backward());
        Assert.That(e!.Message, Does.Contain("element 0 of tensors does not require grad and does not have a grad_fn"));
        var g = Assert.Throws<InvalidOperationException>(() => Autograd.Grad([x.Sum()], [x]));
        Assert.That(g!.Message, Does.Contain("does not require grad"));
    }

    [Test]
    public void GradReturnsGradientsWithoutTouchingDotGrad()
    {
        var x = T.Of([1, 2]);
        var w = T.Of([3, 4]);
        var h = x * w;                     // a non-leaf input
        var y = (h * h).Sum();
        var grads = Autograd.Grad([y], [x, h]);
        T.Close(grads[0], [2 * 3 * 3 * 1, 2 * 4 * 4 * 2]);
        T.Close(grads[1], [6, 16]);
        Assert.That(x.Grad, Is.Null);
        Assert.That(w.Grad, Is.Null);
        Assert.That(grads[0]!.RequiresGrad, Is.False);
    }

    [Test]
    public void GradUnusedInputNeedsAllowUnused()
    {
        var x = T.Of([1, 2]);
        var z = T.Of([1, 2]);
        var e = Assert.Throws<InvalidOperationException>(() => Autograd.Grad([(x * 2).Sum()], [x, z], retainGraph: true));
        Assert.That(e!.Message, Does.Contain("allowUnused"));
        var grads = Autograd.Grad([(x * 2).Sum()], [x, z], allowUnused: true);
        Assert.That(grads[1], Is.Null);
    }

    [Test]
    public void GradWithSeveralOutputsSumsTheirContributions()
    {
        var x = T.Of([1, 2]);
        var grads = Autograd.Grad([x * 2, x.Square()], [x], [Tensor.Ones([2], DType.Float64), Tensor.FromArray(new[] { 1.0, 0.5 }, 2)]);
        T.Close(grads[0], [2 + 2, 2 + 2]);
    }

    [Test]
    public void CreateGraphGivesSecondDerivatives()
    {
        var x = T.Of([0.5, -1.0]);
        var y = (x.Pow(3)).Sum();
        var g = Autograd.Grad([y], [x], createGraph: true)[0]!;    // 3x²
        Assert.That(g.RequiresGrad, Is.True);
        var gg = Autograd.Grad([g.Sum()], [x])[0];                  // 6x
        T.Close(gg, [3, -6]);
    }

    [Test]
    public void BackwardWithCreateGraphMakesADifferentiableGrad()
    {
        var x = T.Of([2.0]);
        (x.Exp() * x).Sum().Backward(createGraph: true);          // (1 + x)e^x
        var g = x.Grad!;
        Assert.That(g.RequiresGrad, Is.True);
        x.Grad = null;
        g.Sum().Backward();                                        // (2 + x)e^x
        T.Close(x.Grad, [4 * Math.Exp(2)], 1e-9);
    }

    [Test]
    public void ThirdDerivative()
    {
        var x = T.Of([0.7]);
        var g1 = Autograd.Grad([x.Sin().Sum()], [x], createGraph: true)[0]!;
        var g2 = Autograd.Grad([g1.Sum()], [x], createGraph: true)[0]!;
        var g3 = Autograd.Grad([g2.Sum()], [x])[0];
        T.Close(g3, [-Math.Cos(0.7)], 1e-12);
    }

    [Test]
    public void RetainGradKeepsANonLeafGradient()
    {
        var x = T.Of([1, 2]);
        var h = x * 3;
        h.RetainGrad();
        var unretained = x * 4;
        (h * h + unretained).Sum().Backward();
        T.Close(h.Grad, [6, 12]);
        Assert.That(unretained.Grad, Is.Null);
        Assert.That(h.IsLeaf, Is.False);
        Assert.That(h.GradFn!.Name, Is.EqualTo("MulBackward"));
    }

    [Test]
    public void DetachStopsGradients()
    {
        var x = T.Of([1, 2]);
        var y = (x.Detach() * x).Sum();
        y.Backward();
        T.Close(x.Grad, [1, 2]);
    }

    [Test]
    public void GradFnExposesTheGraph()
    {
        var x = T.Of([1, 2]);
        var w = Tensor.Ones([2], DType.Float64);
        var y = (x * w).Exp();
        Assert.That(y.GradFn!.Name, Is.EqualTo("ExpBackward"));
        var mul = y.GradFn.NextFunctions[0]!;
        Assert.That(mul.Name, Is.EqualTo("MulBackward"));
        Assert.That(mul.NextFunctions[0]!.Name, Is.EqualTo("AccumulateGrad"));
        Assert.That(mul.NextFunctions[1], Is.Null);
    }

    [Test]
    public void InPlaceOnALeafThatRequiresGradThrowsOutsideNoGrad()
    {
        var x = T.Of([1, 2]);
        Assert.Throws<InvalidOperationException>(() => x.Mul_(2));
        using (Autograd.NoGrad()) x.Mul_(2);
        T.Close(x, [2, 4]);
    }

    [Test]
    public void Float32GradientsHaveTheLeafDType()
    {
        var x = Tensor.FromArray(new float[] { 1, 2 }, 2).RequiresGrad_();
        (x.To(DType.Float64) * 2).Sum().Backward();
        Assert.That(x.Grad!.DType, Is.EqualTo(DType.Float32));
        Assert.That(x.Grad.ToArray<float>(), Is.EqualTo(new float[] { 2, 2 }));
    }

    [Test]
    public void MlpLikeCompositionMatchesFiniteDifferences()
    {
        var x = T.U([4, 3]);
        var w1 = T.U([3, 5]);
        var b1 = T.U([5]);
        var w2 = T.U([5, 2]);
        Assert.That(GradCheck.Check(p => (p[0].MatMul(p[1]) + p[2]).Tanh().MatMul(p[3]).LogSoftmax(1).Mean(), [x, w1, b1, w2]), Is.True);
    }
}
