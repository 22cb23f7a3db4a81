namespace Ember.Core.Tests;

public class JoiningTests
{
    public static IEnumerable<TestCaseData> DTypeLayouts()
    {
        foreach (var dt in new[] { DType.Float32, DType.Float64, DType.Int64 })
            foreach (var l in U.Layouts)
                yield return new TestCaseData(dt, l).SetName($"{{m}}_{dt}_{l}");
    }

    [TestCaseSource(nameof(DTypeLayouts))]
    public void CatStackSplitChunk(DType dt, Layout layout)
    {
        var d1 = U.Quantize(U.Data([2, 3], 1, -5, 5, true), dt); var d2 = U.Quantize(U.Data([2, 4], 2, -5, 5, true), dt);
        var a = U.Make(d1, [2, 3], dt, layout); var b = U.Make(d2, [2, 4], dt, layout);
        var c = Tensor.Cat([a, b], 1);
        var exp = new double[14];
        for (int i = 0; i < 2; i++) { for (int j = 0; j < 3; j++) exp[i * 7 + j] = d1[i * 3 + j]; for (int j = 0; j < 4; j++) exp[i * 7 + 3 + j] = d2[i * 4 + j]; }
        U.Close(c, exp, [2, 7], 0, 0, "Cat dim 1");
        U.Close(Tensor.Cat([a, a], -2), [.. d1, .. d1], [4, 3], 0, 0, "Cat dim -2");
        U.Close(Tensor.Cat([a, Tensor.Zeros([0, 3], dt)], 0), d1, [2, 3], 0, 0, "Cat with empty");
        var s = Tensor.Stack([a, a], 1);   // [2, 2, 3]
        var sexp = new double[12];
        for (int i = 0; i < 2; i++) for (int k = 0; k < 2; k++) for (int j = 0; j < 3; j++) sexp[i * 6 + k * 3 + j] = d1[i * 3 + j];
        U.Close(s, sexp, [2, 2, 3], 0, 0, "Stack dim 1");
        U.Close(Tensor.Stack([a, a], -1), d1.SelectMany(v => new[] { v, v }).ToArray(), [2, 3, 2], 0, 0, "Stack dim -1");
        var parts = c.Split(3, 1);
        Assert.That(parts.Select(p => p.Shape[1]), Is.EqualTo(new long[] { 3, 3, 1 }));
        U.Close(parts[0], d1, [2, 3], 0, 0, "Split piece 0");
        var parts2 = c.Split([3, 4], 1);
        U.Close(parts2[1], d2, [2, 4], 0, 0, "Split sizes piece 1");
        Assert.That(parts2[1].Storage, Is.SameAs(c.Storage), "Split returns views");
        var ch = c.Chunk(3, 1);
        Assert.That(ch.Select(p => p.Shape[1]), Is.EqualTo(new long[] { 3, 3, 1 }));
        Assert.That(Tensor.Zeros(6).Chunk(4).Select(p => p.Shape[0]), Is.EqualTo(new long[] { 2, 2, 2 }));
    }

