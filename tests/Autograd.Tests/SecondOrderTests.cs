namespace Ember.AutogradTests;

/// <summary>GradGradCheck: the backward formulas are themselves correctly differentiable.</summary>
public class SecondOrderTests
{
    public static IEnumerable<GradCase> Cases()
    {
        yield return new("Tanh", x => x[0].Tanh(), () => [T.U([2, 3], nonContiguous: true)]);
        yield return new("Sigmoid", x => x[0].Sigmoid(), () => [T.U([3, 2])]);
        yield return new("Mul broadcast", x => x[0] * x[1], () => [T.U([2, 3]), T.U([3])]);
        yield return new("Div", x => x[0] / x[1], () => [T.U([2, 3]), T.U([2, 3], 0.5, 2)]);
        yield return new("MatMul", x => x[0].MatMul(x[1]), () => [T.U([2, 3], nonContiguous: true), T.U([3, 2])]);
        yield return new("Exp", x => x[0].Exp(), () => [T.U([2, 2])]);
        yield return new("Log", x => x[0].Log(), () => [T.U([2, 2], 0.5, 2)]);
        yield return new("Pow tensor", x => x[0].Pow(x[1]), () => [T.U([2, 2], 0.5, 2), T.U([2, 2])]);
        yield return new("Pow scalar", x => x[0].Pow(2.5), () => [T.U([3], 0.5, 2)]);
        yield return new("Softmax-like composite", x => { var e = (x[0] - x[0].Amax([1], true)).Exp(); return e / e.Sum(1, keepDim: true); },
            () => [T.U([2, 3])]);
        yield return new("Softmax", x => x[0].Softmax(1), () => [T.U([2, 3])]);
        yield return new("LogSoftmax", x => x[0].LogSoftmax(0), () => [T.U([3, 2])]);
        yield return new("LogSumExp", x => x[0].LogSumExp(1), () => [T.U([2, 3])]);
        yield return new("Gelu", x => x[0].Gelu(), () => [T.U([4])]);
        yield return new("Slice and Cat", x => Tensor.Cat([x[0][.., 1..3].Square(), x[0].Slice(1, 0, 4, 2)], 1), () => [T.U([2, 4])]);
        yield return new("Gather/IndexSelect", x => x[0].Gather(1, Tensor.FromArray(new long[] { 0, 2, 1, 1 }, 2, 2)).Square()
            + x[0].IndexSelect(1, Tensor.FromArray(new long[] { 2, 0 }, 2)).Exp(), () => [T.U([2, 3])]);
        yield return new("Prod", x => x[0].Prod(1), () => [T.U([2, 3], 0.5, 1.5)]);
        yield return new("Max dim", x => x[0].Max(1).Values.Square(), () => [T.U([2, 3])]);
    }

    [TestCaseSource(nameof(Cases))]
    public void GradGradCheck(GradCase c) => Assert.That(GradCheck.CheckSecondOrder(c.F, c.Inputs(), c.Eps, c.Atol, c.Rtol), Is.True);

    [Test]
    public void GradCheckReportsTheWorstElement()
    {
        var f = new WrongSquare();
        var x = T.Of([1, 2, 3]);
        var e = Assert.Throws<InvalidOperationException>(() => GradCheck.Check(p => f.Apply(p[0]), [x]));
        Assert.That(e!.Message, Does.Contain("input 0").And.Contain("input position [2]").And.Contain("numerical 6").And.Contain("analytical 3"));
        Assert.That(GradCheck.Check(p => f.Apply(p[0]), [x], raiseException: false), Is.False);
    }

    [Test]
    public void GradCheckRejectsFloat32()
    {
        var x = Tensor.Ones([2]).RequiresGrad_();
        Assert.Throws<ArgumentException>(() => GradCheck.Check(p => p[0] * 2, [x]));
    }

    private sealed class WrongSquare : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return inputs[0].Square();
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput * ctx.SavedTensors[0]];   // should be 2x
    }
}
