namespace Ember.Conformance;

/// <summary>Copy, fill, unary, binary, comparison and where kernels on the device against the CPU backend.</summary>
public abstract class ElementwiseTests(string device) : DeviceTest(device)
{
    private static readonly UnaryOp[] FloatUnary =
        Enum.GetValues<UnaryOp>().Where(o => o is not (UnaryOp.IsNan or UnaryOp.IsInf or UnaryOp.LogicalNot)).ToArray();

    public static IEnumerable<UnaryOp> FloatUnaryOps => FloatUnary;

    private static readonly BinaryOp[] ArithmeticBinary =
        [BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Pow, BinaryOp.Maximum, BinaryOp.Minimum, BinaryOp.Remainder];

    public static IEnumerable<BinaryOp> ArithmeticOps => ArithmeticBinary;

    public static IEnumerable<BinaryOp> CompareOps => [BinaryOp.Eq, BinaryOp.Ne, BinaryOp.Lt, BinaryOp.Le, BinaryOp.Gt, BinaryOp.Ge];

    public static IEnumerable<DType> AllDTypes => Enum.GetValues<DType>();

    private static (double A, double B) Params(UnaryOp op) => op switch
    {
        UnaryOp.Softplus => (1.5, 20),
        UnaryOp.Clamp => (-0.5, 0.7),
        UnaryOp.LeakyRelu => (0.1, 0),
        UnaryOp.Elu => (1.0, 0),
        UnaryOp.PowScalar => (2.5, 0),
        UnaryOp.RPowScalar => (1.7, 0),
        UnaryOp.RDivScalar => (3.0, 0),
        UnaryOp.Logit => (0.1, 0),
        _ => (1.25, 0),
    };

    private static Tensor Input(UnaryOp op, Device d, long[] shape, DType dt) => op switch
    {
        UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal or UnaryOp.RDivScalar => Pos(d, shape, 3, 0.1, 4, dt),
        UnaryOp.Log1p => Pos(d, shape, 3, -0.9, 3, dt),
        UnaryOp.Logit => Pos(d, shape, 3, 0.02, 0.98, dt),
        UnaryOp.Round => Rnd(d, shape, 3, dt, 3).Mul_(2).Apply(UnaryOp.Round).Mul_(0.5),   // many exact halves
        _ => Rnd(d, shape, 3, dt, 2),
    };

    [TestCaseSource(nameof(FloatUnaryOps))]
    public void UnaryFloat32Strided(UnaryOp op)
    {
        var (a, b) = Params(op);
        // x is a transposed view; the result is written through a strided slice.
        Conform(d => [Input(op, d, [12, 9], DType.Float32).T, Tensor.Zeros([9, 24], DType.Float32, d).Slice(1, 0, 24, 2)],
            (be, t) => be.Unary(op, t[0]!, t[1]!, a, b), [1], rtol: 3e-5, atol: 3e-6);
    }

    [TestCaseSource(nameof(FloatUnaryOps))]
    public void UnaryFloat64(UnaryOp op)
    {
        var (a, b) = Params(op);
        Conform(d => [Input(op, d, [7, 5], DType.Float64), Tensor.Empty([7, 5], DType.Float64, d)],
            (be, t) => be.Unary(op, t[0]!, t[1]!, a, b), [1], rtol: 1e-12, atol: 1e-13);
    }

    [TestCase(UnaryOp.Neg), TestCase(UnaryOp.Abs), TestCase(UnaryOp.Square), TestCase(UnaryOp.Sign), TestCase(UnaryOp.Relu),
     TestCase(UnaryOp.AddScalar), TestCase(UnaryOp.MulScalar), TestCase(UnaryOp.RSubScalar), TestCase(UnaryOp.PowScalar),
     TestCase(UnaryOp.Clamp), TestCase(UnaryOp.Floor)]
    public void UnaryIntegers(UnaryOp op)
    {
        double a = op == UnaryOp.Clamp ? -3.5 : op == UnaryOp.PowScalar ? 2 : 3, b = op == UnaryOp.Clamp ? 4.5 : 0;
        // MulScalar and PowScalar also with a fractional scalar: the operator struct's double path.
        foreach (double alpha in op is UnaryOp.MulScalar or UnaryOp.PowScalar ? new[] { a, 0.5 } : [a])
            foreach (var dt in new[] { DType.Int32, DType.Int64 })
                Conform(d => [Ints(d, [6, 5], 5, op == UnaryOp.PowScalar && alpha == 0.5 ? 0 : -9, 10, dt).T, Tensor.Empty([5, 6], dt, d)],
                    (be, t) => be.Unary(op, t[0]!, t[1]!, alpha, b), [1], 0, 0);
    }

