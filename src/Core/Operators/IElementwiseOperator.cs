using System.Runtime.Intrinsics;

namespace Ember.Operators;

/// <summary>
/// One elementwise one-input op over element type <typeparamref name="T"/>: the single definition both backends
/// instantiate (the CPU backend calls the span form, the ILGPU backend's generic kernel the scalar form).
/// Implementations are small readonly structs; scalar parameters (α, β) are their fields, set on the host.
/// </summary>
/// <typeparam name="T">The element type (float, double; Half and BFloat16 fit the same constraints).</typeparam>
public interface IUnaryOperator<T> where T : unmanaged
{
    /// <summary>
    /// The op on one element. It is compiled by ILGPU for GPUs, so it uses only arithmetic, comparisons and generic
    /// math that ILGPU maps (T.Exp, T.Log, T.Sqrt, T.Tanh, T.IsNaN, T.Floor, T.One, T.Pi, …); never a conversion such
    /// as T.CreateTruncating (its type tests do not compile), an allocation or an exception.
    /// </summary>
    T Invoke(T x);

    /// <summary>
    /// The op over a contiguous row (the CPU backend): TensorPrimitives where it has the op, the shared SIMD loop
    /// (<see cref="ElementwiseLoop.Map{T, TOp}"/>) for vectorized operators, the scalar loop otherwise.
    /// <paramref name="x"/> and <paramref name="y"/> have equal lengths and may be the same span.
    /// </summary>
    void Invoke(ReadOnlySpan<T> x, Span<T> y);
}

/// <summary>A unary operator with vector forms, run by the shared SIMD loop <see cref="ElementwiseLoop.Map{T, TOp}"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
public interface IVectorizedUnaryOperator<T> : IUnaryOperator<T> where T : unmanaged
{
    /// <summary>The op on 128 bits of elements (same result per lane as the scalar form).</summary>
    Vector128<T> Invoke(Vector128<T> x);
    /// <summary>The op on 256 bits of elements.</summary>
    Vector256<T> Invoke(Vector256<T> x);
    /// <summary>The op on 512 bits of elements.</summary>
    Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>One elementwise two-input op over element type <typeparamref name="T"/> (see <see cref="IUnaryOperator{T}"/>).</summary>
/// <typeparam name="T">The element type.</typeparam>
public interface IBinaryOperator<T> where T : unmanaged
{
    /// <summary>The op on one pair of elements (compiled by ILGPU: the same rules as <see cref="IUnaryOperator{T}.Invoke(T)"/>).</summary>
    T Invoke(T a, T b);

    /// <summary>The op over contiguous rows of equal length (the CPU backend); <paramref name="y"/> may alias an input.</summary>
    void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y);
}
