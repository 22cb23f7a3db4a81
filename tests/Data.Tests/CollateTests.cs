using System.Text.Json;

namespace Ember.Data.Tests;

public class CollateTests
{
    private static void Check(Tensor t, JsonElement golden)
    {
        Assert.That(t.DType.TorchName(), Is.EqualTo("torch." + golden.GetProperty("dtype").GetString()).Or.EqualTo(golden.GetProperty("dtype").GetString()));
        Assert.That(t.Shape.ToArray(), Is.EqualTo(golden.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray()));
        var expected = golden.GetProperty("values").EnumerateArray()
            .Select(x => x.ValueKind switch { JsonValueKind.True => 1.0, JsonValueKind.False => 0.0, _ => x.GetDouble() }).ToArray();
        var actual = t.DType == DType.Bool ? t.ToArray<bool>().Select(b => b ? 1.0 : 0.0).ToArray() : t.To(DType.Float64).ToArray<double>();
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void NumbersBecomeTensorsLikePyTorch()
    {
        var g = Golden.Load("default_collate.json");
        Check(Collate.Apply<long, Tensor>([1L, 2L, 3L]), g.GetProperty("ints"));
        Check(Collate.Apply<int, Tensor>([1, 2, 3]), g.GetProperty("ints"));
        Check(Collate.Apply<double, Tensor>([0.5, 1.5]), g.GetProperty("floats"));
        Check(Collate.Apply<bool, Tensor>([true, false]), g.GetProperty("bools"));
        Assert.That(Collate.Apply<float, Tensor>([0.5f, 1.5f]).DType, Is.EqualTo(DType.Float32));
    }

    [Test]
    public void TensorsAreStackedAndTuplesCollatedPerPosition()
    {
        var g = Golden.Load("default_collate.json");
        Check(Collate.Apply<Tensor, Tensor>([Tensor.FromArray(new float[] { 1, 2 }), Tensor.FromArray(new float[] { 3, 4 })]), g.GetProperty("tensors"));
        var (x, y) = Collate.Apply<(Tensor, int), (Tensor, Tensor)>([(Tensor.FromArray(new float[] { 1 }), 4), (Tensor.FromArray(new float[] { 2 }), 5)]);
        Check(y, g.GetProperty("tuple_second"));
        Assert.That(x.Shape.ToArray(), Is.EqualTo(new long[] { 2, 1 }));
    }

    [Test]
    public void ArraysDictionariesAndStrings()
    {
        var rows = Collate.Apply<float[], Tensor>([[1f, 2f, 3f], [4f, 5f, 6f]]);
        Assert.That(rows.Shape.ToArray(), Is.EqualTo(new long[] { 2, 3 }));
        var dict = Collate.Apply<Dictionary<string, Tensor>, Dictionary<string, Tensor>>(
            [new() { ["a"] = Tensor.Ones([2]) }, new() { ["a"] = Tensor.Zeros([2]) }]);
        Assert.That(dict["a"].Shape.ToArray(), Is.EqualTo(new long[] { 2, 2 }));
        var named = Collate.Apply<(string, long), (string[], Tensor)>([("x", 1L), ("y", 2L)]);
        Assert.That(named.Item1, Is.EqualTo(new[] { "x", "y" }));
        var inferred = (object[])Collate.Apply([(Tensor.Ones([1]), 1.0), (Tensor.Ones([1]), 2.0)])!;
        Assert.That(((Tensor)inferred[1]).DType, Is.EqualTo(DType.Float64));
    }

    [Test]
    public void MismatchedShapesAreReported()
    {
        var ex = Assert.Throws<ArgumentException>(() => Collate.Apply<Tensor, Tensor>([Tensor.Ones([2]), Tensor.Ones([3])]));
        Assert.That(ex!.Message, Does.Contain("[2]").And.Contain("[3]"));
        Assert.Throws<NotSupportedException>(() => Collate.Apply<Version, Tensor>([new Version(1, 0)]));
    }
}
