namespace Ember;

/// <summary>Pointwise ops of PyTorch's everyday API built from the elementwise primitives (so they have gradients and run on every backend).</summary>
public sealed partial class Tensor
{
    /// <summary>x + weight·(end − x) (torch.lerp) with a scalar weight.</summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, or dtypes/devices differ.</exception>
    public Tensor Lerp(Tensor end, double weight) => this + (end - this) * weight;

    /// <summary>x + weight·(end − x) (torch.lerp) with a tensor weight; all three broadcast.</summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, or dtypes/devices differ.</exception>
    public Tensor Lerp(Tensor end, Tensor weight) => this + weight * (end - this);

    /// <summary>x + value·t1·t2 (torch.addcmul), broadcasting.</summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, or dtypes/devices differ.</exception>
    public Tensor Addcmul(Tensor tensor1, Tensor tensor2, double value = 1) =>
        this + (value == 1 ? tensor1 * tensor2 : tensor1 * tensor2 * value);

    /// <summary>x + value·t1/t2 (torch.addcdiv), broadcasting.</summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, dtypes/devices differ, or the operands are integers (as PyTorch).</exception>
    public Tensor Addcdiv(Tensor tensor1, Tensor tensor2, double value = 1)
    {
        ArgumentNullException.ThrowIfNull(tensor1); ArgumentNullException.ThrowIfNull(tensor2);
        if (!tensor1.IsFloatingPoint || !tensor2.IsFloatingPoint)
            throw new ArgumentException($"Addcdiv: integer division with addcdiv is no longer supported; got {tensor1.DType} and {tensor2.DType} (shapes {tensor1.Shape} and {tensor2.Shape}).");
        return this + (value == 1 ? tensor1 / tensor2 : tensor1 / tensor2 * value);
    }

    /// <summary>
    /// Replaces NaN with <paramref name="nan"/>, +∞ with <paramref name="posinf"/> and −∞ with <paramref name="neginf"/>
    /// (defaults: 0 and the dtype's largest and smallest finite values), as torch.nan_to_num. Gradient flows where x is kept.
    /// Integer and Bool tensors are returned unchanged.
    /// </summary>
    public Tensor NanToNum(double nan = 0, double? posinf = null, double? neginf = null)
    {
        if (!IsFloatingPoint) return this;
        double max = DType == DType.Float32 ? float.MaxValue : double.MaxValue;
        var r = Where(IsNan(), ScalarTensor(nan), this);
        r = Where(Eq(double.PositiveInfinity), ScalarTensor(posinf ?? max), r);
        return Where(Eq(double.NegativeInfinity), ScalarTensor(neginf ?? -max), r);
    }

    /// <summary>Rounds toward zero (torch.trunc): ⌊x⌋ for x ≥ 0, ⌈x⌉ below. Gradient 0.</summary>
    public Tensor Trunc() => IsFloatingPoint ? Where(Ge(0), Floor(), Ceil()) : Apply(UnaryOp.Floor);

    /// <summary>The fractional part x − trunc(x), with x's sign (torch.frac). Gradient 1.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    public Tensor Frac()
    {
        CheckFloat("Frac");
        return this - Trunc();
    }

    /// <summary>
    /// C's fmod (torch.fmod): x − trunc(x/other)·other, the remainder with the sign of the dividend (compare
    /// <see cref="Remainder(Tensor)"/>, the sign of the divisor, Python's %). Integer division by zero throws on the CPU.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, or dtypes/devices differ.</exception>
    public Tensor Fmod(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        // Integer Div truncates toward zero, which is exactly fmod's quotient; floats truncate explicitly.
        var q = IsFloatingPoint ? (this / other).Trunc() : Apply(BinaryOp.Div, this, other);
        return this - q * other;
    }

    /// <summary>fmod with a scalar divisor.</summary>
    public Tensor Fmod(double other) => Fmod(ScalarTensor(other));

    /// <summary>Remainder with a scalar divisor (Python's %: the sign of the divisor).</summary>
    public Tensor Remainder(double other) => Remainder(ScalarTensor(other));

