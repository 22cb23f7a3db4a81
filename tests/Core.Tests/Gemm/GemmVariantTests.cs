using Ember.Cpu;

namespace Ember.Core.Tests.Gemm;

/// <summary>
/// Every CPU GEMM switch (the private path's NC, the macro-kernel's tile order, the work per thread, the shared packed B
/// with barriers and with ready flags, the pool's spin, the trace) gives the same bits as the default at 1, 3 and 16
/// pieces, with the default blocking and with small blocks that cross every boundary; and the trace reports the split.
/// </summary>
[TestFixture]
[NonParallelizable]
public unsafe class GemmVariantTests
{
    private (int Kc, int Mc, int Nc, bool Shared, bool Ready, bool ShareA, int PrivateNc, bool ByRow, long MinWork, int Spin, bool Trace, int Oversplit, int SplitK) saved;

    [SetUp]
    public void SetUp()
        => saved = (GemmBlocking.KcOverride, GemmBlocking.McOverride, GemmBlocking.NcOverride, GemmBlocking.SharedPanels,
            GemmBlocking.SharedReady, GemmBlocking.SharedA, GemmBlocking.PrivateNcOverride, GemmBlocking.TilesByRow, GemmBlocking.MinWorkPerThread,
            GemmWorkers.SpinMicroseconds, GemmTrace.Enabled, GemmBlocking.Oversplit, GemmBlocking.SplitK);

    [TearDown]
    public void TearDown()
    {
        (GemmBlocking.KcOverride, GemmBlocking.McOverride, GemmBlocking.NcOverride, GemmBlocking.SharedPanels,
            GemmBlocking.SharedReady, GemmBlocking.SharedA, GemmBlocking.PrivateNcOverride, GemmBlocking.TilesByRow, GemmBlocking.MinWorkPerThread,
            GemmWorkers.SpinMicroseconds, GemmTrace.Enabled, GemmBlocking.Oversplit, GemmBlocking.SplitK) = saved;
        GemmTrace.Reset();
    }

