using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// Element conversions between the CLR types of <see cref="DType"/>, with PyTorch's rules: floats convert to integers
/// by truncation toward zero and then wrap to the target width (as a C cast through int64 does on x86, so −1.0 → 255
/// for UInt8); integers convert exactly among themselves (wrapping when narrowing); float64 and integers convert to
/// Float16 and BFloat16 through float32 (PyTorch's c10::Half and c10::BFloat16 are constructed from a float); anything
/// nonzero, NaN included, is true. The type tests are JIT-time constants, so each instantiation is a straight line.
/// </summary>
public static class ElementConvert
{
    /// <summary><paramref name="value"/> converted from <typeparamref name="TS"/> to <typeparamref name="TD"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TD Convert<TS, TD>(TS value) where TS : unmanaged where TD : unmanaged
    {
        if (typeof(TS) == typeof(TD)) return Unsafe.As<TS, TD>(ref value);
        if (IsFloat<TS>()) return FromDouble<TD>(ToDouble(value));
        return FromLong<TD>(ToLong(value));
    }

    /// <summary>A double converted to <typeparamref name="T"/> (the rules of <see cref="ElementConvert"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromDouble<T>(double d) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return As<float, T>((float)d);
        if (typeof(T) == typeof(double)) return As<double, T>(d);
        if (typeof(T) == typeof(Half)) return As<Half, T>((Half)(float)d);
        if (typeof(T) == typeof(BFloat16)) return As<BFloat16, T>(BFloat16.FromSingle((float)d));
        if (typeof(T) == typeof(bool)) return As<bool, T>(d != 0);   // NaN != 0: NaN is true, as in PyTorch
        if (typeof(T) == typeof(long)) return As<long, T>((long)d);
        if (typeof(T) == typeof(int)) return As<int, T>((int)d);
        return FromLong<T>((long)d);   // the narrow integers: truncate, then wrap
    }

    /// <summary>A long converted to <typeparamref name="T"/> (integers wrap when narrowing; see <see cref="ElementConvert"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromLong<T>(long l) where T : unmanaged
    {
        if (typeof(T) == typeof(long)) return As<long, T>(l);
        if (typeof(T) == typeof(int)) return As<int, T>((int)l);
        if (typeof(T) == typeof(short)) return As<short, T>((short)l);
        if (typeof(T) == typeof(sbyte)) return As<sbyte, T>((sbyte)l);
        if (typeof(T) == typeof(byte)) return As<byte, T>((byte)l);
        if (typeof(T) == typeof(bool)) return As<bool, T>(l != 0);
        if (typeof(T) == typeof(double)) return As<double, T>(l);
        return FromDouble<T>((float)l);   // float, Half, BFloat16: through float32 (one rounding for Half/BFloat16 from float)
    }

    /// <summary>The exact double value of a floating-point element (float, double, Half, BFloat16); integers and bool as numbers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble<T>(T value) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return As<T, float>(value);
        if (typeof(T) == typeof(double)) return As<T, double>(value);
        if (typeof(T) == typeof(Half)) return (double)As<T, Half>(value);
        if (typeof(T) == typeof(BFloat16)) return BFloat16.ToSingle(As<T, BFloat16>(value));
        return ToLong(value);
    }

    /// <summary>The value of an integer or bool element as a long (floating-point elements truncate toward zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ToLong<T>(T value) where T : unmanaged
    {
        if (typeof(T) == typeof(long)) return As<T, long>(value);
        if (typeof(T) == typeof(int)) return As<T, int>(value);
        if (typeof(T) == typeof(short)) return As<T, short>(value);
        if (typeof(T) == typeof(sbyte)) return As<T, sbyte>(value);
        if (typeof(T) == typeof(byte)) return As<T, byte>(value);
        if (typeof(T) == typeof(bool)) return As<T, bool>(value) ? 1 : 0;
        return (long)ToDouble(value);
    }

    /// <summary>True when <typeparamref name="T"/> is float, double, Half or BFloat16.</summary>
    public static bool IsFloat<T>() where T : unmanaged =>
        typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half) || typeof(T) == typeof(BFloat16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TTo As<TFrom, TTo>(TFrom v) where TFrom : unmanaged where TTo : unmanaged => Unsafe.As<TFrom, TTo>(ref v);
}
