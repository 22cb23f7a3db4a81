namespace Ember.Core.Tests;

public class ReductionTests
{
    public record ROp(string Name, Func<Tensor, int[], bool, Tensor> Op, Func<double[], double> Ref);

    static double Var(double[] g, double corr) { double m = g.Average(); return g.Sum(v => (v - m) * (v - m)) / Math.Max(g.Length - corr, 0); }

    static readonly ROp[] Ops =
    [
        new("Sum", (t, d, k) => t.Sum(d, k), g => g.Sum()),
        new("Mean", (t, d, k) => t.Mean(d, k), g => g.Average()),
        new("Prod", (t, d, k) => d.Length == 1 ? t.Prod(d[0], k) : d.Length == 0 && !k ? t.Prod() : t.Prod(d[0], k), g => g.Aggregate(1.0, (a, b) => a * b)),
        new("Amax", (t, d, k) => t.Amax(d, k), g => g.Max()),
        new("Amin", (t, d, k) => t.Amin(d, k), g => g.Min()),
        new("LogSumExp", (t, d, k) => t.LogSumExp(d, k), g => { double m = g.Max(); return m + Math.Log(g.Sum(v => Math.Exp(v - m))); }),
        new("Var", (t, d, k) => t.Var(d, keepDim: k, correction: 1), g => Var(g, 1)),
        new("Var0", (t, d, k) => t.Var(d, false, k), g => Var(g, 0)),
        new("Std", (t, d, k) => t.Std(d, true, k), g => Math.Sqrt(Var(g, 1))),
        new("Norm1", (t, d, k) => t.Norm(1, d, k), g => g.Sum(Math.Abs)),
        new("Norm2", (t, d, k) => t.Norm(2, d, k), g => Math.Sqrt(g.Sum(v => v * v))),
        new("Norm3", (t, d, k) => t.Norm(3, d, k), g => Math.Pow(g.Sum(v => Math.Pow(Math.Abs(v), 3)), 1.0 / 3)),
        new("NormInf", (t, d, k) => t.Norm(double.PositiveInfinity, d, k), g => g.Max(Math.Abs)),
        new("Norm0", (t, d, k) => t.Norm(0, d, k), g => g.Count(v => v != 0)),
    ];

