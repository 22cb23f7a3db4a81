namespace Ember;

/// <summary>Element type of a tensor. <see cref="Float32"/> is the default for every factory.</summary>
/// <remarks>Values are appended, never reordered: the numbers of the first five are stable.</remarks>
public enum DType
{
    /// <summary>32-bit IEEE float (<c>torch.float32</c>).</summary>
    Float32,
    /// <summary>64-bit IEEE float (<c>torch.float64</c>), the reference precision of tests and GradCheck.</summary>
    Float64,
    /// <summary>32-bit signed integer (<c>torch.int32</c>).</summary>
    Int32,
    /// <summary>64-bit signed integer (<c>torch.int64</c>): indices and class labels.</summary>
    Int64,
    /// <summary>Boolean, one byte per element (<c>torch.bool</c>): results of comparisons and masks.</summary>
    Bool,
    /// <summary>16-bit IEEE half-precision float, <see cref="System.Half"/> (<c>torch.float16</c>): 5 exponent bits, 10 mantissa bits.</summary>
    Float16,
    /// <summary>16-bit brain float, <see cref="Ember.BFloat16"/> (<c>torch.bfloat16</c>): float32's 8 exponent bits, 7 mantissa bits.</summary>
    BFloat16,
    /// <summary>8-bit unsigned integer, <see cref="byte"/> (<c>torch.uint8</c>).</summary>
    UInt8,
    /// <summary>8-bit signed integer, <see cref="sbyte"/> (<c>torch.int8</c>).</summary>
    Int8,
    /// <summary>16-bit signed integer, <see cref="short"/> (<c>torch.int16</c>): what Int8 and UInt8 promote to together.</summary>
    Int16,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element: 4, 8, 4, 8, 1 (Bool), 2 (Float16, BFloat16, Int16), 1 (UInt8, Int8).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined dtype.</exception>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 => 4, DType.Float64 => 8, DType.Int32 => 4, DType.Int64 => 8, DType.Bool => 1,
        DType.Float16 => 2, DType.BFloat16 => 2, DType.UInt8 => 1, DType.Int8 => 1, DType.Int16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for Float32, Float64, Float16 and BFloat16 (PyTorch's <c>is_floating_point</c>).</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16;

    /// <summary>True for the 16-bit floats Float16 and BFloat16, whose kernels compute in float32 and store the narrow type.</summary>
    public static bool IsReducedPrecision(this DType dtype) => dtype is DType.Float16 or DType.BFloat16;

    /// <summary>True for the integer dtypes Int32, Int64, Int16, Int8 and UInt8 (not Bool).</summary>
    public static bool IsInteger(this DType dtype) => dtype is DType.Int32 or DType.Int64 or DType.Int16 or DType.Int8 or DType.UInt8;

    /// <summary>True for Int32 and Int64, the dtypes index arguments (gather, embedding, one-hot, …) accept.</summary>
    public static bool IsIndex(this DType dtype) => dtype is DType.Int32 or DType.Int64;

    /// <summary>
    /// The dtype a kernel computes in: Float32 for Float16 and BFloat16 (PyTorch's <c>opmath_type</c>: narrow floats are
    /// widened, computed and rounded back once per element), the dtype itself otherwise.
    /// </summary>
    public static DType ComputeType(this DType dtype) => dtype.IsReducedPrecision() ? DType.Float32 : dtype;

    /// <summary>PyTorch's name of the dtype, e.g. <c>torch.float32</c>, <c>torch.bfloat16</c>.</summary>
    public static string TorchName(this DType dtype) => dtype switch
    {
        DType.Float32 => "torch.float32", DType.Float64 => "torch.float64", DType.Int32 => "torch.int32",
        DType.Int64 => "torch.int64", DType.Bool => "torch.bool", DType.Float16 => "torch.float16",
        DType.BFloat16 => "torch.bfloat16", DType.UInt8 => "torch.uint8", DType.Int8 => "torch.int8",
        DType.Int16 => "torch.int16", _ => dtype.ToString(),
    };

    /// <summary>The CLR element type: float, double, int, long, bool, Half, BFloat16, byte, sbyte, short.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined dtype.</exception>
    public static Type ClrType(this DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float), DType.Float64 => typeof(double), DType.Int32 => typeof(int),
        DType.Int64 => typeof(long), DType.Bool => typeof(bool), DType.Float16 => typeof(Half),
        DType.BFloat16 => typeof(BFloat16), DType.UInt8 => typeof(byte), DType.Int8 => typeof(sbyte),
        DType.Int16 => typeof(short),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The dtype of a CLR element type.</summary>
    /// <exception cref="ArgumentException">The type is not one of <see cref="ClrType"/>'s types.</exception>
    public static DType Of<T>() where T : unmanaged => Of(typeof(T));

    /// <summary>The dtype of a CLR element type.</summary>
    /// <exception cref="ArgumentException">The type is not one of <see cref="ClrType"/>'s types.</exception>
    public static DType Of(Type t) =>
        t == typeof(float) ? DType.Float32 : t == typeof(double) ? DType.Float64 : t == typeof(int) ? DType.Int32 :
        t == typeof(long) ? DType.Int64 : t == typeof(bool) ? DType.Bool : t == typeof(Half) ? DType.Float16 :
        t == typeof(BFloat16) ? DType.BFloat16 : t == typeof(byte) ? DType.UInt8 : t == typeof(sbyte) ? DType.Int8 :
        t == typeof(short) ? DType.Int16 :
        throw new ArgumentException($"Ember tensors hold float, double, int, long, bool, Half, BFloat16, byte, sbyte or short elements, not {t.Name}.");

    /// <summary>
    /// The dtype two operands are computed in, exactly PyTorch's <c>torch.promote_types</c>: Bool is below every
    /// number; an integer with a float gives the float; two floats give the wider, except Float16 with BFloat16,
    /// which gives Float32 (neither holds the other's values); two integers give the wider, except UInt8 with a
    /// signed type, which gives a signed type that holds 0..255 (UInt8 with Int8 is Int16).
    /// </summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        if (a == DType.Bool) return b;
        if (b == DType.Bool) return a;
        bool fa = a.IsFloatingPoint(), fb = b.IsFloatingPoint();
        if (fa && !fb) return a;
        if (fb && !fa) return b;
        if (fa) return a.IsReducedPrecision() && b.IsReducedPrecision() ? DType.Float32 : Wider(a, b);
        if (a == DType.UInt8 || b == DType.UInt8)
        {
            DType signed = a == DType.UInt8 ? b : a;
            return signed == DType.Int8 ? DType.Int16 : signed;
        }
        return Wider(a, b);
    }

    // Same category and not (UInt8, signed) nor (Float16, BFloat16): the larger element size wins.
    private static DType Wider(DType a, DType b) => a.ElementSize() >= b.ElementSize() ? a : b;
}
