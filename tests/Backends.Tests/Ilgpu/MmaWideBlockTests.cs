using System.Text.RegularExpressions;
using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The 128×256 block of 8 warps of 64×64 (<see cref="MmaStaging.WideBlock"/> and its variants) on ilgpu-cpu, where
/// <c>ldmatrix</c>, <c>cp.async</c> and <c>mma</c> are emulated through the kernel's own address functions (checked
/// against a float64 reference by <see cref="MmaGemmTests.Check"/>), and its PTX for sm_90.
/// </summary>
public class MmaWideBlockTests
{
    private static IlgpuDevice Cpu => IlgpuTestDevice.Cpu;

    private static readonly MmaGemmOptions Block = new() { Staging = MmaStaging.WideBlock };

    /// <summary>K elements per slab of 16 words.</summary>
    private static int Slab(MmaPrecision p) => p == MmaPrecision.Tf32 ? 16 : 32;

    // Every transpose (packed K-major). N past 128 so the warps of columns 128-255 reach C; more slabs than the 4
    // stages with a partial last slab; batches with strides, alpha/beta; unaligned operands with split-K.
    [TestCaseSource(typeof(MmaGemmTests), nameof(MmaGemmTests.Transposes))]
    public void WideBlockMatchesReference(MmaPrecision p, bool ta, bool tb)
    {
        MmaGemmTests.Check(Cpu, p, ta, tb, 37, 203, 4 * Slab(p) + 5, options: Block);
        MmaGemmTests.Check(Cpu, p, ta, tb, 21, 150, Slab(p) / 2 + 3, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: Block);
        MmaGemmTests.Check(Cpu, p, ta, tb, 9, 30, 3 * Slab(p) + 7, pad: 3, offset: 1, options: Block with { SplitK = 3 });
    }

    // Whole blocks: every warp's rows and columns of the swizzled stages reach C; then two blocks along M and N, the
    // second ones with clamped A and B rows, K = 1 (one partial slab).
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void WideBlockWholeBlocks(MmaPrecision p)
    {
        MmaGemmTests.Check(Cpu, p, false, true, 128, 256, 2 * Slab(p) + 8, alpha: 0.5f, beta: -2f, options: Block);
        MmaGemmTests.Check(Cpu, p, false, true, 150, 300, 1, options: Block);
    }

    // The other stage rings of the block: 3 stages of 16 words, 3 of 32 (both chunks a thread copies per row, zero
    // filled past K). K past the ring with a partial last slab, N past 128, and a batch.
    [TestCase(MmaPrecision.Tf32, MmaStaging.WideBlockThreeStages)]
    [TestCase(MmaPrecision.Float16, MmaStaging.WideBlockThreeStages)]
    [TestCase(MmaPrecision.Tf32, MmaStaging.WideBlockDeepSlabs)]
    [TestCase(MmaPrecision.Float16, MmaStaging.WideBlockDeepSlabs)]
    [TestCase(MmaPrecision.BFloat16, MmaStaging.WideBlockDeepSlabs)]
    public void WideBlockStagings(MmaPrecision p, MmaStaging staging)
    {
        var options = new MmaGemmOptions { Staging = staging };
        int slab = Slab(p) * (staging == MmaStaging.WideBlockDeepSlabs ? 2 : 1);
        MmaGemmTests.Check(Cpu, p, false, false, 40, 260, 3 * slab + 5, options: options);
        MmaGemmTests.Check(Cpu, p, true, true, 13, 140, slab / 2 + 1, batch: 2, pad: 3, alpha: 0.5f, beta: -2f, options: options);
    }

