using System.Numerics;

namespace Ember.Cpu;

/// <summary>Row kernels of the Bool logical ops and of comparisons over contiguous spans (arithmetic: operator structs in Ember.Operators).</summary>
internal static class BinaryKernels
{
    /// <summary>The logical ops (and Eq/Ne) of Bool operands; any other op or element type is not defined here.</summary>
    public static void Logical<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged
    {
        if (typeof(T) != typeof(bool)) throw new NotSupportedException($"CPU backend: binary op {op} is not defined for {typeof(T).Name}.");
        Logical(op, Cast<T, bool>(a), Cast<T, bool>(b), CastW<T, bool>(y));
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);
    private static Span<TTo> CastW<TFrom, TTo>(Span<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    private static void Logical(BinaryOp op, ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, Span<bool> y)
    {
        for (int i = 0; i < y.Length; i++)
            y[i] = op switch
            {
                BinaryOp.LogicalAnd => a[i] & b[i],
                BinaryOp.LogicalOr => a[i] | b[i],
                BinaryOp.LogicalXor => a[i] ^ b[i],
                BinaryOp.Eq => a[i] == b[i],
                BinaryOp.Ne => a[i] != b[i],
                _ => throw new NotSupportedException($"CPU backend: binary op {op} is not defined for Bool."),
            };
    }

    public static void Compare<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> y) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Cmp(op, Cast<T, float>(a), Cast<T, float>(b), y);
        else if (typeof(T) == typeof(double)) Cmp(op, Cast<T, double>(a), Cast<T, double>(b), y);
        else if (typeof(T) == typeof(int)) Cmp(op, Cast<T, int>(a), Cast<T, int>(b), y);
        else if (typeof(T) == typeof(long)) Cmp(op, Cast<T, long>(a), Cast<T, long>(b), y);
        else if (typeof(T) == typeof(short)) Cmp(op, Cast<T, short>(a), Cast<T, short>(b), y);
        else if (typeof(T) == typeof(sbyte)) Cmp(op, Cast<T, sbyte>(a), Cast<T, sbyte>(b), y);
        else if (typeof(T) == typeof(byte)) Cmp(op, Cast<T, byte>(a), Cast<T, byte>(b), y);
        else if (typeof(T) == typeof(Half) || typeof(T) == typeof(BFloat16)) NarrowConvert.Compare(op, a, b, y);
        else Logical(op, Cast<T, bool>(a), Cast<T, bool>(b), y);
    }

    private static void Cmp<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> y) where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case BinaryOp.Eq: for (int i = 0; i < y.Length; i++) y[i] = a[i] == b[i]; break;
            case BinaryOp.Ne: for (int i = 0; i < y.Length; i++) y[i] = a[i] != b[i]; break;
            case BinaryOp.Lt: for (int i = 0; i < y.Length; i++) y[i] = a[i] < b[i]; break;
            case BinaryOp.Le: for (int i = 0; i < y.Length; i++) y[i] = a[i] <= b[i]; break;
            case BinaryOp.Gt: for (int i = 0; i < y.Length; i++) y[i] = a[i] > b[i]; break;
            case BinaryOp.Ge: for (int i = 0; i < y.Length; i++) y[i] = a[i] >= b[i]; break;
            default: throw new NotSupportedException($"CPU backend: {op} is not a comparison.");
        }
    }
}
