using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Operators;

// Two-input arithmetic over floating-point T (operands already broadcast to the result's shape).

/// <summary>a + b.</summary>
public readonly struct AddOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a + b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(a, b, y);
}

/// <summary>a − b.</summary>
public readonly struct SubOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a - b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
}

/// <summary>a · b.</summary>
public readonly struct MulOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a * b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
}

/// <summary>a / b.</summary>
public readonly struct DivOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a / b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
}

/// <summary>aᵇ (negative bases follow C's pow).</summary>
public readonly struct PowOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => ScalarMath.Pow(a, b);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Pow(a, b, y);
}

/// <summary>max(a, b), NaN-propagating.</summary>
public readonly struct MaximumOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => T.IsNaN(a) ? a : T.IsNaN(b) ? b : a > b ? a : b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(a, b, y);
}

/// <summary>min(a, b), NaN-propagating.</summary>
public readonly struct MinimumOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => T.IsNaN(a) ? a : T.IsNaN(b) ? b : a < b ? a : b;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(a, b, y);
}

/// <summary>a mod b with the sign of b (Python's %, torch.remainder).</summary>
public readonly struct RemainderOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b)
    {
        T r = a % b;
        return r != T.Zero && (r < T.Zero) != (b < T.Zero) ? r + b : r;
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => ElementwiseLoop.CombineScalar<T, RemainderOperator<T>>(this, a, b, y);
}