    /// <summary>
    /// ⌊x / other⌋ (torch.floor_divide, which rounds toward −∞ since PyTorch 1.13, as Python's //). Integers are exact.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not broadcast, or dtypes/devices differ.</exception>
    public Tensor FloorDivide(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (IsFloatingPoint) return (this / other).Floor();
        // Truncated quotient, minus one where the division was inexact and the signs differ.
        var q = Apply(BinaryOp.Div, this, other);
        var adjust = (this - q * other).Ne(0).LogicalAnd(Lt(0).LogicalXor(other.Lt(0)));
        return q - adjust.To(DType);
    }

    /// <summary>⌊x / s⌋ (torch.floor_divide with a scalar).</summary>
    public Tensor FloorDivide(double other) => FloorDivide(ScalarTensor(other));

    /// <summary>Python's %: the remainder with the sign of the divisor (torch.remainder).</summary>
    public static Tensor operator %(Tensor a, Tensor b) => a.Remainder(b);
    /// <summary>Python's % with a scalar divisor.</summary>
    public static Tensor operator %(Tensor a, double s) => a.Remainder(s);

    /// <summary>Alias of <see cref="Clamp"/> (torch.clip).</summary>
    /// <exception cref="ArgumentException">Both bounds are null.</exception>
    public Tensor Clip(double? min = null, double? max = null) => Clamp(min, max);

    /// <summary>Alias of <see cref="Clamp_"/> (torch.clip_).</summary>
    public Tensor Clip_(double? min = null, double? max = null) => Clamp_(min, max);

    // ---- in-place activations (not recorded: in-place ops on graph tensors are rejected, as Add_ is) ----

    private Tensor ActivationInPlace(string op, UnaryOp u, double alpha = 0, double beta = 0)
    {
        if (!IsFloatingPoint && !(u == UnaryOp.Relu && DType.IsInteger()))
            throw new ArgumentException($"{op}: expected a floating-point tensor, got {DType} (shape {Shape}).");
        return UnaryInPlace(op, u, alpha, beta);
    }

    /// <summary>max(x, 0) in place; returns this (torch.relu_).</summary>
    /// <exception cref="InvalidOperationException">The tensor is part of an autograd graph.</exception>
    public Tensor Relu_() => ActivationInPlace("Relu_", UnaryOp.Relu);
    /// <summary>Leaky ReLU in place; returns this.</summary>
    /// <exception cref="InvalidOperationException">The tensor is part of an autograd graph.</exception>
    public Tensor LeakyRelu_(double negativeSlope = 0.01) => ActivationInPlace("LeakyRelu_", UnaryOp.LeakyRelu, negativeSlope);
    /// <summary>ELU in place; returns this.</summary>
    /// <exception cref="InvalidOperationException">The tensor is part of an autograd graph.</exception>
    public Tensor Elu_(double alpha = 1.0) => ActivationInPlace("Elu_", UnaryOp.Elu, alpha);
    /// <summary>σ(x) in place; returns this.</summary>
    /// <exception cref="InvalidOperationException">The tensor is part of an autograd graph.</exception>
    public Tensor Sigmoid_() => ActivationInPlace("Sigmoid_", UnaryOp.Sigmoid);
    /// <summary>tanh x in place; returns this.</summary>
    /// <exception cref="InvalidOperationException">The tensor is part of an autograd graph.</exception>
    public Tensor Tanh_() => ActivationInPlace("Tanh_", UnaryOp.Tanh);
    /// <summary>SiLU in place; returns this.</summary>
    /// <exception cref="InvalidOperationException">The tensor is part of an autograd graph.</exception>
    public Tensor Silu_() => ActivationInPlace("Silu_", UnaryOp.Silu);
    /// <summary>GELU in place; returns this.</summary>
    /// <exception cref="InvalidOperationException">The tensor is part of an autograd graph.</exception>
    public Tensor Gelu_(GeluApproximate approximate = GeluApproximate.None) =>
        ActivationInPlace("Gelu_", approximate == GeluApproximate.None ? UnaryOp.Gelu : UnaryOp.GeluTanh);
}
