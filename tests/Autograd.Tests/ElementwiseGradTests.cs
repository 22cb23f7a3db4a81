namespace Ember.AutogradTests;

/// <summary>GradCheck for every differentiable elementwise op (one row per UnaryOp / BinaryOp), float64.</summary>
public class ElementwiseGradTests
{
    private static GradCase Unary(string name, Func<Tensor, Tensor> f, double lo = -2, double hi = 2) =>
        new(name, x => f(x[0]), () => [T.U([2, 3], lo, hi, nonContiguous: true)]);

    private static GradCase UnaryAwayFromZero(string name, Func<Tensor, Tensor> f) =>
        new(name, x => f(x[0]), () => [T.AwayFromZero([3, 2], nonContiguous: true)]);

    public static IEnumerable<GradCase> UnaryCases()
    {
        yield return Unary("Neg", x => -x);
        yield return UnaryAwayFromZero("Abs", x => x.Abs());
        yield return Unary("Exp", x => x.Exp());
        yield return Unary("Log", x => x.Log(), 0.2, 3);
        yield return Unary("Log1p", x => x.Log1p(), -0.5, 3);
        yield return Unary("Expm1", x => x.Expm1());
        yield return Unary("Sqrt", x => x.Sqrt(), 0.2, 3);
        yield return Unary("Rsqrt", x => x.Rsqrt(), 0.2, 3);
        yield return Unary("Square", x => x.Square());
        yield return Unary("Sin", x => x.Sin());
        yield return Unary("Cos", x => x.Cos());
        yield return Unary("Tanh", x => x.Tanh());
        yield return Unary("Sigmoid", x => x.Sigmoid());
        yield return UnaryAwayFromZero("Relu", x => x.Relu());
        yield return Unary("Gelu", x => x.Gelu(), -3, 3);
        yield return Unary("GeluTanh", x => x.Gelu(GeluApproximate.Tanh), -3, 3);
        yield return Unary("Silu", x => x.Silu(), -3, 3);
        yield return Unary("Softplus", x => x.Softplus(), -3, 3);
        yield return new("Softplus(beta 2, threshold 1) both branches", x => x[0].Softplus(2, 1),
            () => [T.Of([-1.5, -0.3, 0.2, 0.45, 0.7, 1.9], 2, 3)]);
        yield return Unary("Erf", x => x.Erf());
        yield return Unary("Mish", x => x.Mish(), -4, 4);
        yield return Unary("Logit", x => x.Logit(), 0.05, 0.95);
        yield return new("Logit(eps 0.2) inside and outside the clamp", x => x[0].Logit(0.2),
            () => [T.Of([0.05, 0.15, 0.3, 0.5, 0.75, 0.9], 2, 3)]);
        yield return new("Floor/Ceil/Round/Sign (zero gradient)", x => x[0].Floor() + x[0].Ceil() + x[0].Round() + x[0].Sign() + x[0],
            () => [T.Of([-1.3, -0.7, 0.2, 0.45, 1.6, 2.2], 2, 3)]);
        yield return Unary("Reciprocal", x => x.Reciprocal(), 0.3, 2);
        yield return Unary("AddScalar", x => x + 1.5);
        yield return Unary("MulScalar", x => x * -2.5);
        yield return Unary("RSubScalar", x => 3 - x);
        yield return Unary("RDivScalar", x => 2 / x, 0.3, 2);
        yield return Unary("PowScalar 2.5", x => x.Pow(2.5), 0.2, 2);
        yield return Unary("PowScalar 3", x => x.Pow(3));
        yield return Unary("PowScalar 0", x => x.Pow(0));
        yield return Unary("PowScalar -1.5", x => x.Pow(-1.5), 0.3, 2);
        yield return Unary("RPowScalar 2^x", x => Tensor.Pow(2.0, x));
        yield return Unary("RPowScalar 0.5^x", x => Tensor.Pow(0.5, x));
        yield return new("Clamp(min, max)", x => x[0].Clamp(-0.5, 0.5), () => [T.Of([-1.3, -0.7, 0.2, 0.45, 0.6, -0.1], 2, 3)]);
        yield return new("Clamp(min)", x => x[0].Clamp(min: 0.1), () => [T.Of([-1.3, -0.7, 0.2, 0.45, 0.6, -0.1], 3, 2)]);
        yield return new("Clamp(max)", x => x[0].Clamp(max: 0.1), () => [T.Of([-1.3, -0.7, 0.2, 0.45, 0.6, -0.1], 6)]);
        yield return UnaryAwayFromZero("LeakyRelu", x => x.LeakyRelu(0.1));
        yield return UnaryAwayFromZero("Elu", x => x.Elu(1.3));
    }

    private static GradCase Binary(string name, Func<Tensor, Tensor, Tensor> f, long[] a, long[] b, double lo = -2, double hi = 2,
        double blo = double.NaN, double bhi = double.NaN) =>
        new(name, x => f(x[0], x[1]), () =>
            [T.U(a, lo, hi, nonContiguous: a.Length >= 2), T.U(b, double.IsNaN(blo) ? lo : blo, double.IsNaN(bhi) ? hi : bhi, nonContiguous: b.Length >= 2)]);

