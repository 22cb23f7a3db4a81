namespace Ember.Core.Tests;

/// <summary>
/// Calls that used to compile but mean something other than in PyTorch (issue #14): each test pins PyTorch's meaning.
/// </summary>
public class PyTorchMeaningTests
{
    private static double[] D(Tensor t) => t.To(DType.Float64).ToArray<double>();

    [Test]
    public void VarOfAnIntReducesThatDim()
    {
        var data = U.Data([3, 4], seed: 3);
        var a = Tensor.FromArray(data, 3, 4).To(DType.Float64);
        // torch: a.var(1) is the unbiased variance of each row, shape [3].
        var v = a.Var(1);
        Assert.That(v.Shape.ToArray(), Is.EqualTo(new long[] { 3 }));
        for (int r = 0; r < 3; r++)
        {
            var row = data.Skip(4 * r).Take(4).ToArray();
            double m = row.Average(), ss = row.Sum(x => (x - m) * (x - m));
            Assert.That(D(v)[r], Is.EqualTo(ss / 3).Within(1e-12), "unbiased");
            Assert.That(D(a.Var(1, false))[r], Is.EqualTo(ss / 4).Within(1e-12), "var(1, unbiased=False)");
            Assert.That(D(a.Var(1, correction: 2))[r], Is.EqualTo(ss / 2).Within(1e-12), "correction=2");
            Assert.That(D(a.Std(1))[r], Is.EqualTo(Math.Sqrt(ss / 3)).Within(1e-12), "std(1)");
        }
        Assert.That(a.Var(1, true, true).Shape.ToArray(), Is.EqualTo(new long[] { 3, 1 }), "var(dim, unbiased, keepdim) positional order");
        Assert.That(a.Std(0).Shape.ToArray(), Is.EqualTo(new long[] { 4 }));
        U.Throws<ArgumentException>(() => a.Var(1, unbiased: true, correction: 0), "Var", "unbiased", "correction");
    }

    [Test]
    public void ComparisonOperatorsReturnBoolTensors()
    {
        var a = Tensor.FromArray(new[] { 1f, 2f, 3f });
        var b = Tensor.FromArray(new[] { 3f, 2f, 1f });
        bool[] B(Tensor t) { Assert.That(t.DType, Is.EqualTo(DType.Bool)); return t.ToArray<bool>(); }
        Assert.That(B(a == b), Is.EqualTo(new[] { false, true, false }));
        Assert.That(B(a != b), Is.EqualTo(new[] { true, false, true }));
        Assert.That(B(a < b), Is.EqualTo(new[] { true, false, false }));
        Assert.That(B(a <= b), Is.EqualTo(new[] { true, true, false }));
        Assert.That(B(a > b), Is.EqualTo(new[] { false, false, true }));
        Assert.That(B(a >= b), Is.EqualTo(new[] { false, true, true }));
        Assert.That(B(a == 2), Is.EqualTo(new[] { false, true, false }));
        Assert.That(B(2 < a), Is.EqualTo(new[] { false, false, true }));
        Assert.That(B(a >= 2.5), Is.EqualTo(new[] { false, false, true }));
        // An integer tensor compared with a fraction is promoted (torch: tensor([0, 1]) == 0.5 is all False), not truncated.
        Assert.That(B(Tensor.FromArray(new long[] { 0, 1 }) == 0.5), Is.EqualTo(new[] { false, false }));
        Assert.That(B(Tensor.FromArray(new long[] { 0, 1 }) < 0.5), Is.EqualTo(new[] { true, false }));
    }

    [Test]
    public void IdentityStaysReferenceEquality()
    {
        var a = Tensor.Ones(2);
        var same = a;
        var twin = Tensor.Ones(2);
        Assert.That(a.Equals(same), Is.True);
        Assert.That(a.Equals(twin), Is.False, "Equals is identity, not elementwise");
        Assert.That(a.GetHashCode(), Is.EqualTo(same.GetHashCode()));
        var d = new Dictionary<Tensor, int> { [a] = 1, [twin] = 2 };
        Assert.That(d[a], Is.EqualTo(1));
        Assert.That(d[twin], Is.EqualTo(2));
        Tensor? none = null;
        Assert.That(none is null, Is.True);
        U.Throws<ArgumentNullException>(() => _ = a == none, "==", "is null");
        Assert.That(a.Equal(twin), Is.True, "Equal compares elements");
    }

