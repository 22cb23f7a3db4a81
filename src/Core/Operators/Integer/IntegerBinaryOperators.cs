using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Operators;

// Two-input ops over the signed integer types (Int32, Int64), operands already broadcast: the integer subset of
// BinaryOp. Wrapping arithmetic; Tensor.Apply rejects a zero divisor before any kernel runs, and a GPU cannot throw, so
// division and remainder by zero give 0 here.

/// <summary>a + b.</summary>
public readonly struct IntegerAddOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a + b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(a, b, y);
}

/// <summary>a − b.</summary>
public readonly struct IntegerSubOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a - b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
}

/// <summary>a · b.</summary>
public readonly struct IntegerMulOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a * b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
}

/// <summary>a / b truncated toward zero (C#'s integer division); 0 where b = 0.</summary>
public readonly struct IntegerDivOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => b == T.Zero ? T.Zero : a / b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => ElementwiseLoop.CombineScalar(this, a, b, y);
}

/// <summary>a^b exactly (<see cref="IntegerMath.Pow{T}"/>).</summary>
public readonly struct IntegerPowOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => IntegerMath.Pow(a, b);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => ElementwiseLoop.CombineScalar(this, a, b, y);
}

/// <summary>max(a, b).</summary>
public readonly struct IntegerMaximumOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a > b ? a : b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(a, b, y);
}

/// <summary>min(a, b).</summary>
public readonly struct IntegerMinimumOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a < b ? a : b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(a, b, y);
}

/// <summary>a mod b with the sign of b (Python's %, torch.remainder); 0 where b = 0.</summary>
public readonly struct IntegerRemainderOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b)
    {
        if (b == T.Zero) return T.Zero;
        T r = a % b;   // C#'s % takes a's sign; move it to b's
        return r != T.Zero && (r < T.Zero) != (b < T.Zero) ? r + b : r;
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => ElementwiseLoop.CombineScalar(this, a, b, y);
}

/// <summary>a &amp; b bitwise.</summary>
public readonly struct BitwiseAndOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a & b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.BitwiseAnd(a, b, y);
}

/// <summary>a | b bitwise.</summary>
public readonly struct BitwiseOrOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a | b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.BitwiseOr(a, b, y);
}

/// <summary>a ^ b bitwise.</summary>
public readonly struct BitwiseXorOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a ^ b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Xor(a, b, y);
}
