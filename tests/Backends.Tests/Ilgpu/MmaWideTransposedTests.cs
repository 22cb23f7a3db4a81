using System.Reflection;
using System.Text.RegularExpressions;
using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The 128×256 early-barrier kernel reading 16-bit M/N-major operands in place
/// (<see cref="MmaKernels.GemmWideEarlyTransposed{T, TX, TE, TA, TB, TG}"/>) on ilgpu-cpu, where <c>cp.async</c>,
/// <c>ldmatrix(.trans)</c> and <c>mma</c> are emulated from the stage's element places, checked against the float64
/// reference; the lane row addresses against those places; the host's choice of it; its PTX for sm_90.
/// </summary>
public class MmaWideTransposedTests
{
    private static IlgpuDevice Cpu => IlgpuTestDevice.Cpu;

    /// <summary>The 128×256 early-barrier kernel with 32-word slabs, operands read in place.</summary>
    internal static readonly MmaGemmOptions Wide = new() { Staging = MmaStaging.WideBlockDeepSlabs, EarlyBarrier = true, TransposedOperands = true };

    /// <summary>F16 and BF16 with A M-major (ta), B N-major (!tb) or both: the three layouts read in place.</summary>
    public static IEnumerable<TestCaseData> Layouts() => MmaTransposedTests.Layouts();

    // K past the ring of 3 slabs of 64 with a partial last slab; odd M and N (partial chunks along M/N, N past 128 so
    // the warps of columns 128-255 reach C); batches with aligned strides, alpha/beta; split-K (whole K rows on).
    [TestCaseSource(nameof(Layouts))]
    public void ReadsInPlaceOddSizesBatchesSplitK(MmaPrecision p, bool ta, bool tb)
    {
        MmaGemmTests.Check(Cpu, p, ta, tb, 37, 203, 4 * 64 + 5, options: Wide, align: 8);
        MmaGemmTests.Check(Cpu, p, ta, tb, 21, 150, 35, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: Wide, align: 8);
        MmaGemmTests.Check(Cpu, p, ta, tb, 9, 30, 3 * 64 + 7, pad: 3, options: Wide with { SplitK = 3 }, align: 8);
    }

    // Whole blocks: every warp's rows and columns and every chunk of the swizzled K rows reach C; two blocks along M and
    // N, the second partial, K = 1 (63 of the 64 K rows of the slab zero-filled); the grouped tile order.
    [TestCaseSource(nameof(Layouts))]
    public void ReadsInPlaceWholeBlocks(MmaPrecision p, bool ta, bool tb)
    {
        MmaGemmTests.Check(Cpu, p, ta, tb, 128, 256, 136, alpha: 0.5f, beta: -2f, options: Wide);
        MmaGemmTests.Check(Cpu, p, ta, tb, 150, 300, 1, options: Wide with { GroupedBlocks = true }, align: 8);
    }

