namespace Ember.Core.Tests;

/// <summary>
/// Every op in Float16 and BFloat16 on the CPU against the float32 op on the same (exactly widened) inputs, rounded
/// to the type: the op must return the narrow dtype and agree within the dtype's tolerance (one unit in the last place
/// for one rounding; reductions and composites may round intermediate results too).
/// </summary>
public class ReducedPrecisionOpTests
{
    /// <summary>Per-dtype tolerance: |actual − expected| ≤ atol + rtol·|expected| (rtol = 2⁻¹⁰ for Float16, 2⁻⁷ for BFloat16, times ulps).</summary>
    public static (double Rtol, double Atol) Tolerance(DType dtype, int ulps = 1) => dtype switch
    {
        DType.Float16 => (ulps * Math.Pow(2, -10), ulps * 1e-4),
        DType.BFloat16 => (ulps * Math.Pow(2, -7), ulps * 1e-3),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static readonly DType[] Narrow = [DType.Float16, DType.BFloat16];

    private static Tensor Rnd(long[] shape, int seed, double lo = -2, double hi = 2)
    {
        var r = new System.Random(seed);
        int n = (int)shape.Aggregate(1L, (a, b) => a * b);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * r.NextDouble());
        return Tensor.FromArray(v, shape);
    }

    /// <summary>Compares op on narrow inputs with op on their float32 widenings, rounded to the narrow dtype.</summary>
    public static void Check(string what, DType dtype, Tensor[] inputs32, Func<Tensor[], Tensor> op, int ulps = 1)
    {
        var narrow = inputs32.Select(t => t.IsFloatingPoint ? t.To(dtype) : t).ToArray();
        var wide = narrow.Select(t => t.IsFloatingPoint ? t.To(DType.Float32) : t).ToArray();
        var actual = op(narrow);
        var expected32 = op(wide);
        if (expected32.DType == DType.Float32)
        {
            Assert.That(actual.DType, Is.EqualTo(dtype), $"{what}: result dtype");
            var e = expected32.To(dtype).To(DType.Float64).ToArray<double>();
            var a = actual.To(DType.Float64).ToArray<double>();
            var (rtol, atol) = Tolerance(dtype, ulps);
            Assert.That(a, Has.Length.EqualTo(e.Length), what);
            for (int i = 0; i < a.Length; i++)
            {
                if (double.IsNaN(e[i])) { Assert.That(double.IsNaN(a[i]), $"{what}[{i}] in {dtype}: expected NaN, got {a[i]}"); continue; }
                if (double.IsInfinity(e[i])) { Assert.That(a[i], Is.EqualTo(e[i]), $"{what}[{i}] in {dtype}"); continue; }
                Assert.That(Math.Abs(a[i] - e[i]), Is.LessThanOrEqualTo(atol + rtol * Math.Abs(e[i])), $"{what}[{i}] in {dtype}: {a[i]:R}, float32 rounded {e[i]:R}");
            }
        }
        else
        {
            // Bool and index results (comparisons, argmax, sort indices) are exact.
            Assert.That(actual.DType, Is.EqualTo(expected32.DType), $"{what}: result dtype");
            Assert.That(actual.To(DType.Float64).ToArray<double>(), Is.EqualTo(expected32.To(DType.Float64).ToArray<double>()), $"{what} in {dtype}");
        }
    }

    private static readonly UnaryOp[] FloatUnary =
        Enum.GetValues<UnaryOp>().Where(o => o is not (UnaryOp.IsNan or UnaryOp.IsInf or UnaryOp.LogicalNot)).ToArray();

    public static IEnumerable<TestCaseData> UnaryCases() =>
        from dt in Narrow from op in FloatUnary select new TestCaseData(dt, op).SetName($"Unary_{op}_{dt}");

