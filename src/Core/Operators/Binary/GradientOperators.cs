using System.Numerics;
using System.Runtime.InteropServices;
using Ember.Cpu;

namespace Ember.Operators;

/// <summary>
/// ReLU's backward pass in one elementwise pass (PyTorch's threshold_backward): a = the incoming gradient, b = ReLU's
/// output; y = a where b &gt; 0, else 0 (0 at b = 0: PyTorch's subgradient). Not differentiable itself: the formula table
/// uses it only when the backward pass is not being recorded.
/// </summary>
public readonly struct ReluBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => b > T.Zero ? a : T.Zero;
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
    {
        int i = 0, w = Vector<T>.Count;
        for (; i <= y.Length - w; i += w)
        {
            var keep = Vector.GreaterThan(new Vector<T>(b[i..]), Vector<T>.Zero);
            Vector.ConditionalSelect(keep, new Vector<T>(a[i..]), Vector<T>.Zero).CopyTo(y[i..]);
        }
        for (; i < y.Length; i++) y[i] = Invoke(a[i], b[i]);
    }
}

/// <summary>
/// Exact GELU's backward pass in one elementwise pass: a = the incoming gradient, b = GELU's input x;
/// y = a·(Φ(x) + x·φ(x)), Φ the standard normal CDF, φ its density. Not differentiable itself (see
/// <see cref="ReluBackwardOperator{T}"/>).
/// </summary>
public readonly struct GeluBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b)
    {
        T half = ScalarMath.Half<T>(), two = ScalarMath.Two<T>();
        T cdf = half * (T.One + ScalarMath.Erf(b / T.Sqrt(two)));
        T pdf = T.Exp(-half * b * b) / T.Sqrt(two * T.Pi);
        return a * (cdf + b * pdf);
    }

    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
    {
        if (typeof(T) == typeof(float))
            FastMath.GeluBackward(MemoryMarshal.Cast<T, float>(a), MemoryMarshal.Cast<T, float>(b), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double))
            FastMath.GeluBackward(MemoryMarshal.Cast<T, double>(a), MemoryMarshal.Cast<T, double>(b), MemoryMarshal.Cast<T, double>(y));
        else ElementwiseLoop.CombineScalar<T, GeluBackwardOperator<T>>(this, a, b, y);
    }
}
