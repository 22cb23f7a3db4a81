namespace Ember.Operators;

/// <summary>
/// The two conversions an integer operator needs for a fractional scalar (x·1.5, x^0.5): to double and back, truncating
/// toward zero. Generic conversions (T.CreateTruncating) do not compile on ILGPU, so each integer type has one small
/// struct whose methods are plain casts, chosen by the registry together with the element type.
/// </summary>
/// <typeparam name="T">The integer element type.</typeparam>
public interface IIntegerConversion<T> where T : unmanaged
{
    /// <summary>x as a double (exact below 2⁵³ in magnitude).</summary>
    double ToDouble(T x);
    /// <summary>d truncated toward zero (saturating outside T's range; NaN gives 0).</summary>
    T FromDouble(double d);
}

/// <summary>Int32 ↔ double.</summary>
public readonly struct Int32Conversion : IIntegerConversion<int>
{
    /// <inheritdoc/>
    public double ToDouble(int x) => x;
    /// <inheritdoc/>
    public int FromDouble(double d) => (int)d;
}

/// <summary>Int64 ↔ double.</summary>
public readonly struct Int64Conversion : IIntegerConversion<long>
{
    /// <inheritdoc/>
    public double ToDouble(long x) => x;
    /// <inheritdoc/>
    public long FromDouble(double d) => (long)d;
}
