namespace Ember.Core.Tests;

public class PhiloxTests
{
    // Random123 known-answer vectors for Philox4x32-10 (kat_vectors).
    [TestCase(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [TestCase(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [TestCase(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void KnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        Philox.Block(c0, c1, c2, c3, k0, k1, out var r0, out var r1, out var r2, out var r3);
        Assert.That(new[] { r0, r1, r2, r3 }, Is.EqualTo(new[] { e0, e1, e2, e3 }));
    }

    [Test]
    public void SeededFillsAreReproducibleAndWellDistributed()
    {
        Tensor.ManualSeed(42);
        var a = Tensor.Randn(4000).ToArray<float>();
        var u = Tensor.Rand([4000], DType.Float64).ToArray<double>();
        Tensor.ManualSeed(42);
        Assert.That(Tensor.Randn(4000).ToArray<float>(), Is.EqualTo(a));
        Assert.That(a.Average(), Is.EqualTo(0).Within(0.1));
        Assert.That(a.Select(v => v * v).Average(), Is.EqualTo(1).Within(0.1));
        Assert.That(u.Min(), Is.GreaterThanOrEqualTo(0)); Assert.That(u.Max(), Is.LessThan(1));
        Assert.That(u.Average(), Is.EqualTo(0.5).Within(0.03));
        var g = new Generator(7);
        var r = Tensor.RandInt(3, 9, [1000], generator: g).ToArray<long>();
        Assert.That(r.Min(), Is.EqualTo(3)); Assert.That(r.Max(), Is.EqualTo(8));
        var perm = Tensor.Randperm(50, generator: g).ToArray<long>();
        Assert.That(perm.OrderBy(v => v), Is.EqualTo(Enumerable.Range(0, 50).Select(v => (long)v)));
    }
}

public class FactoryAndViewTests
{
    [Test]
    public void Factories()
    {
        Assert.That(Tensor.Zeros([2, 3], DType.Float64).ToArray<double>(), Is.All.EqualTo(0));
        Assert.That(Tensor.Ones([2], DType.Int32).ToArray<int>(), Is.EqualTo(new[] { 1, 1 }));
        Assert.That(Tensor.Full([2], 2.5).ToArray<float>(), Is.EqualTo(new[] { 2.5f, 2.5f }));
        Assert.That(Tensor.Arange(5).ToArray<long>(), Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
        Assert.That(Tensor.Arange(1, 2, 0.25, DType.Float64).ToArray<double>(), Is.EqualTo(new[] { 1, 1.25, 1.5, 1.75 }));
        Assert.That(Tensor.Linspace(0, 1, 5, DType.Float64).ToArray<double>(), Is.EqualTo(new[] { 0, 0.25, 0.5, 0.75, 1 }));
        Assert.That(Tensor.Eye(2, 3).ToArray<float>(), Is.EqualTo(new float[] { 1, 0, 0, 0, 1, 0 }));
        var m = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        Assert.That(m.Shape.ToArray(), Is.EqualTo(new long[] { 2, 2 }));
        Assert.That(Tensor.ZerosLike(m).DType, Is.EqualTo(DType.Float64));
        Assert.That(Tensor.Scalar(3).Dim, Is.EqualTo(0));
        Assert.That(Tensor.Scalar(3).Item(), Is.EqualTo(3));
        U.Throws<ArgumentException>(() => Tensor.FromArray(new float[5], 2, 3), "FromArray", "[2, 3]", "5");
        U.Throws<ArgumentException>(() => Tensor.Arange(0, 5, -1), "Arange");
    }

    [Test]
    public void ViewsShareStorageAndReadCorrectly()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(v => (double)v).ToArray(), 2, 3, 4);
        var data = Enumerable.Range(0, 24).Select(v => (double)v).ToArray();
        // Permute against an index reference.
        var p = x.Permute(2, 0, 1);
        var pe = U.Indices([4, 2, 3]).Select(q => data[q.Index[1] * 12 + q.Index[2] * 4 + q.Index[0]]).ToArray();
        U.Close(p, pe, [4, 2, 3], 0, 0, "Permute");
        Assert.That(p.Storage, Is.SameAs(x.Storage));
        U.Close(x.Transpose(0, 2).Reshape(-1), U.Indices([4, 3, 2]).Select(q => data[q.Index[2] * 12 + q.Index[1] * 4 + q.Index[0]]).ToArray(), [24], 0, 0, "Transpose+Reshape (copy)");
        U.Close(x.View(6, 4)[1], [4, 5, 6, 7], [4], 0, 0, "View + index");
        U.Close(x[.., 1..3, ^1], [7, 11, 19, 23], [2, 2], 0, 0, "ranges and ^1");
        U.Close(x.Narrow(2, 1, 2).Select(0, 1), [13, 14, 17, 18, 21, 22], [3, 2], 0, 0, "Narrow+Select");
        U.Close(x.Slice(2, 0, 4, 2)[0, 0], [0, 2], [2], 0, 0, "stepped Slice");
        U.Close(x.Flatten(1), data, [2, 12], 0, 0, "Flatten");
        U.Close(x.Unflatten(2, 2, 2), data, [2, 3, 2, 2], 0, 0, "Unflatten");
        U.Close(x.Unsqueeze(1).Squeeze(1), data, [2, 3, 4], 0, 0, "Unsqueeze/Squeeze");
        U.Close(x.Sum(0, keepDim: true).Expand(2, 3, 4)[1, 0], [12, 14, 16, 18], [4], 0, 0, "Expand");
        U.Close(x.mT[0, 0], [0, 4, 8], [3], 0, 0, "mT");
        U.Close(Tensor.Arange(6).Unfold(0, 3, 2), [0, 1, 2, 2, 3, 4], [2, 3], 0, 0, "Unfold");
        U.Throws<ArgumentException>(() => x.Transpose(0, 1).View(24), "View", "Reshape");
        U.Throws<ArgumentException>(() => x.Reshape(5, -1), "Reshape", "[5, -1]", "24");
        U.Throws<ArgumentOutOfRangeException>(() => x.Select(1, 3), "Select", "index 3", "size 3");
        U.Throws<ArgumentOutOfRangeException>(() => x.Narrow(0, 1, 2), "Narrow", "[1, 3)");
        U.Throws<ArgumentException>(() => x.Expand(3, 3, 4), "Expand", "[2, 3, 4]");
        U.Throws<ArgumentException>(() => x.Permute(0, 0, 1), "Permute");
    }

    [Test]
    public void ConversionsAndCopies()
    {
        var f = Tensor.FromArray(new float[] { -1.7f, 2.5f, 3.99f });
        Assert.That(f.To(DType.Int32).ToArray<int>(), Is.EqualTo(new[] { -1, 2, 3 }));
        Assert.That(f.To(DType.Bool).ToArray<bool>(), Is.EqualTo(new[] { true, true, true }));
        Assert.That(Tensor.FromArray(new long[] { long.MaxValue }).To(DType.Int64).ToArray<long>()[0], Is.EqualTo(long.MaxValue));
        Assert.That(Tensor.FromArray(new int[] { -5 }).To(DType.Int64).ToArray<long>()[0], Is.EqualTo(-5));
        var t = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 2, 2).T;
        var c = t.Contiguous();
        Assert.That(c.IsContiguous); Assert.That(c.ToArray<double>(), Is.EqualTo(new double[] { 1, 3, 2, 4 }));
        var cl = c.Clone(); cl.Fill_(0);
        Assert.That(c.ToArray<double>(), Is.EqualTo(new double[] { 1, 3, 2, 4 }), "Clone owns its storage");
        Assert.That(c.To(Device.Cpu), Is.SameAs(c));
    }

    [Test]
    public void InPlaceOpsWriteThroughViewsAndBumpVersion()
    {
        var x = Tensor.Zeros([2, 3], DType.Float64);
        int v0 = x.Version;
        x.T.Add_(Tensor.FromArray(new double[] { 1, 2 }));          // broadcast over the transposed view
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 1, 1, 1, 2, 2, 2 }));
        Assert.That(x.Version, Is.GreaterThan(v0));
        x[.., 1] = Tensor.Scalar(9, DType.Float64);
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 1, 9, 1, 2, 9, 2 }));
        x.Mul_(2).Sub_(Tensor.Ones([3], DType.Float64), alpha: 2).Div_(Tensor.Full([1], 2, DType.Float64));
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 0, 8, 0, 1, 8, 1 }));
        x.Clamp_(0.5, 4).Add_(1);
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 1.5, 5, 1.5, 2, 5, 2 }));
        x.Mul_(Tensor.Full([2, 1], 2, DType.Float64));
        Assert.That(x.ToArray<double>(), Is.EqualTo(new double[] { 3, 10, 3, 4, 10, 4 }));
        x.Copy_(Tensor.FromArray(new int[] { 7, 8, 9 })).Zero_();
        Assert.That(x.ToArray<double>(), Is.All.EqualTo(0));
        var s = Tensor.Zeros(100, 2)[.., 1];
        s.Uniform_(2, 3);
        Assert.That(s.ToArray<float>(), Is.All.InRange(2f, 3f));
        s.Normal_(10, 0.01);
        Assert.That(s.Mean().Item(), Is.EqualTo(10).Within(0.01));
        s.Bernoulli_(1);
        Assert.That(s.ToArray<float>(), Is.All.EqualTo(1f));
        U.Throws<ArgumentException>(() => x.Add_(Tensor.Zeros([3, 3], DType.Float64)), "Add_", "[3, 3]", "[2, 3]");
        U.Throws<ArgumentException>(() => x.Add_(Tensor.Zeros([3])), "Add_", "Float32", "Float64");
    }
}