    public static IEnumerable<GradCase> BinaryCases()
    {
        long[][][] shapes = [[[2, 3], [2, 3]], [[2, 3], [3]], [[4, 1], [1, 3]], [[2, 1, 3], [2, 1]], [[], [2, 2]]];
        foreach (var s in shapes)
        {
            string tag = $" {Fmt(s[0])}·{Fmt(s[1])}";
            yield return Binary("Add" + tag, (a, b) => a + b, s[0], s[1]);
            yield return Binary("Sub" + tag, (a, b) => a - b, s[0], s[1]);
            yield return Binary("Mul" + tag, (a, b) => a * b, s[0], s[1]);
            yield return Binary("Div" + tag, (a, b) => a / b, s[0], s[1], 0.3, 2);
            yield return Binary("Pow" + tag, (a, b) => a.Pow(b), s[0], s[1], 0.3, 2, -2, 2);
            yield return Binary("Maximum" + tag, (a, b) => a.Maximum(b), s[0], s[1]);
            yield return Binary("Minimum" + tag, (a, b) => a.Minimum(b), s[0], s[1]);
            yield return Binary("Remainder" + tag, (a, b) => a.Remainder(b), s[0], s[1], 0.3, 2.9, 0.7, 1.3);
            yield return Binary("Add(alpha)" + tag, (a, b) => a.Add(b, 2.5), s[0], s[1]);
        }
        yield return new("Where", x => Tensor.Where(x[0].Gt(x[1]), x[0], x[1] * 2), () => [T.U([2, 3], nonContiguous: true), T.U([2, 3])]);
        yield return new("Where broadcast", x => Tensor.Where(x[0].Gt(0.0), x[0], x[1]), () => [T.U([2, 3]), T.U([3])]);
        yield return new("MaskedFill", x => x[0].MaskedFill(x[0].Lt(0.0), 3), () => [T.U([3, 2], nonContiguous: true)]);
    }

    private static string Fmt(long[] s) => "[" + string.Join(",", s) + "]";

    [TestCaseSource(nameof(UnaryCases))]
    public void Unary_GradCheck(GradCase c) => Assert.That(GradCheck.Check(c.F, c.Inputs(), c.Eps, c.Atol, c.Rtol), Is.True);

    [TestCaseSource(nameof(BinaryCases))]
    public void Binary_GradCheck(GradCase c) => Assert.That(GradCheck.Check(c.F, c.Inputs(), c.Eps, c.Atol, c.Rtol), Is.True);

    [Test]
    public void EveryUnaryBinaryAndReduceOpHasAnEntryOrIsNotDifferentiable()
    {
        var covered = Derivatives.Covered.ToHashSet();
        string[] notDifferentiable = ["IsNan", "IsInf", "LogicalNot", "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "LogicalAnd", "LogicalOr", "LogicalXor", "All", "Any",
            "ReluBackward", "GeluBackward"];   // gradient kernels the formula table uses when backward is not recorded
        foreach (var op in Enum.GetNames<UnaryOp>().Concat(Enum.GetNames<BinaryOp>()).Concat(Enum.GetNames<ReduceOp>()).Concat(Enum.GetNames<OpKind>()))
            if (op is not ("Unary" or "Binary" or "Reduce") && !notDifferentiable.Contains(op))
                Assert.That(covered, Does.Contain(op), $"{op} has no backward formula");
    }

    [Test]
    public void TiesOfMaximumSplitTheGradient()
    {
        var a = T.Of([1, 2, 3]);
        var b = T.Of([1, 5, 0]);
        a.Maximum(b).Backward(Tensor.OnesLike(a));
        T.Close(a.Grad, [0.5, 0, 1]);
        T.Close(b.Grad, [0.5, 1, 0]);
    }

    [Test]
    public void PowAtZeroFollowsPyTorch()
    {
        // d/dx x^0 = 0 even at x = 0; d/dy 0^y = 0 for y ≥ 0 (not NaN from 0·ln 0).
        var x = T.Of([0.0, 0.0, 2.0]);
        var y = T.Of([0.0, 2.0, 0.0]);
        x.Pow(y).Backward(Tensor.OnesLike(x));
        T.Close(x.Grad, [0, 0, 0]);
        T.Close(y.Grad, [0, 0, Math.Log(2)]);
        var z = T.Of([0.0, 1.0]);
        z.Pow(0).Backward(Tensor.OnesLike(z));
        T.Close(z.Grad, [0, 0]);
    }

    [Test]
    public void ClampBoundaryPassesGradient()
    {
        var x = T.Of([-1, 0, 1, 2]);
        x.Clamp(0, 1).Backward(Tensor.OnesLike(x));
        T.Close(x.Grad, [0, 1, 1, 0]);
    }

    [Test]
    public void ReluAtZeroHasZeroGradient()
    {
        var x = T.Of([-1, 0, 1]);
        x.Relu().Backward(Tensor.OnesLike(x));
        T.Close(x.Grad, [0, 0, 1]);
    }
}
