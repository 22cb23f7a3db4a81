using MathNet.Numerics.LinearAlgebra;

namespace Ember.Core.Tests;

public class LinearAlgebraTests
{
    // Reference [.., m, k]·[.., k, n] with broadcast batch dims, on row-major float64 arrays.
    static double[] RefBatched(double[] a, long[] sa, double[] b, long[] sb, out long[] outShape)
    {
        long m = sa[^2], k = sa[^1], n = sb[^1];
        var ba = sa[..^2]; var bb = sb[..^2];
        int r = Math.Max(ba.Length, bb.Length);
        var batch = new long[r];
        for (int i = 0; i < r; i++)
        {
            long x = i < r - ba.Length ? 1 : ba[i - (r - ba.Length)], y = i < r - bb.Length ? 1 : bb[i - (r - bb.Length)];
            batch[i] = Math.Max(x, y);
        }
        outShape = [.. batch, m, n];
        var res = new double[U.Numel(outShape)];
        foreach (var (bi, bf) in U.Indices(batch))
        {
            long Off(long[] bs, long mat)
            {
                long f = 0;
                for (int i = 0; i < bs.Length; i++) f = f * bs[i] + (bs[i] == 1 ? 0 : bi[i + r - bs.Length]);
                return f * mat;
            }
            var ma = Matrix<double>.Build.Dense((int)m, (int)k, (i, j) => a[Off(ba, m * k) + i * k + j]);
            var mb = Matrix<double>.Build.Dense((int)k, (int)n, (i, j) => b[Off(bb, k * n) + i * n + j]);
            var mc = ma * mb;
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) res[bf * m * n + i * n + j] = mc[i, j];
        }
        return res;
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        long[][][] shapes =
        [
            [[3, 4], [4, 5]],
            [[70, 300], [300, 260]],     // crosses the kernel's 64/256 blocks and the SIMD column tail
            [[1, 7], [7, 1]],
            [[2, 3, 4], [2, 4, 5]],
            [[2, 3, 4], [4, 5]],         // batch folded into rows
            [[4, 5], [3, 5, 2]],         // 2-D times batched: broadcast a
            [[2, 1, 3, 4], [5, 4, 2]],   // broadcast batch dims
            [[5, 0], [0, 3]],            // empty inner dim → zeros
        ];
        foreach (var s in shapes)
            foreach (var dt in U.Floats)
                foreach (var la in new[] { Layout.Contiguous, Layout.Transposed })
                    foreach (var lb in new[] { Layout.Contiguous, Layout.Transposed, Layout.Sliced })
                        yield return new TestCaseData(s[0], s[1], dt, la, lb)
                            .SetName($"MatMul_{U.Numel(s[0])}x{U.Numel(s[1])}_[{string.Join(",", s[0])}]x[{string.Join(",", s[1])}]_{dt}_{la}_{lb}");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatMulMatchesMathNet(long[] sa, long[] sb, DType dt, Layout la, Layout lb)
    {
        var da = U.Quantize(U.Data(sa, 11), dt); var db = U.Quantize(U.Data(sb, 12), dt);
        var a = U.Make(da, sa, dt, la); var b = U.Make(db, sb, dt, lb);
        var expected = RefBatched(da, sa, db, sb, out var outShape);
        var c = a.MatMul(b);
        long k = sa[^1];
        U.Close(c, expected, outShape, dt == DType.Float32 ? 1e-5 : 1e-12, (dt == DType.Float32 ? 1e-5 : 1e-12) * Math.Max(k, 1), "MatMul");
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void VectorForms(DType dt)
    {
        var dv = U.Quantize(U.Data([4], 1), dt); var dw = U.Quantize(U.Data([4], 2), dt); var dm = U.Quantize(U.Data([4, 3], 3), dt);
        var v = U.Make(dv, [4], dt); var w = U.Make(dw, [4], dt); var m = U.Make(dm, [4, 3], dt, Layout.Transposed);
        double dot = dv.Zip(dw, (p, q) => p * q).Sum();
        double tol = U.Tol(dt) * 10;
        U.Close(v.Dot(w), [dot], [], tol, what: "Dot");
        U.Close(v.MatMul(w), [dot], [], tol, what: "1-D·1-D");
        // [4]·[4,3] → [3]; [3]… m.T [3,4]·[4] → [3]
        var vm = Enumerable.Range(0, 3).Select(j => Enumerable.Range(0, 4).Sum(i => dv[i] * dm[i * 3 + j])).ToArray();
        U.Close(v.MatMul(m), vm, [3], tol, what: "1-D·2-D");
        U.Close(m.T.MatMul(v), vm, [3], tol, what: "2-D·1-D");
        var batched = Tensor.Stack([m.T, m.T]);  // [2,3,4]·[4] → [2,3]
        U.Close(batched.MatMul(v), [.. vm, .. vm], [2, 3], tol, what: "3-D·1-D");
        var outer = new double[16];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) outer[i * 4 + j] = dv[i] * dw[j];
        U.Close(v.Outer(w), outer, [4, 4], tol, what: "Outer");
        U.Close(m.T.Mm(m), RefMm(dm, 4, 3), [3, 3], tol, what: "Mm");
        U.Close(Tensor.Stack([m.T]).Bmm(Tensor.Stack([m])), RefMm(dm, 4, 3), [1, 3, 3], tol, what: "Bmm");
    }