    [Test]
    public void CatErrors()
    {
        U.Throws<ArgumentException>(() => Tensor.Cat([]), "Cat", "non-empty");
        U.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1), "Cat", "[3, 3]", "[2, 3]");
        U.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros([2, 3], DType.Float64)]), "Cat", "Float32", "Float64");
        U.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros(2)]), "Cat", "[2]");
        U.Throws<ArgumentOutOfRangeException>(() => Tensor.Cat([Tensor.Zeros(2, 3)], 2), "Cat", "2");
        U.Throws<ArgumentException>(() => Tensor.Stack([Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)]), "Stack", "[2, 3]", "[3, 2]");
        U.Throws<ArgumentException>(() => Tensor.Zeros(5).Split([2, 2]), "Split", "[2, 2]", "5");
        U.Throws<ArgumentException>(() => Tensor.Zeros(5).Chunk(0), "Chunk");
    }

    [TestCaseSource(nameof(DTypeLayouts))]
    public void GatherScatterScatterAdd(DType dt, Layout layout)
    {
        long[] shape = [3, 4];
        var dx = U.Quantize(U.Data(shape, 4, -9, 9, true), dt);
        var x = U.Make(dx, shape, dt, layout);
        // dim 1: index [3, 2] with repeats; dim 0: index [2, 4].
        var i1 = new long[] { 3, 0, 1, 1, 2, 3 };
        var idx1 = Tensor.FromArray(i1, 3, 2);
        var g = x.Gather(1, idx1);
        var gexp = new double[6];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) gexp[i * 2 + j] = dx[i * 4 + i1[i * 2 + j]];
        U.Close(g, gexp, [3, 2], 0, 0, "Gather dim 1");
        var i0 = new long[] { 2, 0, 1, 2, 0, 0, 0, 1 };
        var idx0 = U.Make(i0.Select(v => (double)v).ToArray(), [2, 4], DType.Int64, Layout.Transposed);
        var g0 = x.Gather(0, idx0);
        var g0exp = new double[8];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 4; j++) g0exp[i * 4 + j] = dx[i0[i * 4 + j] * 4 + j];
        U.Close(g0, g0exp, [2, 4], 0, 0, "Gather dim 0 (strided index)");

        var src = U.Make(U.Quantize(U.Data([3, 2], 9, -9, 9, true), dt), [3, 2], dt, Layout.Contiguous);
        var ds = U.Values(src);
        // Scatter with distinct indices per row (repeats are unspecified in PyTorch), ScatterAdd with repeats.
        var iu = new long[] { 3, 0, 1, 2, 2, 3 };
        var sc = x.Scatter(1, Tensor.FromArray(iu, 3, 2), src);
        var scexp = (double[])dx.Clone();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) scexp[i * 4 + iu[i * 2 + j]] = ds[i * 2 + j];
        U.Close(sc, scexp, shape, 0, 0, "Scatter");
        U.Close(x, dx, shape, 0, 0, "Scatter leaves the input unchanged");
        var sa = x.ScatterAdd(1, idx1, src);
        var saexp = (double[])dx.Clone();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) saexp[i * 4 + i1[i * 2 + j]] += ds[i * 2 + j];
        U.Close(sa, saexp, shape, 0, 0, "ScatterAdd (repeats accumulate)");
        var sv = x.Scatter(1, Tensor.FromArray(iu, 3, 2), 7.0);
        var svexp = (double[])dx.Clone();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) svexp[i * 4 + iu[i * 2 + j]] = 7;
        U.Close(sv, svexp, shape, 0, 0, "Scatter value");
    }

    [TestCaseSource(nameof(DTypeLayouts))]
    public void IndexSelectIndexAdd(DType dt, Layout layout)
    {
        long[] shape = [4, 3];
        var dx = U.Quantize(U.Data(shape, 5, -9, 9, true), dt);
        var x = U.Make(dx, shape, dt, layout);
        var ids = new long[] { 3, 0, 3 };
        foreach (var idx in new[] { Tensor.FromArray(ids), Tensor.FromArray(ids.Select(v => (int)v).ToArray()) })
        {
            var r0 = x.IndexSelect(0, idx);
            U.Close(r0, ids.SelectMany(i => dx.Skip((int)i * 3).Take(3)).ToArray(), [3, 3], 0, 0, $"IndexSelect dim 0 ({idx.DType})");
            var r1 = x.IndexSelect(1, idx.Narrow(0, 1, 1));
            U.Close(r1, Enumerable.Range(0, 4).Select(i => dx[i * 3]).ToArray(), [4, 1], 0, 0, "IndexSelect dim 1");
        }
        var src = U.Make(U.Quantize(U.Data([3, 3], 6, -9, 9, true), dt), [3, 3], dt, Layout.Transposed);
        var ds = U.Values(src);
        var ia = x.IndexAdd(0, Tensor.FromArray(ids), src, alpha: 2);
        var iaexp = (double[])dx.Clone();
        for (int k = 0; k < 3; k++) for (int j = 0; j < 3; j++) iaexp[ids[k] * 3 + j] += 2 * ds[k * 3 + j];
        U.Close(ia, iaexp, shape, 0, 0, "IndexAdd (repeats accumulate)");
    }

    [Test]
    public void IndexErrorsAreCheckedBeforeTheKernel()
    {
        var x = Tensor.Zeros(3, 4);
        U.Throws<ArgumentOutOfRangeException>(() => x.Gather(1, Tensor.FromArray(new long[] { 4 }, 1, 1)), "Gather", "index 4", "size 4");
        U.Throws<ArgumentOutOfRangeException>(() => x.Gather(1, Tensor.FromArray(new long[] { -1 }, 1, 1)), "Gather", "-1");
        U.Throws<ArgumentException>(() => x.Gather(1, Tensor.FromArray(new int[] { 0 }, 1, 1).To(DType.Int32)), "Gather", "Int64", "Int32");
        U.Throws<ArgumentException>(() => x.Gather(1, Tensor.FromArray(new long[] { 0 })), "Gather", "same number of dims");
        U.Throws<ArgumentException>(() => x.Gather(1, Tensor.Zeros([4, 1], DType.Int64)), "Gather", "[4, 1]", "[3, 4]");
        U.Throws<ArgumentOutOfRangeException>(() => x.IndexSelect(0, Tensor.FromArray(new long[] { 0, 3 })), "IndexSelect", "index 3", "size 3");
        U.Throws<ArgumentException>(() => x.IndexSelect(0, Tensor.FromArray(new float[] { 0 })), "IndexSelect", "Float32");
        U.Throws<ArgumentException>(() => x.IndexSelect(0, Tensor.Zeros([1, 1], DType.Int64)), "IndexSelect", "1-D");
        U.Throws<ArgumentOutOfRangeException>(() => x.ScatterAdd(0, Tensor.FromArray(new long[] { 5 }, 1, 1), Tensor.Ones(1, 1)), "ScatterAdd", "index 5", "size 3");
        U.Throws<ArgumentException>(() => x.Scatter(0, Tensor.Zeros([1, 1], DType.Int64), Tensor.Ones([1, 1], DType.Float64)), "Scatter", "Float32", "Float64");
        U.Throws<ArgumentException>(() => x.IndexAdd(0, Tensor.FromArray(new long[] { 0 }), Tensor.Ones(2, 4)), "IndexAdd", "[2, 4]", "[1, 4]");
        U.Throws<ArgumentOutOfRangeException>(() => x.IndexAdd(0, Tensor.FromArray(new long[] { 9 }), Tensor.Ones(1, 4)), "IndexAdd", "index 9");
        U.Throws<ArgumentOutOfRangeException>(() => x.Gather(2, Tensor.Zeros([1, 1], DType.Int64)), "Gather", "2");
    }

    [TestCaseSource(nameof(DTypeLayouts))]
    public void TrilTriu(DType dt, Layout layout)
    {
        long[] shape = [2, 3, 4];
        var dx = U.Quantize(U.Data(shape, 8, 1, 9, true), dt);
        var x = U.Make(dx, shape, dt, layout);
        foreach (var diag in new long[] { -1, 0, 2 })
        {
            var lo = new double[dx.Length]; var up = new double[dx.Length];
            foreach (var (idx, f) in U.Indices(shape))
            {
                long d = idx[2] - idx[1];
                lo[f] = d <= diag ? dx[f] : 0;
                up[f] = d >= diag ? dx[f] : 0;
            }
            U.Close(x.Tril(diag), lo, shape, 0, 0, $"Tril({diag})");
            U.Close(x.Triu(diag), up, shape, 0, 0, $"Triu({diag})");
        }
        U.Throws<ArgumentException>(() => Tensor.Zeros(3).Tril(), "Tril", "[3]");
    }

    [Test]
    public void OneHot()
    {
        var x = Tensor.FromArray(new long[] { 2, 0, 1, 2 }, 2, 2);
        var oh = x.OneHot();
        Assert.That(oh.DType, Is.EqualTo(DType.Int64));
        Assert.That(oh.Shape.ToArray(), Is.EqualTo(new long[] { 2, 2, 3 }));
        Assert.That(oh.ToArray<long>(), Is.EqualTo(new long[] { 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1 }));
        Assert.That(Tensor.FromArray(new int[] { 1 }).OneHot(4).ToArray<long>(), Is.EqualTo(new long[] { 0, 1, 0, 0 }));
        U.Throws<ArgumentOutOfRangeException>(() => x.OneHot(2), "OneHot", "index 2", "size 2");
        U.Throws<ArgumentException>(() => Tensor.Zeros(2).OneHot(), "OneHot", "Float32");
    }

    public static IEnumerable<TestCaseData> SoftmaxCases()
    {
        foreach (var dt in U.Floats)
            foreach (var l in U.Layouts)
                foreach (var dim in new[] { 0, 1, -1 })
                    foreach (var log in new[] { false, true })
                        yield return new TestCaseData(dt, l, dim, log).SetName($"{(log ? "LogSoftmax" : "Softmax")}_{dt}_{l}_dim{dim}");
    }

    [TestCaseSource(nameof(SoftmaxCases))]
    public void SoftmaxMatchesReference(DType dt, Layout layout, int dim, bool log)
    {
        long[] shape = [3, 4, 5];
        var dx = U.Quantize(U.Data(shape, 3, -30, 30), dt);
        var x = U.Make(dx, shape, dt, layout);
        var y = log ? x.LogSoftmax(dim) : x.Softmax(dim);
        int d = dim < 0 ? dim + 3 : dim;
        var exp = new double[dx.Length];
        foreach (var (idx, f) in U.Indices(shape))
        {
            var vals = new List<double>();
            for (long k = 0; k < shape[d]; k++) { var j = (long[])idx.Clone(); j[d] = k; vals.Add(dx[U.Flat(j, shape)]); }
            double m = vals.Max(), lse = m + Math.Log(vals.Sum(v => Math.Exp(v - m)));
            exp[f] = log ? dx[f] - lse : Math.Exp(dx[f] - lse);
        }
        U.Close(y, exp, shape, dt == DType.Float32 ? 1e-5 : 1e-12, dt == DType.Float32 ? 1e-6 : 1e-14, log ? "LogSoftmax" : "Softmax");
    }

    [TestCase(DType.Float32, false)]
    [TestCase(DType.Float64, false)]
    [TestCase(DType.Float32, true)]
    [TestCase(DType.Float64, true)]
    public void SoftmaxBackwardKernel(DType dt, bool log)
    {
        long rows = 3, cols = 7;
        var dx = U.Quantize(U.Data([rows, cols], 2), dt); var dg = U.Quantize(U.Data([rows, cols], 5), dt);
        var x = U.Make(dx, [rows, cols], dt);
        var y = log ? x.LogSoftmax(1) : x.Softmax(1);
        var g = U.Make(dg, [rows, cols], dt);
        var gx = Tensor.Empty([rows, cols], dt);
        x.Backend.SoftmaxBackward(g, y, gx, log);
        // Reference: Jacobian-vector product of the float64 softmax.
        var exp = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var row = dx.Skip(r * (int)cols).Take((int)cols).ToArray();
            double m = row.Max(); var e = row.Select(v => Math.Exp(v - m)).ToArray(); double s = e.Sum();
            var p = e.Select(v => v / s).ToArray();
            var gr = dg.Skip(r * (int)cols).Take((int)cols).ToArray();
            for (int i = 0; i < cols; i++)
                exp[r * cols + i] = log ? gr[i] - p[i] * gr.Sum() : p[i] * (gr[i] - gr.Zip(p, (a, b) => a * b).Sum());
        }
        U.Close(gx, exp, [rows, cols], dt == DType.Float32 ? 1e-5 : 1e-12, dt == DType.Float32 ? 1e-6 : 1e-14, "SoftmaxBackward");
    }

    [Test]
    public void SoftmaxErrorsAndEdgeCases()
    {
        U.Throws<ArgumentException>(() => Tensor.Zeros([3], DType.Int64).Softmax(0), "Softmax", "Int64");
        U.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(3).LogSoftmax(1), "LogSoftmax", "1");
        U.Close(Tensor.Scalar(5, DType.Float64).Softmax(0), [1], [], 0, 0, "0-dim softmax");
        // Large values stay finite (max subtraction).
        U.Close(Tensor.FromArray(new[] { 1000.0, 1000.0 }).Softmax(0), [0.5, 0.5], [2], 1e-15, what: "stable softmax");
    }
}
