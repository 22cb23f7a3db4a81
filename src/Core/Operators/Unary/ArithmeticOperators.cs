using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Operators;

// Unary arithmetic, powers and rounding over floating-point T. Each struct: the scalar form (ILGPU kernels, loop
// tails) and the contiguous-row form (CPU backend), TensorPrimitives where it has the op.

/// <summary>−x.</summary>
public readonly struct NegOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => -x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Negate(x, y);
}

/// <summary>|x|.</summary>
public readonly struct AbsOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Abs(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Abs(x, y);
}

/// <summary>x².</summary>
public readonly struct SquareOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => x * x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Multiply(x, x, y);
}

/// <summary>√x.</summary>
public readonly struct SqrtOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Sqrt(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sqrt(x, y);
}

/// <summary>1/√x.</summary>
public readonly struct RsqrtOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.One / T.Sqrt(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.ReciprocalSqrt(x, y);
}

/// <summary>1/x.</summary>
public readonly struct ReciprocalOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.One / x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Reciprocal(x, y);
}

/// <summary>x + α.</summary>
/// <param name="alpha">α.</param>
public readonly struct AddScalarOperator<T>(T alpha) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T alpha = alpha;
    /// <inheritdoc/>
    public T Invoke(T x) => x + alpha;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Add(x, alpha, y);
}

/// <summary>x · α.</summary>
/// <param name="alpha">α.</param>
public readonly struct MulScalarOperator<T>(T alpha) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T alpha = alpha;
    /// <inheritdoc/>
    public T Invoke(T x) => x * alpha;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Multiply(x, alpha, y);
}

/// <summary>α − x.</summary>
/// <param name="alpha">α.</param>
public readonly struct RSubScalarOperator<T>(T alpha) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T alpha = alpha;
    /// <inheritdoc/>
    public T Invoke(T x) => alpha - x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Subtract(alpha, x, y);
}

/// <summary>α / x.</summary>
/// <param name="alpha">α.</param>
public readonly struct RDivScalarOperator<T>(T alpha) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T alpha = alpha;
    /// <inheritdoc/>
    public T Invoke(T x) => alpha / x;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Divide(alpha, x, y);
}

/// <summary>x^p for a scalar exponent p (exact for p = 0, 1, 2, ½; negative bases follow C's pow).</summary>
/// <param name="exponent">p.</param>
public readonly struct PowScalarOperator<T>(T exponent) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T exponent = exponent;
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.Pow(x, exponent);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        if (exponent == ScalarMath.Two<T>()) TensorPrimitives.Multiply(x, x, y);
        else if (exponent == T.One) x.CopyTo(y);
        else if (exponent == ScalarMath.Half<T>()) TensorPrimitives.Sqrt(x, y);
        else TensorPrimitives.Pow(x, exponent, y);
    }
}

/// <summary>b^x for a scalar base b.</summary>
/// <param name="base">b.</param>
public readonly struct RPowScalarOperator<T>(T @base) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T @base = @base;
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.Pow(@base, x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        T b = @base;
        for (int i = 0; i < x.Length; i++) y[i] = T.Pow(b, x[i]);
    }
}

/// <summary>min(max(x, lo), hi); a NaN bound is open on its side; NaN x stays NaN.</summary>
/// <param name="min">lo (NaN: no lower bound).</param>
/// <param name="max">hi (NaN: no upper bound).</param>
public readonly struct ClampOperator<T>(T min, T max) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T min = min, max = max;
    /// <inheritdoc/>
    public T Invoke(T x)
    {
        if (T.IsNaN(x)) return x;
        if (!T.IsNaN(min) && x < min) x = min;
        if (!T.IsNaN(max) && x > max) x = max;
        return x;
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        // TensorPrimitives.Max/Min propagate NaN inputs, as the scalar form does.
        if (!T.IsNaN(min)) { TensorPrimitives.Max(x, min, y); x = y; }
        if (!T.IsNaN(max)) TensorPrimitives.Min(x, max, y);
        else if (T.IsNaN(min)) x.CopyTo(y);
    }
}

/// <summary>⌊x⌋.</summary>
public readonly struct FloorOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Floor(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Floor(x, y);
}

/// <summary>⌈x⌉.</summary>
public readonly struct CeilOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Ceiling(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Ceiling(x, y);
}

/// <summary>Round half to even (torch.round).</summary>
public readonly struct RoundOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.RoundHalfToEven(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = T.Round(x[i], MidpointRounding.ToEven);
    }
}

/// <summary>sign(x) ∈ {−1, 0, 1}; NaN stays NaN.</summary>
public readonly struct SignOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.IsNaN(x) ? x : x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar<T, SignOperator<T>>(this, x, y);
}