    // mᵀ·m for row-major m [r, c].
    static double[] RefMm(double[] m, int r, int c)
    {
        var res = new double[c * c];
        for (int i = 0; i < c; i++) for (int j = 0; j < c; j++) for (int p = 0; p < r; p++) res[i * c + j] += m[p * c + i] * m[p * c + j];
        return res;
    }

    [Test]
    public void IntegerMatMul()
    {
        var a = Tensor.FromArray(new long[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var b = Tensor.FromArray(new long[] { 1, 0, 0, 1, 1, 1 }, 3, 2);
        Assert.That(a.MatMul(b).ToArray<long>(), Is.EqualTo(new long[] { 4, 5, 10, 11 }));
    }

    [Test]
    public void BackendAccumulateAddsIntoC()
    {
        var a = Tensor.Ones([1, 2, 3], DType.Float64); var b = Tensor.Ones([1, 3, 2], DType.Float64);
        var c = Tensor.Full([1, 2, 2], 10, DType.Float64);
        c.Backend.MatMul(a, b, c, accumulate: true);
        Assert.That(c.ToArray<double>(), Is.EqualTo(new double[] { 13, 13, 13, 13 }));
        // A strided (transposed) output view.
        var c2 = Tensor.Full([1, 2, 2], 1, DType.Float32);
        var a2 = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 1, 2, 2); var i2 = Tensor.Eye(2).Unsqueeze(0).Contiguous();
        c2.Backend.MatMul(a2, i2, c2.Transpose(1, 2), accumulate: true);
        Assert.That(c2.ToArray<float>(), Is.EqualTo(new float[] { 2, 4, 3, 5 }));
    }

    [Test]
    public void ErrorsNameTheOpAndShapes()
    {
        var a = Tensor.Zeros(2, 3); var b = Tensor.Zeros(4, 5);
        U.Throws<ArgumentException>(() => a.MatMul(b), "MatMul", "[2, 3]", "[4, 5]");
        U.Throws<ArgumentException>(() => a.MatMul(Tensor.Zeros([3, 2], DType.Float64)), "MatMul", "Float32", "Float64");
        U.Throws<ArgumentException>(() => a.MatMul(Tensor.Scalar(1)), "MatMul", "[2, 3]", "[]");
        U.Throws<ArgumentException>(() => Tensor.Zeros(2, 2, 3).MatMul(Tensor.Zeros(3, 3, 4)), "MatMul", "not broadcastable");
        U.Throws<ArgumentException>(() => Tensor.Zeros(2, 2, 3).Bmm(Tensor.Zeros(3, 3, 4)), "Bmm", "[2, 2, 3]", "[3, 3, 4]");
        U.Throws<ArgumentException>(() => a.Bmm(a), "Bmm", "3-D");
        U.Throws<ArgumentException>(() => a.Mm(Tensor.Zeros(3)), "Mm", "2-D");
        U.Throws<ArgumentException>(() => Tensor.Zeros(3).Dot(Tensor.Zeros(4)), "Dot", "[3]", "[4]");
        U.Throws<ArgumentException>(() => a.Outer(a), "Outer", "1-D");
    }
}