    /// <summary>The switches, each as a name and the assignment that turns it on.</summary>
    private static readonly (string Name, Action Apply)[] Variants =
    [
        ("private NC l2", () => GemmBlocking.PrivateNcOverride = -1),
        ("private NC 64", () => GemmBlocking.PrivateNcOverride = 64),
        ("tiles by row", () => GemmBlocking.TilesByRow = true),
        ("small work per thread", () => GemmBlocking.MinWorkPerThread = 1 << 12),
        ("large work per thread", () => GemmBlocking.MinWorkPerThread = 1 << 22),
        ("shared B, barriers", () => GemmBlocking.SharedPanels = true),
        ("shared B, ready flags", () => GemmBlocking.SharedReady = true),
        ("shared A and B, ready flags", () => (GemmBlocking.SharedReady, GemmBlocking.SharedA) = (true, true)),
        ("shared A and B, rows, NC 64", () => (GemmBlocking.SharedReady, GemmBlocking.SharedA, GemmBlocking.TilesByRow, GemmBlocking.PrivateNcOverride) = (true, true, true, 64)),
        ("ready flags, rows, l2", () => (GemmBlocking.SharedReady, GemmBlocking.TilesByRow, GemmBlocking.PrivateNcOverride) = (true, true, -1)),
        ("oversplit off", () => GemmBlocking.Oversplit = 1),
        ("oversplit 2", () => GemmBlocking.Oversplit = 2),
        ("oversplit 4, trace", () => (GemmBlocking.Oversplit, GemmTrace.Enabled) = (4, true)),
        ("spin 0", () => GemmWorkers.SpinMicroseconds = 0),
        ("spin 5000", () => GemmWorkers.SpinMicroseconds = 5000),
        ("trace", () => GemmTrace.Enabled = true),
        ("split K by cost", () => GemmBlocking.SplitK = 1),
        ("split K always", () => GemmBlocking.SplitK = 2),
        ("split K always, trace", () => (GemmBlocking.SplitK, GemmTrace.Enabled) = (2, true)),
        ("split K always, oversplit off, l2", () => (GemmBlocking.SplitK, GemmBlocking.Oversplit, GemmBlocking.PrivateNcOverride) = (2, 1, -1)),
    ];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (name, _) in Variants)
            foreach (bool small in new[] { false, true })
                yield return new TestCaseData(name, small).SetName($"Variant {name}, {(small ? "small" : "default")} blocks");
    }

    [TestCaseSource(nameof(Cases))]
    public void SameBitsAsTheDefaultAt1And3And16Pieces(string name, bool smallBlocks)
    {
        if (smallBlocks)
            (GemmBlocking.KcOverride, GemmBlocking.McOverride, GemmBlocking.NcOverride) = (40, 30, 3 * 32);
        // 301 x 263 x 150 is 11.9M multiply-adds: 16 pieces at 16 threads with the default work per thread.
        var problems = new[]
        {
            new Problem(301, 263, 150, TransA: false, TransB: false, Seed: 1),
            new Problem(263, 301, 150, TransA: true, TransB: true, Seed: 2),
            new Problem(97, 700, 190, TransA: false, TransB: true, Seed: 3),
        };
        var expected = problems.Select(p => p.Run(1)).ToArray();
        double[] expectedDouble = problems[0].RunDouble(1);
        float[] expectedBatched = problems[0].RunBatched(3, 1);
        Variants.Single(v => v.Name == name).Apply();
        foreach (int threads in new[] { 1, 3, 16 })
        {
            for (int i = 0; i < problems.Length; i++)
                Assert.That(problems[i].Run(threads), Is.EqualTo(expected[i]), $"{name}: problem {i} at {threads} threads");
            Assert.That(problems[0].RunDouble(threads), Is.EqualTo(expectedDouble), $"{name}: double at {threads} threads");
            Assert.That(problems[0].RunBatched(3, threads), Is.EqualTo(expectedBatched), $"{name}: batch of 3 at {threads} threads");
        }
    }

    [Test]
    public void TraceReportsTheShapeTheSplitAndThePieces()
    {
        var problem = new Problem(301, 263, 150, TransA: false, TransB: false, Seed: 4);
        GemmTrace.Reset();
        GemmTrace.Enabled = true;
        problem.Run(16);
        problem.Run(16);
        problem.Run(1);
        GemmTrace.Enabled = false;
        string report = GemmTrace.Report(steps: 2);
        TestContext.Out.Write(report);
        Assert.That(report, Does.Contain("1x301x263x150 NN"));
        // The split on the private path (G, up to 16 pieces) and the single piece (1), one line each.
        string[] lines = report.Split('\n').Where(l => l.Contains("1x301x263x150")).ToArray();
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\sG\s+\d+x\d+ \(1\)\s+\d+\s")), Is.True, report);
        Assert.That(lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\s1\s+1x1 \(1\)\s+1\s")), Is.True, report);
        Assert.That(report, Does.Contain("pool:"));

        GemmTrace.Reset();
        Assert.That(GemmTrace.Report(steps: 1), Does.Not.Contain("1x301x263x150"));
    }

    [Test]
    public void OversplitMakesMoreCellsThanThreads()
    {
        var problem = new Problem(301, 263, 150, TransA: false, TransB: false, Seed: 6);
        int PiecesAt3Threads() => Pieces(3);
        int Pieces(int threads)
        {
            string line = TraceLine(problem, threads);
            var match = System.Text.RegularExpressions.Regex.Match(line, @"\sG\s+\d+x\d+ \(1\)\s+(\d+)\s");
            Assert.That(match.Success, Is.True, line);
            return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.That(PiecesAt3Threads(), Is.EqualTo(3), "the default: one cell per thread below 16 threads");
        Assert.That(Pieces(16), Is.InRange(40, 64), "the default at 16 threads: 4 cells per thread");
        GemmBlocking.Oversplit = 1;
        Assert.That(Pieces(16), Is.EqualTo(16), "oversplit off");
        GemmBlocking.Oversplit = 4;
        Assert.That(PiecesAt3Threads(), Is.InRange(7, 12), "about 4 cells per thread, whole tiles");
    }

    // Split-K: forced, it splits whenever K has two KC slices (path K, its groups where the others show batch groups);
    // by its cost model, a weight gradient's shape (small C, long K, A transposed) splits at 16 threads, a square product
    // or a short K does not, nor anything at 1 thread; off (the default), nothing splits.
    [Test]
    public void SplitKTakesLongSkinnyProductsAtManyThreads()
    {
        GemmBlocking.SplitK = 1;
        var gradient = new Problem(768, 256, 2048, TransA: true, TransB: false, Seed: 8);
        Assert.That(TraceLine(gradient, 16), Does.Match(@"\sK\s+\d+x\d+ \([2-9]\d*\)\s+\d+\s"), "the weight gradient's shape splits at 16 threads");
        Assert.That(TraceLine(gradient, 1), Does.Match(@"\s1\s+1x1 \(1\)\s+1\s"), "one thread: one piece");
        var square = new Problem(1024, 1024, 1024, TransA: false, TransB: false, Seed: 9);
        Assert.That(TraceLine(square, 16), Does.Match(@"\sG\s"), "a square product keeps the grid");
        var input = new Problem(2048, 256, 1024, TransA: false, TransB: true, Seed: 11);
        Assert.That(TraceLine(input, 16), Does.Match(@"\sG\s"), "K shorter than twice M keeps the grid");
        var expected = gradient.Run(1);
        Assert.That(gradient.Run(16), Is.EqualTo(expected), "the split gives the 1-thread bits");
        GemmBlocking.SplitK = 2;
        (GemmBlocking.KcOverride, GemmBlocking.McOverride, GemmBlocking.NcOverride) = (40, 30, 3 * 32);
        var small = new Problem(301, 263, 150, TransA: false, TransB: false, Seed: 10);
        Assert.That(TraceLine(small, 3), Does.Match(@"\sK\s+\d+x\d+ \(3\)\s+\d+\s"), "forced: as many groups as threads (4 slices, 3 threads)");
        GemmBlocking.SplitK = 0;
        Assert.That(TraceLine(small, 3), Does.Match(@"\sG\s"), "off");
    }

    [Test]
    public void TraceOfTheReadyFlagPathCountsOneRun()
    {
        GemmBlocking.SharedReady = true;
        var problem = new Problem(301, 263, 150, TransA: false, TransB: false, Seed: 5);
        string line = TraceLine(problem, 16);
        Assert.That(line, Does.Match(@"\sR\s+\d+x\d+ \(1\)\s+\d+\s+\d+/\d+/\d+\s+1\.0\s"));

        GemmBlocking.SharedA = true;
        line = TraceLine(problem, 16);
        Assert.That(line, Does.Match(@"\sA\s+\d+x\d+ \(1\)\s+\d+\s+\d+/\d+/\d+\s+1\.0\s"));
    }

    /// <summary>The trace's line for <paramref name="problem"/>'s shape after one run of it on <paramref name="threads"/> threads.</summary>
    private static string TraceLine(Problem problem, int threads)
    {
        GemmTrace.Reset();
        GemmTrace.Enabled = true;
        problem.Run(threads);
        GemmTrace.Enabled = false;
        string shape = $"1x{problem.M}x{problem.N}x{problem.K} ";
        return GemmTrace.Report(steps: 1).Split('\n').Single(l => l.Contains(shape));
    }

    [Test]
    public void KernelRateMeasuresBothKernelsOnEveryThread()
    {
        // Only that the measurement runs and reports a rate (no timing is asserted).
        Assert.That(GemmKernelRate.Measure(3, macro: false, 0.01), Is.GreaterThan(0));
        Assert.That(GemmKernelRate.Measure(2, macro: true, 0.01), Is.GreaterThan(0));
    }

    [Test]
    public void PrivateNcFollowsItsOverride()
    {
        GemmBlocking.PrivateNcOverride = 0;
        Assert.That(GemmBlocking.PrivateNc(32, 512, sizeof(float), 4096), Is.EqualTo(4096));
        GemmBlocking.PrivateNcOverride = 100;
        Assert.That(GemmBlocking.PrivateNc(32, 512, sizeof(float), 4096), Is.EqualTo(96));
        GemmBlocking.PrivateNcOverride = -1;
        int fromL2 = GemmBlocking.PrivateNc(32, 512, sizeof(float), 4096);
        Assert.That(fromL2 % 32, Is.Zero);
        Assert.That(fromL2, Is.InRange(64, 4096));
        Assert.That(GemmBlocking.Describe(), Does.Contain("private NC=l2"));
    }

    /// <summary>One product's operands, stored row-major or transposed.</summary>
    private sealed record Problem(int M, int N, int K, bool TransA, bool TransB, int Seed)
    {
        private float[] Values(int count, int salt)
        {
            var random = new System.Random(Seed * 7 + salt);
            return Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        }

        public float[] Run(int threads)
        {
            float[] a = Values(M * K, 1), b = Values(K * N, 2), c = Values(M * N, 3);
            fixed (float* pa = a, pb = b, pc = c)
            {
                Ember.Cpu.Gemm.Sgemm(M, N, K, 0.75f, pa, TransA ? 1 : K, TransA ? M : 1, pb, TransB ? 1 : N, TransB ? K : 1,
                    0.25f, pc, N, 1, threads);
            }
            return c;
        }

        public double[] RunDouble(int threads)
        {
            double[] a = Values(M * K, 1).Select(x => (double)x).ToArray(), b = Values(K * N, 2).Select(x => (double)x).ToArray();
            double[] c = Values(M * N, 3).Select(x => (double)x).ToArray();
            fixed (double* pa = a, pb = b, pc = c)
                Ember.Cpu.Gemm.Dgemm(M, N, K, -0.5, pa, K, 1, pb, N, 1, 1.5, pc, N, 1, threads);
            return c;
        }

        public float[] RunBatched(int batch, int threads)
        {
            float[] a = Values(batch * M * K, 4), b = Values(batch * K * N, 5), c = new float[batch * M * N];
            fixed (float* pa = a, pb = b, pc = c)
            {
                Ember.Cpu.Gemm.SgemmBatched(batch, M, N, K, 1f, pa, (long)M * K, K, 1, pb, (long)K * N, N, 1, 0f,
                    pc, (long)M * N, N, 1, threads);
            }
            return c;
        }
    }
}
