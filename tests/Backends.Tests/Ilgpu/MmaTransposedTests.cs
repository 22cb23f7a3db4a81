using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// 16-bit operands read M- or N-major in place (<see cref="MmaGemmOptions.TransposedOperands"/>,
/// <see cref="MmaKernels.GemmWideTransposed{T, TX, TE, TA, TB}"/>) on ilgpu-cpu, where <c>ldmatrix.trans</c> and
/// <c>mma</c> are emulated through the kernel's lane address functions: the staging, the swizzle, the edges' zero fill,
/// batching and split-K against the float64 reference; plus when the host reads in place and when it still packs.
/// </summary>
public class MmaTransposedTests
{
    private static IlgpuDevice Cpu => IlgpuTestDevice.Cpu;

    /// <summary>The 64x64 kernel with operands read in place (on ilgpu-cpu WarpTile64 must be asked for).</summary>
    internal static readonly MmaGemmOptions InPlace = new() { WarpTile64 = true, TransposedOperands = true };

    /// <summary>F16 and BF16 with A M-major (ta), B N-major (!tb) or both: the three layouts read in place.</summary>
    public static IEnumerable<TestCaseData> Layouts()
    {
        foreach (var p in new[] { MmaPrecision.Float16, MmaPrecision.BFloat16 })
            foreach (var (ta, tb) in new[] { (true, true), (false, false), (true, false) })
                yield return new TestCaseData(p, ta, tb);
    }

    // Odd M, N, K (partial chunks along M/N, K not a multiple of the 32-element slab, more slabs than stages), batches
    // with aligned strides and alpha/beta, split-K (an M/N-major operand's origin moves by whole K rows).
    [TestCaseSource(nameof(Layouts))]
    public void ReadsInPlaceOddSizesBatchesSplitK(MmaPrecision p, bool ta, bool tb)
    {
        MmaGemmTests.Check(Cpu, p, ta, tb, 37, 45, 101, options: InPlace, align: 8);
        MmaGemmTests.Check(Cpu, p, ta, tb, 21, 34, 19, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: InPlace, align: 8);
        MmaGemmTests.Check(Cpu, p, ta, tb, 9, 30, 77, pad: 3, options: InPlace with { SplitK = 3 }, align: 8);
    }

    // Whole tiles: every warp's rows and columns and every chunk of the swizzled K rows reach C (two tiles along M and
    // N, the second one partial), K = 1 (31 of the 32 K rows of the slab zero-filled).
    [TestCaseSource(nameof(Layouts))]
    public void ReadsInPlaceWholeTiles(MmaPrecision p, bool ta, bool tb)
    {
        MmaGemmTests.Check(Cpu, p, ta, tb, 128, 128, 72, alpha: 0.5f, beta: -2f, options: InPlace);
        MmaGemmTests.Check(Cpu, p, ta, tb, 150, 140, 1, options: InPlace, align: 8);
    }

    // Rows that are not 16-byte aligned (odd leading dimension, view offset) are packed as before, in the same product
    // as an aligned operand read in place.
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void UnalignedOperandsArePacked(MmaPrecision p)
    {
        MmaGemmTests.Check(Cpu, p, true, false, 33, 20, 50, pad: 3, offset: 1, options: InPlace);
        MmaGemmTests.Check(Cpu, p, true, false, 37, 40, 45, options: InPlace);   // A's lda 37: packed; B's 40: in place
    }

