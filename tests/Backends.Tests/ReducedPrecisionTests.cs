namespace Ember.Conformance;

/// <summary>
/// Float16 and BFloat16 on the device against the CPU backend: conversions bit for bit, every elementwise operator
/// struct, reductions, matmul, the fused kernels, indexing, random and autograd, within one unit in the last place of
/// the narrow type (both compute in float32; the device's float32 math may differ from the CPU's in the last bit, which
/// can move a rounded result by one narrow ulp).
/// </summary>
public abstract class ReducedPrecisionTests(string device) : DeviceTest(device)
{
    public static IEnumerable<DType> NarrowDTypes => [DType.Float16, DType.BFloat16];

    private static (double Rtol, double Atol) Ulp(DType dt, int ulps = 1) =>
        dt == DType.Float16 ? (ulps * Math.Pow(2, -10), ulps * 1e-4) : (ulps * Math.Pow(2, -7), ulps * 1e-3);

    // Runs f on the device and on the CPU; the results must have the same dtype and agree within `ulps` narrow ulps.
    private void Same(string what, DType dt, Func<Device, Tensor> f, int ulps = 1)
    {
        var onDev = f(Dev);
        var onCpu = f(Device.Cpu);
        Assert.That(onDev.DType, Is.EqualTo(onCpu.DType), $"{what}: dtype");
        Assert.That(onDev.Device, Is.EqualTo(Dev), $"{what}: device");
        var (rtol, atol) = onCpu.DType.IsReducedPrecision() ? Ulp(dt, ulps) : (0, 0);
        AssertClose(Host(onDev), Host(onCpu), rtol, atol, $"{what} in {dt} on {Dev}");
    }

    private static Tensor N(Device d, long[] shape, int seed, DType dt, double scale = 1) => Rnd(d, shape, seed, DType.Float32, scale).To(dt);

    [TestCaseSource(nameof(NarrowDTypes))]
    public void ConversionsAreBitExact(DType dt)
    {
        // Ties, subnormals, overflow, NaN and ±0 among random values of many magnitudes.
        var special = new[] { 0f, -0f, 1f + 1f / 2048, 1f + 3f / 2048, 1f + 1f / 256, 1f + 3f / 256, 65504f, 65519f, 65520f, 1e6f,
            5.96e-8f, 2.98e-8f, 4.5e-8f, 6.1e-5f, 3.3895e38f, 3.4e38f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-40f, -7e-39f };
        var values = special.Concat(Floats(200, 31, 1000)).Concat(Floats(200, 32, 1e-4)).ToArray();
        var x = Tensor.FromArray(values);
        var onDev = x.To(Dev).To(dt);
        Assert.That(Host(onDev), Is.EqualTo(Host(x.To(dt))), "float32 → narrow on the device equals the host conversion");
        Assert.That(Host(onDev.To(DType.Float32)), Is.EqualTo(Host(x.To(dt).To(DType.Float32))), "narrow → float32");
        foreach (var other in new[] { DType.Float64, DType.Int64, DType.Int32, DType.UInt8, DType.Int8, DType.Int16, DType.Bool, DType.Float16, DType.BFloat16 })
        {
            var small = Tensor.FromArray(Floats(64, 33, 60)).To(dt);
            Assert.That(Host(small.To(Dev).To(other)), Is.EqualTo(Host(small.To(other))), $"{dt} → {other}");
            Assert.That(Host(small.To(other).To(Dev).To(dt)), Is.EqualTo(Host(small.To(other).To(dt))), $"{other} → {dt}");
        }
    }

    private static readonly UnaryOp[] FloatUnary =
        Enum.GetValues<UnaryOp>().Where(o => o is not (UnaryOp.IsNan or UnaryOp.IsInf or UnaryOp.LogicalNot)).ToArray();

