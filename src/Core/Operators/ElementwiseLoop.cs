using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ember.Operators;

/// <summary>
/// The loops every CPU elementwise op shares over contiguous rows: one SIMD loop (the widest accelerated vector,
/// then the scalar form for the tail) and the scalar loops for operators without vector forms. The operator is
/// taken by value: a local copy lets the JIT keep its parameters in registers instead of re-reading them from
/// memory after every store to the output span.
/// </summary>
public static class ElementwiseLoop
{
    /// <summary>y[i] = op(x[i]) with Vector512/256/128 bodies and a scalar tail; x and y may be the same span.</summary>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    public static void Map<T, TOp>(TOp op, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged where TOp : struct, IVectorizedUnaryOperator<T>
    {
        if (x.Length != y.Length) throw new ArgumentException($"ElementwiseLoop.Map: x has {x.Length} elements, y {y.Length}.");
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (nuint w = (nuint)Vector512<T>.Count; i + w <= n; i += w)
                op.Invoke(Vector512.LoadUnsafe(ref xr, i)).StoreUnsafe(ref yr, i);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (nuint w = (nuint)Vector256<T>.Count; i + w <= n; i += w)
                op.Invoke(Vector256.LoadUnsafe(ref xr, i)).StoreUnsafe(ref yr, i);
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (nuint w = (nuint)Vector128<T>.Count; i + w <= n; i += w)
                op.Invoke(Vector128.LoadUnsafe(ref xr, i)).StoreUnsafe(ref yr, i);
        for (; i < n; i++) Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref xr, i));
    }

    /// <summary>y[i] = op(x[i]) one element at a time; x and y may be the same span.</summary>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    public static void MapScalar<T, TOp>(TOp op, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged where TOp : struct, IUnaryOperator<T>
    {
        if (x.Length != y.Length) throw new ArgumentException($"ElementwiseLoop.MapScalar: x has {x.Length} elements, y {y.Length}.");
        for (int i = 0; i < x.Length; i++) y[i] = op.Invoke(x[i]);
    }

    /// <summary>y[i] = op(a[i], b[i]) one element at a time; y may alias an input.</summary>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    public static void CombineScalar<T, TOp>(TOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged where TOp : struct, IBinaryOperator<T>
    {
        if (a.Length != y.Length || b.Length != y.Length)
            throw new ArgumentException($"ElementwiseLoop.CombineScalar: a has {a.Length} elements, b {b.Length}, y {y.Length}.");
        for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(a[i], b[i]);
    }
}
