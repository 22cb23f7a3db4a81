using MathNet.Numerics.LinearAlgebra;
using static Ember.Core.Tests.Gemm.GemmTestData;

namespace Ember.Core.Tests.Gemm;

/// <summary>The BLAS-style span overloads: transposes through flags, leading dimensions, bounds checks.</summary>
[TestFixture]
public class GemmSpanTests
{
    private static double[] Store(Matrix<double> x, bool transposed, int ld)
    {
        var stored = transposed ? x.Transpose() : x;
        var data = new double[stored.RowCount * ld];
        for (int i = 0; i < stored.RowCount; i++)
            for (int j = 0; j < stored.ColumnCount; j++)
                data[i * ld + j] = stored[i, j];
        return data;
    }

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void SingleAndDoubleMatchReference(bool transA, bool transB)
    {
        const int m = 33, n = 47, k = 29;
        var a = Random(m, k, 21);
        var b = Random(k, n, 22);
        int lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3;
        double[] ad = Store(a, transA, lda), bd = Store(b, transB, ldb);
        float[] af = ad.Select(v => (float)v).ToArray(), bf = bd.Select(v => (float)v).ToArray();
        float[] cf = new float[m * ldc];
        double[] cd = new double[m * ldc];
        Ember.Cpu.Gemm.Sgemm(transA, transB, m, n, k, 1f, af, lda, bf, ldb, 0f, cf, ldc);
        Ember.Cpu.Gemm.Dgemm(transA, transB, m, n, k, 1.0, ad, lda, bd, ldb, 0.0, cd, ldc);
        var expected = a * b;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                Assert.That(cf[i * ldc + j], Is.EqualTo(expected[i, j]).Within(1e-4));
                Assert.That(cd[i * ldc + j], Is.EqualTo(expected[i, j]).Within(1e-12));
            }
        }
    }

    [Test]
    public void ShortSpansAndSmallLeadingDimensionsThrow()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        Assert.That(() => Ember.Cpu.Gemm.Sgemm(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c, 2), Throws.Nothing);
        Assert.That(() => Ember.Cpu.Gemm.Sgemm(false, false, 2, 2, 3, 1f, a.AsSpan(1), 3, b, 2, 0f, c, 2),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("Sgemm").And.Message.Contain("a holds 5"));
        Assert.That(() => Ember.Cpu.Gemm.Sgemm(false, false, 2, 2, 3, 1f, a, 2, b, 2, 0f, c, 2),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("lda"));
        Assert.That(() => Ember.Cpu.Gemm.Sgemm(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c.AsSpan(1), 2),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("c"));
        Assert.That(() => Ember.Cpu.Gemm.Dgemm(true, false, -1, 2, 3, 1, new double[6], 3, new double[6], 2, 0, new double[4], 2),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("Dgemm").And.Message.Contain("m=-1"));
    }
}
