using ILGPU.Algorithms;
using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Bit conversions between float32 and the 16-bit floats, written with integer and float32 arithmetic only so that
/// every accelerator compiles them (CUDA, OpenCL, the CPU accelerator). Both round to nearest, ties to even, exactly as
/// <see cref="System.Half"/>'s and <see cref="BFloat16"/>'s host conversions (the ilgpu-cpu tests compare them bit for bit).
/// </summary>
internal static class NarrowBits
{
    /// <summary>The float32 value of IEEE half bits h (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToFloat(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16, exp = (uint)(h >> 10) & 0x1F, mant = (uint)h & 0x3FF;
        if (exp == 0x1F) return Interop.IntAsFloat(sign | 0x7F800000u | (mant << 13));   // ±∞, NaN (payload kept)
        if (exp == 0)
        {
            // Zero or subnormal: mant·2⁻²⁴, exact in float32; the sign is or-ed into the bits.
            float v = mant * 5.9604644775390625e-8f;
            return Interop.IntAsFloat(Interop.FloatAsInt(v) | sign);
        }
        return Interop.IntAsFloat(sign | ((exp + 112) << 23) | (mant << 13));   // rebias 15 → 127
    }

    /// <summary>IEEE half bits of f, rounded to nearest even (±∞ from 65520 up; subnormals below 2⁻¹⁴; NaN stays NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FloatToHalf(float f)
    {
        uint x = Interop.FloatAsInt(f);
        uint sign = (x >> 16) & 0x8000, abs = x & 0x7FFFFFFF;
        if (abs > 0x7F800000) return (ushort)(sign | 0x7E00 | ((abs >> 13) & 0x3FF));   // NaN: quiet, upper payload kept
        if (abs >= 0x477FF000) return (ushort)(sign | 0x7C00);                           // ≥ 65520 rounds to ∞ (65520 is a tie to the even ∞)
        if (abs >= 0x38800000)
        {
            // Normal: rebias the exponent (−112·2²³ = 0xC8000000), then round the 13 dropped bits half to even; a carry
            // out of the mantissa bumps the exponent, which is the right result.
            return (ushort)(sign | ((abs + 0xC8000FFFu + ((abs >> 13) & 1)) >> 13));
        }
        // Subnormal or zero: adding 0.5 puts the value's 2⁻²⁴ units into the low mantissa bits of a float whose ulp is
        // 2⁻²⁴, and float addition rounds half to even; 0x400 (the smallest normal) comes out right too.
        float t = Interop.IntAsFloat(abs) + 0.5f;
        return (ushort)(sign | (Interop.FloatAsInt(t) - 0x3F000000u));
    }

    /// <summary>The float32 value of bfloat16 bits (exact: the upper half of a float32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BFloat16ToFloat(ushort b) => Interop.IntAsFloat((uint)b << 16);

    /// <summary>bfloat16 bits of f, rounded to nearest even; NaN keeps its sign and upper payload, made quiet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FloatToBFloat16(float f)
    {
        uint x = Interop.FloatAsInt(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) return (ushort)((x >> 16) | 0x40);
        return (ushort)((x + 0x7FFFu + ((x >> 16) & 1)) >> 16);
    }
}

/// <summary>
/// A 16-bit float stored as its bits (ushort on the device) with conversions to and from float32; its kernels compute in
/// float32 and round once.
/// </summary>
internal interface INarrow : INum<ushort>
{
    /// <summary>The exact float32 value.</summary>
    static abstract float ToF(ushort x);
    /// <summary>float32 rounded to nearest even.</summary>
    static abstract ushort FromF(float x);
}

/// <summary>Float16 elements (IEEE half bits).</summary>
internal readonly struct F16 : INarrow
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ToF(ushort x) => NarrowBits.HalfToFloat(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ushort FromF(float x) => NarrowBits.FloatToHalf(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(ushort x) => ToF(x);
    /// <summary>Through float32, as PyTorch (and the CPU backend) convert float64 to float16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ushort FromD(double x) => FromF((float)x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(ushort x) => (long)ToF(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ushort FromL(long x) => FromF(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(ushort a, ushort b) => ToF(a) < ToF(b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(ushort a, ushort b) => ToF(a) == ToF(b);
    /// <summary>Not atomic: never launched (the backend runs Float16 scatter-add and index-add on float32 stand-ins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<ushort> view, long index, ushort value) => view[index] = FromF(ToF(view[index]) + ToF(value));
}

/// <summary>BFloat16 elements (the upper 16 bits of a float32).</summary>
internal readonly struct BF16 : INarrow
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ToF(ushort x) => NarrowBits.BFloat16ToFloat(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ushort FromF(float x) => NarrowBits.FloatToBFloat16(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(ushort x) => ToF(x);
    /// <summary>Through float32, as PyTorch (and the CPU backend) convert float64 to bfloat16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ushort FromD(double x) => FromF((float)x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(ushort x) => (long)ToF(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ushort FromL(long x) => FromF(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(ushort a, ushort b) => ToF(a) < ToF(b);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(ushort a, ushort b) => ToF(a) == ToF(b);
    /// <summary>Not atomic: never launched (the backend runs BFloat16 scatter-add and index-add on float32 stand-ins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<ushort> view, long index, ushort value) => view[index] = FromF(ToF(view[index]) + ToF(value));
}

/// <summary>UInt8 elements.</summary>
internal readonly struct U8 : INum<byte>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(byte x) => x;
    /// <summary>
    /// Truncates toward zero, then wraps, as the host's <c>(byte)(long)x</c> does for |x| &lt; 2^63. The wrap is
    /// computed in double (exact: t/256 and 256·⌊t/256⌋ are exact for integral t) because ILGPU folds the integer
    /// form into one PTX <c>cvt.rzi.u8.f64</c>, which saturates (−40.0 → 0, not 216).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static byte FromD(double x) => (byte)(int)Wrap(x, 256.0);

    /// <summary>trunc(x) mod m in [0, m): the truncated value wrapped into the unsigned range of an m-valued type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Wrap(double x, double m)
    {
        double t = XMath.Truncate(x);
        return t - m * XMath.Floor(t / m);
    }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(byte x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static byte FromL(long x) => (byte)x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(byte a, byte b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(byte a, byte b) => a == b;
    /// <summary>Not atomic: never launched (the backend runs UInt8 scatter-add and index-add on Int64 stand-ins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<byte> view, long index, byte value) => view[index] += value;
}

/// <summary>Int8 elements.</summary>
internal readonly struct I8 : INum<sbyte>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(sbyte x) => x;
    /// <summary>Truncates toward zero, then wraps (in double, see <see cref="U8.FromD"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static sbyte FromD(double x) => (sbyte)(byte)(int)U8.Wrap(x, 256.0);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(sbyte x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static sbyte FromL(long x) => (sbyte)x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(sbyte a, sbyte b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(sbyte a, sbyte b) => a == b;
    /// <summary>Not atomic: never launched (the backend runs Int8 scatter-add and index-add on Int64 stand-ins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<sbyte> view, long index, sbyte value) => view[index] += value;
}

/// <summary>Int16 elements.</summary>
internal readonly struct I16 : INum<short>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(short x) => x;
    /// <summary>Truncates toward zero, then wraps (in double, see <see cref="U8.FromD"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static short FromD(double x) => (short)(ushort)(int)U8.Wrap(x, 65536.0);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(short x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static short FromL(long x) => (short)x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(short a, short b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(short a, short b) => a == b;
    /// <summary>Not atomic: never launched (the backend runs Int16 scatter-add and index-add on Int64 stand-ins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<short> view, long index, short value) => view[index] += value;
}