    [Test]
    public void BitwiseOperatorsOnIntegersLogicalOnBool()
    {
        foreach (var dt in new[] { DType.Int32, DType.Int64 })
        {
            long[] x = [12, -7, 0, 255], y = [10, 3, -1, 15];
            var a = Tensor.FromArray(x).To(dt);
            var b = Tensor.FromArray(y).To(dt);
            long[] L(Tensor t) { Assert.That(t.DType, Is.EqualTo(dt)); return t.To(DType.Int64).ToArray<long>(); }
            Assert.That(L(a & b), Is.EqualTo(x.Zip(y, (p, q) => p & q).ToArray()), $"& {dt}");
            Assert.That(L(a | b), Is.EqualTo(x.Zip(y, (p, q) => p | q).ToArray()), $"| {dt}");
            Assert.That(L(a ^ b), Is.EqualTo(x.Zip(y, (p, q) => p ^ q).ToArray()), $"^ {dt}");
            Assert.That(L(~a), Is.EqualTo(x.Select(p => ~p).ToArray()), $"~ {dt}");
        }
        var odd = Tensor.FromArray(new long[] { 5, 6, -3 });
        Assert.That((odd & 1).ToArray<long>(), Is.EqualTo(new long[] { 1, 0, 1 }), "x & 1");
        Assert.That((odd | 8).ToArray<long>(), Is.EqualTo(new long[] { 13, 14, -3 }), "x | 8");
        Assert.That((odd ^ -1).ToArray<long>(), Is.EqualTo(new long[] { ~5L, ~6L, ~-3L }), "x ^ -1");
        var t = Tensor.FromArray(new[] { true, true, false, false });
        var f = Tensor.FromArray(new[] { true, false, true, false });
        Assert.That((t & f).ToArray<bool>(), Is.EqualTo(new[] { true, false, false, false }));
        Assert.That((t | f).ToArray<bool>(), Is.EqualTo(new[] { true, true, true, false }));
        Assert.That((t ^ f).ToArray<bool>(), Is.EqualTo(new[] { false, true, true, false }));
        Assert.That((~t).ToArray<bool>(), Is.EqualTo(new[] { false, false, true, true }));
        U.Throws<ArgumentException>(() => _ = Tensor.Ones(2) & Tensor.Ones(2), "BitwiseAnd", "Float32", "integer");
        U.Throws<ArgumentException>(() => _ = ~Tensor.Ones(2), "BitwiseNot", "Float32");
    }

    [Test]
    public void FactoryDTypesFollowPyTorch()
    {
        var r = Tensor.Arange(0, 1, 0.1);
        Assert.That(r.DType, Is.EqualTo(DType.Float32), "arange(0, 1, 0.1) is float");
        Assert.That(r.Shape[0], Is.EqualTo(10));
        Assert.That(r.ToArray<float>()[3], Is.EqualTo(0.3f).Within(1e-6));
        Assert.That(Tensor.Arange(0, 10, 2).DType, Is.EqualTo(DType.Int64), "integer arguments give Int64");
        Assert.That(Tensor.Arange(5).DType, Is.EqualTo(DType.Int64));
        Assert.That(Tensor.Arange(2.5).ToArray<float>(), Is.EqualTo(new[] { 0f, 1f, 2f }));
        Assert.That(Tensor.Arange(0.0, 3.0).DType, Is.EqualTo(DType.Float32), "float arguments give Float32 (torch.arange(0., 3.))");
        Assert.That(Tensor.FromArray(new[] { 1, 2, 3 }).DType, Is.EqualTo(DType.Int64), "torch.tensor([1, 2, 3]) is int64");
        Assert.That(Tensor.FromArray(new[,] { { 1, 2 } }).DType, Is.EqualTo(DType.Int64));
        Assert.That(Tensor.FromArray(new[] { 1, 2, 3 }).ToArray<long>(), Is.EqualTo(new long[] { 1, 2, 3 }));
        Assert.That(Tensor.Full([2], 3).DType, Is.EqualTo(DType.Int64), "torch.full((2,), 3) is int64");
        Assert.That(Tensor.Full([2], 3.5).DType, Is.EqualTo(DType.Float32));
        Assert.That(Tensor.Full([2], true).DType, Is.EqualTo(DType.Bool));
        Assert.That(Tensor.Full([2], 3, DType.Float64).DType, Is.EqualTo(DType.Float64));
    }

    [Test]
    public void ManualSeedMakesDrawsRepeatable()
    {
        Tensor.ManualSeed(1234);
        var a = Tensor.Rand(5).ToArray<float>();
        Tensor.ManualSeed(1234);
        var b = Tensor.Rand(5).ToArray<float>();
        Assert.That(b, Is.EqualTo(a));
        Tensor.ManualSeed(1235);
        Assert.That(Tensor.Rand(5).ToArray<float>(), Is.Not.EqualTo(a));
    }

