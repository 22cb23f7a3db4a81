namespace Ember;

/// <summary>How GELU is computed.</summary>
public enum GeluApproximate
{
    /// <summary>Exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)).</summary>
    None,
    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    Tanh,
}

public sealed partial class Tensor
{
    // ---- engine ------------------------------------------------------------------------------

    private static bool AcceptsIntegers(UnaryOp op) => op is UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Square or UnaryOp.Sign
        or UnaryOp.AddScalar or UnaryOp.MulScalar or UnaryOp.RSubScalar or UnaryOp.Clamp or UnaryOp.Relu
        or UnaryOp.IsNan or UnaryOp.IsInf or UnaryOp.PowScalar or UnaryOp.Floor or UnaryOp.Ceil or UnaryOp.Round;

    /// <summary>Applies an elementwise <see cref="UnaryOp"/> (validated, recorded for autograd).</summary>
    /// <exception cref="ArgumentException">The op does not accept this dtype.</exception>
    public Tensor Apply(UnaryOp op, double alpha = 0, double beta = 0)
    {
        if (AutocastPolicies.Of(op) is { } amp && Autocast.Cast(amp, this) is { } cast) return cast[0]!.Apply(op, alpha, beta);
        CheckNotDisposed(op.ToString());
        DType outType = DType;
        if (op is UnaryOp.IsNan or UnaryOp.IsInf) outType = DType.Bool;
        if (op == UnaryOp.LogicalNot)
        {
            if (DType != DType.Bool) throw new ArgumentException($"LogicalNot: expected a Bool tensor, got {DType} (shape {Shape}).");
        }
        else if (DType == DType.Bool)
            throw new ArgumentException($"{op}: not defined for Bool tensors (shape {Shape}); convert with .To(DType.Float32) first.");
        else if (!IsFloatingPoint && !AcceptsIntegers(op))
            throw new ArgumentException($"{op}: expected a floating-point tensor, got {DType} (shape {Shape}); convert with .To(DType.Float32) first.");
        var result = NewEmpty((long[])shape.Clone(), outType);
        Backend.Unary(op, this, result, alpha, beta);
        if (outType == DType.Bool || !IsFloatingPoint) return result;
        return AutogradHook.Record(OpKind.Unary, result, new OpArgs { Unary = op, Alpha = alpha, Beta = beta }, this);
    }

    private static bool IsComparison(BinaryOp op) => op is BinaryOp.Eq or BinaryOp.Ne or BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge;
    private static bool IsBitwise(BinaryOp op) => op is BinaryOp.BitwiseAnd or BinaryOp.BitwiseOr or BinaryOp.BitwiseXor;
    private static bool IsLogical(BinaryOp op) => op is BinaryOp.LogicalAnd or BinaryOp.LogicalOr or BinaryOp.LogicalXor;

