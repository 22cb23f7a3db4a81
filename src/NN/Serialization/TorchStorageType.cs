namespace Ember.Serialization;

/// <summary>
/// A PyTorch storage class as named in a pickle (<c>torch.FloatStorage</c>, …): its element size, PyTorch dtype name and
/// the Ember dtype its elements load as (null where Ember has no such dtype).
/// </summary>
internal sealed record TorchStorageType(string ClassName, string TorchDType, int ElementSize, DType? EmberDType, DType? UpcastDType)
{
    private static readonly Dictionary<string, TorchStorageType> ByName = new TorchStorageType[]
    {
        new("FloatStorage", "torch.float32", 4, DType.Float32, DType.Float32),
        new("DoubleStorage", "torch.float64", 8, DType.Float64, DType.Float64),
        new("LongStorage", "torch.int64", 8, DType.Int64, DType.Int64),
        new("IntStorage", "torch.int32", 4, DType.Int32, DType.Int32),
        new("BoolStorage", "torch.bool", 1, DType.Bool, DType.Bool),
        // Loaded as themselves, or upcast on request (every value is exactly representable in the upcast dtype).
        new("HalfStorage", "torch.float16", 2, DType.Float16, DType.Float32),
        new("BFloat16Storage", "torch.bfloat16", 2, DType.BFloat16, DType.Float32),
        new("ByteStorage", "torch.uint8", 1, DType.UInt8, DType.Int32),
        new("CharStorage", "torch.int8", 1, DType.Int8, DType.Int32),
        new("ShortStorage", "torch.int16", 2, DType.Int16, DType.Int32),
        // Never loaded: Ember has no complex or quantized tensors.
        new("ComplexHalfStorage", "torch.complex32", 4, null, null),
        new("ComplexFloatStorage", "torch.complex64", 8, null, null),
        new("ComplexDoubleStorage", "torch.complex128", 16, null, null),
        new("QUInt8Storage", "torch.quint8", 1, null, null),
        new("QInt8Storage", "torch.qint8", 1, null, null),
        new("QInt32Storage", "torch.qint32", 4, null, null),
        new("QUInt4x2Storage", "torch.quint4x2", 1, null, null),
        new("QUInt2x4Storage", "torch.quint2x4", 1, null, null),
    }.ToDictionary(t => t.ClassName);

    /// <summary>The storage type of a global such as <c>torch.FloatStorage</c> or <c>torch.cuda.FloatStorage</c>; null if it is none.</summary>
    public static TorchStorageType? Of(PickleGlobal g) =>
        g.Module is "torch" or "torch.cuda" && ByName.TryGetValue(g.Name, out var t) ? t : null;

    /// <summary>The dtype the elements load as, or null when they cannot be loaded (with <paramref name="upcast"/> as the caller chose).</summary>
    public DType? LoadAs(bool upcast) => upcast ? UpcastDType : EmberDType;
}
