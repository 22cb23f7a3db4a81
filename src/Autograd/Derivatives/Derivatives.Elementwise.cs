namespace Ember;

internal static partial class Derivatives
{
    private const double Sqrt2 = 1.4142135623730951;
    private const double InvSqrt2Pi = 0.3989422804014327;      // 1/√(2π)
    private const double TwoOverSqrtPi = 1.1283791670955126;   // 2/√π
    private const double SqrtTwoOverPi = 0.7978845608028654;   // √(2/π)
    private const double GeluTanhCoeff = 0.044715;

    // x is input 0, y the result, g the gradient of y; α and β are the op's scalar parameters.
    private static readonly Dictionary<UnaryOp, Derivative> UnaryTable = new()
    {
        [UnaryOp.Neg] = new("NegBackward", Saves.Nothing, (c, g) => [-g]),
        [UnaryOp.Abs] = new("AbsBackward", Saves.Inputs, (c, g) => [g * c.Input(0).Sign()]),
        [UnaryOp.Exp] = new("ExpBackward", Saves.Result, (c, g) => [g * c.Result]),
        [UnaryOp.Log] = new("LogBackward", Saves.Inputs, (c, g) => [g / c.Input(0)]),
        [UnaryOp.Log1p] = new("Log1pBackward", Saves.Inputs, (c, g) => [g / (c.Input(0) + 1)]),
        [UnaryOp.Expm1] = new("Expm1Backward", Saves.Result, (c, g) => [g * (c.Result + 1)]),
        [UnaryOp.Sqrt] = new("SqrtBackward", Saves.Result, (c, g) => [g / (2 * c.Result)]),
        [UnaryOp.Rsqrt] = new("RsqrtBackward", Saves.Result, (c, g) => [-0.5 * g * c.Result.Pow(3)]),
        [UnaryOp.Square] = new("SquareBackward", Saves.Inputs, (c, g) => [2 * g * c.Input(0)]),
        [UnaryOp.Sin] = new("SinBackward", Saves.Inputs, (c, g) => [g * c.Input(0).Cos()]),
        [UnaryOp.Cos] = new("CosBackward", Saves.Inputs, (c, g) => [-g * c.Input(0).Sin()]),
        // tanh' = 1 − y², σ' = σ(1 − σ): written with the saved result, as PyTorch does.
        [UnaryOp.Tanh] = new("TanhBackward", Saves.Result, (c, g) => [g * (1 - c.Result.Square())]),
        [UnaryOp.Sigmoid] = new("SigmoidBackward", Saves.Result, (c, g) => [g * c.Result * (1 - c.Result)]),
        // Relu passes the gradient where the output is positive (0 at x = 0, PyTorch's subgradient).
        [UnaryOp.Relu] = new("ReluBackward", Saves.Result, (c, g) =>
            // Not recorded: one fused elementwise pass on every backend; recorded (createGraph): differentiable ops.
            [GradMode.IsEnabled || g.DType != c.Result.DType ? Keep(c.Result.Gt(0.0), g) : Tensor.Apply(BinaryOp.ReluBackward, g, c.Result)]),
        [UnaryOp.Gelu] = new("GeluBackward", Saves.Inputs, (c, g) =>
            // Not recorded: one fused elementwise pass (g·GELU′(x)) on every backend; recorded (createGraph): the composite.
            [GradMode.IsEnabled || g.DType != c.Input(0).DType ? g * GeluDerivative(c.Input(0)) : Tensor.Apply(BinaryOp.GeluBackward, g, c.Input(0))]),
        [UnaryOp.GeluTanh] = new("GeluBackward", Saves.Inputs, (c, g) => [g * GeluTanhDerivative(c.Input(0))]),
        [UnaryOp.Silu] = new("SiluBackward", Saves.Inputs, (c, g) => [g * SiluDerivative(c.Input(0))]),
        // Softplus is linear above the threshold (βx > threshold), where its derivative is exactly 1.
        [UnaryOp.Softplus] = new("SoftplusBackward", Saves.Inputs, (c, g) =>
        {
            var bx = c.Input(0) * c.Args.Alpha;
            return [Tensor.Where(bx.Gt(c.Args.Beta), g, g * bx.Sigmoid())];
        }),
        [UnaryOp.Erf] = new("ErfBackward", Saves.Inputs, (c, g) => [g * TwoOverSqrtPi * (-c.Input(0).Square()).Exp()]),
        // Piecewise-constant ops have zero gradient everywhere (PyTorch returns zeros, not None).
        [UnaryOp.Floor] = new("FloorBackward", Saves.Nothing, (c, g) => [Tensor.ZerosLike(g)]),
        [UnaryOp.Ceil] = new("CeilBackward", Saves.Nothing, (c, g) => [Tensor.ZerosLike(g)]),
        [UnaryOp.Round] = new("RoundBackward", Saves.Nothing, (c, g) => [Tensor.ZerosLike(g)]),
        [UnaryOp.Sign] = new("SignBackward", Saves.Nothing, (c, g) => [Tensor.ZerosLike(g)]),
        [UnaryOp.Reciprocal] = new("ReciprocalBackward", Saves.Result, (c, g) => [-g * c.Result.Square()]),
        [UnaryOp.AddScalar] = new("AddBackward", Saves.Nothing, (c, g) => [g]),
        [UnaryOp.MulScalar] = new("MulBackward", Saves.Nothing, (c, g) => [g * c.Args.Alpha]),
        [UnaryOp.RSubScalar] = new("RsubBackward", Saves.Nothing, (c, g) => [-g]),
        // α/x: d/dx = −α/x².
        [UnaryOp.RDivScalar] = new("DivBackward", Saves.Inputs, (c, g) => [g * -c.Args.Alpha / c.Input(0).Square()]),
        // x^p: p·x^(p−1); p = 0 gives exactly 0 (also at x = 0, where 0·0^(−1) would be NaN) — PyTorch's convention.
        [UnaryOp.PowScalar] = new("PowBackward", Saves.Inputs, (c, g) =>
            [c.Args.Alpha == 0 ? Tensor.ZerosLike(g) : g * c.Args.Alpha * c.Input(0).Pow(c.Args.Alpha - 1)]),
        // b^x: b^x·ln b; for b = 0 the gradient is 0 where x ≥ 0 (PyTorch's convention; ln 0 = −∞ would give NaN).
        [UnaryOp.RPowScalar] = new("PowBackward", Saves.Inputs | Saves.Result, (c, g) =>
        {
            double b = c.Args.Alpha;
            var grad = g * c.Result * Math.Log(b);
            return [b == 0 ? Tensor.Where(c.Input(0).Ge(0.0), Zero(g), grad) : grad];
        }),
        // Clamp passes the gradient where min ≤ x ≤ max (inclusive, like PyTorch); NaN bounds are open.
        [UnaryOp.Clamp] = new("ClampBackward", Saves.Inputs, (c, g) => [Keep(ClampMask(c.Input(0), c.Args.Alpha, c.Args.Beta), g)]),
        [UnaryOp.LeakyRelu] = new("LeakyReluBackward", Saves.Inputs, (c, g) => [Tensor.Where(c.Input(0).Gt(0.0), g, g * c.Args.Alpha)]),
        [UnaryOp.Elu] = new("EluBackward", Saves.Inputs, (c, g) =>
            [Tensor.Where(c.Input(0).Gt(0.0), g, g * c.Args.Alpha * c.Input(0).Exp())]),
        // mish = x·t, t = tanh(softplus x): d/dx = t + x·(1 − t²)·σ(x) (softplus′ = σ).
        [UnaryOp.Mish] = new("MishBackward", Saves.Inputs, (c, g) =>
        {
            var x = c.Input(0);
            var t = x.Softplus().Tanh();
            return [g * (t + x * (1 - t.Square()) * x.Sigmoid())];
        }),
        // logit' = 1 / (x(1 − x)); with eps the clamp passes no gradient outside [eps, 1 − eps] (PyTorch's logit_backward).
        [UnaryOp.Logit] = new("LogitBackward", Saves.Inputs, (c, g) =>
        {
            var x = c.Input(0);
            var grad = g / (x * (1 - x));
            double eps = c.Args.Alpha;
            return [double.IsNaN(eps) ? grad : Keep(x.Ge(eps) & x.Le(1 - eps), grad)];
        }),
    };

