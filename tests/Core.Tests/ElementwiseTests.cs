namespace Ember.Core.Tests;

public class ElementwiseTests
{
    public record UOp(string Name, Func<Tensor, Tensor> Op, Func<double, double> Ref, double Lo = -3, double Hi = 3, bool Ints = false);

    static double Erf(double x) => MathNet.Numerics.SpecialFunctions.Erf(x);
    static double Sig(double x) => 1 / (1 + Math.Exp(-x));

    static readonly UOp[] Unary =
    [
        new("Neg", t => t.Neg(), x => -x, Ints: true),
        new("Abs", t => t.Abs(), Math.Abs, Ints: true),
        new("Exp", t => t.Exp(), Math.Exp),
        new("Log", t => t.Log(), Math.Log, 0.1, 5),
        new("Log1p", t => t.Log1p(), x => Math.Log(1 + x), -0.5, 3),
        new("Expm1", t => t.Expm1(), x => Math.Exp(x) - 1),
        new("Sqrt", t => t.Sqrt(), Math.Sqrt, 0, 5),
        new("Rsqrt", t => t.Rsqrt(), x => 1 / Math.Sqrt(x), 0.1, 5),
        new("Square", t => t.Square(), x => x * x, Ints: true),
        new("Sin", t => t.Sin(), Math.Sin),
        new("Cos", t => t.Cos(), Math.Cos),
        new("Tanh", t => t.Tanh(), Math.Tanh),
        new("Sigmoid", t => t.Sigmoid(), Sig),
        new("Relu", t => t.Relu(), x => Math.Max(x, 0), Ints: true),
        new("Gelu", t => t.Gelu(), x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)))),
        new("GeluTanh", t => t.Gelu(GeluApproximate.Tanh), x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
        new("Silu", t => t.Silu(), x => x * Sig(x)),
        new("Softplus", t => t.Softplus(), x => x > 20 ? x : Math.Log(1 + Math.Exp(x))),
        new("Softplus_beta2", t => t.Softplus(2, 3), x => 2 * x > 3 ? x : Math.Log(1 + Math.Exp(2 * x)) / 2),
        new("Erf", t => t.Erf(), Erf),
        new("Mish", t => t.Mish(), x => x * Math.Tanh(Math.Log(1 + Math.Exp(x))), -25, 25),
        new("Logit", t => t.Logit(), x => Math.Log(x / (1 - x)), 0.01, 0.99),
        new("Logit_eps", t => t.Logit(0.2), x => Math.Log(Math.Clamp(x, 0.2, 0.8) / (1 - Math.Clamp(x, 0.2, 0.8))), 0.01, 0.99),
        new("Floor", t => t.Floor(), Math.Floor, Ints: true),
        new("Ceil", t => t.Ceil(), Math.Ceiling, Ints: true),
        new("Round", t => t.Round(), x => Math.Round(x, MidpointRounding.ToEven), Ints: true),
        new("Sign", t => t.Sign(), x => Math.Sign(x), Ints: true),
        new("Reciprocal", t => t.Reciprocal(), x => 1 / x, 0.2, 3),
        new("LeakyRelu", t => t.LeakyRelu(0.1), x => x > 0 ? x : 0.1 * x),
        new("Elu", t => t.Elu(0.7), x => x > 0 ? x : 0.7 * (Math.Exp(x) - 1)),
        new("PowScalar", t => t.Pow(3), x => x * x * x, Ints: true),
        new("PowHalf", t => t.Pow(0.5), Math.Sqrt, 0, 4),
        new("RPow", t => Tensor.Pow(2.0, t), x => Math.Pow(2, x)),
        new("Clamp", t => t.Clamp(-1, 1), x => Math.Clamp(x, -1, 1), Ints: true),   // integral bounds keep an integer dtype (fractional ones give Float32, as PyTorch: PyTorchMeaningTests)
        new("ClampMin", t => t.Clamp(min: 0.25), x => Math.Max(x, 0.25)),
        new("AddScalar", t => t + 1.5, x => x + 1.5),
        new("RSubScalar", t => 1.5 - t, x => 1.5 - x),
        new("MulScalar", t => t * 2.5, x => x * 2.5),
        new("DivScalar", t => t / 4.0, x => x / 4),
        new("RDivScalar", t => 2.0 / t, x => 2 / x, 0.3, 3),
    ];

    public static IEnumerable<TestCaseData> UnaryCases()
    {
        foreach (var op in Unary)
            foreach (var dt in op.Ints ? new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64 } : U.Floats)
                foreach (var l in U.Layouts)
                    yield return new TestCaseData(op, dt, l).SetName($"Unary_{op.Name}_{dt}_{l}");
    }

    [TestCaseSource(nameof(UnaryCases))]
    public void UnaryMatchesFloat64Reference(UOp op, DType dt, Layout layout)
    {
        long[] shape = [3, 5];
        var data = U.Quantize(U.Data(shape, 2, op.Lo, dt.IsFloatingPoint() ? op.Hi : op.Hi + 1, integers: !dt.IsFloatingPoint()), dt);
        if (op.Name == "Round" && dt.IsFloatingPoint()) { data[0] = 2.5; data[1] = -0.5; data[2] = 1.5; }
        var x = U.Make(data, shape, dt, layout);
        var y = op.Op(x);
        Assert.That(y.DType, Is.EqualTo(dt));
        U.Close(y, data.Select(op.Ref).Select(v => dt.IsFloatingPoint() ? v : Math.Truncate(v)).ToArray(), shape,
            dt == DType.Float32 ? 3e-6 : 1e-13, dt == DType.Float32 ? 3e-6 : 1e-13, op.Name);
    }

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void SharedSimdLoopMatchesTheScalarFormOverFullVectorsAndTail(DType dt)
    {
        // LeakyRelu runs ElementwiseLoop.Map's vector body: 4099 elements are many full vectors plus a scalar tail.
        long[] shape = [4099];
        var data = U.Quantize(U.Data(shape, 5, -3, 3), dt);
        var y = U.Make(data, shape, dt, Layout.Contiguous).LeakyRelu(0.1);
        U.Close(y, data.Select(x => x > 0 ? x : 0.1 * x).ToArray(), shape, 1e-6, 1e-7, "LeakyRelu");
    }

    public record BOp(string Name, Func<Tensor, Tensor, Tensor> Op, Func<double, double, double> Ref, bool Ints = true, bool Compare = false, double Lo = -3);

    static double PyMod(double a, double b) { double r = a % b; return r != 0 && (r < 0) != (b < 0) ? r + b : r; }

    static readonly BOp[] Binary =
    [
        new("Add", (a, b) => a + b, (x, y) => x + y),
        new("Sub", (a, b) => a - b, (x, y) => x - y),
        new("Mul", (a, b) => a * b, (x, y) => x * y),
        new("Div", (a, b) => a / b, (x, y) => x / y, Ints: false),
        new("AddAlpha", (a, b) => a.Add(b, 2), (x, y) => x + 2 * y),
        new("SubAlpha", (a, b) => a.Sub(b, 0.5), (x, y) => x - 0.5 * y, Ints: false),
        new("Pow", (a, b) => a.Pow(b), Math.Pow, Ints: false, Lo: 0.1),
        new("Maximum", (a, b) => a.Maximum(b), Math.Max),
        new("Minimum", (a, b) => a.Minimum(b), Math.Min),
        new("Remainder", (a, b) => a.Remainder(b), PyMod, Ints: false),
        new("Eq", (a, b) => a.Eq(b), (x, y) => x == y ? 1 : 0, Compare: true),
        new("Ne", (a, b) => a.Ne(b), (x, y) => x != y ? 1 : 0, Compare: true),
        new("Lt", (a, b) => a.Lt(b), (x, y) => x < y ? 1 : 0, Compare: true),
        new("Le", (a, b) => a.Le(b), (x, y) => x <= y ? 1 : 0, Compare: true),
        new("Gt", (a, b) => a.Gt(b), (x, y) => x > y ? 1 : 0, Compare: true),
        new("Ge", (a, b) => a.Ge(b), (x, y) => x >= y ? 1 : 0, Compare: true),
    ];

    static readonly long[][][] Broadcasts = [[[3, 4], [3, 4]], [[3, 4], [4]], [[2, 1, 4], [3, 1]], [[1], [2, 3]], [[], [2, 3]]];

    public static IEnumerable<TestCaseData> BinaryCases()
    {
        foreach (var op in Binary)
            foreach (var dt in op.Ints ? new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64 } : U.Floats)
                foreach (var s in Broadcasts)
                    foreach (var l in new[] { Layout.Contiguous, Layout.Transposed })
                        yield return new TestCaseData(op, dt, s[0], s[1], l)
                            .SetName($"Binary_{op.Name}_{dt}_[{string.Join(",", s[0])}]_[{string.Join(",", s[1])}]_{l}");
    }

    [TestCaseSource(nameof(BinaryCases))]
    public void BinaryBroadcastsLikeNumPy(BOp op, DType dt, long[] sa, long[] sb, Layout layout)
    {
        bool ints = !dt.IsFloatingPoint();
        var da = U.Quantize(U.Data(sa, 3, op.Lo, 3, ints || op.Compare), dt);
        var db = U.Quantize(U.Data(sb, 4, op.Lo, 3, ints || op.Compare), dt);
        if (op.Name is "Div" or "Remainder") db = db.Select(v => v == 0 ? 1.5 : v).ToArray();
        var a = U.Make(da, sa, dt, layout); var b = U.Make(db, sb, dt, layout);
        var y = op.Op(a, b);
        int r = Math.Max(sa.Length, sb.Length);
        var os = new long[r];
        for (int i = 0; i < r; i++)
            os[i] = Math.Max(i < r - sa.Length ? 1 : sa[i - (r - sa.Length)], i < r - sb.Length ? 1 : sb[i - (r - sb.Length)]);
        double At(double[] d, long[] s, long[] idx)
        {
            long f = 0;
            for (int i = 0; i < s.Length; i++) f = f * s[i] + (s[i] == 1 ? 0 : idx[i + r - s.Length]);
            return d[f];
        }
        var exp = U.Indices(os).Select(p => op.Ref(At(da, sa, p.Index), At(db, sb, p.Index))).ToArray();
        Assert.That(y.DType, Is.EqualTo(op.Compare ? DType.Bool : dt));
        U.Close(y, exp, os, dt == DType.Float32 ? 3e-6 : 1e-13, what: op.Name);
        // The same op with the operands swapped broadcasts the other way.
        Assert.That(op.Op(b, a).Shape.ToArray(), Is.EqualTo(os));
    }

    [Test]
    public void LogicalWhereMaskedFillIsNanIsInf()
    {
        var p = Tensor.FromArray(new[] { true, true, false, false });
        var q = Tensor.FromArray(new[] { true, false, true, false });
        Assert.That((p & q).ToArray<bool>(), Is.EqualTo(new[] { true, false, false, false }));
        Assert.That((p | q).ToArray<bool>(), Is.EqualTo(new[] { true, true, true, false }));
        Assert.That((p ^ q).ToArray<bool>(), Is.EqualTo(new[] { false, true, true, false }));
        Assert.That((!p).ToArray<bool>(), Is.EqualTo(new[] { false, false, true, true }));
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 2, 2).T;   // [[1,3],[2,4]]
        var w = Tensor.Where(x.Gt(2.5), x, Tensor.Scalar(0, DType.Float64));
        Assert.That(w.ToArray<double>(), Is.EqualTo(new double[] { 0, 3, 0, 4 }));
        Assert.That(x.MaskedFill(Tensor.FromArray(new[] { true, false }), -1).ToArray<double>(), Is.EqualTo(new double[] { -1, 3, -1, 4 }));
        var f = Tensor.FromArray(new[] { 1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity });
        Assert.That(f.IsNan().ToArray<bool>(), Is.EqualTo(new[] { false, true, false, false }));
        Assert.That(f.IsInf().ToArray<bool>(), Is.EqualTo(new[] { false, false, true, true }));
        Assert.That(f.Relu().ToArray<float>()[1], Is.NaN, "Relu keeps NaN");
    }

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void ReluAndGeluGradientKernelsMatchTheirFormulas(DType dt)
    {
        // The formula table's one-pass gradients: ReluBackward(g, y) = g·[y > 0]; GeluBackward(g, x) = g·(Φ(x) + x·φ(x)).
        var xs = Enumerable.Range(0, 203).Select(i => -5 + i * 0.05).Append(0).ToArray();
        var gs = xs.Select((_, i) => 0.5 + (i % 7) * 0.25).ToArray();
        var x = Tensor.FromArray(xs).To(dt);
        var g = Tensor.FromArray(gs).To(dt);
        var relu = Tensor.Apply(BinaryOp.ReluBackward, g, x).To(DType.Float64).ToArray<double>();
        var gelu = Tensor.Apply(BinaryOp.GeluBackward, g, x).To(DType.Float64).ToArray<double>();
        double tol = dt == DType.Float32 ? 2e-6 : 1e-14;
        double[] xr = x.To(DType.Float64).ToArray<double>(), gr = g.To(DType.Float64).ToArray<double>();   // the inputs as rounded to dt
        for (int i = 0; i < xs.Length; i++)
        {
            double xv = xr[i], gv = gr[i];
            Assert.That(relu[i], Is.EqualTo(xv > 0 ? gv : 0), $"ReluBackward at x = {xv}");
            double expected = gv * (0.5 * (1 + MathNet.Numerics.SpecialFunctions.Erf(xv / Math.Sqrt(2))) + xv * Math.Exp(-0.5 * xv * xv) / Math.Sqrt(2 * Math.PI));
            Assert.That(gelu[i], Is.EqualTo(expected).Within(tol * (1 + Math.Abs(expected))), $"GeluBackward at x = {xv}");
        }
    }

    [TestCase(DType.Int32), TestCase(DType.Int64)]
    public void IntegerOperatorStructsFollowTorchsIntegerRules(DType dt)
    {
        // The integer operator structs (Ember.Operators/Integer) against exact references, with the cases where a
        // float path or a checked .NET operation would differ: fractional scalars, fractional or crossed clamp
        // bounds, large exact powers, |MinValue| and the sign of a remainder.
        var x = Tensor.FromArray(new long[] { -7, -2, 0, 3, 5, 9 }).To(dt);
        long[] L(Tensor t) => t.To(DType.Int64).ToArray<long>();
        Assert.That(L(x * 2.5), Is.EqualTo(new long[] { -17, -5, 0, 7, 12, 22 }), "MulScalar 2.5 truncates toward zero");
        Assert.That(L(x * 3), Is.EqualTo(new long[] { -21, -6, 0, 9, 15, 27 }), "MulScalar 3");
        Assert.That(L(x.Abs().Pow(0.5)), Is.EqualTo(new long[] { 2, 1, 0, 1, 2, 3 }), "PowScalar 0.5");
        Assert.That(L(x.Pow(3)), Is.EqualTo(new long[] { -343, -8, 0, 27, 125, 729 }), "PowScalar 3 (exact)");
        Assert.That(L(x.Clamp(-2.5, 4.5)), Is.EqualTo(new long[] { -2, -2, 0, 3, 4, 4 }), "Clamp rounds fractional bounds inward");
        Assert.That(L(x.Clamp(6, 1)), Is.EqualTo(new long[] { 1, 1, 1, 1, 1, 1 }), "Clamp with min > max gives max, as torch.clamp");
        Assert.That(L(x.Clamp(min: 1)), Is.EqualTo(new long[] { 1, 1, 1, 3, 5, 9 }), "Clamp with only min");
        Assert.That(L(x.Sign()), Is.EqualTo(new long[] { -1, -1, 0, 1, 1, 1 }), "Sign");
        Assert.That(L(4 - x), Is.EqualTo(new long[] { 11, 6, 4, 1, -1, -5 }), "RSubScalar");
        var y = Tensor.FromArray(new long[] { 3, -3, 4, -2, 2, 2 }).To(dt);
        Assert.That(L(x.Remainder(y)), Is.EqualTo(new long[] { 2, -2, 0, -1, 1, 1 }), "Remainder takes the divisor's sign");
        Assert.That(L(Tensor.Apply(BinaryOp.Div, x, y)), Is.EqualTo(new long[] { -2, 0, 0, -1, 2, 4 }), "Div truncates toward zero");
        Assert.That(L(x.Pow(y.Abs())), Is.EqualTo(new long[] { -343, -8, 0, 9, 25, 81 }), "Pow (exact)");
        long big = dt == DType.Int32 ? 46341 : 3037000500;   // squares past the type's range wrap like a machine multiply
        long wrapped = dt == DType.Int32 ? unchecked((int)(46341L * 46341L)) : unchecked(3037000500L * 3037000500L);
        Assert.That(L(Tensor.FromArray(new[] { big }).To(dt).Square()), Is.EqualTo(new[] { wrapped }), "Square wraps");
        long min = dt == DType.Int32 ? int.MinValue : long.MinValue;
        Assert.That(L(Tensor.FromArray(new[] { min }).To(dt).Abs()), Is.EqualTo(new[] { min }), "|MinValue| wraps (no OverflowException)");
        var p = Tensor.FromArray(new long[] { 3, -1, -1, 1, 2 }).To(dt);
        var e = Tensor.FromArray(new long[] { 13, 7, 8, -3, -1 }).To(dt);
        Assert.That(L(p.Pow(e)), Is.EqualTo(new long[] { 1594323, -1, 1, 1, 0 }), "Pow by squaring, negative exponents truncate");
    }

    [Test]
    public void ErrorsNameTheOpShapesAndDTypes()
    {
        U.Throws<ArgumentException>(() => _ = Tensor.Zeros(2, 3) + Tensor.Zeros(4), "Add", "[2, 3]", "[4]", "not broadcastable");
        U.Throws<ArgumentException>(() => _ = Tensor.Zeros(2) * Tensor.Zeros([2], DType.Float64), "Mul", "Float32", "Float64");
        U.Throws<ArgumentException>(() => Tensor.Zeros([2], DType.Int64).Exp(), "Exp", "Int64");
        U.Throws<ArgumentException>(() => Tensor.Zeros([2], DType.Bool).Neg(), "Neg", "Bool");
        U.Throws<ArgumentException>(() => Tensor.Zeros(2).BitwiseAnd(Tensor.Zeros(2)), "BitwiseAnd", "Float32");   // LogicalAnd takes any dtype now, as torch.logical_and
        U.Throws<ArgumentException>(() => Tensor.Where(Tensor.Zeros(2), Tensor.Zeros(2), Tensor.Zeros(2)), "Where", "Bool");
        U.Throws<ArgumentException>(() => Tensor.Zeros(2).Clamp(), "Clamp");
    }
}