    // The early-barrier K loop (slab s + 1 published before slab s's last K step): every transpose, K past the ring
    // with a partial last slab, a single slab, batches, alpha/beta, split-K; its 3x16 and 3x32 rings; grouped tiles.
    [TestCaseSource(typeof(MmaGemmTests), nameof(MmaGemmTests.Transposes))]
    public void EarlyBarrierMatchesReference(MmaPrecision p, bool ta, bool tb)
    {
        var early = Block with { EarlyBarrier = true };
        MmaGemmTests.Check(Cpu, p, ta, tb, 37, 203, 5 * Slab(p) + 5, options: early);
        MmaGemmTests.Check(Cpu, p, ta, tb, 21, 150, Slab(p) / 2 + 3, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: early);
        MmaGemmTests.Check(Cpu, p, ta, tb, 9, 30, 3 * Slab(p) + 7, pad: 3, offset: 1, options: early with { SplitK = 3 });
    }

    [TestCase(MmaPrecision.Tf32, MmaStaging.WideBlockThreeStages)]
    [TestCase(MmaPrecision.Float16, MmaStaging.WideBlockThreeStages)]
    [TestCase(MmaPrecision.Tf32, MmaStaging.WideBlockDeepSlabs)]
    [TestCase(MmaPrecision.BFloat16, MmaStaging.WideBlockDeepSlabs)]
    public void EarlyBarrierStagings(MmaPrecision p, MmaStaging staging)
    {
        var options = new MmaGemmOptions { Staging = staging, EarlyBarrier = true };
        int slab = Slab(p) * (staging == MmaStaging.WideBlockDeepSlabs ? 2 : 1);
        MmaGemmTests.Check(Cpu, p, false, true, 128, 256, 4 * slab + 3, alpha: 0.5f, beta: -2f, options: options);
        MmaGemmTests.Check(Cpu, p, true, false, 13, 140, slab / 2 + 1, batch: 2, pad: 3, options: options);
    }

    // The early loop in the 128x128 block (4 warps, 2 blocks per SM) with 4 stages of 16 words and 3 of 32.
    [TestCase(MmaPrecision.Float16, MmaStaging.FourStages)]
    [TestCase(MmaPrecision.Tf32, MmaStaging.DeepSlabs)]
    public void EarlyBarrierSquareBlock(MmaPrecision p, MmaStaging staging)
    {
        var options = new MmaGemmOptions { Staging = staging, EarlyBarrier = true };
        MmaGemmTests.Check(Cpu, p, false, true, 150, 140, 5 * 2 * Slab(p) + 3, alpha: 0.5f, beta: -2f, options: options);
        MmaGemmTests.Check(Cpu, p, true, false, 21, 34, 3 * Slab(p) + 7, batch: 2, pad: 3, options: options with { SplitK = 2 });
    }

    [Test]
    public void EarlyBarrierGroupedOrder() =>
        MmaGemmTests.Check(Cpu, MmaPrecision.Float16, false, false, 8 * 128 + 69, 300, 3 * Slab(MmaPrecision.Float16) + 1,
            options: Block with { GroupedBlocks = true, EarlyBarrier = true });

