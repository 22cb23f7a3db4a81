using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// Float16/BFloat16 elementwise ops on the ILGPU backend run in one launch on 16-bit storage (widen, the float32
/// operator struct, round once) and give bit for bit what the float32 kernel between two conversions gives (the former
/// path, which the CPU backend also takes); strided and broadcast operands included. Agreement with the CPU backend
/// within one narrow ulp is <see cref="ReducedPrecisionTests"/>'s.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class NarrowElementwiseTests(string device) : DeviceTest(device)
{
    public static IEnumerable<DType> NarrowDTypes => [DType.Float16, DType.BFloat16];

    private static readonly UnaryOp[] FloatUnary =
        Enum.GetValues<UnaryOp>().Where(o => o is not (UnaryOp.IsNan or UnaryOp.IsInf or UnaryOp.LogicalNot)).ToArray();

    // Every binary op with a floating-point struct: arithmetic and the gradient kernels of ReLU and GELU.
    private static readonly BinaryOp[] FloatBinary =
        [BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Pow, BinaryOp.Maximum, BinaryOp.Minimum, BinaryOp.Remainder,
         BinaryOp.ReluBackward, BinaryOp.GeluBackward];

    private static (double A, double B) Params(UnaryOp op) => op switch
    {
        UnaryOp.Softplus => (1.5, 20), UnaryOp.Clamp => (-0.5, 0.7), UnaryOp.LeakyRelu => (0.1, 0), UnaryOp.PowScalar => (2.5, 0),
        UnaryOp.RPowScalar => (1.7, 0), UnaryOp.RDivScalar => (3.0, 0), UnaryOp.Logit => (0.1, 0), _ => (1.25, 0),
    };

    private Tensor UnaryInput(UnaryOp op, DType dt) => op switch
    {
        UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal or UnaryOp.RDivScalar => Pos(Dev, [12, 9], 3, 0.1, 4, dt),
        UnaryOp.Log1p => Pos(Dev, [12, 9], 3, -0.9, 3, dt),
        UnaryOp.Logit => Pos(Dev, [12, 9], 3, 0.02, 0.98, dt),
        _ => Rnd(Dev, [12, 9], 3, dt, 3),
    };

    private static long Launches => IlgpuProfiler.Launches;

    [TestCaseSource(nameof(NarrowDTypes))]
    public void UnaryOpsAreOneLaunchAndEqualTheFloat32KernelRoundedOnce(DType dt)
    {
        foreach (var op in FloatUnary)
        {
            var (a, b) = Params(op);
            // A transposed input written through a strided slice of the result.
            var x = UnaryInput(op, dt).T;
            var result = Tensor.Zeros([9, 24], dt, Dev).Slice(1, 0, 24, 2);
            long before = Launches;
            x.Backend.Unary(op, x, result, a, b);
            Assert.That(Launches - before, Is.EqualTo(1), $"{op} in {dt}: launches");
            var wide = Tensor.Zeros([9, 12], DType.Float32, Dev);
            x.Backend.Unary(op, x.To(DType.Float32), wide, a, b);
            AssertEqual(Host(result), Host(wide.To(dt)), $"{op} in {dt}");
        }
    }

    [TestCaseSource(nameof(NarrowDTypes))]
    public void BinaryOpsAreOneLaunchAndEqualTheFloat32KernelRoundedOnce(DType dt)
    {
        foreach (var op in FloatBinary)
        {
            // a [5, 8] transposed, b broadcast along the rows (stride 0).
            var a = (op == BinaryOp.Pow ? Pos(Dev, [8, 5], 4, 0.1, 3, dt) : Rnd(Dev, [8, 5], 4, dt, 2)).T;
            var b = (op is BinaryOp.Div or BinaryOp.Remainder ? Pos(Dev, [8], 5, 0.5, 2, dt) : Rnd(Dev, [8], 5, dt, 2)).Expand(5, 8);
            var result = Tensor.Zeros([5, 8], dt, Dev);
            long before = Launches;
            a.Backend.Binary(op, a, b, result);
            Assert.That(Launches - before, Is.EqualTo(1), $"{op} in {dt}: launches");
            var wide = Tensor.Zeros([5, 8], DType.Float32, Dev);
            a.Backend.Binary(op, a.To(DType.Float32), b.To(DType.Float32), wide);
            AssertEqual(Host(result), Host(wide.To(dt)), $"{op} in {dt}");
        }
    }

    [Test]
    public void SpecialValuesRoundAsTheConversionKernel()
    {
        // Overflow to ±∞, NaN, signed zeros and values that round to a tie, through Mul by 1 and by 2^8.
        var values = new[] { 0f, -0f, 1f + 1f / 256, 1f + 3f / 256, 65504f, 65519f, 65520f, 3.39e38f, float.PositiveInfinity, float.NaN, 6e-8f, -1e-40f };
        foreach (var dt in NarrowDTypes)
            foreach (var scale in new[] { 1f, 256f })
            {
                var x = Tensor.FromArray(values).To(Dev);
                var s = Tensor.Full([values.Length], scale, DType.Float32, Dev);
                var result = Tensor.Zeros([values.Length], dt, Dev);
                x.Backend.Binary(BinaryOp.Mul, x.To(dt), s.To(dt), result);
                AssertEqual(Host(result), Host((x.To(dt).To(DType.Float32) * s.To(dt).To(DType.Float32)).To(dt)), $"Mul by {scale} in {dt}");
            }
    }
}