    [Test]
    public void IsNanIsInfLogicalNot()
    {
        Tensor Special(Device d) => Tensor.FromArray(new[] { 1f, float.NaN, float.PositiveInfinity, -2f, float.NegativeInfinity, 0f }, 2, 3).To(d);
        Conform(d => [Special(d), Tensor.Empty([2, 3], DType.Bool, d)], (be, t) => be.Unary(UnaryOp.IsNan, t[0]!, t[1]!), [1], 0, 0);
        Conform(d => [Special(d).To(DType.Float64).T, Tensor.Empty([3, 2], DType.Bool, d)], (be, t) => be.Unary(UnaryOp.IsInf, t[0]!, t[1]!), [1], 0, 0);
        Conform(d => [Special(d).Apply(UnaryOp.IsNan), Tensor.Empty([2, 3], DType.Bool, d)], (be, t) => be.Unary(UnaryOp.LogicalNot, t[0]!, t[1]!), [1], 0, 0);
    }

    // One case per op, so that a device that loses NaN names the op.
    [TestCase(UnaryOp.Relu), TestCase(UnaryOp.Clamp), TestCase(UnaryOp.Sign), TestCase(UnaryOp.Abs)]
    public void NanHandling(UnaryOp op) =>
        Conform(d => [Tensor.FromArray(new[] { float.NaN, -1f, 2f, float.NegativeInfinity }).To(d), Tensor.Empty([4], DType.Float32, d)],
            (be, t) => be.Unary(op, t[0]!, t[1]!, -0.5, 0.5), [1], 0, 0);

    [TestCaseSource(nameof(ArithmeticOps)), TestCase(BinaryOp.ReluBackward), TestCase(BinaryOp.GeluBackward)]
    public void BinaryFloat32Broadcast(BinaryOp op)
    {
        bool positive = op == BinaryOp.Pow;
        Tensor A(Device d) => positive ? Pos(d, [5, 1, 7], 11) : Rnd(d, [5, 1, 7], 11, scale: 3);
        // b broadcasts along dim 0 (stride 0) and is a transposed view; a broadcasts along dim 1.
        Conform(d => [A(d).Expand(5, 4, 7), Rnd(d, [7, 4], 12, scale: 2, shift: op is BinaryOp.Div or BinaryOp.Remainder ? 5 : 0).T.Unsqueeze(0).Expand(5, 4, 7),
                      Tensor.Empty([5, 4, 7], DType.Float32, d)],
            (be, t) => be.Binary(op, t[0]!, t[1]!, t[2]!), [2], rtol: 3e-5, atol: 3e-6);
    }

    [TestCaseSource(nameof(ArithmeticOps)), TestCase(BinaryOp.ReluBackward), TestCase(BinaryOp.GeluBackward)]
    public void BinaryFloat64(BinaryOp op)
    {
        Conform(d => [op == BinaryOp.Pow ? Pos(d, [4, 6], 1, dtype: DType.Float64) : Rnd(d, [4, 6], 1, DType.Float64, 3),
                      Rnd(d, [4, 6], 2, DType.Float64, 2, op is BinaryOp.Div or BinaryOp.Remainder ? 5 : 0), Tensor.Empty([4, 6], DType.Float64, d)],
            (be, t) => be.Binary(op, t[0]!, t[1]!, t[2]!), [2], rtol: 1e-12, atol: 1e-13);
    }

    [TestCaseSource(nameof(ArithmeticOps))]
    public void BinaryIntegers(BinaryOp op)
    {
        foreach (var dt in new[] { DType.Int32, DType.Int64 })
        {
            long lo = op == BinaryOp.Pow ? 0 : -20, hi = op == BinaryOp.Pow ? 5 : 20;
            Conform(d => [Ints(d, [3, 8], 7, lo, hi, dt), Ints(d, [8], 8, op is BinaryOp.Div or BinaryOp.Remainder ? 1 : lo, hi, dt).Unsqueeze(0).Expand(3, 8),
                          Tensor.Empty([3, 8], dt, d)],
                (be, t) => be.Binary(op, t[0]!, t[1]!, t[2]!), [2], 0, 0);
        }
    }