    // Grouped block order: 9 block rows (a full group of 8 and one of 1) by 2 block columns, the second partial.
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.BFloat16)]
    public void WideBlockGroupedOrder(MmaPrecision p) =>
        MmaGemmTests.Check(Cpu, p, false, false, 8 * 128 + 69, 300, Slab(p) + 3, alpha: 0.5f, beta: -2f, options: Block with { GroupedBlocks = true });

    [Test]
    public void GroupedTileIsAPermutation()
    {
        foreach (var (nx, ny) in new[] { (1, 1), (32, 64), (3, 9), (5, 17), (7, 8), (2, 3) })
        {
            var seen = new HashSet<(int, int)>();
            for (int y = 0; y < ny; y++)
                for (int x = 0; x < nx; x++)
                {
                    int bx = x, by = y;
                    MmaKernels.GroupedTile(8, nx, ny, ref bx, ref by);
                    Assert.That(bx is >= 0 && bx < nx && by >= 0 && by < ny && seen.Add((bx, by)), Is.True, $"{nx}x{ny}: block ({x}, {y}) -> ({bx}, {by})");
                }
        }
        // In launch order the first 8 blocks of a 32 x 64 grid are column 0 of rows 0-7, the next 8 column 1.
        int cx = 0, cy = 1;
        MmaKernels.GroupedTile(8, 32, 64, ref cx, ref cy);
        Assert.That((cx, cy), Is.EqualTo((4, 0)), "block 32 in launch order");
        cx = 9; cy = 0;
        MmaKernels.GroupedTile(8, 32, 64, ref cx, ref cy);
        Assert.That((cx, cy), Is.EqualTo((1, 1)));
    }

    [Test]
    public void WideBlockSizes()
    {
        Assert.That(IlgpuMmaGemm.StagingBytes(MmaStaging.WideBlock), Is.EqualTo(96 * 1024), "4 stages of 384 rows of 64 B");
        Assert.That(IlgpuMmaGemm.StagingBytes(MmaStaging.WideBlockThreeStages), Is.EqualTo(72 * 1024));
        Assert.That(IlgpuMmaGemm.StagingBytes(MmaStaging.WideBlockDeepSlabs), Is.EqualTo(144 * 1024));
        Assert.That(IlgpuMmaGemm.IsWideBlock(MmaStaging.WideBlock) && IlgpuMmaGemm.IsWideBlock(MmaStaging.WideBlockDeepSlabs), Is.True);
        Assert.That(IlgpuMmaGemm.IsWideBlock(MmaStaging.FourStages) || IlgpuMmaGemm.IsWideBlock(MmaStaging.Default), Is.False);
        // A thread's rows t/4 + 64·i share one stage offset: the swizzle depends on the row mod 8 only.
        for (int r = 0; r < 64; r++)
            for (int w = 0; w < 16; w += 4)
                foreach (int i in new[] { 1, 2, 3 })
                    Assert.That(MmaKernels.Swizzle(r + 64 * i, w) - MmaKernels.Swizzle(r, w), Is.EqualTo(64 * i * 16));
    }

    // What CUDA loads: no local memory, launch bounds 256 x 1 (ptxas may use 255 registers; ptxas 12.8, sm_90: 212-214
    // registers, no stack or spills; the early-barrier loop 238-255, 12 bytes spilled for TF32 with 32-word slabs), the dynamic array aligned to 128 bytes. Per slab of 16 words a warp's 2 K steps
    // are 64 mma and 16 ldmatrix.x4 as in the 128x128 kernel, but a thread's copies are 6 (2 rows of A, 4 of B) instead
    // of 8: 12 cp.async in the prologue and loop (24 with 32-word slabs), and TF32 rounds 6 chunks (24 cvt).
    // The early-barrier kernel (GemmWideEarly) has the same counts but for ldmatrix: one K step's 8 before the loop, and
    // in the loop the 8 of each K step after the first plus the 8 of the next slab's first: 24 (16-word slabs) or 40.
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", false)]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", false)]
    [TestCase(typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", false)]
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", true)]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", true)]
    public void WideBlockKernelsCompile(Type mma, string instruction, bool early)
    {
        static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;
        foreach (var output in new[] { typeof(MmaKernels.DirectOutput), typeof(MmaKernels.SplitOutput) })
            foreach (var (stages, deep, wait) in new[] { (typeof(MmaKernels.FourStages), 1, 2), (typeof(MmaKernels.ThreeStages), 1, 1), (typeof(MmaKernels.DeepSlabs), 2, 1) })
            {
                var method = typeof(MmaKernels).GetMethod(early ? nameof(MmaKernels.GemmWideEarly) : nameof(MmaKernels.GemmWideDynamic))!
                    .MakeGenericMethod(mma, typeof(MmaKernels.NativeLdMatrixPath), output, stages, typeof(MmaKernels.Block128x256));
                string ptx = PtxCompiler.Grouped(method);
                Assert.That(ptx, Does.Contain(".b8 __dyn_shared_alloca[];").And.Not.Contain("__shared_alloca0"), "dynamic shared memory only");
                Assert.That(Count(ptx, instruction), Is.EqualTo(64 * deep));
                Assert.That(Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(early ? 8 + 16 * deep : 16 * deep));
                Assert.That(Count(ptx, "bar.sync"), Is.EqualTo(early ? 2 : 1), "one barrier per slab (and the early loop's first)");
                Assert.That(Count(ptx, "cp.async.cg.shared.global"), Is.EqualTo(12 * deep), "prologue and loop, 6 chunks each");
                Assert.That(ptx, Does.Contain($"cp.async.wait_group {wait};"));
                if (mma == typeof(Tf32Mma)) Assert.That(Count(ptx, "st.shared.v4.b32"), Is.EqualTo((early ? 12 : 6) * deep), "6 chunks of 4 words (the early loop also rounds slab 0 before it)");
                else Assert.That(ptx, Does.Not.Contain("ld.shared"), "every fragment through ldmatrix");
                foreach (Match m in Regex.Matches(ptx, @"\.local \.align \d+ \.b8 __local_depot\d+\[(\d+)\]"))
                    Assert.That(int.Parse(m.Groups[1].Value), Is.LessThanOrEqualTo(4), "an 8-byte inline-PTX operand slot");
                string tuned = DynamicSharedMemory.AlignDynamic(PtxRewrite.Tune(ptx, MmaKernels.WideBlockThreads, 1));
                Assert.That(tuned, Does.Not.Contain(".local .align").And.Not.Contain("ld.local").And.Not.Contain("st.local"), "local memory");
                Assert.That(tuned, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 1"));
                Assert.That(tuned, Does.Contain(".extern .shared .align 128 .b8 __dyn_shared_alloca[];"));
            }
    }
}