    // a and b are the inputs (before broadcasting): every gradient is summed back to its input's shape.
    private static readonly Dictionary<BinaryOp, Derivative> BinaryTable = new()
    {
        [BinaryOp.Add] = new("AddBackward", Saves.Nothing, (c, g) =>
            [c.NeedsGrad[0] ? c.ReduceTo(0, g) : null, c.NeedsGrad[1] ? c.ReduceTo(1, g) : null]),
        [BinaryOp.Sub] = new("SubBackward", Saves.Nothing, (c, g) =>
            [c.NeedsGrad[0] ? c.ReduceTo(0, g) : null, c.NeedsGrad[1] ? c.ReduceTo(1, -g) : null]),
        [BinaryOp.Mul] = new("MulBackward", Saves.Inputs, (c, g) =>
            [c.NeedsGrad[0] ? c.ReduceTo(0, g * c.Input(1)) : null, c.NeedsGrad[1] ? c.ReduceTo(1, g * c.Input(0)) : null]),
        // d(a/b)/db = −a/b².
        [BinaryOp.Div] = new("DivBackward", Saves.Inputs, (c, g) =>
            [c.NeedsGrad[0] ? c.ReduceTo(0, g / c.Input(1)) : null,
             c.NeedsGrad[1] ? c.ReduceTo(1, -g * c.Input(0) / c.Input(1).Square()) : null]),
        [BinaryOp.Pow] = new("PowBackward", Saves.Inputs | Saves.Result, (c, g) =>
            [c.NeedsGrad[0] ? c.ReduceTo(0, PowBaseGrad(g, c.Input(0), c.Input(1))) : null,
             c.NeedsGrad[1] ? c.ReduceTo(1, PowExponentGrad(g, c.Input(0), c.Input(1), c.Result)) : null]),
        // Ties (a == b) split the gradient in half between both inputs (PyTorch's convention).
        [BinaryOp.Maximum] = new("MaximumBackward", Saves.Inputs, (c, g) => MinMaxGrads(c, g, isMax: true)),
        [BinaryOp.Minimum] = new("MinimumBackward", Saves.Inputs, (c, g) => MinMaxGrads(c, g, isMax: false)),
        // remainder(a, b) = a − ⌊a/b⌋·b: ∂/∂a = 1, ∂/∂b = −⌊a/b⌋.
        [BinaryOp.Remainder] = new("RemainderBackward", Saves.Inputs, (c, g) =>
            [c.NeedsGrad[0] ? c.ReduceTo(0, g) : null,
             c.NeedsGrad[1] ? c.ReduceTo(1, -g * (c.Input(0) / c.Input(1)).Floor()) : null]),
    };