    public static IEnumerable<BinaryOp> BitwiseOps => [BinaryOp.BitwiseAnd, BinaryOp.BitwiseOr, BinaryOp.BitwiseXor];

    [TestCaseSource(nameof(BitwiseOps))]
    public void BitwiseIntegers(BinaryOp op)
    {
        foreach (var dt in new[] { DType.Int32, DType.Int64 })
            Conform(d => [Ints(d, [3, 8], 7, -300, 300, dt), Ints(d, [8], 8, -300, 300, dt).Unsqueeze(0).Expand(3, 8), Tensor.Empty([3, 8], dt, d)],
                (be, t) => be.Binary(op, t[0]!, t[1]!, t[2]!), [2], 0, 0);
    }

    [TestCaseSource(nameof(CompareOps))]
    public void ComparisonsEveryDType(BinaryOp op)
    {
        foreach (var dt in AllDTypes)
        {
            Tensor A(Device d) => dt == DType.Bool ? Ints(d, [4, 5], 1, 0, 2).To(DType.Bool) : Ints(d, [4, 5], 1, -3, 3).To(dt);
            Tensor B(Device d) => dt == DType.Bool ? Ints(d, [5, 4], 2, 0, 2).To(DType.Bool).T : Ints(d, [5, 4], 2, -3, 3).To(dt).T;
            if (dt == DType.Bool && op is not (BinaryOp.Eq or BinaryOp.Ne)) continue;
            Conform(d => [A(d), B(d), Tensor.Empty([4, 5], DType.Bool, d)], (be, t) => be.Binary(op, t[0]!, t[1]!, t[2]!), [2], 0, 0);
        }
    }

    [Test]
    public void ComparisonsWithNaN()
    {
        foreach (var op in CompareOps)
            Conform(d => [Tensor.FromArray(new[] { float.NaN, 1f, 2f }).To(d), Tensor.FromArray(new[] { float.NaN, float.NaN, 2f }).To(d), Tensor.Empty([3], DType.Bool, d)],
                (be, t) => be.Binary(op, t[0]!, t[1]!, t[2]!), [2], 0, 0);
    }

    [TestCase(BinaryOp.LogicalAnd), TestCase(BinaryOp.LogicalOr), TestCase(BinaryOp.LogicalXor)]
    public void LogicalOps(BinaryOp op)
    {
        Conform(d => [Ints(d, [6, 5], 1, 0, 2).To(DType.Bool), Ints(d, [5], 2, 0, 2).To(DType.Bool).Unsqueeze(0).Expand(6, 5), Tensor.Empty([6, 5], DType.Bool, d)],
            (be, t) => be.Binary(op, t[0]!, t[1]!, t[2]!), [2], 0, 0);
    }

    [TestCaseSource(nameof(AllDTypes))]
    public void WhereEveryDType(DType dt)
    {
        Conform(d => [Ints(d, [4, 1], 3, 0, 2).To(DType.Bool).Expand(4, 6), Ints(d, [6, 4], 4, -5, 5).To(dt).T, Ints(d, [6], 5, -5, 5).To(dt).Expand(4, 6),
                      Tensor.Empty([4, 6], dt, d)],
            (be, t) => be.Where(t[0]!, t[1]!, t[2]!, t[3]!), [3], 0, 0);
    }

    [TestCaseSource(nameof(AllDTypes))]
    public void CopyConvertsToEveryDType(DType from)
    {
        foreach (var to in AllDTypes)
        {
            Tensor Src(Device d) => (from == DType.Bool ? Ints(d, [5, 7], 9, 0, 2) : from.IsFloatingPoint() ? Rnd(d, [5, 7], 9, scale: 40) : Ints(d, [5, 7], 9, -100, 100)).To(from);
            // Source is a strided view, destination a slice with a storage offset.
            Conform(d => [Src(d).T, Tensor.Zeros([3, 7, 5], to, d).Select(0, 1)], (be, t) => be.Copy(t[0]!, t[1]!), [1], 0, 0);
        }
    }

