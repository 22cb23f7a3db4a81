using Ember.Cpu;
using static Ember.Core.Tests.Gemm.GemmTestData;

namespace Ember.Core.Tests.Gemm;

/// <summary>Sgemm against MathNet double-precision products over transposes, sizes, strides, scalars and threads.</summary>
[TestFixture]
public unsafe class SgemmTests
{
    /// <summary>Describes one layout of the three operands.</summary>
    public readonly record struct GemmLayout(bool TransA, bool TransB, int Step = 1, int Pad = 0, bool TransC = false, int StepC = 1)
    {
        public override string ToString() =>
            $"{(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')} step{Step} pad{Pad} C{(TransC ? "T" : "N")}{StepC}";
    }

    /// <summary>Runs one Sgemm and returns the relative error against MathNet; also checks nothing outside C changed.</summary>
    public static double Check(int m, int n, int k, GemmLayout layout, float alpha, float beta, int threads, int seed = 1,
        bool poisonC = false)
    {
        var aLogical = Random(m, k, seed);
        var bLogical = Random(k, n, seed + 1);
        var cLogical = Random(m, n, seed + 2);
        var a = new StridedMatrix(aLogical, layout.TransA, layout.Step, layout.Pad, double.NaN);
        var b = new StridedMatrix(bLogical, layout.TransB, layout.Step, layout.Pad, double.NaN);
        var c = new StridedMatrix(cLogical, layout.TransC, layout.StepC, layout.Pad, 12345.0);
        float[] aData = a.ToSingle(), bData = b.ToSingle(), cData = c.ToSingle();
        if (poisonC)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    cData[c.Index(i, j)] = float.NaN;
        }
        var expected = Reference(alpha, aLogical, bLogical, beta, cLogical);
        fixed (float* pa = aData, pb = bData, pc = cData)
        {
            Ember.Cpu.Gemm.Sgemm(m, n, k, alpha, pa, a.RowStride, a.ColStride, pb, b.RowStride, b.ColStride,
                beta, pc, c.RowStride, c.ColStride, threads);
        }
        Assert.That(c.OutsideUntouched(cData), Is.True, "Sgemm wrote outside the C view");
        return RelativeError(cData, c, expected);
    }

    private static readonly GemmLayout[] Transposes =
    [
        new(false, false), new(false, true), new(true, false), new(true, true),
    ];

    private static readonly (int M, int N, int K)[] OddSizes =
    [
        (1, 1, 1), (1, 7, 17), (7, 1, 63), (7, 17, 63), (17, 63, 7), (63, 65, 257), (65, 63, 17),
        (257, 17, 65), (65, 257, 63), (1, 257, 65), (257, 1, 257), (30, 70, 600),
    ];

    public static IEnumerable<TestCaseData> TransposeCases()
    {
        foreach (GemmLayout layout in Transposes)
            foreach (var (m, n, k) in OddSizes)
                foreach (int threads in new[] { 1, 2 })
                    yield return new TestCaseData(m, n, k, layout, threads).SetName($"Sgemm {layout} {m}x{n}x{k} t{threads}");
    }

    [TestCaseSource(nameof(TransposeCases))]
    public void MatchesReference(int m, int n, int k, GemmLayout layout, int threads)
    {
        Assert.That(Check(m, n, k, layout, 1f, 0f, threads), Is.LessThanOrEqualTo(SingleTolerance(k)));
    }

    public static IEnumerable<TestCaseData> StridedCases()
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (int threads in new[] { 1, 2 })
                {
                    yield return new TestCaseData(new GemmLayout(ta, tb, Step: 2, Pad: 3), threads);
                    yield return new TestCaseData(new GemmLayout(ta, tb, Step: 1, Pad: 5, TransC: true), threads);
                    yield return new TestCaseData(new GemmLayout(ta, tb, Step: 3, Pad: 1, StepC: 2), threads);
                    yield return new TestCaseData(new GemmLayout(ta, tb, Step: 1, Pad: 7, TransC: true, StepC: 3), threads);
                }
    }

    [TestCaseSource(nameof(StridedCases))]
    public void StridedViews(GemmLayout layout, int threads)
    {
        Assert.That(Check(37, 71, 45, layout, 1f, 0f, threads), Is.LessThanOrEqualTo(SingleTolerance(45)));
        Assert.That(Check(130, 29, 300, layout, 0.5f, 2f, threads), Is.LessThanOrEqualTo(SingleTolerance(300)));
    }

    [TestCase(1f, 0f)]
    [TestCase(2.5f, 0f)]
    [TestCase(1f, 1f)]
    [TestCase(-0.75f, 0.5f)]
    [TestCase(1f, -3f)]
    [TestCase(0f, 2f)]
    [TestCase(0f, 0f)]
    public void AlphaBeta(float alpha, float beta)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            Assert.That(Check(45, 66, 700, new GemmLayout(false, false), alpha, beta, threads), Is.LessThanOrEqualTo(SingleTolerance(700)));
            Assert.That(Check(29, 35, 13, new GemmLayout(true, true), alpha, beta, threads), Is.LessThanOrEqualTo(SingleTolerance(13)));
        }
    }

    [TestCase(false, false, 1)]
    [TestCase(true, false, 2)]
    [TestCase(false, true, 2)]
    [TestCase(true, true, 1)]
    public void BetaZeroIgnoresNaNInC(bool ta, bool tb, int threads)
    {
        // 64 x 96 covers full tiles on every kernel width; 33 x 21 only partial ones; 600 deep crosses KC slices.
        Assert.That(Check(64, 96, 600, new GemmLayout(ta, tb), 1.5f, 0f, threads, poisonC: true), Is.LessThanOrEqualTo(SingleTolerance(600)));
        Assert.That(Check(33, 21, 5, new GemmLayout(ta, tb), 1f, 0f, threads, poisonC: true), Is.LessThanOrEqualTo(SingleTolerance(5)));
    }

    [Test]
    public void AlphaZeroDoesNotReadAOrB()
    {
        float[] a = [float.NaN, float.NaN], b = [float.NaN, float.NaN], c = [1f, 2f, 3f, 4f];
        fixed (float* pa = a, pb = b, pc = c)
            Ember.Cpu.Gemm.Sgemm(2, 2, 1, 0f, pa, 1, 1, pb, 2, 1, 3f, pc, 2, 1);
        Assert.That(c, Is.EqualTo(new[] { 3f, 6f, 9f, 12f }));
    }

    [Test]
    public void ZeroDepthScalesC([Values(0f, 2f)] float beta)
    {
        float[] c = [float.NaN, 1f, 2f, 3f, 4f, 5f];
        if (beta != 0)
            c[0] = 7f;
        fixed (float* pc = c)
            Ember.Cpu.Gemm.Sgemm(2, 3, 0, 1f, null, 0, 0, null, 0, 0, beta, pc, 3, 1);
        float first = beta == 0 ? 0f : 14f;
        Assert.That(c, Is.EqualTo(beta == 0 ? new[] { 0f, 0f, 0f, 0f, 0f, 0f } : new[] { first, 2f, 4f, 6f, 8f, 10f }));
    }

    [Test]
    public void EmptyResultIsANoOp()
    {
        Assert.DoesNotThrow(() => Ember.Cpu.Gemm.Sgemm(0, 5, 5, 1f, null, 5, 1, null, 5, 1, 0f, null, 5, 1));
        Assert.DoesNotThrow(() => Ember.Cpu.Gemm.Sgemm(5, 0, 5, 1f, null, 5, 1, null, 5, 1, 0f, null, 5, 1));
    }

    [Test]
    public void NegativeStridesReadFlippedViews()
    {
        // A is read bottom-up and B right-to-left through negative strides.
        var aLogical = Random(9, 11, 3);
        var bLogical = Random(11, 20, 4);
        float[] a = new float[99], b = new float[220], c = new float[180];
        for (int i = 0; i < 9; i++)
            for (int p = 0; p < 11; p++)
                a[(8 - i) * 11 + p] = (float)aLogical[i, p];
        for (int p = 0; p < 11; p++)
            for (int j = 0; j < 20; j++)
                b[p * 20 + 19 - j] = (float)bLogical[p, j];
        fixed (float* pa = a, pb = b, pc = c)
            Ember.Cpu.Gemm.Sgemm(9, 20, 11, 1f, pa + 8 * 11, -11, 1, pb + 19, 20, -1, 0f, pc, 20, 1);
        var expected = aLogical * bLogical;
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 20; j++)
                Assert.That(c[i * 20 + j], Is.EqualTo(expected[i, j]).Within(1e-5));
    }

    public static IEnumerable<TestCaseData> VectorCases()
    {
        foreach (GemmLayout layout in Transposes)
            foreach (int threads in new[] { 1, 2 })
            {
                yield return new TestCaseData(1, 3000, 300, layout, threads).SetName($"Sgemm vector {layout} 1x3000x300 t{threads}");
                yield return new TestCaseData(3000, 1, 300, layout, threads).SetName($"Sgemm vector {layout} 3000x1x300 t{threads}");
                yield return new TestCaseData(1, 1, 5000, layout with { Step = 2, Pad = 1 }, threads).SetName($"Sgemm vector {layout} 1x1x5000 strided t{threads}");
            }
    }

    [TestCaseSource(nameof(VectorCases))]
    public void MatrixVectorShapes(int m, int n, int k, GemmLayout layout, int threads)
    {
        Assert.That(Check(m, n, k, layout, 0.5f, 0f, threads, poisonC: true), Is.LessThanOrEqualTo(SingleTolerance(k)));
        Assert.That(Check(m, n, k, layout with { TransC = true }, 2f, -1f, threads), Is.LessThanOrEqualTo(SingleTolerance(k)));
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    public void Size1000(bool ta, bool tb)
    {
        Assert.That(Check(1000, 1000, 1000, new GemmLayout(ta, tb), 1f, 0f, 2), Is.LessThanOrEqualTo(SingleTolerance(1000)));
    }

    [Test]
    public void ResultDoesNotDependOnThreadCount()
    {
        var aLogical = Random(301, 517, 7);
        var bLogical = Random(517, 263, 8);
        float[] a = aLogical.ToRowArrays().SelectMany(r => r).Select(v => (float)v).ToArray();
        float[] b = bLogical.ToRowArrays().SelectMany(r => r).Select(v => (float)v).ToArray();
        float[] one = new float[301 * 263], two = new float[301 * 263], three = new float[301 * 263];
        fixed (float* pa = a, pb = b, p1 = one, p2 = two, p3 = three)
        {
            Ember.Cpu.Gemm.Sgemm(301, 263, 517, 1f, pa, 517, 1, pb, 263, 1, 0f, p1, 263, 1, threads: 1);
            Ember.Cpu.Gemm.Sgemm(301, 263, 517, 1f, pa, 517, 1, pb, 263, 1, 0f, p2, 263, 1, threads: 2);
            Ember.Cpu.Gemm.Sgemm(301, 263, 517, 1f, pa, 517, 1, pb, 263, 1, 0f, p3, 263, 1, threads: 3);
        }
        Assert.That(two, Is.EqualTo(one));
        Assert.That(three, Is.EqualTo(one));
    }

    [Test]
    public void UsesCpuThreadsByDefault()
    {
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = 1;
            Assert.That(Check(200, 200, 200, new GemmLayout(false, false), 1f, 0f, threads: 0), Is.LessThanOrEqualTo(SingleTolerance(200)));
            CpuThreads.Count = 2;
            Assert.That(Check(200, 200, 200, new GemmLayout(false, false), 1f, 0f, threads: 0), Is.LessThanOrEqualTo(SingleTolerance(200)));
        }
        finally
        {
            CpuThreads.Count = saved;
        }
    }
}