    [Test]
    public void DividingIntegersIsTrueDivision()
    {
        // torch.tensor([7, -7, 3]) / 2 → tensor([3.5, -3.5, 1.5]) (float32); the same for tensor / tensor and div().
        var a = Tensor.FromArray(new long[] { 7, -7, 3 });
        var two = Tensor.FromArray(new long[] { 2, 2, 2 });
        foreach (var q in new[] { a / 2, a / two, a.Div(two), a.Div(2) })
        {
            Assert.That(q.DType, Is.EqualTo(DType.Float32));
            Assert.That(D(q), Is.EqualTo(new[] { 3.5, -3.5, 1.5 }));
        }
        Assert.That(D(6 / Tensor.FromArray(new long[] { 4 })), Is.EqualTo(new[] { 1.5 }));
        // rounding_mode: 'trunc' toward zero, 'floor' down; integers stay integers.
        var t = a.Div(two, "trunc");
        Assert.That(t.DType, Is.EqualTo(DType.Int64));
        Assert.That(t.ToArray<long>(), Is.EqualTo(new long[] { 3, -3, 1 }));
        Assert.That(a.Div(two, "floor").ToArray<long>(), Is.EqualTo(new long[] { 3, -4, 1 }));
        Assert.That(D(a.To(DType.Float32).Div(2, "trunc")), Is.EqualTo(new[] { 3.0, -3.0, 1.0 }));
        Assert.That(() => a.Div(two, "round"), Throws.ArgumentException.With.Message.Contains("rounding mode"));
        // In place, an integer tensor cannot hold the quotient (PyTorch: "result type Float can't be cast").
        Assert.That(() => a.Div_(two), Throws.InvalidOperationException.With.Message.Contains("Div_"));
        Assert.That(a.ToArray<long>(), Is.EqualTo(new long[] { 7, -7, 3 }), "nothing written");
    }

    [Test]
    public void ZeroDimOperandsPromoteAsInPyTorch()
    {
        // A scalar converted to a 0-dim tensor (x.Maximum(0) binds 0 → Int64 0-dim) takes the dimensioned dtype.
        var x = Tensor.FromArray(new float[] { -1.5f, 2f });
        var m = x.Maximum(0);
        Assert.That(m.DType, Is.EqualTo(DType.Float32));
        Assert.That(D(m), Is.EqualTo(new[] { 0.0, 2.0 }));
        Assert.That((x.Add(1)).DType, Is.EqualTo(DType.Float32));
        // A higher-category 0-dim tensor decides: Int64 [2] + Float64 0-dim → Float64; Bool [2] + Int64 0-dim → Int64.
        var i = Tensor.FromArray(new long[] { 1, 2 });
        var f = i.Add(Tensor.Scalar(0.5, DType.Float64));
        Assert.That(f.DType, Is.EqualTo(DType.Float64));
        Assert.That(D(f), Is.EqualTo(new[] { 1.5, 2.5 }));
        var b = Tensor.FromArray(new[] { true, false }).Add(Tensor.Scalar(2, DType.Int64));
        Assert.That(b.DType, Is.EqualTo(DType.Int64));
        // Two dimensioned tensors of different dtypes are still refused, naming the op.
        Assert.That(() => x.Add(Tensor.FromArray(new double[] { 1, 2 })), Throws.ArgumentException.With.Message.Contains("Add"));
    }

    [Test]
    public void IntegerTensorsWithFractionalScalarsComputeInFloat32()
    {
        // PyTorch 1.13: x = torch.tensor([-7, -2, 0, 3, 5, 9]); x.clamp(-2.5, 4.5), x * 2.5, x + 0.5, 2.5 - x,
        // x.abs() ** 0.5 are all float32; x * 3 stays int64; x.mul_(2.5) raises "result type Float can't be cast".
        var x = Tensor.FromArray(new long[] { -7, -2, 0, 3, 5, 9 });
        void Is32(Tensor t, double[] expected, string what)
        {
            Assert.That(t.DType, Is.EqualTo(DType.Float32), what);
            Assert.That(D(t), Is.EqualTo(expected).Within(1e-6), what);
        }
        Is32(x.Clamp(-2.5, 4.5), [-2.5, -2, 0, 3, 4.5, 4.5], "clamp");
        Is32(x * 2.5, [-17.5, -5, 0, 7.5, 12.5, 22.5], "x * 2.5");
        Is32(x + 0.5, [-6.5, -1.5, 0.5, 3.5, 5.5, 9.5], "x + 0.5");
        Is32(2.5 - x, [9.5, 4.5, 2.5, -0.5, -2.5, -6.5], "2.5 - x");
        Is32(x.Abs().Pow(0.5), [Math.Sqrt(7), Math.Sqrt(2), 0, Math.Sqrt(3), Math.Sqrt(5), 3], "abs ** 0.5");
        var three = x * 3;
        Assert.That(three.DType, Is.EqualTo(DType.Int64));
        Assert.That(three.ToArray<long>(), Is.EqualTo(new long[] { -21, -6, 0, 9, 15, 27 }));
        Assert.That(() => x.Mul_(2.5), Throws.InvalidOperationException.With.Message.Contains("Mul_"));
        Assert.That(() => x.Add_(0.5), Throws.InvalidOperationException.With.Message.Contains("Add_"));
        Assert.That(x.ToArray<long>(), Is.EqualTo(new long[] { -7, -2, 0, 3, 5, 9 }), "nothing written");
    }
}
