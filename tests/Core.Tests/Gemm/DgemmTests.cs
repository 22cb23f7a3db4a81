using static Ember.Core.Tests.Gemm.GemmTestData;
using GemmLayout = Ember.Core.Tests.Gemm.SgemmTests.GemmLayout;

namespace Ember.Core.Tests.Gemm;

/// <summary>Dgemm against MathNet double-precision products.</summary>
[TestFixture]
public unsafe class DgemmTests
{
    public static double Check(int m, int n, int k, GemmLayout layout, double alpha, double beta, int threads, bool poisonC = false)
    {
        var aLogical = Random(m, k, 11, roundToSingle: false);
        var bLogical = Random(k, n, 12, roundToSingle: false);
        var cLogical = Random(m, n, 13, roundToSingle: false);
        var a = new StridedMatrix(aLogical, layout.TransA, layout.Step, layout.Pad, double.NaN);
        var b = new StridedMatrix(bLogical, layout.TransB, layout.Step, layout.Pad, double.NaN);
        var c = new StridedMatrix(cLogical, layout.TransC, layout.StepC, layout.Pad, 12345.0);
        double[] aData = a.Values, bData = b.Values, cData = (double[])c.Values.Clone();
        if (poisonC)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    cData[c.Index(i, j)] = double.NaN;
        }
        var expected = Reference(alpha, aLogical, bLogical, beta, cLogical);
        fixed (double* pa = aData, pb = bData, pc = cData)
        {
            Ember.Cpu.Gemm.Dgemm(m, n, k, alpha, pa, a.RowStride, a.ColStride, pb, b.RowStride, b.ColStride,
                beta, pc, c.RowStride, c.ColStride, threads);
        }
        Assert.That(c.OutsideUntouched(cData), Is.True, "Dgemm wrote outside the C view");
        return RelativeError(cData, c, expected);
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        (int, int, int)[] sizes = [(1, 1, 1), (7, 17, 63), (17, 7, 1), (63, 65, 257), (65, 63, 17), (257, 33, 65), (20, 300, 600)];
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (var (m, n, k) in sizes)
                    foreach (int threads in new[] { 1, 2 })
                        yield return new TestCaseData(m, n, k, new GemmLayout(ta, tb), threads).SetName($"Dgemm {(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')} {m}x{n}x{k} t{threads}");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesReference(int m, int n, int k, GemmLayout layout, int threads)
    {
        Assert.That(Check(m, n, k, layout, 1.0, 0.0, threads), Is.LessThanOrEqualTo(DoubleTolerance(k)));
    }

    [TestCase(2, 1)]
    [TestCase(3, 2)]
    public void StridedViewsWithAlphaBeta(int step, int threads)
    {
        var layouts = new[]
        {
            new GemmLayout(false, true, Step: step, Pad: 3), new GemmLayout(true, false, Step: step, Pad: 1, TransC: true),
            new GemmLayout(true, true, Step: step, Pad: 2, StepC: 2),
        };
        foreach (GemmLayout layout in layouts)
        {
            Assert.That(Check(41, 53, 77, layout, -1.25, 0.5, threads), Is.LessThanOrEqualTo(DoubleTolerance(77)));
            Assert.That(Check(150, 31, 520, layout, 2.0, 1.0, threads), Is.LessThanOrEqualTo(DoubleTolerance(520)));
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    public void BetaZeroIgnoresNaNInC(int threads)
    {
        Assert.That(Check(56, 64, 530, new GemmLayout(false, false), 1.0, 0.0, threads, poisonC: true), Is.LessThanOrEqualTo(DoubleTolerance(530)));
        Assert.That(Check(13, 9, 3, new GemmLayout(true, true), 0.5, 0.0, threads, poisonC: true), Is.LessThanOrEqualTo(DoubleTolerance(3)));
    }

    [Test]
    public void Size1000()
    {
        Assert.That(Check(1000, 1000, 1000, new GemmLayout(false, true), 1.0, 0.0, 2), Is.LessThanOrEqualTo(DoubleTolerance(1000)));
    }
}