    // Unaligned rows are still packed (then the K-major kernel runs); the other 128x256 stagings pack.
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void UnalignedOperandsArePacked(MmaPrecision p)
    {
        MmaGemmTests.Check(Cpu, p, true, false, 33, 20, 50, pad: 3, offset: 1, options: Wide);
        MmaGemmTests.Check(Cpu, p, true, false, 37, 40, 45, options: Wide);   // A's lda 37: packed; B's 40: in place
        var off = new MmaGemmOptions { TransposedOperands = true };
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, Wide, true, true, 40, 0, 1), Is.True);
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, Wide with { EarlyBarrier = false }, true, true, 40, 0, 1), Is.False, "the plain loop packs");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, off with { Staging = MmaStaging.WideBlock, EarlyBarrier = true }, true, true, 40, 0, 1), Is.False, "16-word slabs pack");
        Assert.That(IlgpuMmaGemm.InPlace(true, 4, 64, Wide, true, true, 40, 0, 1), Is.False, "TF32");
    }

    [Test]
    public void WideForLargeChoosesTheWideKernelOnlyWhereAsked()
    {
        var on = new MmaGemmOptions { WideForLarge = true };
        var wide = IlgpuMmaGemm.Widen(on, true, 8, 4096, 8192);
        Assert.That(wide.Staging, Is.EqualTo(MmaStaging.WideBlockDeepSlabs));
        Assert.That(wide.EarlyBarrier, Is.True);
        Assert.That(IlgpuMmaGemm.Widen(on, true, 8, 4095, 8192), Is.EqualTo(on), "M below 4096");
        Assert.That(IlgpuMmaGemm.Widen(on, true, 8, 8192, 2048), Is.EqualTo(on), "N below 4096");
        Assert.That(IlgpuMmaGemm.Widen(on, true, 4, 8192, 8192), Is.EqualTo(on), "TF32");
        Assert.That(IlgpuMmaGemm.Widen(on, false, 8, 8192, 8192), Is.EqualTo(on), "off CUDA");
        Assert.That(IlgpuMmaGemm.Widen(on with { Staging = MmaStaging.FourStages }, true, 8, 8192, 8192).Staging, Is.EqualTo(MmaStaging.FourStages), "a staging asked for");
        Assert.That(IlgpuMmaGemm.Widen(on with { KeepLayout = true }, true, 8, 8192, 8192).Staging, Is.EqualTo(MmaStaging.Default));
        Assert.That(IlgpuMmaGemm.Widen(on with { WideForLarge = false }, true, 8, 8192, 8192).Staging, Is.EqualTo(MmaStaging.Default));
        // The default (null) is on unless EMBER_MMA_WIDE=0.
        bool byDefault = Environment.GetEnvironmentVariable("EMBER_MMA_WIDE") != "0";
        Assert.That(IlgpuMmaGemm.Widen(default, true, 8, 8192, 8192).Staging,
            Is.EqualTo(byDefault ? MmaStaging.WideBlockDeepSlabs : MmaStaging.Default));
    }

    [Test]
    public void StageLinesSwizzleAndLaneRows()
    {
        // Each stored K row's chunks are a permutation; 8 consecutive K rows put one chunk in 8 distinct bank groups.
        foreach (int rowBytes in new[] { 256, 512 })
        {
            int chunks = rowBytes / 16;
            for (int r = 0; r < 64; r++)
            {
                var at = Enumerable.Range(0, chunks).Select(c => (MmaKernels.WideLine(r, 8 * c, rowBytes) - rowBytes * r) >> 4);
                Assert.That(at.OrderBy(x => x), Is.EqualTo(Enumerable.Range(0, chunks)), $"row {r}");
                Assert.That(MmaKernels.WideLine(r, 8 * 3 + 5, rowBytes), Is.EqualTo(MmaKernels.WideLine(r, 24, rowBytes) + 10));
            }
            for (int c = 0; c < chunks; c++)
                for (int r0 = 0; r0 < 64; r0 += 8)
                    Assert.That(Enumerable.Range(r0, 8).Select(r => (MmaKernels.WideLine(r, 8 * c, rowBytes) >> 4) & 7).Distinct().Count(), Is.EqualTo(8));
        }
        // Lane 8j + r hands ldmatrix the first element of row r of matrix j: for K step s and m-tile (n-tile pair) i,
        // at the step's offset (WideStep) plus 16 rows a tile (K-major) or XOR 32·i (M/N-major).
        for (int lane = 0; lane < 32; lane++)
        {
            int j = lane >> 3, r = lane & 7;
            foreach (int w in new[] { 0, 64, 128, 192 })
                for (int s = 0; s < 4; s++)
                    for (int i = 0; i < 4; i++)
                    {
                        uint k = (uint)i;
                        if (w < 128)
                        {
                            uint ka = MmaKernels.WideStep<KMajorVecLayout>(MmaKernels.WideRowA<KMajorVecLayout>(lane, w, 0), MmaKernels.WideRowA<KMajorVecLayout>(lane, w, 8), s, 256) + 2048 * k;
                            Assert.That(ka, Is.EqualTo(MmaKernels.WideElementA<KMajorVecLayout>(w + 16 * i + r + 8 * (j & 1), 16 * s + 8 * (j >> 1))), $"A K-major lane {lane} step {s} tile {i}");
                            uint ma = MmaKernels.WideStep<RMajorVecLayout>(MmaKernels.WideRowA<RMajorVecLayout>(lane, w, 0), 0, s, 256) ^ (32 * k);
                            Assert.That(ma, Is.EqualTo(MmaKernels.WideElementA<RMajorVecLayout>(w + 16 * i + 8 * (j & 1), 16 * s + 8 * (j >> 1) + r)), $"A M-major lane {lane} step {s} tile {i}");
                        }
                        uint kb = MmaKernels.WideStep<KMajorVecLayout>(MmaKernels.WideRowB<KMajorVecLayout>(lane, w, 0), MmaKernels.WideRowB<KMajorVecLayout>(lane, w, 8), s, 512) + 2048 * k;
                        Assert.That(kb, Is.EqualTo(MmaKernels.WideElementB<KMajorVecLayout>(w + 16 * i + 8 * (j >> 1) + r, 16 * s + 8 * (j & 1))), $"B K-major lane {lane} step {s} pair {i}");
                        uint nb = MmaKernels.WideStep<RMajorVecLayout>(MmaKernels.WideRowB<RMajorVecLayout>(lane, w, 0), 0, s, 512) ^ (32 * k);
                        Assert.That(nb, Is.EqualTo(MmaKernels.WideElementB<RMajorVecLayout>(w + 16 * i + 8 * (j >> 1), 16 * s + 8 * (j & 1) + r)), $"B N-major lane {lane} step {s} pair {i}");
                    }
        }
        // The element places of each operand fill its tile exactly once (A 16 KB, then B 32 KB).
        foreach (bool kMajor in new[] { true, false })
        {
            var a = new HashSet<uint>();
            var b = new HashSet<uint>();
            for (int k = 0; k < 64; k++)
            {
                for (int m = 0; m < 128; m++) a.Add(kMajor ? MmaKernels.WideElementA<KMajorVecLayout>(m, k) : MmaKernels.WideElementA<RMajorVecLayout>(m, k));
                for (int n = 0; n < 256; n++) b.Add(kMajor ? MmaKernels.WideElementB<KMajorVecLayout>(n, k) : MmaKernels.WideElementB<RMajorVecLayout>(n, k));
            }
            Assert.That(a.Count, Is.EqualTo(128 * 64));
            Assert.That(a.Max(), Is.EqualTo(MmaKernels.WideTileA - 2));
            Assert.That(b.Count, Is.EqualTo(256 * 64));
            Assert.That(b.Min(), Is.EqualTo(MmaKernels.WideTileA));
            Assert.That(b.Max(), Is.EqualTo(MmaKernels.WideStage - 2));
        }
    }

    // The K loop twice (whole slabs, then the rest): 4 K steps x 32 mma a slab in each; 8 ldmatrix.x4 a K step (A's 4
    // m-tiles, B's 4 n-tile pairs), .trans for each operand read M/N-major: one step before the loops, four in each;
    // 12 cp.async chunks a thread and slab in the prologue and each loop (the untested copies in the first loop only);
    // the dynamic array only; no 32-bit shared loads; after the rewrite no local memory, launch bounds 256 x 1.
    [TestCaseSource(typeof(MmaTransposedPtxCompileTests), nameof(MmaTransposedPtxCompileTests.Kernels))]
    public void WideTransposedKernelCompiles(Type mma, string instruction, Type la, Type lb, Type output)
    {
        var method = typeof(MmaKernels).GetMethod(nameof(MmaKernels.GemmWideEarlyTransposed), BindingFlags.Public | BindingFlags.Static)!
            .MakeGenericMethod(mma, typeof(MmaKernels.NativeLdMatrixPath), output, la, lb, typeof(MmaKernels.Block128x256));
        string ptx = PtxCompiler.Grouped(method);
        int trans = 9 * ((la == typeof(RMajorVecLayout) ? 4 : 0) + (lb == typeof(RMajorVecLayout) ? 4 : 0));
        Assert.That(MmaTransposedPtxCompileTests.Count(ptx, instruction), Is.EqualTo(2 * 128), "4 k steps x 32 tiles per slab, two loops");
        Assert.That(MmaTransposedPtxCompileTests.Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"), Is.EqualTo(trans));
        Assert.That(MmaTransposedPtxCompileTests.Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(72 - trans));
        Assert.That(MmaTransposedPtxCompileTests.Count(ptx, "cp.async.cg.shared.global"), Is.EqualTo(3 * 12), "prologue and both loops");
        Assert.That(ptx, Does.Contain("cp.async.commit_group;").And.Contain("cp.async.wait_group 1;"));
        Assert.That(ptx, Does.Contain(".b8 __dyn_shared_alloca[];").And.Not.Contain("__shared_alloca0"));
        Assert.That(ptx, Does.Not.Contain("ld.shared"), "every fragment through ldmatrix");
        foreach (Match m in Regex.Matches(ptx, @"\.local \.align \d+ \.b8 __local_depot\d+\[(\d+)\]"))
            Assert.That(int.Parse(m.Groups[1].Value), Is.LessThanOrEqualTo(4), "an 8-byte inline-PTX operand slot");
        string tuned = DynamicSharedMemory.AlignDynamic(PtxRewrite.Tune(ptx, MmaKernels.WideBlockThreads, 1));
        Assert.That(tuned, Does.Not.Contain(".local .align").And.Not.Contain("ld.local").And.Not.Contain("st.local"), "local memory");
        Assert.That(MmaTransposedPtxCompileTests.Count(tuned, instruction), Is.EqualTo(2 * 128));
        Assert.That(tuned, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 1"));
    }
}

/// <summary>
/// The 128×256 early-barrier kernel reading 16-bit operands in place, natively on each CUDA device of compute
/// capability ≥ 8.0 (the GPU machine): all four layouts, odd sizes, K past the ring, batches, split-K, the grouped tile
/// order and the size rule, against the float64 reference. No fixture exists where there is no such device.
/// </summary>
[TestFixtureSource(typeof(MmaGemmCudaTests), nameof(MmaGemmCudaTests.Devices))]
public class MmaWideTransposedCudaTests(string device)
{
    private IlgpuDevice Dev => IlgpuContext.Shared.Get(Device.Parse(device));

    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void AllLayoutsOddSizesBatchesSplitK(MmaPrecision p)
    {
        var on = MmaWideTransposedTests.Wide;
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                MmaGemmTests.Check(Dev, p, ta, tb, 130, 77, 45, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 37, 203, 4 * 64 + 5, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 256, 512, 256, alpha: 0.5f, beta: -2f, options: on);
                MmaGemmTests.Check(Dev, p, ta, tb, 200, 136, 1000, alpha: 0.5f, beta: -2f, options: on with { SplitK = 5 });
                MmaGemmTests.Check(Dev, p, ta, tb, 33, 47, 71, batch: 3, pad: 5, alpha: 0.5f, beta: -2f, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 70, 90, 1, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 150, 300, 17, options: on with { GroupedBlocks = true }, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 256, 256, 2048, options: on);   // automatic split-K
                MmaGemmTests.Check(Dev, p, ta, tb, 4096, 4096, 72, options: new MmaGemmOptions { WideForLarge = true });   // the size rule
            }
        MmaGemmTests.Check(Dev, p, true, false, 33, 20, 50, pad: 3, offset: 1, options: on);   // unaligned: packed
    }

    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void VariantCasesReadInPlace(MmaPrecision p) => MmaGemmCudaTests.VariantCases(Dev, p, MmaWideTransposedTests.Wide, batchN: 512);
}
