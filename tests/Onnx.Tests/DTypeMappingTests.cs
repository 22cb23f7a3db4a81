namespace Ember.OnnxExport.Tests;

/// <summary>Every Ember dtype has its ONNX element type (the TensorProto.DataType numbers of the ONNX specification).</summary>
public class DTypeMappingTests
{
    [TestCase(DType.Float32, 1), TestCase(DType.UInt8, 2), TestCase(DType.Int8, 3), TestCase(DType.Int16, 5), TestCase(DType.Int32, 6),
     TestCase(DType.Int64, 7), TestCase(DType.Bool, 9), TestCase(DType.Float16, 10), TestCase(DType.Float64, 11), TestCase(DType.BFloat16, 16)]
    public void ElementTypeIsTheOnnxNumber(DType dtype, int onnx) =>
        Assert.That(global::Ember.OnnxGraphBuilder.ElemType(dtype), Is.EqualTo(onnx));

    [Test]
    public void EveryDTypeIsMapped()
    {
        foreach (var d in Enum.GetValues<DType>())
            Assert.That(global::Ember.OnnxGraphBuilder.ElemType(d), Is.GreaterThan(0), d.ToString());
    }
}
