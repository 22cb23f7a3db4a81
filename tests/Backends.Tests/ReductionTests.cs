namespace Ember.Conformance;

/// <summary>Row reductions ([outer, inner] views) on the device against the CPU backend.</summary>
public abstract class ReductionTests(string device) : DeviceTest(device)
{
    public static IEnumerable<ReduceOp> FloatOps => [ReduceOp.Sum, ReduceOp.Prod, ReduceOp.Max, ReduceOp.Min, ReduceOp.LogSumExp];

    private static bool HasIndex(ReduceOp op) => op is ReduceOp.Max or ReduceOp.Min;

    [TestCaseSource(nameof(FloatOps))]
    public void Float32ContiguousAndStrided(ReduceOp op)
    {
        double scale = op == ReduceOp.Prod ? 0.3 : 2;
        double shift = op == ReduceOp.Prod ? 1 : 0;
        foreach (var inner in new long[] { 1, 7, 64, 300 })
        {
            // Contiguous rows, then the same data read through a transposed view (inner stride ≠ 1).
            Conform(d => [Rnd(d, [5, inner], 31, scale: scale, shift: shift), Tensor.Empty([5], DType.Float32, d), HasIndex(op) ? Tensor.Empty([5], DType.Int64, d) : null],
                (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], rtol: 1e-4, atol: 1e-5);
            Conform(d => [Rnd(d, [inner, 5], 32, scale: scale, shift: shift).T, Tensor.Zeros([5, 2], DType.Float32, d).Select(1, 1), HasIndex(op) ? Tensor.Empty([5], DType.Int64, d) : null],
                (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], rtol: 1e-4, atol: 1e-5);
        }
    }

    [TestCaseSource(nameof(FloatOps))]
    public void FewLongRowsReduceInTwoStages(ReduceOp op)
    {
        // Few rows of ≥ 4096 elements take the split (two-stage) path on the ILGPU backend; one is strided.
        double scale = op == ReduceOp.Prod ? 0.01 : 2, shift = op == ReduceOp.Prod ? 1 : 0;
        Conform(d => [Rnd(d, [3, 9001], 33, scale: scale, shift: shift), Tensor.Empty([3], DType.Float32, d), HasIndex(op) ? Tensor.Empty([3], DType.Int64, d) : null],
            (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], rtol: 1e-3, atol: 1e-3);
        Conform(d => [Rnd(d, [5000, 2], 34, scale: scale, shift: shift).T, Tensor.Empty([2], DType.Float32, d), HasIndex(op) ? Tensor.Empty([2], DType.Int64, d) : null],
            (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], rtol: 1e-3, atol: 1e-3);
    }

    [TestCaseSource(nameof(FloatOps))]
    public void ManyShortStridedRows(ReduceOp op)
    {
        // [300, 7] with unit row stride and inner stride 300 (a sum over dim 0): one thread per row on ILGPU.
        double scale = op == ReduceOp.Prod ? 0.3 : 2, shift = op == ReduceOp.Prod ? 1 : 0;
        Conform(d => [Rnd(d, [7, 300], 35, scale: scale, shift: shift).T, Tensor.Empty([300], DType.Float32, d), HasIndex(op) ? Tensor.Empty([300], DType.Int64, d) : null],
            (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], rtol: 1e-4, atol: 1e-5);
        // [130, 2000] read the same way: long sums/products split each row into parts first.
        Conform(d => [Rnd(d, [2000, 130], 36, scale: op == ReduceOp.Prod ? 0.02 : 2, shift: shift).T, Tensor.Empty([130], DType.Float32, d), HasIndex(op) ? Tensor.Empty([130], DType.Int64, d) : null],
            (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], rtol: 1e-3, atol: 1e-3);
    }

    [TestCaseSource(nameof(FloatOps))]
    public void Float64(ReduceOp op)
    {
        Conform(d => [Rnd(d, [3, 33], 3, DType.Float64, op == ReduceOp.Prod ? 0.3 : 1, op == ReduceOp.Prod ? 1 : 0), Tensor.Empty([3], DType.Float64, d),
                      HasIndex(op) ? Tensor.Empty([3], DType.Int64, d) : null],
            (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], rtol: 1e-12, atol: 1e-12);
    }

