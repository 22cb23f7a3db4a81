namespace Ember;

/// <summary>Element type of a tensor. <see cref="Float32"/> is the default for every factory.</summary>
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
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element: 4, 8, 4, 8, 1.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 => 4, DType.Float64 => 8, DType.Int32 => 4, DType.Int64 => 8, DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for Float32 and Float64.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>True for Int32 and Int64.</summary>
    public static bool IsInteger(this DType dtype) => dtype is DType.Int32 or DType.Int64;

    /// <summary>PyTorch's name of the dtype, e.g. <c>torch.float32</c>.</summary>
    public static string TorchName(this DType dtype) => dtype switch
    {
        DType.Float32 => "torch.float32", DType.Float64 => "torch.float64", DType.Int32 => "torch.int32",
        DType.Int64 => "torch.int64", DType.Bool => "torch.bool", _ => dtype.ToString(),
    };

    /// <summary>The CLR element type: float, double, int, long, bool.</summary>
    public static Type ClrType(this DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float), DType.Float64 => typeof(double), DType.Int32 => typeof(int),
        DType.Int64 => typeof(long), DType.Bool => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The dtype of a CLR element type.</summary>
    /// <exception cref="ArgumentException">The type is not float, double, int, long or bool.</exception>
    public static DType Of<T>() where T : unmanaged => Of(typeof(T));

    /// <summary>The dtype of a CLR element type.</summary>
    /// <exception cref="ArgumentException">The type is not float, double, int, long or bool.</exception>
    public static DType Of(Type t) =>
        t == typeof(float) ? DType.Float32 : t == typeof(double) ? DType.Float64 : t == typeof(int) ? DType.Int32 :
        t == typeof(long) ? DType.Int64 : t == typeof(bool) ? DType.Bool :
        throw new ArgumentException($"Ember tensors hold float, double, int, long or bool elements, not {t.Name}.");

    /// <summary>
    /// The dtype two operands are computed in (PyTorch's type promotion for same-category tensors):
    /// Bool &lt; Int32 &lt; Int64 &lt; Float32 &lt; Float64.
    /// </summary>
    public static DType Promote(DType a, DType b) => Rank(a) >= Rank(b) ? a : b;

    private static int Rank(DType d) => d switch
    {
        DType.Bool => 0, DType.Int32 => 1, DType.Int64 => 2, DType.Float32 => 3, DType.Float64 => 4, _ => 0,
    };
}