    static readonly int[][] DimSets = [[], [0], [-1], [0, 2], [1]];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var op in Ops)
            foreach (var dt in U.Floats)
                foreach (var layout in U.Layouts)
                    foreach (var dims in DimSets)
                        foreach (var keep in new[] { false, true })
                        {
                            // Prod takes at most one dim.
                            if (op.Name == "Prod" && dims.Length > 1) continue;
                            if (op.Name == "Prod" && dims.Length == 0 && keep) continue;
                            yield return new TestCaseData(op, dt, layout, dims, keep)
                                .SetName($"Reduce_{op.Name}_{dt}_{layout}_[{string.Join(",", dims)}]_{(keep ? "keep" : "drop")}");
                        }
    }

    /// <summary>Float64 reference: groups the elements of each output position in row-major order of the reduced dims.</summary>
    public static (List<double>[] Groups, long[] OutShape) Group(double[] x, long[] shape, int[] dims, bool keep)
    {
        int r = shape.Length;
        var nd = dims.Length == 0 ? Enumerable.Range(0, r).ToArray() : dims.Select(d => d < 0 ? d + r : d).Distinct().OrderBy(d => d).ToArray();
        var keptShape = Enumerable.Range(0, r).Where(i => !nd.Contains(i)).Select(i => shape[i]).ToArray();
        var outShape = keep ? Enumerable.Range(0, r).Select(i => nd.Contains(i) ? 1 : shape[i]).ToArray() : keptShape;
        var groups = new List<double>[U.Numel(keptShape)];
        for (int i = 0; i < groups.Length; i++) groups[i] = [];
        foreach (var (idx, flat) in U.Indices(shape))
        {
            var kept = Enumerable.Range(0, r).Where(i => !nd.Contains(i)).Select(i => idx[i]).ToArray();
            groups[U.Flat(kept, keptShape)].Add(x[flat]);
        }
        return (groups, outShape);
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesFloat64Reference(ROp op, DType dt, Layout layout, int[] dims, bool keep)
    {
        long[] shape = [3, 4, 5];
        var data = U.Quantize(U.Data(shape, 7, op.Name == "Prod" ? 0.5 : -2, op.Name == "Prod" ? 1.5 : 2), dt);
        if (op.Name == "Norm0") data[3] = data[17] = 0;
        var x = U.Make(data, shape, dt, layout);
        var result = op.Op(x, dims, keep);
        var (groups, outShape) = Group(data, shape, dims, keep);
        Assert.That(result.DType, Is.EqualTo(dt));
        U.Close(result, groups.Select(g => op.Ref([.. g])).ToArray(), outShape, dt == DType.Float32 ? 2e-5 : 1e-12, what: op.Name);
    }

    public static IEnumerable<TestCaseData> DimCases()
    {
        foreach (var dt in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64 })
            foreach (var layout in U.Layouts)
                foreach (var dim in new[] { 0, 1, -1 })
                    foreach (var keep in new[] { false, true })
                        yield return new TestCaseData(dt, layout, dim, keep).SetName($"MaxMinArg_{dt}_{layout}_{dim}_{(keep ? "keep" : "drop")}");
    }

    [TestCaseSource(nameof(DimCases))]
    public void MaxMinWithIndicesAndArg(DType dt, Layout layout, int dim, bool keep)
    {
        long[] shape = [4, 6, 3];
        // Integer data has ties: the index must be the first occurrence.
        var data = U.Quantize(U.Data(shape, 3, -4, 4, integers: true), dt);
        var x = U.Make(data, shape, dt, layout);
        var (groups, outShape) = Group(data, shape, [dim], keep);
        var maxV = groups.Select(g => g.Max()).ToArray();
        var maxI = groups.Select(g => (double)g.IndexOf(g.Max())).ToArray();
        var minV = groups.Select(g => g.Min()).ToArray();
        var minI = groups.Select(g => (double)g.IndexOf(g.Min())).ToArray();
        var (mv, mi) = x.Max(dim, keep);
        U.Close(mv, maxV, outShape, 0, 0, "Max values");
        U.Close(mi, maxI, outShape, 0, 0, "Max indices");
        Assert.That(mi.DType, Is.EqualTo(DType.Int64));
        Assert.That(mv.DType, Is.EqualTo(dt));
        var (nv, ni) = x.Min(dim, keep);
        U.Close(nv, minV, outShape, 0, 0, "Min values");
        U.Close(ni, minI, outShape, 0, 0, "Min indices");
        U.Close(x.ArgMax(dim, keep), maxI, outShape, 0, 0, "ArgMax");
        U.Close(x.ArgMin(dim, keep), minI, outShape, 0, 0, "ArgMin");
        // Whole-tensor forms: 0-dim results, flat row-major index of the first extreme.
        U.Close(x.Max(), [data.Max()], [], 0, 0, "Max()");
        U.Close(x.Min(), [data.Min()], [], 0, 0, "Min()");
        U.Close(x.ArgMax(), [Array.IndexOf(data, data.Max())], [], 0, 0, "ArgMax()");
        U.Close(x.ArgMin(), [Array.IndexOf(data, data.Min())], [], 0, 0, "ArgMin()");
    }

    [TestCase(DType.Int32)]
    [TestCase(DType.Int64)]
    [TestCase(DType.Bool)]
    public void IntegerSumAndProdGiveInt64(DType dt)
    {
        long[] shape = [3, 5];
        var data = U.Quantize(U.Data(shape, 5, dt == DType.Bool ? 0 : -3, dt == DType.Bool ? 2 : 4, integers: true), dt);
        var x = U.Make(data, shape, dt, Layout.Transposed);
        var s = x.Sum();
        Assert.That(s.DType, Is.EqualTo(DType.Int64));
        U.Close(s, [data.Sum()], [], 0, 0);
        var (groups, outShape) = Group(data, shape, [1], false);
        U.Close(x.Sum(1), groups.Select(g => g.Sum()).ToArray(), outShape, 0, 0, "Sum(1)");
        var p = x.Prod(1);
        Assert.That(p.DType, Is.EqualTo(DType.Int64));
        U.Close(p, groups.Select(g => g.Aggregate(1.0, (a, b) => a * b)).ToArray(), outShape, 0, 0, "Prod(1)");
    }

    [Test]
    public void Int64SumIsExact()
    {
        var x = Tensor.FromArray(new long[] { long.MaxValue / 2, long.MaxValue / 2 - 5, 3 });
        Assert.That(x.Sum().ToArray<long>()[0], Is.EqualTo(long.MaxValue / 2 * 2 - 2));
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Int64)]
    [TestCase(DType.Bool)]
    public void AllAny(DType dt)
    {
        var data = new double[] { 1, 0, 2, 3, 4, 5, 0, 0, 0 };
        var x = U.Make(data, [3, 3], dt, Layout.Transposed);
        Assert.That(x.All().DType, Is.EqualTo(DType.Bool));
        U.Close(x.All(), [0], [], 0, 0, "All");
        U.Close(x.Any(), [1], [], 0, 0, "Any");
        // Row-wise on the logical [3,3] values: rows {1,0,2}, {3,4,5}, {0,0,0}.
        U.Close(x.All(1), [0, 1, 0], [3], 0, 0, "All(1)");
        U.Close(x.Any(1), [1, 1, 0], [3], 0, 0, "Any(1)");
        U.Close(x.Any(0, keepDim: true), [1, 1, 1], [1, 3], 0, 0, "Any(0, keep)");
        Assert.That(Tensor.Zeros([0], dt).All().Item(), Is.EqualTo(1));
        Assert.That(Tensor.Zeros([0], dt).Any().Item(), Is.EqualTo(0));
    }

    [Test]
    public void NaNPropagatesThroughMaxMinAndIndexPointsAtIt()
    {
        var x = Tensor.FromArray(new[] { 1f, float.NaN, 3f, 0f, 5f, -1f }, 2, 3);
        var (v, i) = x.Max(1);
        Assert.That(float.IsNaN(v.ToArray<float>()[0]));
        Assert.That(v.ToArray<float>()[1], Is.EqualTo(5f));
        Assert.That(i.ToArray<long>(), Is.EqualTo(new long[] { 1, 1 }));
        Assert.That(float.IsNaN((float)x.Min().Item()));
        Assert.That(float.IsNaN((float)x.Sum().Item()));
    }

    [Test]
    public void EmptyAndScalarEdgeCases()
    {
        var e = Tensor.Zeros([2, 0], DType.Float64);
        U.Close(e.Sum(1), [0, 0], [2], 0, 0, "Sum of empty rows");
        U.Close(e.Prod(1), [1, 1], [2], 0, 0, "Prod of empty rows");
        Assert.That(double.IsNaN(e.Mean().Item()));
        U.Close(e.LogSumExp(1), [double.NegativeInfinity, double.NegativeInfinity], [2], 0, 0, "LogSumExp of empty rows");
        U.Throws<ArgumentException>(() => e.Max(), "Max", "[2, 0]");
        U.Throws<ArgumentException>(() => e.Max(1), "Max", "[2, 0]");
        var s = Tensor.Scalar(3.5, DType.Float64);
        U.Close(s.Sum(), [3.5], [], 0, 0, "scalar Sum");
        U.Close(s.Sum(0), [3.5], [], 0, 0, "scalar Sum(0)");
        U.Close(s.Max(0).Values, [3.5], [], 0, 0, "scalar Max(0)");
        U.Close(s.Max(0).Indices, [0], [], 0, 0, "scalar Max(0) index");
        // A large reduction that takes the multithreaded path and a strided one.
        var big = Tensor.Ones([300, 257], DType.Float64);
        U.Close(big.Sum(1), Enumerable.Repeat(257.0, 300).ToArray(), [300], 0, 0, "big Sum(1)");
        U.Close(big.T.Sum(1), Enumerable.Repeat(300.0, 257).ToArray(), [257], 0, 0, "big strided Sum(1)");
        var lse = Tensor.FromArray(new[] { 1000.0, 1000.0, double.NegativeInfinity, double.NegativeInfinity }, 2, 2).LogSumExp(1);
        U.Close(lse, [1000 + Math.Log(2), double.NegativeInfinity], [2], 1e-12, what: "stable LogSumExp");
    }

    [Test]
    public void BadDimsAndDTypesThrowNamingTheOp()
    {
        var x = Tensor.Zeros(2, 3);
        U.Throws<ArgumentOutOfRangeException>(() => x.Sum(2), "Sum", "2");
        U.Throws<ArgumentOutOfRangeException>(() => x.Max(-3), "Max", "-3");
        U.Throws<ArgumentException>(() => x.Sum([0, 0]), "Sum", "more than once");
        U.Throws<ArgumentException>(() => Tensor.Zeros([2], DType.Int64).Mean(), "Mean", "Int64");
        U.Throws<ArgumentException>(() => Tensor.Zeros([2], DType.Int32).Var(), "Var", "Int32");
        U.Throws<ArgumentException>(() => Tensor.Zeros([2], DType.Int32).LogSumExp(0), "LogSumExp", "Int32");
    }
}
