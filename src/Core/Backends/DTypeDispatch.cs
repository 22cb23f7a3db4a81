namespace Ember;

/// <summary>Receives the element type of a <see cref="DType"/> as a type argument (see <see cref="DTypeDispatch"/>).</summary>
public interface IDTypeVisitor
{
    /// <summary>Runs the dtype-generic work for element type <typeparamref name="T"/>.</summary>
    void Visit<T>() where T : unmanaged;
}

/// <summary>
/// The one place a <see cref="DType"/> becomes a type argument: backends write their dtype-generic code once as an
/// <see cref="IDTypeVisitor"/> and call <see cref="Visit{TVisitor}(DType, ref TVisitor)"/> instead of a switch per op.
/// </summary>
public static class DTypeDispatch
{
    /// <summary>
    /// Calls <paramref name="visitor"/>.Visit with T = float (Float32), double (Float64), int (Int32), long (Int64),
    /// bool (Bool), Half (Float16), BFloat16 (BFloat16), byte (UInt8), sbyte (Int8) or short (Int16).
    /// </summary>
    /// <exception cref="NotSupportedException"><paramref name="dtype"/> is not one of these.</exception>
    public static void Visit<TVisitor>(DType dtype, ref TVisitor visitor) where TVisitor : struct, IDTypeVisitor
    {
        switch (dtype)
        {
            case DType.Float32: visitor.Visit<float>(); break;
            case DType.Float64: visitor.Visit<double>(); break;
            case DType.Int32: visitor.Visit<int>(); break;
            case DType.Int64: visitor.Visit<long>(); break;
            case DType.Bool: visitor.Visit<bool>(); break;
            case DType.Float16: visitor.Visit<Half>(); break;
            case DType.BFloat16: visitor.Visit<BFloat16>(); break;
            case DType.UInt8: visitor.Visit<byte>(); break;
            case DType.Int8: visitor.Visit<sbyte>(); break;
            case DType.Int16: visitor.Visit<short>(); break;
            default: throw new NotSupportedException($"DTypeDispatch: no element type for dtype {dtype}.");
        }
    }

    /// <summary><see cref="Visit{TVisitor}(DType, ref TVisitor)"/> for a visitor passed by value.</summary>
    public static void Visit<TVisitor>(DType dtype, TVisitor visitor) where TVisitor : struct, IDTypeVisitor =>
        Visit(dtype, ref visitor);
}