    [Test]
    public void MaxMinFirstIndexOnTiesAndNaN()
    {
        Tensor X(Device d) => Tensor.FromArray(new[] { 3f, 1f, 3f, 1f, 2f, 2f, float.NaN, 5f, float.NaN, -1f, 4f, -1f }, 3, 4).To(d);
        foreach (var op in new[] { ReduceOp.Max, ReduceOp.Min })
            Conform(d => [X(d), Tensor.Empty([3], DType.Float32, d), Tensor.Empty([3], DType.Int64, d)],
                (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), [1, 2], 0, 0);
    }

    [Test]
    public void LogSumExpIsStableForLargeValues()
    {
        Conform(d => [Tensor.FromArray(new[] { 1000f, 999f, -1000f, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity }, 2, 3).To(d), Tensor.Empty([2], DType.Float32, d)],
            (be, t) => be.Reduce(ReduceOp.LogSumExp, t[0]!, t[1]!, null), [1]);
    }

    [TestCase(DType.Int32), TestCase(DType.Int64)]
    public void Integers(DType dt)
    {
        foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Prod, ReduceOp.Max, ReduceOp.Min })
            Conform(d => [Ints(d, [9, 4], 4, -3, 4, dt).T, Tensor.Empty([4], dt, d), HasIndex(op) ? Tensor.Empty([4], DType.Int64, d) : null],
                (be, t) => be.Reduce(op, t[0]!, t[1]!, t[2]), HasIndex(op) ? [1, 2] : [1], 0, 0);
    }

    [TestCase(ReduceOp.Sum), TestCase(ReduceOp.Prod)]
    public void Int32SumAndProdWidenToInt64(ReduceOp op)
    {
        // Tensor.Sum/Prod of Int32 give Int64, as in PyTorch. The output starts with every bit set, so a kernel that
        // writes only the low 32 bits of each Int64 shows (the ILGPU backend did: 2^32 + 1000 for a sum of 1000 ones).
        Conform(d => [Ints(d, [9, 4], 4, -3, 4, DType.Int32).T, Tensor.Full([4], -1, DType.Int64, d)],
            (be, t) => be.Reduce(op, t[0]!, t[1]!, null), [1], 0, 0);
        var ones = Tensor.Ones([1000], DType.Int32, Dev);
        Assert.That(ones.Sum().Item(), Is.EqualTo(1000), "Tensor.Sum of 1000 Int32 ones");
    }

    [TestCase(ReduceOp.All), TestCase(ReduceOp.Any)]
    public void AllAny(ReduceOp op)
    {
        Conform(d => [Ints(d, [6, 3], 6, 0, 2).To(DType.Bool), Tensor.Empty([6], DType.Bool, d)], (be, t) => be.Reduce(op, t[0]!, t[1]!, null), [1], 0, 0);
        Conform(d => [Ints(d, [6, 3], 7, -1, 2).To(DType.Float32), Tensor.Empty([6], DType.Bool, d)], (be, t) => be.Reduce(op, t[0]!, t[1]!, null), [1], 0, 0);
    }

    [Test]
    public void AnOpWithoutAKernelIsRejectedByNameNotComputedAsAnother()
    {
        // A ReduceOp value no backend knows (as a newly added op would be before its kernel exists) must throw,
        // never fall through to another reduction.
        var x = Rnd(Dev, [3, 4], 40);
        var values = Tensor.Empty([3], DType.Float32, Dev);
        var unknown = (ReduceOp)Enum.GetValues<ReduceOp>().Length;
        var ex = Assert.Throws<NotSupportedException>(() => x.Backend.Reduce(unknown, x, values, null));
        Assert.That(ex!.Message, Does.Contain(unknown.ToString()));
        var integers = Ints(Dev, [3, 4], 41, -5, 5);
        Assert.Throws<NotSupportedException>(() => integers.Backend.Reduce(ReduceOp.LogSumExp, integers, Tensor.Empty([3], DType.Int64, Dev), null));
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class Reductions(string device) : ReductionTests(device);
