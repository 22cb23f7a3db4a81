using System.Runtime.CompilerServices;

namespace Ember;

#pragma warning disable CS0660, CS0661 // Equals/GetHashCode are overridden below with reference semantics on purpose.
public sealed partial class Tensor
#pragma warning restore CS0660, CS0661
{
    // ---- identity ---------------------------------------------------------------------------------

    /// <summary>
    /// Reference identity (a tensor is a handle; two handles are the same tensor only when they are one object), so
    /// tensors work as dictionary and set keys. Elementwise equality is <c>a == b</c> (a Bool tensor) or
    /// <see cref="Equal"/> (one bool).
    /// </summary>
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    /// <summary>The identity hash (consistent with <see cref="Equals(object?)"/>).</summary>
    public override int GetHashCode() => RuntimeHelpers.GetHashCode(this);

    // ---- comparison operators ------------------------------------------------------------------------

    // .NET caveat: these operators compare elements, as PyTorch's and NumPy's do, and return a Bool tensor, not a bool.
    // So `if (a == b)` does not compile; test identity with `is null` / `ReferenceEquals`, and all elements with Equal.

    private static Tensor NotNull(Tensor? t, string op) => t ?? throw new ArgumentNullException(nameof(t),
        $"operator {op}: a tensor was compared with null. Tensor operators compare elements; test for null with `is null` / `is not null`.");

    /// <summary>Elementwise a == b with broadcasting (torch.eq): a Bool tensor. Use <c>is null</c> to test for null.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    public static Tensor operator ==(Tensor? a, Tensor? b) => NotNull(a, "==").Eq(NotNull(b, "=="));
    /// <summary>Elementwise a != b (torch.ne): a Bool tensor. Use <c>is not null</c> to test for null.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    public static Tensor operator !=(Tensor? a, Tensor? b) => NotNull(a, "!=").Ne(NotNull(b, "!="));
    /// <summary>Elementwise a &lt; b (torch.lt): a Bool tensor.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);
    /// <summary>Elementwise a &gt; b (torch.gt): a Bool tensor.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);
    /// <summary>Elementwise a ≤ b (torch.le): a Bool tensor.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);
    /// <summary>Elementwise a ≥ b (torch.ge): a Bool tensor.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);

    /// <summary>Elementwise x == s: a Bool tensor.</summary>
    public static Tensor operator ==(Tensor? a, double s) => NotNull(a, "==").Eq(s);
    /// <summary>Elementwise x != s: a Bool tensor.</summary>
    public static Tensor operator !=(Tensor? a, double s) => NotNull(a, "!=").Ne(s);
    /// <summary>Elementwise s == x: a Bool tensor.</summary>
    public static Tensor operator ==(double s, Tensor? a) => NotNull(a, "==").Eq(s);
    /// <summary>Elementwise s != x: a Bool tensor.</summary>
    public static Tensor operator !=(double s, Tensor? a) => NotNull(a, "!=").Ne(s);
    /// <summary>Elementwise x &lt; s.</summary>
    public static Tensor operator <(Tensor a, double s) => a.Lt(s);
    /// <summary>Elementwise x &gt; s.</summary>
    public static Tensor operator >(Tensor a, double s) => a.Gt(s);
    /// <summary>Elementwise x ≤ s.</summary>
    public static Tensor operator <=(Tensor a, double s) => a.Le(s);
    /// <summary>Elementwise x ≥ s.</summary>
    public static Tensor operator >=(Tensor a, double s) => a.Ge(s);
    /// <summary>Elementwise s &lt; x.</summary>
    public static Tensor operator <(double s, Tensor a) => a.Gt(s);
    /// <summary>Elementwise s &gt; x.</summary>
    public static Tensor operator >(double s, Tensor a) => a.Lt(s);
    /// <summary>Elementwise s ≤ x.</summary>
    public static Tensor operator <=(double s, Tensor a) => a.Ge(s);
    /// <summary>Elementwise s ≥ x.</summary>
    public static Tensor operator >=(double s, Tensor a) => a.Le(s);

    /// <summary>
    /// Compares with a scalar as PyTorch does: the scalar takes the tensor's dtype unless it does not fit an integer or
    /// Bool tensor exactly (e.g. <c>intTensor == 0.5</c>), in which case both are compared as Float64 (type promotion)
    /// instead of truncating 0.5 to 0.
    /// </summary>
    private Tensor CompareScalar(BinaryOp op, double value)
    {
        bool fits = IsFloatingPoint || (DType == DType.Bool ? value is 0 or 1 : Math.Floor(value) == value && Math.Abs(value) < 9.2e18);
        if (fits) return Apply(op, this, ScalarTensor(value));
        var x = To(DType.Float64);
        return Apply(op, x, x.ScalarTensor(value));
    }

    // ---- bitwise and logical ------------------------------------------------------------------------

    /// <summary>Bitwise and of integer tensors, logical and of Bool tensors (torch.bitwise_and).</summary>
    /// <exception cref="ArgumentException">Floating-point operands, or dtypes/devices/shapes mismatch.</exception>
    public Tensor BitwiseAnd(Tensor other) => Apply(DType == DType.Bool ? BinaryOp.LogicalAnd : BinaryOp.BitwiseAnd, this, other);
    /// <summary>Bitwise or of integer tensors, logical or of Bool tensors (torch.bitwise_or).</summary>
    /// <exception cref="ArgumentException">Floating-point operands, or dtypes/devices/shapes mismatch.</exception>
    public Tensor BitwiseOr(Tensor other) => Apply(DType == DType.Bool ? BinaryOp.LogicalOr : BinaryOp.BitwiseOr, this, other);
    /// <summary>Bitwise xor of integer tensors, logical xor of Bool tensors (torch.bitwise_xor).</summary>
    /// <exception cref="ArgumentException">Floating-point operands, or dtypes/devices/shapes mismatch.</exception>
    public Tensor BitwiseXor(Tensor other) => Apply(DType == DType.Bool ? BinaryOp.LogicalXor : BinaryOp.BitwiseXor, this, other);

    /// <summary>Bitwise not of an integer tensor (~x = −x − 1 in two's complement), logical not of a Bool tensor (torch.bitwise_not).</summary>
    /// <exception cref="ArgumentException">A floating-point tensor.</exception>
    public Tensor BitwiseNot()
    {
        if (DType == DType.Bool) return LogicalNot();
        if (!DType.IsInteger())
            throw new ArgumentException($"BitwiseNot: expected an integer or Bool tensor, got {DType} (shape {Shape}).");
        return Neg() + (-1);
    }

    /// <summary>Bitwise and (integer tensors) or logical and (Bool tensors), as PyTorch's <c>&amp;</c>.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => a.BitwiseAnd(b);
    /// <summary>Bitwise or (integer) or logical or (Bool), as PyTorch's <c>|</c>.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => a.BitwiseOr(b);
    /// <summary>Bitwise xor (integer) or logical xor (Bool), as PyTorch's <c>^</c>.</summary>
    public static Tensor operator ^(Tensor a, Tensor b) => a.BitwiseXor(b);
    /// <summary>Bitwise and with a scalar (x &amp; s, torch's <c>x &amp; 1</c>).</summary>
    public static Tensor operator &(Tensor a, long s) => a.BitwiseAnd(a.ScalarTensor(s));
    /// <summary>Bitwise or with a scalar.</summary>
    public static Tensor operator |(Tensor a, long s) => a.BitwiseOr(a.ScalarTensor(s));
    /// <summary>Bitwise xor with a scalar.</summary>
    public static Tensor operator ^(Tensor a, long s) => a.BitwiseXor(a.ScalarTensor(s));
    /// <summary>Bitwise not (integer) or logical not (Bool), as PyTorch's <c>~</c>.</summary>
    public static Tensor operator ~(Tensor a) => a.BitwiseNot();
    /// <summary>Logical not of a Bool tensor.</summary>
    public static Tensor operator !(Tensor a) => a.LogicalNot();

    // ---- closeness and equality of whole tensors ------------------------------------------------------

    /// <summary>True when x is finite (neither ±∞ nor NaN); always true for integer and Bool tensors (torch.isfinite).</summary>
    public Tensor IsFinite() => IsFloatingPoint ? IsNan().LogicalOr(IsInf()).LogicalNot() : Full(Shape, 1, DType.Bool, Device);

    /// <summary>
    /// |x − other| ≤ atol + rtol·|other| elementwise with broadcasting (torch.isclose); equal infinities are close, and
    /// NaNs are close to each other only with <paramref name="equalNan"/>. Integer operands are compared as Float64.
    /// </summary>
    /// <exception cref="ArgumentException">rtol or atol is negative, shapes do not broadcast, or devices differ.</exception>
    public Tensor IsClose(Tensor other, double rtol = 1e-05, double atol = 1e-08, bool equalNan = false)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (rtol < 0 || atol < 0) throw new ArgumentException($"IsClose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}.");
        var (a, b) = PromotePair("IsClose", this, other);
        if (!a.IsFloatingPoint) (a, b) = (a.To(DType.Float64), b.To(DType.Float64));   // rtol·|b| must not truncate
        // a == b first: it makes equal infinities close, where |∞ − ∞| is NaN.
        var close = a.Eq(b).LogicalOr((a - b).Abs().Le(b.Abs() * rtol + atol));
        if (equalNan && a.IsFloatingPoint) close = close.LogicalOr(a.IsNan().LogicalAnd(b.IsNan()));
        return close;
    }

    /// <summary>True when every element is close (torch.allclose): <c>IsClose(other, rtol, atol, equalNan).All()</c>.</summary>
    /// <exception cref="ArgumentException">As <see cref="IsClose"/>.</exception>
    public bool AllClose(Tensor other, double rtol = 1e-05, double atol = 1e-08, bool equalNan = false) =>
        IsClose(other, rtol, atol, equalNan).All().Item() != 0;

    /// <summary>True when both tensors have the same shape and the same elements (torch.equal; NaN ≠ NaN). Dtypes are promoted.</summary>
    /// <exception cref="ArgumentException">The devices differ.</exception>
    public bool Equal(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CheckSameDevice("Equal", this, other);
        if (Shape != other.Shape) return false;
        var (a, b) = PromotePair("Equal", this, other);
        return a.Eq(b).All().Item() != 0;
    }

    /// <summary>Both operands in one dtype: the wider of the two (integer and Bool ones as Float64 when the other is float).</summary>
    private static (Tensor, Tensor) PromotePair(string op, Tensor a, Tensor b)
    {
        CheckSameDevice(op, a, b);
        if (a.DType == b.DType) return (a, b);
        var t = a.IsFloatingPoint != b.IsFloatingPoint ? (a.IsFloatingPoint ? a.DType : b.DType) : DTypeInfo.Promote(a.DType, b.DType);
        if (!t.IsFloatingPoint() && (a.DType == DType.Bool || b.DType == DType.Bool)) t = DType.Int64;
        return (a.To(t), b.To(t));
    }
}
