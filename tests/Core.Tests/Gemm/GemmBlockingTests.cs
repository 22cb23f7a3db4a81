using Ember.Cpu;
using static Ember.Core.Tests.Gemm.GemmTestData;
using GemmLayout = Ember.Core.Tests.Gemm.SgemmTests.GemmLayout;

namespace Ember.Core.Tests.Gemm;

/// <summary>
/// The GEMM driver with small cache blocks (KC, MC, NC set through <see cref="GemmBlocking"/>'s overrides), so that
/// moderate shapes straddle every block boundary, on the private-B path (one thread) and the shared packed B path
/// (several threads), for both precisions; and the split never changes a result.
/// </summary>
[TestFixture]
[NonParallelizable]
public unsafe class GemmBlockingTests
{
    private int kc, mc, nc;
    private bool shared;

    [SetUp]
    public void SetUp()
    {
        (kc, mc, nc, shared) = (GemmBlocking.KcOverride, GemmBlocking.McOverride, GemmBlocking.NcOverride, GemmBlocking.SharedPanels);
        // 40 deep slices, 2 to 3 register tiles of rows per A block (MR is 14 for AVX-512, 6 for AVX2), 3 NR panels per
        // shared B block: the shapes below cross each boundary several times and end in partial blocks.
        GemmBlocking.KcOverride = 40;
        GemmBlocking.McOverride = 30;
        GemmBlocking.NcOverride = 3 * 32;
        GemmBlocking.SharedPanels = true;
    }

    [TearDown]
    public void TearDown()
        => (GemmBlocking.KcOverride, GemmBlocking.McOverride, GemmBlocking.NcOverride, GemmBlocking.SharedPanels) = (kc, mc, nc, shared);

    private static readonly (int M, int N, int K)[] Shapes =
    [
        (150, 200, 100), (97, 301, 81), (301, 97, 121), (33, 700, 160), (400, 40, 90),
    ];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (int threads in new[] { 1, 2, 3, 4 })
                        yield return new TestCaseData(m, n, k, new GemmLayout(ta, tb), threads)
                            .SetName($"Blocking {(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')} {m}x{n}x{k} t{threads}");
    }

    [TestCaseSource(nameof(Cases))]
    public void SingleMatchesReference(int m, int n, int k, GemmLayout layout, int threads)
    {
        Assert.That(SgemmTests.Check(m, n, k, layout, 1.5f, 0.5f, threads), Is.LessThanOrEqualTo(SingleTolerance(k)));
    }

    [TestCaseSource(nameof(Cases))]
    public void DoubleMatchesReference(int m, int n, int k, GemmLayout layout, int threads)
    {
        Assert.That(DgemmTests.Check(m, n, k, layout, -0.5, 2.0, threads), Is.LessThanOrEqualTo(DoubleTolerance(k)));
    }

    [Test]
    public void StridedViewsAndColumnMajorC()
    {
        foreach (int threads in new[] { 1, 4 })
        {
            Assert.That(SgemmTests.Check(130, 170, 90, new GemmLayout(true, false, Step: 2, Pad: 3, TransC: true), 1f, 0f, threads),
                Is.LessThanOrEqualTo(SingleTolerance(90)));
            Assert.That(SgemmTests.Check(170, 130, 90, new GemmLayout(false, true, Step: 1, Pad: 5, StepC: 2), 1f, 1f, threads),
                Is.LessThanOrEqualTo(SingleTolerance(90)));
            Assert.That(SgemmTests.Check(140, 160, 95, new GemmLayout(false, false), 2f, 0f, threads, poisonC: true),
                Is.LessThanOrEqualTo(SingleTolerance(95)));
        }
    }

    [Test]
    public void SharedAndPrivatePathsAgreeBitwiseWhateverTheThreads([Values(true, false)] bool sharedPanels)
    {
        GemmBlocking.SharedPanels = sharedPanels;
        const int m = 181, n = 233, k = 150;
        var random = new System.Random(5);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] c0 = Enumerable.Range(0, m * n).Select(_ => (float)random.NextDouble()).ToArray();
        float[] expected = Multiply(a, b, c0, m, n, k, 1);
        foreach (int threads in new[] { 2, 3, 4, 5 })
            Assert.That(Multiply(a, b, c0, m, n, k, threads), Is.EqualTo(expected), $"{threads} threads");
    }

    [Test]
    public void DefaultBlockingIsSane()
    {
        (GemmBlocking.KcOverride, GemmBlocking.McOverride, GemmBlocking.NcOverride) = (0, 0, 0);
        Assert.That(GemmBlocking.Kc(512), Is.EqualTo(512));
        int sharedMc = GemmBlocking.SharedMc(14, 512, sizeof(float));
        Assert.That(sharedMc % 14, Is.Zero);
        Assert.That(sharedMc, Is.InRange(14, 32 * 14));
        int sharedNc = GemmBlocking.SharedNc(32, 512, sizeof(float), 4096);
        Assert.That(sharedNc % 32, Is.Zero);
        Assert.That(sharedNc, Is.InRange(8 * 32, 4096));
        Assert.That(GemmBlocking.PrivateMc(14, 512, sizeof(float), 84), Is.InRange(14, 84));
    }

    private static float[] Multiply(float[] a, float[] b, float[] c0, int m, int n, int k, int threads)
    {
        float[] c = (float[])c0.Clone();
        fixed (float* pa = a, pb = b, pc = c)
            Ember.Cpu.Gemm.Sgemm(m, n, k, 0.75f, pa, k, 1, pb, n, 1, 0.25f, pc, n, 1, threads);
        return c;
    }
}