/// <summary>
/// The 128×256 block natively (inline-PTX <c>mma.sync</c>, <c>ldmatrix</c>, <c>cp.async</c>, the dynamic shared memory
/// opt-in) on each CUDA device of compute capability ≥ 8.0 that ILGPU sees (the GPU machine); no fixture elsewhere.
/// </summary>
[TestFixtureSource(typeof(MmaGemmCudaTests), nameof(MmaGemmCudaTests.Devices))]
public class MmaWideBlockCudaTests(string device)
{
    private IlgpuDevice Dev => IlgpuContext.Shared.Get(Device.Parse(device));

    /// <summary>Every precision with each staging of the block, plain, early-barrier, and early with grouped tiles; the early loop in the 128×128 block.</summary>
    public static IEnumerable<TestCaseData> Variants()
    {
        foreach (var p in new[] { MmaPrecision.Tf32, MmaPrecision.Float16, MmaPrecision.BFloat16 })
            foreach (var s in new[] { MmaStaging.WideBlock, MmaStaging.WideBlockThreeStages, MmaStaging.WideBlockDeepSlabs })
                foreach (var (early, grouped) in new[] { (false, false), (true, false), (true, true) })
                    yield return new TestCaseData(p, s, early, grouped);
        // The early loop in the 128x128 block.
        foreach (var p in new[] { MmaPrecision.Tf32, MmaPrecision.Float16 })
            foreach (var s in new[] { MmaStaging.FourStages, MmaStaging.DeepSlabs })
                yield return new TestCaseData(p, s, true, false);
    }

    [TestCaseSource(nameof(Variants))]
    public void WideBlockVariant(MmaPrecision p, MmaStaging staging, bool early, bool grouped)
    {
        var options = new MmaGemmOptions { Staging = staging, EarlyBarrier = early, GroupedBlocks = grouped };
        // N past 256 in the split-K and batched cases, so every warp's columns of a second block reach C.
        MmaGemmCudaTests.VariantCases(Dev, p, options, n: 300, batchN: 512);
        MmaGemmTests.Check(Dev, p, false, false, 1100, 600, 555, options: options);   // 9 block rows: two groups
    }
}