    /// <summary>
    /// Applies an elementwise <see cref="BinaryOp"/> with NumPy broadcasting (validated, recorded for autograd).
    /// Both operands must share dtype and device: nothing is converted silently.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, or dtypes/devices differ.</exception>
    public static Tensor Apply(BinaryOp op, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b);
        if (op is BinaryOp.Add or BinaryOp.Sub && IsMixedFloat32(a, b) && Autocast.IsEnabled(a.Device.Type)) return ApplyMixed(op, a, b);
        if (Autocast.Cast(AutocastPolicies.Of(op), a, b) is { } cast) return Apply(op, cast[0]!, cast[1]!);
        string name = op.ToString();
        CheckSameDevice(name, a, b);
        if (a.DType != b.DType && (a.Dim == 0) != (b.Dim == 0)) (a, b) = PromoteZeroDim(a, b);
        CheckSameDType(name, a, b);
        a.CheckNotDisposed(name); b.CheckNotDisposed(name);
        if (IsLogical(op) && a.DType != DType.Bool)
            throw new ArgumentException($"{name}: expected Bool tensors, got {a.DType} (shapes {a.Shape} and {b.Shape}).");
        if (IsBitwise(op) && !a.DType.IsInteger())
            throw new ArgumentException($"{name}: expected integer tensors, got {a.DType} (shapes {a.Shape} and {b.Shape}); bitwise ops are defined for Int32/Int64 (and Bool through the logical ops).");
        if (!IsLogical(op) && !IsComparison(op) && a.DType == DType.Bool)
            throw new ArgumentException($"{name}: not defined for Bool tensors (shapes {a.Shape} and {b.Shape}); use LogicalAnd/Or or convert first.");
        var outShape = ShapeUtil.Broadcast(name, a.shape, b.shape);
        CheckIntegerDivisor(op, b);
        var outType = IsComparison(op) ? DType.Bool : a.DType;
        var result = Alloc(outShape, outType, a.Device);
        a.Backend.Binary(op, a.ExpandRaw(outShape), b.ExpandRaw(outShape), result);
        if (outType == DType.Bool || !a.IsFloatingPoint) return result;
        return AutogradHook.Record(OpKind.Binary, result, new OpArgs { Binary = op }, a, b);
    }

    // One Float16/BFloat16 operand beside a Float32 one on the same device.
    private static bool IsMixedFloat32(Tensor a, Tensor b) =>
        a.Device == b.Device && (a.DType.IsReducedPrecision() && b.DType == DType.Float32 || a.DType == DType.Float32 && b.DType.IsReducedPrecision());

    /// <summary>
    /// Under autocast, a + b or a − b of a 16-bit and a Float32 tensor: the Float32 result of PyTorch's promotion in one
    /// backend call that reads the 16-bit operand in place (<see cref="IBackend.MixedBinary"/>), not a recorded cast and
    /// a Float32 op. The recorded node's gradient for the 16-bit input is converted to its dtype, as the cast's would be.
    /// </summary>
    private static Tensor ApplyMixed(BinaryOp op, Tensor a, Tensor b)
    {
        string name = op.ToString();
        a.CheckNotDisposed(name); b.CheckNotDisposed(name);
        var outShape = ShapeUtil.Broadcast(name, a.shape, b.shape);
        var result = Alloc(outShape, DType.Float32, a.Device);
        a.Backend.MixedBinary(op, a.ExpandRaw(outShape), b.ExpandRaw(outShape), result);
        return AutogradHook.Record(OpKind.Binary, result, new OpArgs { Binary = op }, a, b);
    }

    /// <summary>
    /// PyTorch's type promotion for a 0-dim operand (a scalar such as the 2 in <c>x.Div(2)</c>, which converts to a 0-dim
    /// Int64 tensor) beside a dimensioned one: the dimensioned tensor's dtype wins when the scalar's category (Bool &lt;
    /// integer &lt; floating) is not higher, so Float32 x + 2 stays Float32; otherwise the scalar's dtype (an Int64 x
    /// beside a Float64 0-dim tensor gives Float64, a Bool x beside an Int64 one Int64), as PyTorch's rule for 0-dim
    /// tensors. Tensors that both have dims are never converted silently.
    /// </summary>
    private static (Tensor A, Tensor B) PromoteZeroDim(Tensor a, Tensor b)
    {
        static int Category(DType d) => d.IsFloatingPoint() ? 2 : d == DType.Bool ? 0 : 1;
        var (dimmed, scalar) = a.Dim == 0 ? (b, a) : (a, b);
        var target = Category(scalar.DType) <= Category(dimmed.DType) ? dimmed.DType : scalar.DType;
        return (a.DType == target ? a : a.To(target), b.DType == target ? b : b.To(target));
    }

    /// <summary>Broadcast view used to feed kernels; not recorded (the recorded op un-broadcasts its gradient).</summary>
    internal Tensor ExpandRaw(long[] outShape)
    {
        if (shape.AsSpan().SequenceEqual(outShape)) return this;
        int lead = outShape.Length - Dim;
        var nst = new long[outShape.Length];
        for (int i = 0; i < outShape.Length; i++)
            nst[i] = i < lead || shape[i - lead] != outShape[i] ? 0 : strides[i - lead];
        return new Tensor(storage, offset, outShape, nst);
    }

    private Tensor ScalarTensor(double value) => Full([], value, DType, Device);

    // ---- unary math ----------------------------------------------------------------------------

    /// <summary>−x.</summary>
    public Tensor Neg() => Apply(UnaryOp.Neg);
    /// <summary>|x|.</summary>
    public Tensor Abs() => Apply(UnaryOp.Abs);
    /// <summary>eˣ.</summary>
    public Tensor Exp() => Apply(UnaryOp.Exp);
    /// <summary>ln x (NaN for x &lt; 0, −∞ at 0).</summary>
    public Tensor Log() => Apply(UnaryOp.Log);
    /// <summary>ln(1 + x), accurate for small x.</summary>
    public Tensor Log1p() => Apply(UnaryOp.Log1p);
    /// <summary>eˣ − 1, accurate for small x.</summary>
    public Tensor Expm1() => Apply(UnaryOp.Expm1);
    /// <summary>√x.</summary>
    public Tensor Sqrt() => Apply(UnaryOp.Sqrt);
    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => Apply(UnaryOp.Rsqrt);
    /// <summary>x².</summary>
    public Tensor Square() => Apply(UnaryOp.Square);
    /// <summary>sin x.</summary>
    public Tensor Sin() => Apply(UnaryOp.Sin);
    /// <summary>cos x.</summary>
    public Tensor Cos() => Apply(UnaryOp.Cos);
    /// <summary>tanh x.</summary>
    public Tensor Tanh() => Apply(UnaryOp.Tanh);
    /// <summary>σ(x) = 1/(1 + e⁻ˣ).</summary>
    public Tensor Sigmoid() => Apply(UnaryOp.Sigmoid);
    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => Apply(UnaryOp.Relu);
    /// <summary>GELU, exact (erf) or tanh-approximated.</summary>
    public Tensor Gelu(GeluApproximate approximate = GeluApproximate.None) =>
        Apply(approximate == GeluApproximate.None ? UnaryOp.Gelu : UnaryOp.GeluTanh);
    /// <summary>SiLU / swish: x·σ(x).</summary>
    public Tensor Silu() => Apply(UnaryOp.Silu);
    /// <summary>Softplus: (1/β)·ln(1 + e^(βx)), and x where βx &gt; threshold (PyTorch's defaults β = 1, threshold = 20).</summary>
    public Tensor Softplus(double beta = 1, double threshold = 20) => Apply(UnaryOp.Softplus, beta, threshold);
    /// <summary>Mish: x·tanh(softplus(x)) (torch.nn.functional.mish).</summary>
    public Tensor Mish() => Apply(UnaryOp.Mish);
    /// <summary>
    /// logit x = ln(x / (1 − x)) (torch.logit); with <paramref name="eps"/> x is first clamped to [eps, 1 − eps],
    /// without it values outside [0, 1] give NaN.
    /// </summary>
    public Tensor Logit(double? eps = null) => Apply(UnaryOp.Logit, eps ?? double.NaN);
    /// <summary>erf x.</summary>
    public Tensor Erf() => Apply(UnaryOp.Erf);
    /// <summary>⌊x⌋.</summary>
    public Tensor Floor() => Apply(UnaryOp.Floor);
    /// <summary>⌈x⌉.</summary>
    public Tensor Ceil() => Apply(UnaryOp.Ceil);
    /// <summary>Rounds half to even (torch.round).</summary>
    public Tensor Round() => Apply(UnaryOp.Round);
    /// <summary>sign(x) ∈ {−1, 0, 1}.</summary>
    public Tensor Sign() => Apply(UnaryOp.Sign);
    /// <summary>1/x.</summary>
    public Tensor Reciprocal() => Apply(UnaryOp.Reciprocal);
    /// <summary>x if x &gt; 0 else slope·x.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01) => Apply(UnaryOp.LeakyRelu, negativeSlope);
    /// <summary>x if x &gt; 0 else α·(eˣ − 1).</summary>
    public Tensor Elu(double alpha = 1.0) => Apply(UnaryOp.Elu, alpha);
    /// <summary>xᵉ for a scalar exponent (an integer x with a fractional exponent computes in Float32, as in PyTorch).</summary>
    public Tensor Pow(double exponent) => ForScalar(exponent).Apply(UnaryOp.PowScalar, exponent);
    /// <summary>xʸ elementwise with broadcasting.</summary>
    public Tensor Pow(Tensor exponent) => Apply(BinaryOp.Pow, this, exponent);
    /// <summary>baseᵡ for a scalar base.</summary>
    public static Tensor Pow(double @base, Tensor exponent) => exponent.ForScalar(@base).Apply(UnaryOp.RPowScalar, @base);

    /// <summary>
    /// The tensor a scalar op runs on: this, or for an integer or Bool tensor and a fractional scalar this as Float32 —
    /// PyTorch's promotion of an integer tensor with a float scalar (<c>torch.tensor([1, 2]) * 2.5</c> is
    /// [2.5, 5.0], not a truncated [2, 5]). C# passes <c>x * 3</c> and <c>x * 3.0</c> alike as a double, so an
    /// integral scalar keeps the integer dtype (PyTorch would give Float32 for 3.0, with the same values).
    /// </summary>
    private Tensor ForScalar(double scalar) => PromotesFor(scalar) ? To(DType.Float32) : this;

    private bool PromotesFor(double scalar) => !IsFloatingPoint && scalar != Math.Floor(scalar);

    /// <summary>Throws where <see cref="ForScalar"/> would promote: in-place ops refuse it, as PyTorch refuses to cast a float result into an integer tensor.</summary>
    internal void CheckScalarFitsInPlace(string op, double scalar)
    {
        if (PromotesFor(scalar))
            throw new InvalidOperationException($"{op}: the result type Float32 can't be cast to the desired output type {DType} (shape {Shape}, scalar {scalar}); use the out-of-place op, which gives Float32.");
    }

    /// <summary>Clamps into [min, max]; a null bound is open.</summary>
    /// <exception cref="ArgumentException">Both bounds are null.</exception>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        if (min == null && max == null) throw new ArgumentException("Clamp: at least one of min and max must be given.");
        return ForScalar(min ?? 0).ForScalar(max ?? 0).Apply(UnaryOp.Clamp, min ?? double.NaN, max ?? double.NaN);
    }

    /// <summary>Elementwise maximum (NaN propagates).</summary>
    public Tensor Maximum(Tensor other) => Apply(BinaryOp.Maximum, this, other);
    /// <summary>Elementwise minimum (NaN propagates).</summary>
    public Tensor Minimum(Tensor other) => Apply(BinaryOp.Minimum, this, other);
    /// <summary>Remainder with the sign of the divisor (torch.remainder).</summary>
    public Tensor Remainder(Tensor other) => Apply(BinaryOp.Remainder, this, other);

    /// <summary>x + alpha·other.</summary>
    public Tensor Add(Tensor other, double alpha = 1) => alpha == 1 ? Apply(BinaryOp.Add, this, other) : Apply(BinaryOp.Add, this, other * alpha);
    /// <summary>x − alpha·other.</summary>
    public Tensor Sub(Tensor other, double alpha = 1) => alpha == 1 ? Apply(BinaryOp.Sub, this, other) : Apply(BinaryOp.Sub, this, other * alpha);
    /// <summary>x · other.</summary>
    public Tensor Mul(Tensor other) => Apply(BinaryOp.Mul, this, other);
    /// <summary>
    /// x / other, true division as PyTorch's <c>torch.div</c>: integer and Bool operands are divided as Float32
    /// (<c>torch.tensor([3]) / 2</c> is 1.5, never 1). For an integer quotient use <see cref="Div(Tensor, string?)"/>
    /// with "trunc" or "floor", or <see cref="FloorDivide(Tensor)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, or dtypes/devices differ (a floating operand and an
    /// integer one are not mixed silently).</exception>
    public Tensor Div(Tensor other) => TrueDivide(this, other);

    /// <summary>
    /// <c>torch.div(x, other, rounding_mode=…)</c>: <c>null</c> is true division (<see cref="Div(Tensor)"/>); "trunc"
    /// rounds the quotient toward zero and "floor" rounds it down (<see cref="FloorDivide(Tensor)"/>), keeping an
    /// integer dtype for integer operands.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown rounding mode, or the checks of <see cref="Div(Tensor)"/>.</exception>
    public Tensor Div(Tensor other, string? roundingMode) => roundingMode switch
    {
        null => TrueDivide(this, other),
        "trunc" => IsFloatingPoint ? TrueDivide(this, other).Trunc() : Apply(BinaryOp.Div, this, other),
        "floor" => FloorDivide(other),
        _ => throw new ArgumentException($"Div: expected rounding mode null, \"trunc\" or \"floor\", got \"{roundingMode}\" (shapes {Shape} and {other.Shape})."),
    };

    /// <summary><see cref="Div(Tensor, string?)"/> by a scalar (an integer tensor and a fractional scalar divide as Float32).</summary>
    /// <exception cref="ArgumentException">An unknown rounding mode.</exception>
    public Tensor Div(double other, string? roundingMode)
    {
        var x = ForScalar(other);
        return x.Div(x.ScalarTensor(other), roundingMode);
    }

    // True division: integer (and Bool) operands are promoted to Float32 first, as PyTorch's default float dtype.
    private static Tensor TrueDivide(Tensor a, Tensor b) =>
        a.IsFloatingPoint || b.IsFloatingPoint ? Apply(BinaryOp.Div, a, b) : Apply(BinaryOp.Div, a.To(DType.Float32), b.To(DType.Float32));

    // ---- comparisons and logic -----------------------------------------------------------------------

    /// <summary>x == other (Bool).</summary>
    public Tensor Eq(Tensor other) => Apply(BinaryOp.Eq, this, other);
    /// <summary>x != other (Bool).</summary>
    public Tensor Ne(Tensor other) => Apply(BinaryOp.Ne, this, other);
    /// <summary>x &lt; other (Bool).</summary>
    public Tensor Lt(Tensor other) => Apply(BinaryOp.Lt, this, other);
    /// <summary>x ≤ other (Bool).</summary>
    public Tensor Le(Tensor other) => Apply(BinaryOp.Le, this, other);
    /// <summary>x &gt; other (Bool).</summary>
    public Tensor Gt(Tensor other) => Apply(BinaryOp.Gt, this, other);
    /// <summary>x ≥ other (Bool).</summary>
    public Tensor Ge(Tensor other) => Apply(BinaryOp.Ge, this, other);
    /// <summary>x == value (Bool).</summary>
    public Tensor Eq(double value) => CompareScalar(BinaryOp.Eq, value);
    /// <summary>x != value (Bool).</summary>
    public Tensor Ne(double value) => CompareScalar(BinaryOp.Ne, value);
    /// <summary>x &lt; value (Bool).</summary>
    public Tensor Lt(double value) => CompareScalar(BinaryOp.Lt, value);
    /// <summary>x ≤ value (Bool).</summary>
    public Tensor Le(double value) => CompareScalar(BinaryOp.Le, value);
    /// <summary>x &gt; value (Bool).</summary>
    public Tensor Gt(double value) => CompareScalar(BinaryOp.Gt, value);
    /// <summary>x ≥ value (Bool).</summary>
    public Tensor Ge(double value) => CompareScalar(BinaryOp.Ge, value);
    /// <summary>Logical and (torch.logical_and): Bool operands as they are, other dtypes as "non-zero"; a Bool result.</summary>
    public Tensor LogicalAnd(Tensor other) => Apply(BinaryOp.LogicalAnd, AsLogical(), other.AsLogical());
    /// <summary>Logical or (torch.logical_or), non-zero meaning true; a Bool result.</summary>
    public Tensor LogicalOr(Tensor other) => Apply(BinaryOp.LogicalOr, AsLogical(), other.AsLogical());
    /// <summary>Logical xor (torch.logical_xor), non-zero meaning true; a Bool result.</summary>
    public Tensor LogicalXor(Tensor other) => Apply(BinaryOp.LogicalXor, AsLogical(), other.AsLogical());
    /// <summary>Logical not (torch.logical_not): true where x is zero (false); a Bool result.</summary>
    public Tensor LogicalNot() => AsLogical().Apply(UnaryOp.LogicalNot);

    /// <summary>This tensor when Bool, else x ≠ 0 (so NaN counts as true, as in PyTorch).</summary>
    private Tensor AsLogical() => DType == DType.Bool ? this : Ne(0);
    /// <summary>True where x is NaN.</summary>
    public Tensor IsNan() => Apply(UnaryOp.IsNan);
    /// <summary>True where x is ±∞.</summary>
    public Tensor IsInf() => Apply(UnaryOp.IsInf);

    /// <summary>condition ? a : b elementwise with broadcasting (torch.where). a and b share dtype and device.</summary>
    /// <exception cref="ArgumentException">condition is not Bool, or shapes/dtypes/devices mismatch.</exception>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        if (condition.DType != DType.Bool)
            throw new ArgumentException($"Where: condition must be Bool, got {condition.DType} (shape {condition.Shape}).");
        if (Autocast.Cast(AutocastOp.Elementwise, a, b) is { } cast) return Where(condition, cast[0]!, cast[1]!);
        CheckSameDevice("Where", condition, a); CheckSameDevice("Where", a, b); CheckSameDType("Where", a, b);
        var outShape = ShapeUtil.Broadcast("Where", ShapeUtil.Broadcast("Where", condition.shape, a.shape), b.shape);
        var result = Alloc(outShape, a.DType, a.Device);
        a.Backend.Where(condition.ExpandRaw(outShape), a.ExpandRaw(outShape), b.ExpandRaw(outShape), result);
        return AutogradHook.Record(OpKind.Where, result, new OpArgs { Index = condition }, a, b);
    }

    /// <summary>condition ? x : value (this is x).</summary>
    public Tensor Where(Tensor condition, double value) => Where(condition, this, ScalarTensor(value));

    /// <summary>x with <paramref name="value"/> where mask is true (torch.masked_fill).</summary>
    public Tensor MaskedFill(Tensor mask, double value) => Where(mask, ScalarTensor(value), this);

    // ---- operators -------------------------------------------------------------------------------

    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Apply(BinaryOp.Add, a, b);
    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Apply(BinaryOp.Sub, a, b);
    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Apply(BinaryOp.Mul, a, b);
    /// <summary>Elementwise true quotient with broadcasting (<see cref="Div(Tensor)"/>: integers divide as Float32).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => TrueDivide(a, b);
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>x + s.</summary>
    public static Tensor operator +(Tensor a, double s) => a.ForScalar(s).Apply(UnaryOp.AddScalar, s);
    /// <summary>s + x.</summary>
    public static Tensor operator +(double s, Tensor a) => a.ForScalar(s).Apply(UnaryOp.AddScalar, s);
    /// <summary>x − s.</summary>
    public static Tensor operator -(Tensor a, double s) => a.ForScalar(s).Apply(UnaryOp.AddScalar, -s);
    /// <summary>s − x.</summary>
    public static Tensor operator -(double s, Tensor a) => a.ForScalar(s).Apply(UnaryOp.RSubScalar, s);
    /// <summary>x · s.</summary>
    public static Tensor operator *(Tensor a, double s) => a.ForScalar(s).Apply(UnaryOp.MulScalar, s);
    /// <summary>s · x.</summary>
    public static Tensor operator *(double s, Tensor a) => a.ForScalar(s).Apply(UnaryOp.MulScalar, s);
    /// <summary>x / s (as x · (1/s) for floats; an integer x divides as Float32, as in PyTorch).</summary>
    public static Tensor operator /(Tensor a, double s)
    {
        if (a.IsFloatingPoint) return a.Apply(UnaryOp.MulScalar, 1.0 / s);
        var f = a.To(DType.Float32);
        return Apply(BinaryOp.Div, f, f.ScalarTensor(s));
    }
    /// <summary>s / x (an integer x divides as Float32, as in PyTorch).</summary>
    public static Tensor operator /(double s, Tensor a) => (a.IsFloatingPoint ? a : a.To(DType.Float32)).Apply(UnaryOp.RDivScalar, s);
}