    [TestCaseSource(nameof(NarrowDTypes))]
    public void EveryUnaryOperator(DType dt)
    {
        foreach (var op in FloatUnary)
        {
            (double a, double b) = op switch
            {
                UnaryOp.Softplus => (1.5, 20), UnaryOp.Clamp => (-0.5, 0.7), UnaryOp.LeakyRelu => (0.1, 0), UnaryOp.PowScalar => (2.5, 0),
                UnaryOp.RPowScalar => (1.7, 0), UnaryOp.RDivScalar => (3.0, 0), UnaryOp.Logit => (0.1, 0), _ => (1.25, 0),
            };
            Tensor In(Device d) => op switch
            {
                UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal or UnaryOp.RDivScalar => Pos(d, [6, 9], 3, 0.1, 4, dt),
                UnaryOp.Log1p => Pos(d, [6, 9], 3, -0.9, 3, dt),
                UnaryOp.Logit => Pos(d, [6, 9], 3, 0.02, 0.98, dt),
                _ => N(d, [6, 9], 3, dt, 2),
            };
            Same(op.ToString(), dt, d => In(d).T.Apply(op, a, b));
        }
        Same("IsNan", dt, d => Tensor.FromArray(new[] { 1f, float.NaN, float.PositiveInfinity }).To(d).To(dt).IsNan());
        Same("IsInf", dt, d => Tensor.FromArray(new[] { 1f, float.NaN, float.NegativeInfinity }).To(d).To(dt).IsInf());
    }

