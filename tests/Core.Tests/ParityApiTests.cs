namespace Ember.Core.Tests;

/// <summary>Parity ops whose PyTorch values are not in the golden file: in-place forms, aliases, index assignment and errors.</summary>
public class ParityApiTests
{
    private static Tensor X() => Tensor.FromArray(new double[] { -2, -0.5, 0, 0.5, 1.5, 3 }, 2, 3);

    [Test]
    public void InPlaceActivationsMatchTheirOutOfPlaceOps()
    {
        (Func<Tensor, Tensor> Out, Func<Tensor, Tensor> In, string Name)[] ops =
        [
            (t => t.Relu(), t => t.Relu_(), "Relu"), (t => t.LeakyRelu(0.2), t => t.LeakyRelu_(0.2), "LeakyRelu"),
            (t => t.Elu(0.7), t => t.Elu_(0.7), "Elu"), (t => t.Sigmoid(), t => t.Sigmoid_(), "Sigmoid"),
            (t => t.Tanh(), t => t.Tanh_(), "Tanh"), (t => t.Silu(), t => t.Silu_(), "Silu"),
            (t => t.Gelu(GeluApproximate.Tanh), t => t.Gelu_(GeluApproximate.Tanh), "Gelu"), (t => t.Clip(-1, 1), t => t.Clip_(-1, 1), "Clip"),
        ];
        foreach (var (o, i, name) in ops)
        {
            var x = X();
            int version = x.Version;
            var r = i(x);
            Assert.That(ReferenceEquals(r, x), Is.True, $"{name}_ returns this");
            Assert.That(x.Version, Is.GreaterThan(version), $"{name}_ bumps the version");
            Assert.That(x.ToArray<double>(), Is.EqualTo(o(X()).ToArray<double>()).Within(1e-15), name);   // the in-place loop may round the last bit differently
        }
        U.Throws<ArgumentException>(() => Tensor.FromArray(new long[] { 1 }).Sigmoid_(), "Sigmoid_", "Int64");
    }

    [Test]
    public void ClipIsClampAndAllCloseComparesWithTolerances()
    {
        Assert.That(X().Clip(-1, 1).ToArray<double>(), Is.EqualTo(X().Clamp(-1, 1).ToArray<double>()));
        var a = Tensor.FromArray(new[] { 1.0, 2.0, double.NaN });
        var b = Tensor.FromArray(new[] { 1.0 + 1e-9, 2.0, double.NaN });
        Assert.That(a.AllClose(b), Is.False, "NaN is not close to NaN by default");
        Assert.That(a.AllClose(b, equalNan: true), Is.True);
        Assert.That(a.Narrow(0, 0, 2).AllClose(Tensor.FromArray(new[] { 1.1, 2.0 })), Is.False);
        Assert.That(a.Narrow(0, 0, 2).AllClose(Tensor.FromArray(new[] { 1.1, 2.0 }), rtol: 0.2), Is.True);
        Assert.That(Tensor.FromArray(new long[] { 1, 2 }).Equal(Tensor.FromArray(new long[] { 1, 2 })), Is.True);
        Assert.That(Tensor.FromArray(new long[] { 1, 2 }).Equal(Tensor.FromArray(new long[] { 1, 2 }).Reshape(2, 1)), Is.False, "shapes differ");
        Assert.That(Tensor.FromArray(new[] { 1, 2 }).IsFinite().ToArray<bool>(), Is.EqualTo(new[] { true, true }));
    }

