using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Operators;

// One-input ops over the signed integer types (Int32, Int64): the integer subset of UnaryOp. Scalar parameters are
// converted to T on the host (by the registry); an op whose parameter may be fractional also takes the element type's
// IIntegerConversion. Wrapping arithmetic as on a machine (and in PyTorch): −int.MinValue is int.MinValue.

/// <summary>−x.</summary>
public readonly struct IntegerNegOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => -x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Negate(x, y);
}

/// <summary>|x| (wrapping: |MinValue| = MinValue, never an overflow exception).</summary>
public readonly struct IntegerAbsOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => x < T.Zero ? -x : x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar(this, x, y);
}

/// <summary>x².</summary>
public readonly struct IntegerSquareOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => x * x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Multiply(x, x, y);
}

/// <summary>sign(x) ∈ {−1, 0, 1}.</summary>
public readonly struct IntegerSignOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar(this, x, y);
}

/// <summary>max(x, 0).</summary>
public readonly struct IntegerReluOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => x > T.Zero ? x : T.Zero;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Max(x, T.Zero, y);
}

/// <summary>x itself: Floor, Ceil and Round of an integer.</summary>
public readonly struct IntegerIdentityOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => x.CopyTo(y);
}

/// <summary>x + a (a truncated to T on the host).</summary>
/// <param name="a">The addend.</param>
public readonly struct IntegerAddScalarOperator<T>(T a) : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    private readonly T a = a;
    /// <inheritdoc/>
    public T Invoke(T x) => x + a;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Add(x, a, y);
}

/// <summary>a − x (a truncated to T on the host).</summary>
/// <param name="a">The minuend.</param>
public readonly struct IntegerRSubScalarOperator<T>(T a) : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    private readonly T a = a;
    /// <inheritdoc/>
    public T Invoke(T x) => a - x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Subtract(a, x, y);
}

/// <summary>
/// x·α truncated toward zero: an exact integer product where α is a whole number of T's range (factor), else computed in
/// double.
/// </summary>
/// <param name="factor">α as T when <paramref name="exact"/>.</param>
/// <param name="alpha">α.</param>
/// <param name="exact">Whether α is a whole number that fits T.</param>
public readonly struct IntegerMulScalarOperator<T, TConversion>(T factor, double alpha, bool exact) : IUnaryOperator<T>
    where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> where TConversion : struct, IIntegerConversion<T>
{
    private readonly T factor = factor;
    private readonly double alpha = alpha;
    private readonly int exact = exact ? 1 : 0;   // an int: ILGPU's kernel parameters must be blittable (bool is not)
    /// <inheritdoc/>
    public T Invoke(T x) => exact != 0 ? x * factor : default(TConversion).FromDouble(default(TConversion).ToDouble(x) * alpha);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        if (exact != 0) TensorPrimitives.Multiply(x, factor, y);
        else ElementwiseLoop.MapScalar(this, x, y);
    }
}

/// <summary>
/// x^α: exact by squaring (<see cref="IntegerMath.Pow{T}"/>) where α is a whole number of T's range (exponent), else
/// computed in double and truncated toward zero.
/// </summary>
/// <param name="exponent">α as T when <paramref name="exact"/>.</param>
/// <param name="alpha">α.</param>
/// <param name="exact">Whether α is a whole number that fits T.</param>
public readonly struct IntegerPowScalarOperator<T, TConversion>(T exponent, double alpha, bool exact) : IUnaryOperator<T>
    where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> where TConversion : struct, IIntegerConversion<T>
{
    private readonly T exponent = exponent;
    private readonly double alpha = alpha;
    private readonly int exact = exact ? 1 : 0;   // an int: ILGPU's kernel parameters must be blittable (bool is not)
    /// <inheritdoc/>
    public T Invoke(T x) => exact != 0 ? IntegerMath.Pow(x, exponent)
        : default(TConversion).FromDouble(ScalarMath.Pow(default(TConversion).ToDouble(x), alpha));
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar(this, x, y);
}

/// <summary>
/// min(max(x, lo), hi) with whole bounds: the host gives lo = ⌈min⌉ and hi = ⌊max⌋ (saturated to T's range; a missing
/// bound is T's extreme), so an integer compares with a fractional bound exactly. Where lo &gt; hi every x becomes hi
/// (PyTorch's rule).
/// </summary>
/// <param name="lo">The lower bound.</param>
/// <param name="hi">The upper bound.</param>
public readonly struct IntegerClampOperator<T>(T lo, T hi) : IUnaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    private readonly T lo = lo, hi = hi;
    /// <inheritdoc/>
    public T Invoke(T x)
    {
        T r = x < lo ? lo : x;
        return r > hi ? hi : r;
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar(this, x, y);
}