    [TestCaseSource(nameof(UnaryCases))]
    public void UnaryOpsMatchFloat32Rounded(DType dtype, UnaryOp op)
    {
        (double a, double b) = op switch
        {
            UnaryOp.Softplus => (1.5, 20), UnaryOp.Clamp => (-0.5, 0.7), UnaryOp.LeakyRelu => (0.1, 0), UnaryOp.Elu => (1.0, 0),
            UnaryOp.PowScalar => (2.5, 0), UnaryOp.RPowScalar => (1.7, 0), UnaryOp.RDivScalar => (3.0, 0), UnaryOp.Logit => (0.1, 0),
            _ => (1.25, 0),
        };
        var x = op switch
        {
            UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal or UnaryOp.RDivScalar => Rnd([5, 37], 1, 0.1, 4),
            UnaryOp.Log1p => Rnd([5, 37], 1, -0.9, 3),
            UnaryOp.Logit => Rnd([5, 37], 1, 0.02, 0.98),
            _ => Rnd([5, 37], 1, -3, 3),
        };
        Check(op.ToString(), dtype, [x], t => t[0].Apply(op, a, b));
        // A strided (transposed) input takes the gathered-row path.
        Check(op + " strided", dtype, [x], t => t[0].T.Apply(op, a, b));
    }

