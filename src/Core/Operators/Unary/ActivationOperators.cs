using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Cpu;

namespace Ember.Operators;

// Activation functions over floating-point T.

/// <summary>σ(x) = 1 / (1 + e^(−x)).</summary>
public readonly struct SigmoidOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.Sigmoid(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sigmoid(x, y);
}

/// <summary>max(x, 0); NaN stays NaN (PyTorch).</summary>
public readonly struct ReluOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    // NaN is tested first and on its own: ILGPU's OpenCL code generator drops the "unordered" flag of a comparison, so
    // a condition such as `x > 0 || IsNaN(x)`, which ILGPU may fold into one unordered compare, lost NaN there.
    public T Invoke(T x) => T.IsNaN(x) ? x : T.Max(x, T.Zero);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Max(x, T.Zero, y);
}

/// <summary>x where x &gt; 0, else slope·x.</summary>
/// <param name="negativeSlope">The slope for x ≤ 0.</param>
public readonly struct LeakyReluOperator<T>(T negativeSlope) : IVectorizedUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T slope = negativeSlope;
    /// <inheritdoc/>
    public T Invoke(T x) => x > T.Zero ? x : slope * x;
    /// <inheritdoc/>
    public Vector128<T> Invoke(Vector128<T> x) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), x, x * slope);
    /// <inheritdoc/>
    public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, x * slope);
    /// <inheritdoc/>
    public Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * slope);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.Map<T, LeakyReluOperator<T>>(this, x, y);
}

/// <summary>x where x &gt; 0, else α·(eˣ − 1).</summary>
/// <param name="alpha">α.</param>
public readonly struct EluOperator<T>(T alpha) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T alpha = alpha;
    /// <inheritdoc/>
    public T Invoke(T x) => x > T.Zero ? x : alpha * (T.Exp(x) - T.One);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar<T, EluOperator<T>>(this, x, y);
}

/// <summary>Exact GELU: x·Φ(x) = ½x(1 + erf(x/√2)) (float32 rows on the CPU use a vectorized erf).</summary>
public readonly struct GeluOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => ScalarMath.Half<T>() * x * (T.One + ScalarMath.Erf(x / T.Sqrt(ScalarMath.Two<T>())));
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        if (typeof(T) == typeof(float)) FastMath.Gelu(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double))
        {
            const double InvSqrt2 = 0.70710678118654752440;
            var xd = MemoryMarshal.Cast<T, double>(x);
            var yd = MemoryMarshal.Cast<T, double>(y);
            for (int i = 0; i < xd.Length; i++) yd[i] = 0.5 * xd[i] * (1 + Special.Erf(xd[i] * InvSqrt2));
        }
        else ElementwiseLoop.MapScalar<T, GeluOperator<T>>(this, x, y);
    }
}

/// <summary>Tanh-approximated GELU: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Create it with <c>new()</c> (the constructor sets the coefficient).</summary>
public readonly struct GeluTanhOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T cubic;

    /// <summary>Sets the cubic coefficient 0.044715 in T (a conversion ILGPU kernels cannot do themselves).</summary>
    public GeluTanhOperator() => cubic = T.CreateTruncating(0.044715);

    /// <inheritdoc/>
    public T Invoke(T x)
    {
        T k = T.Sqrt(ScalarMath.Two<T>() / T.Pi);
        return ScalarMath.Half<T>() * x * (T.One + T.Tanh(k * (x + cubic * x * x * x)));
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar<T, GeluTanhOperator<T>>(this, x, y);
}

/// <summary>SiLU / swish: x·σ(x).</summary>
public readonly struct SiluOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x) => x / (T.One + T.Exp(-x));
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        if (x.Overlaps(y)) { ElementwiseLoop.MapScalar<T, SiluOperator<T>>(this, x, y); return; }
        TensorPrimitives.Sigmoid(x, y);
        TensorPrimitives.Multiply(x, y, y);
    }
}

/// <summary>Softplus (1/β)·ln(1 + e^(βx)), and x where βx &gt; threshold (there it equals x to rounding, and e^(βx) would overflow).</summary>
/// <param name="beta">β.</param>
/// <param name="threshold">Above this βx the op is linear.</param>
public readonly struct SoftplusOperator<T>(T beta, T threshold) : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T beta = beta, threshold = threshold;
    /// <inheritdoc/>
    public T Invoke(T x)
    {
        T bx = beta * x;
        return bx > threshold ? x : ScalarMath.Log1p(T.Exp(bx)) / beta;
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y)
    {
        // The CPU's formula since before the operator structs (T.LogP1 is ln(1 + e) without Kahan's correction):
        // about 40% faster than the scalar form, whose correction matters only where e^(βx) is below T's epsilon.
        T b = beta, limit = threshold;   // locals: registers, not field loads after every store to y
        for (int i = 0; i < x.Length; i++)
        {
            T bx = b * x[i];
            y[i] = bx > limit ? x[i] : T.LogP1(T.Exp(bx)) / b;
        }
    }
}

/// <summary>
/// Mish: x·tanh(softplus(x)) with PyTorch's softplus threshold 20 (above it mish(x) = x). Below it, with e = eˣ,
/// tanh(ln(1 + e)) = n / (n + 2), n = e(e + 2): exact, no tanh approximation and no cancellation for negative x.
/// </summary>
public readonly struct MishOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Invoke(T x)
    {
        T two = ScalarMath.Two<T>(), ten = two * two * two + two;
        if (x > ten + ten || T.IsNaN(x)) return x;
        T e = T.Exp(x);
        T n = e * (e + two);
        return x * n / (n + two);
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<T> x, Span<T> y) => ElementwiseLoop.MapScalar<T, MishOperator<T>>(this, x, y);
}