    // where(cond, a, b): the gradient goes to a where cond holds, to b elsewhere; the condition gets none.
    private static readonly Derivative WhereBackward = new("WhereBackward", Saves.Nothing, (c, g) =>
    {
        var cond = c.Args.Index!;
        return [c.NeedsGrad[0] ? c.ReduceTo(0, Keep(cond, g)) : null,
                c.NeedsGrad[1] ? c.ReduceTo(1, Tensor.Where(cond, Zero(g), g)) : null];
    });

    // GELU (exact): d/dx x·Φ(x) = Φ(x) + x·φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π).
    private static Tensor GeluDerivative(Tensor x)
    {
        var cdf = 0.5 * ((x / Sqrt2).Erf() + 1);
        var pdf = InvSqrt2Pi * (-0.5 * x.Square()).Exp();
        return cdf + x * pdf;
    }

    // GELU (tanh): u = √(2/π)(x + 0.044715x³), t = tanh u; d/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
    private static Tensor GeluTanhDerivative(Tensor x)
    {
        var x2 = x.Square();
        var t = (SqrtTwoOverPi * (x + GeluTanhCoeff * x2 * x)).Tanh();
        var du = SqrtTwoOverPi * (1 + 3 * GeluTanhCoeff * x2);
        return 0.5 * (1 + t) + 0.5 * x * (1 - t.Square()) * du;
    }

    // SiLU: d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))).
    private static Tensor SiluDerivative(Tensor x)
    {
        var s = x.Sigmoid();
        return s * (1 + x * (1 - s));
    }

    private static Tensor ClampMask(Tensor x, double min, double max)
    {
        Tensor? mask = null;
        if (!double.IsNaN(min)) mask = x.Ge(min);
        if (!double.IsNaN(max)) mask = mask == null ? x.Le(max) : mask & x.Le(max);
        return mask!;
    }

    // ∂(a^b)/∂a = b·a^(b−1), and exactly 0 where b = 0 (so 0^0 has gradient 0, not NaN).
    private static Tensor PowBaseGrad(Tensor g, Tensor a, Tensor b) =>
        Tensor.Where(b.Eq(0.0), Zero(g), g * b * a.Pow(b - 1));

    // ∂(a^b)/∂b = a^b·ln a, and 0 where a = 0 and b ≥ 0 (PyTorch: the limit of a^b·ln a from the right is 0).
    private static Tensor PowExponentGrad(Tensor g, Tensor a, Tensor b, Tensor result)
    {
        var atZero = a.Eq(0.0) & b.Ge(0.0);
        return g * Tensor.Where(atZero, Zero(g), result * a.Log());
    }

    private static Tensor?[] MinMaxGrads(BackwardContext c, Tensor g, bool isMax)
    {
        var a = c.Input(0);
        var b = c.Input(1);
        var split = Tensor.Where(a.Eq(b), g * 0.5, g);
        // The input that lost gets nothing: for maximum a < b means a lost.
        var aLost = isMax ? a.Lt(b) : a.Gt(b);
        var bLost = isMax ? a.Gt(b) : a.Lt(b);
        return [c.NeedsGrad[0] ? c.ReduceTo(0, Tensor.Where(aLost, Zero(g), split)) : null,
                c.NeedsGrad[1] ? c.ReduceTo(1, Tensor.Where(bLost, Zero(g), split)) : null];
    }
}
