namespace Ember.Core.Tests;

/// <summary>
/// The indexer's advanced indexing and scalar assignment beyond the golden rows (tests/Autograd.Tests/ParityGoldenTests
/// holds the PyTorch 1.13 values): views versus copies, Int32 indices, the implicit scalar conversions, and errors raised
/// before anything is written.
/// </summary>
public class AdvancedIndexingTests
{
    private static Tensor X() => Tensor.Arange(0, 60, dtype: DType.Float64).Reshape(3, 4, 5);
    private static Tensor L(params long[] v) => Tensor.FromArray(v);

    [Test]
    public void ScalarsAssignToSlicesAndEllipsis()
    {
        var x = X();
        x[.., 0] = 5;                              // x[:, 0] = 5
        Assert.That(x[.., 0].ToArray<double>(), Is.All.EqualTo(5));
        x[TensorIndex.Ellipsis, 4] = -1.5;         // x[..., 4] = -1.5
        Assert.That(x[TensorIndex.Ellipsis, 4].ToArray<double>(), Is.All.EqualTo(-1.5));
        Assert.That((double)x[1, 2, 3].Item(), Is.EqualTo(33), "untouched elements keep their values");
        x[TensorIndex.Ellipsis] = 0.25;
        Assert.That(x.ToArray<double>(), Is.All.EqualTo(0.25));
        var b = Tensor.Zeros([2, 2], DType.Bool);
        b[.., 1] = true;
        Assert.That(b.ToArray<bool>(), Is.EqualTo(new[] { false, true, false, true }));
        var i = Tensor.Zeros([3], DType.Int64);
        i[1..] = long.MaxValue;                    // an Int64 scalar stays exact
        Assert.That(i.ToArray<long>(), Is.EqualTo(new[] { 0, long.MaxValue, long.MaxValue }));
    }

    [Test]
    public void ScalarConversionsKeepTheDotNetType()
    {
        Tensor d = 0.1, f = 0.1f, l = 3, b = true;
        Assert.That((d.DType, f.DType, l.DType, b.DType), Is.EqualTo((DType.Float64, DType.Float32, DType.Int64, DType.Bool)));
        Assert.That(d.Dim, Is.EqualTo(0));
        Assert.That(d.Item(), Is.EqualTo(0.1), "no rounding through Float32");
        // An op with a scalar overload keeps it: x + 1 adds in x's dtype and stays Float32.
        Assert.That((Tensor.Ones([2]) + 1).DType, Is.EqualTo(DType.Float32));
    }

    [Test]
    public void BasicIndexIsAViewAndAdvancedIndexIsACopy()
    {
        var x = X();
        var v = x[1, .., 1..3];
        v.Fill_(-7);
        Assert.That((double)x[1, 0, 1].Item(), Is.EqualTo(-7), "a basic index is a view");
        var c = x[1, .., L(1, 2)];
        c.Fill_(100);
        Assert.That((double)x[1, 0, 1].Item(), Is.EqualTo(-7), "an advanced index copies");
        // A 0-dim integer tensor selects like an int (PyTorch), so the result is a view with the dim removed.
        var s = x[Tensor.FromArray(new long[] { 2 }).Reshape()];
        Assert.That(s.Shape.ToArray(), Is.EqualTo(new long[] { 4, 5 }));
        s.Fill_(1);
        Assert.That((double)x[2, 3, 4].Item(), Is.EqualTo(1));
    }

    [Test]
    public void Int32IndicesMatchInt64AndFalseMaskIsEmpty()
    {
        var x = X();
        var a = x[.., Tensor.FromArray(new[] { 3, -4 }).To(DType.Int32), 2];
        var b = x[.., L(3, -4), 2];
        Assert.That(a.ToArray<double>(), Is.EqualTo(b.ToArray<double>()));
        Assert.That(a.Shape.ToArray(), Is.EqualTo(new long[] { 3, 2 }));
        var none = x[Tensor.FromArray(new[] { false }).Reshape()];
        Assert.That(none.Shape.ToArray(), Is.EqualTo(new long[] { 0, 3, 4, 5 }));
    }

    [Test]
    public void AdvancedWriteBroadcastsTheValueAndConvertsItsDType()
    {
        var x = Tensor.Zeros([2, 3, 4]);
        x[L(1, 0), .., L(3, 0)] = Tensor.FromArray(new double[] { 1, 2, 3 });   // result [2, 3]; value [3] broadcasts
        Assert.That(x.DType, Is.EqualTo(DType.Float32));
        Assert.That(x[1, .., 3].ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3 }));
        Assert.That(x[0, .., 0].ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3 }));
        Assert.That(x.Sum().Item(), Is.EqualTo(12));
    }

    [Test]
    public void BadAdvancedIndicesFailBeforeAnyWrite()
    {
        var x = X();
        U.Throws<ArgumentException>(() => x[L(0, 1), .., L(0, 1, 2)] = 1.0, "Index", "broadcast", "[2]", "[3]");
        U.Throws<ArgumentException>(() => x[L(0, 1), 0] = Tensor.Zeros([3]), "Index", "value tensor of shape [3]", "[2, 5]");
        U.Throws<ArgumentException>(() => _ = x[.., Tensor.FromArray(new[] { 1.0 })], "Index", "long, int or bool", "Float64");
        U.Throws<ArgumentException>(() => _ = x[TensorIndex.Ellipsis, 0, TensorIndex.Ellipsis], "Index", "Ellipsis");
        U.Throws<ArgumentException>(() => _ = x[0, 0, 0, L(0)], "Index", "too many indices", "[3, 4, 5]");
        U.Throws<ArgumentOutOfRangeException>(() => x[.., L(0, 4)] = 1.0, "Index", "index 4", "size 4");
        // A [3, 4] mask followed by an int: PyTorch applies the int to dim 1 first, so the mask meets [3, 5].
        U.Throws<ArgumentException>(() => x[Tensor.Ones([3, 4], DType.Bool), 0] = 1.0, "Index", "mask [3, 4]", "[3, 5]");
        Assert.That(x.ToArray<double>(), Is.EqualTo(X().ToArray<double>()), "nothing written");
    }
}