    [Test]
    public void ReadsInPlaceOnlyAlignedSixteenBitRowsOfTheDefaultWideKernel()
    {
        var on = new MmaGemmOptions { TransposedOperands = true };
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on, true, true, 40, 0, 1), Is.True, "CUDA defaults to the 64x64 kernel");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on, false, true, 40, 0, 1), Is.False, "K-major: the kernel reads it anyway");
        Assert.That(IlgpuMmaGemm.InPlace(true, 4, 64, on, true, true, 40, 0, 1), Is.False, "TF32: no ldmatrix for 32-bit elements");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on, true, false, 40, 0, 1), Is.False, "view not 16-byte aligned");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on, true, true, 36, 0, 1), Is.False, "leading dimension");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on, true, true, 40, 44, 2), Is.False, "batch stride");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on, true, true, 40, 44, 1), Is.True, "one entry: the stride is unused");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 0, on, true, true, 40, 0, 1), Is.False, "K = 0");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on with { KeepLayout = true }, true, true, 40, 0, 1), Is.False);
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on with { WarpTile64 = false }, true, true, 40, 0, 1), Is.False, "64x32 warps");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on with { Pipeline = false }, true, true, 40, 0, 1), Is.False, "the register loop");
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on with { Staging = MmaStaging.FourStages }, true, true, 40, 0, 1), Is.False, "dynamic stages");
        Assert.That(IlgpuMmaGemm.InPlace(false, 8, 64, on, true, true, 40, 0, 1), Is.False, "off CUDA the 64x64 kernel is asked for");
        Assert.That(IlgpuMmaGemm.InPlace(false, 8, 64, InPlace, true, true, 40, 0, 1), Is.True);
        Assert.That(IlgpuMmaGemm.InPlace(true, 8, 64, on with { TransposedOperands = false }, true, true, 40, 0, 1), Is.False);
    }

    [Test]
    public void TransposedRowsSwizzleAndTileOffsets()
    {
        // Each stored K row's 16 chunks are a permutation; 8 consecutive K rows put one chunk in 8 distinct bank groups.
        for (int r = 0; r < 32; r++)
        {
            var chunks = Enumerable.Range(0, 16).Select(c => (MmaKernels.LineOffset(r, 8 * c) - 256 * r) >> 4).ToArray();
            Assert.That(chunks.OrderBy(x => x), Is.EqualTo(Enumerable.Range(0, 16)), $"row {r}");
            Assert.That(Enumerable.Range(0, 8).Select(e => MmaKernels.LineOffset(r, 8 * 5 + e)), Is.EqualTo(Enumerable.Range(0, 8).Select(e => MmaKernels.LineOffset(r, 40) + 2 * e)));
        }
        for (int c = 0; c < 16; c++)
            for (int r0 = 0; r0 < 32; r0 += 8)
                Assert.That(Enumerable.Range(r0, 8).Select(r => (MmaKernels.LineOffset(r, 8 * c) >> 4) & 7).Distinct().Count(), Is.EqualTo(8));
        // The kernel reaches m-tile (n-tile pair) i by XOR 32·i of m-tile 0's row offset, and K step 1 is 16 K rows on.
        for (int lane = 0; lane < 32; lane++)
        {
            int j = lane >> 3, r = lane & 7;
            foreach (int w in new[] { 0, 64 })
                foreach (int kw in new[] { 0, 8 })
                    for (uint i = 0; i < 4; i++)
                    {
                        int ia = (int)i;
                        Assert.That(MmaKernels.TransRowA(lane, w, kw) ^ (32 * i),
                            Is.EqualTo((uint)MmaKernels.LineOffset(2 * kw + r + 8 * (j >> 1), w + 16 * ia + 8 * (j & 1))), $"A lane {lane} tile {i}");
                        Assert.That(MmaKernels.TransRowB(lane, w, kw) ^ (32 * i),
                            Is.EqualTo(128u * 64 + (uint)MmaKernels.LineOffset(2 * kw + r + 8 * (j & 1), w + 16 * ia + 8 * (j >> 1))), $"B lane {lane} pair {i}");
                    }
        }
    }
}

/// <summary>
/// 16-bit operands read in place by the inline-PTX kernel (<c>cp.async</c> along M/N, <c>ldmatrix.x4.trans</c>) on each
/// CUDA device of compute capability ≥ 8.0 (the GPU machine): all four layouts, odd sizes, K not a multiple of 32,
/// batches, split-K, against the float64 reference. No fixture exists where there is no such device.
/// </summary>
[TestFixtureSource(typeof(MmaGemmCudaTests), nameof(MmaGemmCudaTests.Devices))]
public class MmaTransposedCudaTests(string device)
{
    private IlgpuDevice Dev => IlgpuContext.Shared.Get(Device.Parse(device));

    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void AllLayoutsOddSizesBatchesSplitK(MmaPrecision p)
    {
        var on = new MmaGemmOptions { TransposedOperands = true };
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                MmaGemmTests.Check(Dev, p, ta, tb, 130, 77, 45, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 37, 45, 101, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 256, 256, 256, alpha: 0.5f, beta: -2f, options: on);
                MmaGemmTests.Check(Dev, p, ta, tb, 200, 136, 1000, alpha: 0.5f, beta: -2f, options: on with { SplitK = 5 });
                MmaGemmTests.Check(Dev, p, ta, tb, 33, 47, 71, batch: 3, pad: 5, alpha: 0.5f, beta: -2f, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 70, 90, 1, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 150, 140, 17, options: on, align: 8);
                MmaGemmTests.Check(Dev, p, ta, tb, 256, 256, 2048, options: on);   // automatic split-K
            }
        // Unaligned rows fall back to packing.
        MmaGemmTests.Check(Dev, p, true, false, 33, 20, 50, pad: 3, offset: 1, options: on);
        MmaGemmTests.Check(Dev, p, true, false, 37, 40, 45, options: on);
    }

    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void VariantCasesReadInPlace(MmaPrecision p) =>
        MmaGemmCudaTests.VariantCases(Dev, p, new MmaGemmOptions { TransposedOperands = true });
}