    [Test]
    public void AssignmentThroughIndexingWritesInPlace()
    {
        var x = X();
        x[x > 0] = Tensor.Scalar(9, DType.Float64);   // x[x > 0] = 9
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { -2, -0.5, 0, 9, 9, 9 }));
        x.IndexPut_([x < 0], 0);                      // x[x < 0] = 0
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 0, 0, 0, 9, 9, 9 }));
        x[Tensor.FromArray(new long[] { -1 })] = Tensor.FromArray(new double[] { 1, 2, 3 }, 1, 3);   // x[-1] = [1, 2, 3]
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 0, 0, 0, 1, 2, 3 }));
        x[.., 1..3] = Tensor.Scalar(7, DType.Float64);  // a scalar broadcast into a slice
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 0, 7, 7, 1, 7, 7 }));
        x.IndexPut_([Tensor.FromArray(new long[] { 0, 0 }), Tensor.FromArray(new long[] { 0, 0 })], Tensor.FromArray(new double[] { 1, 2 }), accumulate: true);
        Assert.That(x.ToArray<double>()[0], Is.EqualTo(3), "accumulate adds repeated positions");
    }

    [Test]
    public void BadIndicesAreReportedBeforeAnyWrite()
    {
        var x = X();
        U.Throws<ArgumentException>(() => _ = x[Tensor.FromArray(new[] { true, false, true })], "Index", "mask", "[3]", "[2, 3]");
        U.Throws<ArgumentException>(() => _ = x[Tensor.FromArray(new[] { 0.5 })], "Index", "long, int or bool", "Float64");
        U.Throws<ArgumentOutOfRangeException>(() => _ = x[Tensor.FromArray(new long[] { 5 })], "Index", "index 5", "size 2");
        U.Throws<ArgumentOutOfRangeException>(() => x.IndexPut_([Tensor.FromArray(new long[] { 0, 7 })], 1.0), "IndexPut");
        Assert.That(x.ToArray<double>(), Is.EqualTo(X().ToArray<double>()), "nothing written");
        U.Throws<ArgumentException>(() => Tensor.Einsum("ii->i", x), "Einsum", "repeated", "2 != 3");
        U.Throws<ArgumentException>(() => Tensor.Einsum("...i...->i", x), "Einsum", "more than one \"...\"");
        U.Throws<ArgumentException>(() => Tensor.Einsum("ij->ii", x), "Einsum", "output subscript i appears more than once");
        U.Throws<ArgumentException>(() => Tensor.Einsum("i.j->ij", x), "Einsum", "letters");
        U.Throws<ArgumentException>(() => Tensor.Einsum("...ij,...j->...i", Tensor.Zeros([2, 2, 3], DType.Float64), Tensor.Zeros([3, 3], DType.Float64)), "Einsum", "ellipsis dim", "size 3", "2");
        U.Throws<ArgumentException>(() => Tensor.Einsum("ij,jk->ik", x), "Einsum", "2 operands", "1");
        U.Throws<ArgumentException>(() => Tensor.Einsum("ijk->i", x), "Einsum", "subscripts", "dimensions");
        U.Throws<ArgumentOutOfRangeException>(() => x.TopK(4, 1), "TopK", "k (4)");
        U.Throws<ArgumentException>(() => x.Quantile(1.5, 1), "Quantile", "[0, 1]");
        U.Throws<ArgumentException>(() => x.Repeat(2), "Repeat", "smaller");
    }

    [Test]
    public void NonzeroTupleIndexesBack()
    {
        var x = Tensor.FromArray(new long[] { 0, 4, 0, 5, 0, 6 }, 2, 3);
        var idx = x.NonzeroTuple();
        Assert.That(idx.Length, Is.EqualTo(2));
        var y = Tensor.ZerosLike(x).IndexPut_(idx, x.MaskedSelect(x != 0));
        Assert.That(y.ToArray<long>(), Is.EqualTo(x.ToArray<long>()));
        Assert.That(x.CountNonzero().Item(), Is.EqualTo(3));
    }

    [Test]
    public void LogicalOpsTreatNonZeroAsTrue()
    {
        var a = Tensor.FromArray(new[] { 0.0, 2.0, double.NaN, 0.0 });
        var b = Tensor.FromArray(new long[] { 1, 0, 3, 0 });
        Assert.That(a.LogicalAnd(b).ToArray<bool>(), Is.EqualTo(new[] { false, false, true, false }));
        Assert.That(a.LogicalOr(b).ToArray<bool>(), Is.EqualTo(new[] { true, true, true, false }));
        Assert.That(a.LogicalXor(b).ToArray<bool>(), Is.EqualTo(new[] { true, true, false, false }));
        Assert.That(b.LogicalNot().ToArray<bool>(), Is.EqualTo(new[] { false, true, false, true }));
        Assert.That((!(a > 1)).ToArray<bool>(), Is.EqualTo(new[] { true, false, true, true }));
    }
}