    [TestCaseSource(nameof(AllDTypes))]
    public void FillStridedView(DType dt)
    {
        Conform(d => [Tensor.Zeros([6, 8], dt, d).Slice(1, 1, 8, 3)], (be, t) => be.Fill(t[0]!, 3.75), [0], 0, 0);
        Conform(d => [Tensor.Zeros([6, 8], dt, d)], (be, t) => be.Fill(t[0]!.Narrow(0, 2, 3), -2), [0], 0, 0);
    }

    [Test]
    public void LargeContiguousUnaryUsesFastPathCorrectly()
    {
        Conform(d => [Rnd(d, [4099], 21), Tensor.Empty([4099], DType.Float32, d)], (be, t) => be.Unary(UnaryOp.Tanh, t[0]!, t[1]!), [1], rtol: 2e-6, atol: 1e-7);
        // (Against the CPU's TensorPrimitives.Tanh, whose error near 0 is absolute, up to ~5e-8 — hundreds of ulps at
        // |x| = 0.003; the 4-ulp bound against float64 is Float32TranscendentalsAreWithinAFewUlpOfFloat64.)
    }

    [TestCase(UnaryOp.Exp)]
    [TestCase(UnaryOp.Tanh)]
    [TestCase(UnaryOp.Sigmoid)]
    [TestCase(UnaryOp.Silu)]
    [TestCase(UnaryOp.GeluTanh)]
    public void Float32TranscendentalsAreWithinAFewUlpOfFloat64(UnaryOp op)
    {
        // ±12 spreads over every branch (tanh's series below 0.55, its exp form above; exp's range reduction), plus
        // the edges: 0, −0, tiny, huge, ±∞, NaN.
        var values = Floats(4096, 31, scale: 6).Concat([0f, -0f, 1e-6f, -1e-6f, 0.549f, 0.551f, 88f, -88f, 100f, -100f, 120f, -120f,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN]).ToArray();
        Func<double, double> f = op switch
        {
            UnaryOp.Exp => Math.Exp,
            UnaryOp.Tanh => Math.Tanh,
            UnaryOp.Sigmoid => v => 1 / (1 + Math.Exp(-v)),
            UnaryOp.Silu => v => v / (1 + Math.Exp(-v)),
            _ => v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
        };
        var x = Tensor.FromArray(values, [values.Length]).To(Dev);
        var y = Tensor.Empty([values.Length], DType.Float32, Dev);
        x.Backend.Unary(op, x, y);
        var got = Host(y);
        for (int i = 0; i < values.Length; i++)
        {
            double want = (float)f(values[i]);   // the exact value rounded to float32 (overflow to ±∞)
            if (double.IsNaN(want)) { Assert.That(got[i], Is.NaN, $"{op}({values[i]})"); continue; }
            if (double.IsInfinity(want)) { Assert.That(got[i], Is.EqualTo(want), $"{op}({values[i]})"); continue; }
            // 4 float32 ulps of the exact value (GELU: of its larger term, as its sum cancels for negative x); below
            // float32's smallest normal (1.2e-38) any tiny value or 0 is accepted, as TensorPrimitives flushes there too.
            double scale = op == UnaryOp.GeluTanh ? Math.Abs(values[i]) : Math.Abs(want);
            Assert.That(got[i], Is.EqualTo(want).Within(4 * 5.96e-8 * scale + 1.2e-38), $"{op}({values[i]:R})");
        }
    }

    [Test]
    public void UnaryAndBinaryOpsWithoutAnOperatorForTheDTypeAreRejected()
    {
        var x = Rnd(Dev, [2, 3], 42);
        var unknownUnary = (UnaryOp)Enum.GetValues<UnaryOp>().Length;
        Assert.Throws<NotSupportedException>(() => x.Backend.Unary(unknownUnary, x, Tensor.Empty([2, 3], DType.Float32, Dev)));
        Assert.Throws<NotSupportedException>(() => x.Backend.Unary(UnaryOp.LogicalNot, x, Tensor.Empty([2, 3], DType.Float32, Dev)));
        var unknownBinary = (BinaryOp)Enum.GetValues<BinaryOp>().Length;
        Assert.Throws<NotSupportedException>(() => x.Backend.Binary(unknownBinary, x, x, Tensor.Empty([2, 3], DType.Float32, Dev)));
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class Elementwise(string device) : ElementwiseTests(device);
