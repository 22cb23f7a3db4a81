using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// The 16-bit brain float (<c>torch.bfloat16</c>): the upper half of a float32 (1 sign, 8 exponent, 7 mantissa bits),
/// so it has float32's range with about 3 significant decimal digits. Neither the BCL nor System.Numerics.Tensors 10
/// has this type, hence Ember's own. Conversion from float rounds to nearest, ties to even, exactly as PyTorch's
/// <c>c10::BFloat16</c> does (overflow past the largest finite value gives ±∞); a NaN stays a NaN with its sign and
/// upper payload bits, made quiet (PyTorch's own payloads differ between its scalar and vector paths);
/// conversion to float is exact. Arithmetic widens to float, computes there and rounds once.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>, IComparable, IFormattable
{
    private readonly ushort bits;

    private BFloat16(ushort bits) => this.bits = bits;

    /// <summary>The value with these raw bits (sign, exponent, mantissa in the float32 upper-half layout).</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>The raw 16 bits.</summary>
    public ushort Bits => bits;

    /// <summary>Positive zero.</summary>
    public static BFloat16 Zero => default;
    /// <summary>1.</summary>
    public static BFloat16 One => FromBits(0x3F80);
    /// <summary>The canonical quiet NaN 0x7FC0.</summary>
    public static BFloat16 NaN => FromBits(0x7FC0);
    /// <summary>+∞.</summary>
    public static BFloat16 PositiveInfinity => FromBits(0x7F80);
    /// <summary>−∞.</summary>
    public static BFloat16 NegativeInfinity => FromBits(0xFF80);
    /// <summary>The largest finite value, (2 − 2⁻⁷)·2¹²⁷ ≈ 3.3895e38.</summary>
    public static BFloat16 MaxValue => FromBits(0x7F7F);
    /// <summary>The most negative finite value, −MaxValue.</summary>
    public static BFloat16 MinValue => FromBits(0xFF7F);
    /// <summary>The smallest positive subnormal, 2⁻¹³³ ≈ 9.18e−41.</summary>
    public static BFloat16 Epsilon => FromBits(0x0001);

    /// <summary>
    /// Rounds a float to the nearest BFloat16, ties to even: adding 0x7FFF plus the lowest kept bit to the float's bits
    /// and truncating rounds half-way cases toward the even neighbour; a carry out of the mantissa correctly bumps the
    /// exponent (the largest finite floats round to ∞). NaN is handled first because the addition could carry a NaN's
    /// payload into ∞ (or truncate it to ∞ when only low payload bits are set): it keeps its sign and upper payload
    /// bits and gets the quiet bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BFloat16 FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return FromBits((ushort)((u >> 16) | 0x0040));
        u += 0x7FFFu + ((u >> 16) & 1u);
        return FromBits((ushort)(u >> 16));
    }

    /// <summary>The exact float value (the bits shifted into the upper half of a float32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.bits << 16);

    /// <summary>Rounds a float to the nearest BFloat16 (ties to even; see <see cref="FromSingle"/>).</summary>
    public static explicit operator BFloat16(float value) => FromSingle(value);
    /// <summary>Rounds a double through float32 (as PyTorch converts float64 to bfloat16), so two roundings can occur.</summary>
    public static explicit operator BFloat16(double value) => FromSingle((float)value);
    /// <summary>Rounds a Half's exact float value (every finite Half is within BFloat16's range; 3 mantissa bits are rounded).</summary>
    public static explicit operator BFloat16(Half value) => FromSingle((float)value);
    /// <summary>The exact float value.</summary>
    public static explicit operator float(BFloat16 value) => ToSingle(value);
    /// <summary>The exact double value.</summary>
    public static explicit operator double(BFloat16 value) => ToSingle(value);
    /// <summary>Rounds to the nearest Half (overflow beyond 65504 gives ±∞).</summary>
    public static explicit operator Half(BFloat16 value) => (Half)ToSingle(value);

    /// <summary>True for NaN.</summary>
    public static bool IsNaN(BFloat16 x) => (x.bits & 0x7FFF) > 0x7F80;
    /// <summary>True for ±∞.</summary>
    public static bool IsInfinity(BFloat16 x) => (x.bits & 0x7FFF) == 0x7F80;
    /// <summary>True for finite values (not NaN, not ±∞).</summary>
    public static bool IsFinite(BFloat16 x) => (x.bits & 0x7F80) != 0x7F80;

    /// <summary>a + b computed in float and rounded once.</summary>
    public static BFloat16 operator +(BFloat16 a, BFloat16 b) => FromSingle(ToSingle(a) + ToSingle(b));
    /// <summary>a − b computed in float and rounded once.</summary>
    public static BFloat16 operator -(BFloat16 a, BFloat16 b) => FromSingle(ToSingle(a) - ToSingle(b));
    /// <summary>a · b computed in float and rounded once.</summary>
    public static BFloat16 operator *(BFloat16 a, BFloat16 b) => FromSingle(ToSingle(a) * ToSingle(b));
    /// <summary>a / b computed in float and rounded once.</summary>
    public static BFloat16 operator /(BFloat16 a, BFloat16 b) => FromSingle(ToSingle(a) / ToSingle(b));
    /// <summary>−a (flips the sign bit, NaN included).</summary>
    public static BFloat16 operator -(BFloat16 a) => FromBits((ushort)(a.bits ^ 0x8000));

    /// <summary>IEEE equality: NaN equals nothing, +0 equals −0.</summary>
    public static bool operator ==(BFloat16 a, BFloat16 b) => ToSingle(a) == ToSingle(b);
    /// <summary>IEEE inequality.</summary>
    public static bool operator !=(BFloat16 a, BFloat16 b) => ToSingle(a) != ToSingle(b);
    /// <summary>IEEE less-than (false when either is NaN).</summary>
    public static bool operator <(BFloat16 a, BFloat16 b) => ToSingle(a) < ToSingle(b);
    /// <summary>IEEE greater-than.</summary>
    public static bool operator >(BFloat16 a, BFloat16 b) => ToSingle(a) > ToSingle(b);
    /// <summary>IEEE less-or-equal.</summary>
    public static bool operator <=(BFloat16 a, BFloat16 b) => ToSingle(a) <= ToSingle(b);
    /// <summary>IEEE greater-or-equal.</summary>
    public static bool operator >=(BFloat16 a, BFloat16 b) => ToSingle(a) >= ToSingle(b);

    /// <summary>Equality as <see cref="float.Equals(float)"/>: NaN equals NaN, +0 equals −0.</summary>
    public bool Equals(BFloat16 other) => ToSingle(this).Equals(ToSingle(other));
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);
    /// <inheritdoc/>
    public override int GetHashCode() => ToSingle(this).GetHashCode();
    /// <summary>Orders as <see cref="float.CompareTo(float)"/> (NaN first).</summary>
    public int CompareTo(BFloat16 other) => ToSingle(this).CompareTo(ToSingle(other));
    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="obj"/> is not a BFloat16 or null.</exception>
    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        BFloat16 b => CompareTo(b),
        _ => throw new ArgumentException($"BFloat16.CompareTo: expected a BFloat16, got {obj.GetType().Name}."),
    };

    /// <summary>The exact float value formatted with the current culture (shortest round-trip float text).</summary>
    public override string ToString() => ToSingle(this).ToString(CultureInfo.CurrentCulture);
    /// <summary>The exact float value formatted with <paramref name="format"/> and <paramref name="provider"/>.</summary>
    public string ToString(string? format, IFormatProvider? provider) => ToSingle(this).ToString(format, provider);
}
