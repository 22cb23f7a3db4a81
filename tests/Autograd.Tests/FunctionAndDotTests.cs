namespace Ember.AutogradTests;

/// <summary>Custom Functions end to end, and ToDot output.</summary>
public class FunctionAndDotTests
{
    /// <summary>y = a·x³ + b (b a tensor), with a in Values.</summary>
    private sealed class ScaledCubePlus : Function
    {
        public int BackwardCalls;

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            Assert.That(Autograd.IsGradEnabled, Is.False);
            ctx.SaveForBackward(inputs[0]);
            ctx.Values["a"] = 2.0;
            return inputs[0].Pow(3) * 2.0 + inputs[1];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            BackwardCalls++;
            var x = ctx.SavedTensors[0];
            double a = (double)ctx.Values["a"];
            return [ctx.NeedsInputGrad[0] ? gradOutput * 3 * a * x.Square() : null, ctx.NeedsInputGrad[1] ? gradOutput : null];
        }
    }

    private sealed class Identity : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0];
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput * 2];
    }

    private sealed class WrongShape : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0] * 1;
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput.Sum()];
    }

    [Test]
    public void CustomFunctionEndToEnd()
    {
        var f = new ScaledCubePlus();
        var x = T.Of([1, 2]);
        var b = T.Of([0.5, 0.5]);
        var y = f.Apply(x, b);
        Assert.That(y.GradFn!.Name, Is.EqualTo("ScaledCubePlusBackward"));
        T.Close(y, [2.5, 16.5]);
        (y * y).Sum().Backward();
        T.Close(x.Grad, [2 * 2.5 * 6, 2 * 16.5 * 24]);
        T.Close(b.Grad, [5, 33]);
        Assert.That(f.BackwardCalls, Is.EqualTo(1));
        Assert.That(GradCheck.Check(p => f.Apply(p[0], p[1]), [T.U([3]), T.U([3])]), Is.True);
    }

    [Test]
    public void CustomFunctionSkipsInputsWithoutGradAndFreesSavedTensors()
    {
        var f = new ScaledCubePlus();
        var x = T.Of([1, 2]);
        var c = Tensor.Ones([2], DType.Float64);
        var y = f.Apply(x, c).Sum();
        Assert.That(y.GradFn!.NextFunctions[0]!.NextFunctions[1], Is.Null);
        y.Backward();
        T.Close(x.Grad, [6, 24]);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
    }

    [Test]
    public void CustomFunctionWithoutGradDoesNotRecord()
    {
        var x = Tensor.Ones([2], DType.Float64);
        var y = new ScaledCubePlus().Apply(x, x);
        Assert.That(y.GradFn, Is.Null);
    }

    [Test]
    public void FunctionReturningItsInputDoesNotChangeTheInput()
    {
        var x = T.Of([1, 2]);
        var y = new Identity().Apply(x);
        Assert.That(x.IsLeaf, Is.True);
        Assert.That(y, Is.Not.SameAs(x));
        y.Sum().Backward();
        T.Close(x.Grad, [2, 2]);
    }

    [Test]
    public void FunctionReturningAWrongShapeIsReported()
    {
        var x = T.Of([1, 2]);
        var e = Assert.Throws<InvalidOperationException>(() => new WrongShape().Apply(x).Sum().Backward());
        Assert.That(e!.Message, Does.Contain("WrongShape").And.Contain("whose shape is [2]"));
    }

    [Test]
    public void ToDotIsAWellFormedGraph()
    {
        var x = T.Of([1, 2, 3, 4], 2, 2);
        x.Name = "x";
        var w = T.Of([1, 0, 0, 1], 2, 2);
        w.Name = "w \"weights\"";
        var y = (x.MatMul(w).Tanh() + x).Sum();
        var dot = Autograd.ToDot(y);
        var lines = dot.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines[0], Is.EqualTo("digraph autograd {"));
        Assert.That(lines[^1], Is.EqualTo("}"));
        Assert.That(dot.Count(ch => ch == '{'), Is.EqualTo(dot.Count(ch => ch == '}')));
        var declared = new HashSet<string>();
        int edges = 0;
        foreach (var line in lines[1..^1])
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^(\w+) -> (\w+);$");
            if (m.Success)
            {
                Assert.That(declared, Does.Contain(m.Groups[1].Value), line);
                Assert.That(declared, Does.Contain(m.Groups[2].Value), line);
                edges++;
                continue;
            }
            if (line.StartsWith("node [", StringComparison.Ordinal)) continue;   // default attributes
            var d = System.Text.RegularExpressions.Regex.Match(line, "^(\\w+) \\[label=\"((?:[^\"\\\\]|\\\\.)*)\"[^\\]]*\\];$");
            Assert.That(d.Success, Is.True, line);
            declared.Add(d.Groups[1].Value);
        }
        Assert.That(dot, Does.Contain("TanhBackward").And.Contain("BmmBackward").And.Contain("SumBackward"));
        Assert.That(dot, Does.Contain("x\\n[2, 2] Float64").And.Contain("w \\\"weights\\\""));
        Assert.That(dot, Does.Contain("saved result: Float64 [2, 2]"));
        Assert.That(edges, Is.GreaterThanOrEqualTo(declared.Count - 1));
    }
}