    [TestCaseSource(nameof(NarrowDTypes))]
    public void EveryBinaryOperatorAndComparison(DType dt)
    {
        foreach (var op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Pow, BinaryOp.Maximum, BinaryOp.Minimum,
                     BinaryOp.Remainder, BinaryOp.Eq, BinaryOp.Ne, BinaryOp.Lt, BinaryOp.Le, BinaryOp.Gt, BinaryOp.Ge })
        {
            Tensor A(Device d) => op == BinaryOp.Pow ? Pos(d, [5, 8], 4, 0.1, 3, dt) : N(d, [5, 8], 4, dt, 2).Round();
            Tensor B(Device d) => op is BinaryOp.Div or BinaryOp.Remainder ? Pos(d, [8], 5, 0.5, 2, dt) : N(d, [8], 5, dt, 2).Round();
            Same(op.ToString(), dt, d => Tensor.Apply(op, A(d), B(d)));
        }
    }

    [TestCaseSource(nameof(NarrowDTypes))]
    public void ReductionsMatmulAndFusedKernels(DType dt)
    {
        Same("Sum", dt, d => N(d, [7, 300], 6, dt).Sum(1));
        Same("Mean", dt, d => N(d, [7, 30], 6, dt).Mean(0), 2);
        Same("Amax", dt, d => N(d, [7, 30], 6, dt).Amax([1]));
        Same("ArgMax", dt, d => N(d, [7, 30], 6, dt).Max(1).Indices);
        Same("LogSumExp", dt, d => N(d, [7, 30], 6, dt).LogSumExp(1));
        Same("Softmax", dt, d => N(d, [7, 30], 7, dt).Softmax(1));
        Same("LogSoftmax", dt, d => N(d, [7, 30], 7, dt).LogSoftmax(1));
        Same("MatMul", dt, d => N(d, [9, 64], 8, dt).MatMul(N(d, [64, 11], 9, dt)));
        Same("Bmm transposed", dt, d => N(d, [3, 16, 5], 8, dt).Transpose(1, 2).Bmm(N(d, [3, 16, 4], 9, dt)));
        Same("Linear", dt, d => FusedOps.Linear(N(d, [5, 12], 10, dt), N(d, [8, 12], 11, dt), N(d, [8], 12, dt)));
        Same("LayerNorm", dt, d => FusedOps.LayerNorm(N(d, [5, 24], 13, dt), 24, N(d, [24], 14, dt), N(d, [24], 15, dt), 1e-5));
        Same("Attention", dt, d => FusedOps.Attention(N(d, [2, 6, 8], 16, dt), N(d, [2, 7, 8], 17, dt), N(d, [2, 7, 8], 18, dt), 0.35, true));
        Same("Attention backward", dt, d =>
        {
            Tensor[] qkv = [N(d, [2, 6, 8], 16, dt).RequiresGrad_(), N(d, [2, 7, 8], 17, dt).RequiresGrad_(), N(d, [2, 7, 8], 18, dt).RequiresGrad_()];
            (FusedOps.Attention(qkv[0], qkv[1], qkv[2], 0.35, true) * N(d, [2, 6, 8], 19, dt)).Sum().Backward();
            return Tensor.Cat([.. qkv.Select(t => t.Grad!.Reshape(-1))]);
        }, 2);
        Same("Conv2d", dt, d => FusedOps.Conv2d(N(d, [2, 3, 9, 9], 19, dt), N(d, [4, 3, 3, 3], 20, dt), N(d, [4], 21, dt),
            new ConvGeometry(3, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1), 1), 2);
        Same("MaxPool2d", dt, d => FusedOps.MaxPool2d(N(d, [2, 3, 8, 8], 22, dt), new PoolGeometry(8, 8, 2, 2, 2, 2, 0, 0, 4, 4)));
        Same("AvgPool2d", dt, d => FusedOps.AvgPool2d(N(d, [2, 3, 8, 8], 22, dt), new PoolGeometry(8, 8, 3, 3, 2, 2, 1, 1, 4, 4), true));
        // The backend members behind convolution and pooling, called directly (the fused ops above may widen first).
        var cg = new ConvGeometry(3, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1);
        var pg = new PoolGeometry(8, 8, 2, 2, 2, 2, 0, 0, 4, 4);
        Same("Im2Col", dt, d => { var x = N(d, [2, 3, 9, 9], 19, dt); var c = Tensor.Empty([2, 27, 81], dt, d); x.Backend.Im2Col(x, cg, c); return c; });
        Same("Col2Im", dt, d => { var c = N(d, [2, 27, 81], 19, dt); var x = Tensor.Empty([2, 3, 9, 9], dt, d); c.Backend.Col2Im(c, cg, x); return x; }, 4);
        Same("MaxPool2dBackward", dt, d =>
        {
            var x = N(d, [2, 3, 8, 8], 22, dt);
            var (r, at, gi) = (Tensor.Empty([2, 3, 4, 4], dt, d), Tensor.Empty([2, 3, 4, 4], DType.Int64, d), Tensor.Empty([2, 3, 8, 8], dt, d));
            x.Backend.MaxPool2d(x, pg, r, at);
            x.Backend.MaxPool2dBackward(N(d, [2, 3, 4, 4], 23, dt), x, at, pg, gi);
            return gi;
        });
        Same("AvgPool2dBackward", dt, d =>
        {
            var gi = Tensor.Empty([2, 3, 8, 8], dt, d);
            gi.Backend.AvgPool2dBackward(N(d, [2, 3, 4, 4], 23, dt), new PoolGeometry(8, 8, 3, 3, 2, 2, 1, 1, 4, 4), true, gi);
            return gi;
        }, 2);
        Same("Var", dt, d => N(d, [7, 30], 6, dt).Var(1), 4);
        Same("Cumsum", dt, d => N(d, [3, 40], 6, dt).Cumsum(1), 4);
        Same("Sort", dt, d => N(d, [3, 17], 6, dt).Sort(1).Values);
        Same("TopK indices", dt, d => N(d, [3, 17], 6, dt).TopK(3).Indices);
        Same("CrossEntropy", dt, d => FusedOps.CrossEntropy(N(d, [6, 10], 23, dt), Ints(d, [6], 24, 0, 10), null, new CrossEntropyArgs(-100, 0.1)));
    }

    [TestCaseSource(nameof(NarrowDTypes))]
    public void IndexingWhereAndRandom(DType dt)
    {
        Tensor Idx(Device d) => Tensor.FromArray(new long[] { 3, 1, 9, 0, 2, 2, 5, 7 }, [4, 2]).To(d);
        Same("Gather", dt, d => N(d, [4, 10], 25, dt).Gather(1, Idx(d)));
        Same("IndexSelect", dt, d => N(d, [4, 10], 25, dt).IndexSelect(1, Tensor.FromArray(new long[] { 3, 3, 0 }).To(d)));
        Same("ScatterAdd", dt, d => Tensor.Zeros([4, 10], dt, d).ScatterAdd(1, Idx(d), N(d, [4, 2], 26, dt)));
        Same("IndexAdd", dt, d => Tensor.Zeros([5, 3], dt, d).IndexAdd(0, Tensor.FromArray(new long[] { 1, 1, 4 }).To(d), N(d, [3, 3], 27, dt)));
        Same("Where", dt, d => { var a = N(d, [4, 6], 28, dt); var b = N(d, [4, 6], 29, dt); return Tensor.Where(a.Gt(b), a, b); });
        Same("Triu", dt, d => N(d, [5, 5], 30, dt).Triu());
        Same("Cat", dt, d => Tensor.Cat([N(d, [2, 3], 31, dt), N(d, [1, 3], 32, dt)], 0));
        Same("Randn", dt, d => Tensor.Randn([257], dt, d, generator: new Generator(5)));
        Same("Fill", dt, d => Tensor.Full([3, 4], 0.1, dt, d));
    }

    [TestCase(DType.UInt8), TestCase(DType.Int8), TestCase(DType.Int16)]
    public void SmallIntegerArithmeticWrapsAsOnTheCpu(DType dt)
    {
        long lo = dt == DType.UInt8 ? 0 : dt == DType.Int8 ? -128 : -32768, hi = dt == DType.UInt8 ? 256 : -lo;
        Tensor A(Device d) => Ints(d, [4, 6], 50, lo, hi).To(dt);
        Tensor B(Device d) => Ints(d, [6], 51, lo, hi).To(dt);
        Same("add", dt, d => A(d) + B(d));
        Same("mul", dt, d => A(d) * B(d));
        Same("neg", dt, d => -A(d));
        Same("sum", dt, d => A(d).Sum(1));
        Same("amax", dt, d => A(d).Amax([0]));
        Same("matmul", dt, d => A(d).MatMul(Ints(d, [6, 3], 52, lo, hi).To(dt)));
        Same("lt", dt, d => A(d).Lt(B(d)));
        Same("scatter-add", dt, d => Tensor.Zeros([4, 10], dt, d).ScatterAdd(1, Tensor.FromArray(new long[] { 3, 3, 9, 0, 2, 2, 5, 7 }, [4, 2]).To(d), Ints(d, [4, 2], 53, lo, hi).To(dt)));
    }

    [TestCase(DType.Int32), TestCase(DType.Int64)]
    public void IntegerMatmulIsExact(DType dt) =>
        // The device's tiled kernel is floating-point; integer products run in float64 (exact at these magnitudes).
        Same("matmul", dt, d => Ints(d, [2, 5, 7], 60, -100000, 100000, dt).Bmm(Ints(d, [2, 7, 3], 61, -100000, 100000, dt)));

    [TestCaseSource(nameof(NarrowDTypes))]
    public void GradientsOfNarrowLeavesComeBackInTheLeafDType(DType dt)
    {
        Tensor Grad(Device d)
        {
            var x = N(d, [4, 8], 40, dt).RequiresGrad_();
            var w = N(d, [8, 3], 41, dt).RequiresGrad_();
            (x.MatMul(w).Tanh().Softmax(1) * N(d, [4, 3], 42, dt)).Sum().Backward();
            Assert.That(x.Grad!.DType, Is.EqualTo(dt), "the gradient has the leaf's dtype");
            return Tensor.Cat([x.Grad!.Reshape(-1), w.Grad!.Reshape(-1)], 0);
        }
        Same("grad", dt, Grad, 2);
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class ReducedPrecisionOnDevice(string device) : ReducedPrecisionTests(device);

public sealed class ReducedPrecisionOnRequiredCore() : ReducedPrecisionTests(RequiredCoreBackend.Device.ToString());