    public static IEnumerable<TestCaseData> BinaryCases() =>
        from dt in Narrow
        from op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Pow, BinaryOp.Maximum, BinaryOp.Minimum,
            BinaryOp.Remainder, BinaryOp.Eq, BinaryOp.Ne, BinaryOp.Lt, BinaryOp.Le, BinaryOp.Gt, BinaryOp.Ge }
        select new TestCaseData(dt, op).SetName($"Binary_{op}_{dt}");

    [TestCaseSource(nameof(BinaryCases))]
    public void BinaryOpsMatchFloat32Rounded(DType dtype, BinaryOp op)
    {
        var a = op == BinaryOp.Pow ? Rnd([4, 33], 2, 0.1, 3) : Rnd([4, 33], 2);
        var b = op is BinaryOp.Div or BinaryOp.Remainder ? Rnd([33], 3, 0.5, 2) : Rnd([33], 3);
        // b broadcasts along rows (a stride-0 operand).
        Check(op.ToString(), dtype, [a, b], t => Tensor.Apply(op, t[0], t[1]));
        Check(op + " equal operands", dtype, [a], t => Tensor.Apply(op, t[0], t[0]));
    }

    public static IEnumerable<TestCaseData> OtherCases()
    {
        var cases = new (string Name, Tensor[] In, Func<Tensor[], Tensor> Op, int Ulps)[]
        {
            ("Sum", [Rnd([6, 50], 4)], t => t[0].Sum(1), 1),
            ("SumAll", [Rnd([6, 50], 4)], t => t[0].Sum(), 1),
            ("Mean", [Rnd([6, 50], 4)], t => t[0].Mean(0), 2),
            ("Prod", [Rnd([6, 5], 4, 0.5, 1.5)], t => t[0].Prod(1), 1),
            ("Amax", [Rnd([6, 50], 4)], t => t[0].Amax([1]), 1),
            ("MaxValues", [Rnd([6, 50], 4)], t => t[0].Max(1).Values, 1),
            ("MaxIndices", [Rnd([6, 50], 4)], t => t[0].Max(1).Indices, 1),
            ("MinIndices", [Rnd([6, 50], 4)], t => t[0].Min(0).Indices, 1),
            ("LogSumExp", [Rnd([6, 50], 4)], t => t[0].LogSumExp(1), 1),
            ("Var", [Rnd([6, 50], 4)], t => t[0].Var(1), 4),
            ("Std", [Rnd([6, 50], 4)], t => t[0].Std(1), 4),
            ("Norm", [Rnd([6, 50], 4)], t => t[0].Norm(), 2),
            ("Cumsum", [Rnd([3, 20], 4)], t => t[0].Cumsum(1), 4),
            ("Softmax", [Rnd([6, 50], 5)], t => t[0].Softmax(1), 1),
            ("LogSoftmax", [Rnd([6, 50], 5)], t => t[0].LogSoftmax(1), 1),
            ("SoftmaxDim0", [Rnd([6, 50], 5)], t => t[0].Softmax(0), 1),
            ("MatMul", [Rnd([7, 40], 6), Rnd([40, 9], 7)], t => t[0].MatMul(t[1]), 1),
            ("MatMulTransposed", [Rnd([40, 7], 6), Rnd([9, 40], 7)], t => t[0].T.MatMul(t[1].T), 1),
            ("Bmm", [Rnd([3, 5, 16], 6), Rnd([3, 16, 4], 7)], t => t[0].Bmm(t[1]), 1),
            ("Linear", [Rnd([5, 12], 6), Rnd([8, 12], 7), Rnd([8], 8)], t => FusedOps.Linear(t[0], t[1], t[2]), 1),
            ("LayerNorm", [Rnd([5, 24], 9), Rnd([24], 10), Rnd([24], 11)], t => FusedOps.LayerNorm(t[0], 24, t[1], t[2], 1e-5), 1),
            ("Attention", [Rnd([2, 6, 8], 12), Rnd([2, 7, 8], 13), Rnd([2, 7, 8], 14)], t => FusedOps.Attention(t[0], t[1], t[2], 0.35, false), 1),
            ("Conv2d", [Rnd([2, 3, 9, 9], 15), Rnd([4, 3, 3, 3], 16), Rnd([4], 17)],
                t => FusedOps.Conv2d(t[0], t[1], t[2], new ConvGeometry(3, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1), 1), 1),
            ("MaxPool2d", [Rnd([2, 3, 8, 8], 18)], t => FusedOps.MaxPool2d(t[0], new PoolGeometry(8, 8, 2, 2, 2, 2, 0, 0, 4, 4)), 1),
            ("AvgPool2d", [Rnd([2, 3, 8, 8], 18)], t => FusedOps.AvgPool2d(t[0], new PoolGeometry(8, 8, 3, 3, 2, 2, 1, 1, 4, 4), true), 1),
            ("Where", [Rnd([4, 10], 19), Rnd([4, 10], 20)], t => Tensor.Where(t[0].Gt(t[1]), t[0], t[1]), 1),
            ("Gather", [Rnd([4, 10], 19)], t => t[0].Gather(1, Tensor.FromArray(new long[] { 3, 1, 9, 0, 2, 2, 5, 7 }, [4, 2])), 1),
            ("IndexSelect", [Rnd([4, 10], 19)], t => t[0].IndexSelect(0, Tensor.FromArray(new long[] { 3, 0, 3 })), 1),
            ("Cat", [Rnd([2, 3], 21), Rnd([4, 3], 22)], t => Tensor.Cat([t[0], t[1]], 0), 1),
            ("SortValues", [Rnd([3, 17], 23)], t => t[0].Sort(1).Values, 1),
            ("SortIndices", [Rnd([3, 17], 23)], t => t[0].Sort(1, descending: true, stable: true).Indices, 1),
            ("TopK", [Rnd([3, 17], 23)], t => t[0].TopK(4).Values, 1),
            ("Triu", [Rnd([5, 5], 24)], t => t[0].Triu(), 1),
            ("TransposeContiguous", [Rnd([5, 7], 25)], t => t[0].T.Contiguous(), 1),
            ("ScalarMixed", [Rnd([5, 7], 25)], t => t[0] * 0.3 + 1.7, 1),
        };
        foreach (var dt in Narrow)
            foreach (var c in cases)
                yield return new TestCaseData(dt, c.In, c.Op, c.Ulps).SetName($"{c.Name}_{dt}");
    }

    [TestCaseSource(nameof(OtherCases))]
    public void ReductionsFusedAndIndexingOpsMatchFloat32Rounded(DType dtype, Tensor[] inputs, Func<Tensor[], Tensor> op, int ulps) =>
        Check(TestContext.CurrentContext.Test.Name, dtype, inputs, op, ulps);

    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void ScalarsKeepTheDTypeAndMixedTensorsAreRejectedByName(DType dtype)
    {
        var a = Tensor.Ones([3], dtype);
        Assert.That((a + 2.5).DType, Is.EqualTo(dtype), "a Python scalar keeps the tensor's dtype, as in PyTorch");
        Assert.That((a * 1e5).To(DType.Float64).ToArray<double>()[0],
            Is.EqualTo(dtype == DType.Float16 ? double.PositiveInfinity : 99840.0), "the scalar product is rounded to the dtype");
        // Ember requires one dtype per binary op (as before this change): the error names the op and both dtypes.
        var ex = Assert.Throws<ArgumentException>(() => _ = a + Tensor.Ones([3]));
        Assert.That(ex!.Message, Does.Contain("Add").And.Contain(dtype.ToString()).And.Contain("Float32"));
    }

    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void RandomFactoriesRoundTheFloat32Stream(DType dtype)
    {
        var r32 = Tensor.Randn([1000], generator: new Generator(7));
        var r16 = Tensor.Randn([1000], dtype, generator: new Generator(7));
        Assert.That(r16.DType, Is.EqualTo(dtype));
        Assert.That(r16.Float().ToArray<float>(), Is.EqualTo(r32.To(dtype).Float().ToArray<float>()));
    }

    [Test]
    public void SumOfManyHalvesAccumulatesInFloat32()
    {
        // 4096 ones: a float16 accumulator would stop at 2048 (2048 + 1 rounds back to 2048); float32 reaches 4096.
        Assert.That(Tensor.Ones([4096], DType.Float16).Sum().Item(), Is.EqualTo(4096.0));
        Assert.That(Tensor.Ones([4096], DType.BFloat16).Sum().Item(), Is.EqualTo(4096.0));
        var big = Tensor.Full([3], 40000, DType.Float16);
        Assert.That(Half.IsInfinity(big.Sum().ToArray<Half>()[0]), Is.True, "120000 overflows float16 when rounded");
    }

    [TestCase(DType.BFloat16)]
    [TestCase(DType.Float16)]
    public void TransposedAndPermutedNarrowOperandsGiveTheContiguousResults(DType dt)
    {
        // A transposed or permuted view of a contiguous narrow tensor is widened as one dense run and viewed with the
        // same strides; the product must be the one of its contiguous copy, bit for bit.
        var gen = new Generator(41);
        var a = Tensor.Randn([48, 37], generator: gen).To(dt);
        var b = Tensor.Randn([48, 29], generator: gen).To(dt);
        var viaView = a.mT.MatMul(b);
        var viaCopy = a.mT.Contiguous().MatMul(b);
        Assert.That(viaView.DType, Is.EqualTo(dt));
        Assert.That(viaView.To(DType.Float32).ToArray<float>(), Is.EqualTo(viaCopy.To(DType.Float32).ToArray<float>()));

        var x = Tensor.Randn([3, 5, 7, 6], generator: gen).To(dt).Permute(0, 2, 1, 3);   // [3, 7, 5, 6], dense, permuted
        var y = Tensor.Randn([3, 7, 6, 4], generator: gen).To(dt);
        Assert.That(x.MatMul(y).To(DType.Float32).ToArray<float>(), Is.EqualTo(x.Contiguous().MatMul(y).To(DType.Float32).ToArray<float>()));

        // A strided slice is not dense: it takes the element-by-element conversion, with the same result.
        var sliced = Tensor.Randn([40, 30], generator: gen).To(dt).Narrow(1, 0, 15);
        var w = Tensor.Randn([15, 8], generator: gen).To(dt);
        Assert.That(sliced.MatMul(w).To(DType.Float32).ToArray<float>(), Is.EqualTo(sliced.Contiguous().MatMul(w).To(DType.Float32).ToArray<float>()));
    }
}
