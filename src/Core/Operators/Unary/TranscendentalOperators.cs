using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Ember.Cpu;

namespace Ember.Operators;

// Exponentials, logarithms, trigonometric and special functions over floating-point T.

/// <summary>eˣ.</summary>
public readonly struct ExpOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Exp(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Exp(x, y);
}

/// <summary>ln x.</summary>
public readonly struct LogOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Log(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Log(x, y);
}

/// <summary>ln(1 + x), accurate near 0.</summary>
public readonly struct Log1pOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.Log1p(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.LogP1(x, y);
}

/// <summary>eˣ − 1, accurate near 0.</summary>
public readonly struct Expm1Operator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.Expm1(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.ExpM1(x, y);
}

/// <summary>sin x.</summary>
public readonly struct SinOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Sin(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sin(x, y);
}

/// <summary>cos x.</summary>
public readonly struct CosOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Cos(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Cos(x, y);
}

/// <summary>tanh x (on CUDA, ILGPU's tanh is an approximation, about 1e−5 relative).</summary>
public readonly struct TanhOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => T.Tanh(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Tanh(x, y);
}

/// <summary>erf x (float32 rows on the CPU use a vectorized rational fit accurate to a few ulps).</summary>
public readonly struct ErfOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.Erf(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        if (typeof(T) == typeof(float)) FastMath.Erf(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double))
        {
            var xd = MemoryMarshal.Cast<T, double>(x);
            var yd = MemoryMarshal.Cast<T, double>(y);
            for (int i = 0; i < xd.Length; i++) yd[i] = Special.Erf(xd[i]);
        }
        else ElementwiseLoop.MapScalar<T, ErfOperator<T>>(this, x, y);
    }
}

/// <summary>
/// logit x = ln(x / (1 − x)) (torch.logit); with ε (not NaN) x is first clamped to [ε, 1 − ε].
/// </summary>
/// <param name="eps">ε, or NaN for no clamping (PyTorch's eps=None).</param>
public readonly struct LogitOperator<T>(T eps) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T eps = eps;
    /// <inheritdoc/>
    public T Invoke(T x)
    {
        if (!T.IsNaN(eps) && !T.IsNaN(x))
        {
            T hi = T.One - eps;
            x = x < eps ? eps : x > hi ? hi : x;
        }
        return T.Log(x / (T.One - x));
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar<T, LogitOperator<T>>(this, x, y);
}
