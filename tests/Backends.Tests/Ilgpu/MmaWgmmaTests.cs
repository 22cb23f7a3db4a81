using System.Text.RegularExpressions;
using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The warpgroup kernel (<see cref="MmaGemmOptions.Wgmma"/>, <see cref="MmaKernels.GemmWgmma{T, TW, TX, TE, TB}"/>) on
/// ilgpu-cpu, where each <c>wgmma</c> is emulated per lane through the kernel's descriptors and a decoder of the
/// 128-byte swizzled layout (checked against a float64 reference by <see cref="MmaGemmTests.Check"/>), and its PTX.
/// </summary>
public class MmaWgmmaTests
{
    private static IlgpuDevice Cpu => IlgpuTestDevice.Cpu;

    private static readonly MmaGemmOptions Wg = new() { Wgmma = true };
    private static readonly MmaGemmOptions WgWide = new() { Wgmma = true, Staging = MmaStaging.WideBlock };

    /// <summary>K elements per 32-word slab.</summary>
    private static int Slab(MmaPrecision p) => p == MmaPrecision.Tf32 ? 32 : 64;

    // Every transpose (packed K-major): more slabs than the ring with a partial last one, N past one block; batches with
    // strides and alpha/beta; unaligned operands with split-K; K shorter than one 16-byte chunk.
    [TestCaseSource(typeof(MmaGemmTests), nameof(MmaGemmTests.Transposes))]
    public void WgmmaMatchesReference(MmaPrecision p, bool ta, bool tb)
    {
        MmaGemmTests.Check(Cpu, p, ta, tb, 37, 150, 3 * Slab(p) + 5, options: Wg);
        MmaGemmTests.Check(Cpu, p, ta, tb, 21, 40, Slab(p) / 2 + 3, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: Wg);
        MmaGemmTests.Check(Cpu, p, ta, tb, 9, 30, 3 * Slab(p) + 7, pad: 3, offset: 1, options: Wg with { SplitK = 3 });
        MmaGemmTests.Check(Cpu, p, ta, tb, 5, 6, 1, options: Wg);
    }

    // Whole blocks: both warpgroups' rows, every n-tile of each half, two blocks along M and N (the second with rows
    // past the matrices zero-filled); the 128×256 block with its two halves, grouped tiles, and its 4-stage ring.
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void WgmmaWholeBlocks(MmaPrecision p)
    {
        MmaGemmTests.Check(Cpu, p, false, true, 128, 128, Slab(p) + 8, alpha: 0.5f, beta: -2f, options: Wg);
        MmaGemmTests.Check(Cpu, p, false, true, 150, 140, 2 * Slab(p), options: Wg);
        MmaGemmTests.Check(Cpu, p, false, true, 130, 300, 5 * Slab(p) + 3, options: WgWide);
        MmaGemmTests.Check(Cpu, p, true, false, 140, 260, Slab(p) - 1, batch: 2, options: WgWide with { GroupedBlocks = true });
    }

    /// <summary>Truncated TF32 operands: the emulation drops the low 13 bits as the tensor core does.</summary>
    [Test]
    public void WgmmaTf32Truncate() =>
        MmaGemmTests.Check(Cpu, MmaPrecision.Tf32, false, false, 40, 70, 50, options: Wg with { Tf32Truncate = true });

    /// <summary>Every TF32 rounding option gives the default's bits through the warpgroup kernel (rounded in shared memory, or by the packing kernel with Packed, the default there).</summary>
    [Test]
    public void WgmmaTf32RoundingsAgree() => MmaGemmTests.Tf32RoundingsAgree(Cpu, new[] { Wg });

    // Which products take the warpgroup kernel: on ilgpu-cpu only where asked; the size rule of sm_90 leaves products
    // whose options pick an mma.sync kernel (or its operand handling) to those kernels.
    [Test]
    public void WgmmaSelection()
    {
        Assert.That(IlgpuMmaGemm.UsesWgmma(Cpu, false, default, 8192, 8192, 8192), Is.False, "emulation: only when asked");
        Assert.That(IlgpuMmaGemm.UsesWgmma(Cpu, false, Wg, 8192, 8192, 8192), Is.True);
        Assert.That(IlgpuMmaGemm.UsesWgmma(Cpu, false, Wg with { KeepLayout = true }, 64, 64, 64), Is.False, "KeepLayout reads in place");
        Assert.That(IlgpuMmaGemm.UsesWgmma(Cpu, false, Wg, 64, 64, 0), Is.False, "K = 0");
        Assert.That(IlgpuMmaGemm.ChoosesMmaSync(default), Is.False);
        Assert.That(IlgpuMmaGemm.ChoosesMmaSync(new() { SplitK = 4, Tf32Truncate = true, GroupedBlocks = true }), Is.False, "options both kernels honour");
        foreach (var o in new MmaGemmOptions[]
        {
            new() { Staging = MmaStaging.DeepSlabs }, new() { WarpTile64 = true }, new() { Pipeline = false }, new() { LdMatrix = true },
            new() { EarlyBarrier = true }, new() { TransposedOperands = true }, new() { WideForLarge = false },
            new() { Tf32Rounding = MmaTf32Rounding.Staged },
        })
            Assert.That(IlgpuMmaGemm.ChoosesMmaSync(o), Is.True, o.ToString());
        // TF32 on the warpgroup kernel is rounded by the packing kernel unless asked otherwise (or EMBER_TF32_ROUNDING says).
        var auto = Environment.GetEnvironmentVariable("EMBER_TF32_ROUNDING") is null
            ? MmaTf32Rounding.Packed : IlgpuMmaGemm.Tf32RoundingFor(Cpu, MmaTf32Rounding.Auto);
        Assert.That(IlgpuMmaGemm.Tf32RoundingFor(Cpu, MmaTf32Rounding.Auto, wgmma: true), Is.EqualTo(auto));
        Assert.That(IlgpuMmaGemm.Tf32RoundingFor(Cpu, MmaTf32Rounding.Staged, wgmma: true), Is.EqualTo(MmaTf32Rounding.Staged));
        Assert.That(IlgpuMmaGemm.Tf32RoundingFor(Cpu, MmaTf32Rounding.Auto), Is.Not.EqualTo(MmaTf32Rounding.Packed).Or.EqualTo(auto), "mma.sync keeps its rounding");
    }

    // The descriptor decoder reads the stage where the copies put it: row r, byte kb of K of a matrix starting at row
    // r0 of a stage is stage word (row r0 + r) · 32 with chunk kb/16 XOR ((r0 + r) mod 8), for A's and B's tiles,
    // each K step's start 32 bytes further in.
    [Test]
    public void DescriptorsAddressTheSwizzledStage()
    {
        foreach (int stageBytes in new[] { 0, 48 * 1024, 2 * 48 * 1024 })
            foreach (int r0 in new[] { 0, 64, 128, 256 })
                for (int step = 0; step < 4; step++)
                {
                    uint d = WgmmaLayout.Descriptor((uint)(stageBytes + r0 * 128)) + (uint)(2 * step);
                    for (int r = 0; r < 128; r++)
                        for (int kb = 0; kb < 32; kb += 4)
                        {
                            int want = stageBytes / 4 + MmaKernels.StageSwizzle<MmaKernels.DeepSlabs>(r0 + r, (32 * step + kb) / 4);
                            Assert.That(WgmmaLayout.WordIndex(d, r, kb), Is.EqualTo(want), $"stage {stageBytes}, rows from {r0}, step {step}, row {r}, byte {kb}");
                        }
                }
        Assert.That(WgmmaLayout.Descriptor(0x1F400) & 0x3FFFu, Is.EqualTo(0x1F40u), "start address / 16");
        Assert.That(WgmmaLayout.Descriptor(0) >> 16, Is.EqualTo(1u), "leading byte offset field");
        Assert.That(WgmmaLayout.High, Is.EqualTo(64u | 1u << 30), "1024-byte stride, 128-byte swizzle");
        Assert.That(MmaKernels.WgmmaStageBytes<MmaKernels.Block128x128>(), Is.EqualTo(96 * 1024));
        Assert.That(MmaKernels.WgmmaStageBytes<MmaKernels.Block128x256>(), Is.EqualTo(192 * 1024));
    }

    // What CUDA loads: the accumulators declared once as function-scope registers (64 or 128); per slab one statement of
    // 4 mma_async (m64n128 or m64n256), a commit and wait_group 1; the epilogue's wait_group 0 and reads; 4 + Cols/32
    // cp.async per stage in the prologue and the loop, TF32 rounding the same chunks with cvt.rn.tf32; after the
    // rewrite target sm_90a, ISA 8.0 or newer, the dynamic array aligned to 1024 bytes and no local memory.
    [TestCase(typeof(Tf32Mma), typeof(WgmmaTf32), "k8.f32.tf32.tf32")]
    [TestCase(typeof(F16Mma), typeof(WgmmaF16), "k16.f32.f16.f16")]
    [TestCase(typeof(Bf16Mma), typeof(WgmmaBf16), "k16.f32.bf16.bf16")]
    public void WgmmaKernelsCompile(Type mma, Type op, string shape)
    {
        static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;
        foreach (var (block, cols) in new[] { (typeof(MmaKernels.Block128x128), 128), (typeof(MmaKernels.Block128x256), 256) })
            foreach (var output in new[] { typeof(MmaKernels.DirectOutput), typeof(MmaKernels.SplitOutput) })
            {
                var method = typeof(MmaKernels).GetMethod(nameof(MmaKernels.GemmWgmma))!
                    .MakeGenericMethod(mma, op, typeof(MmaKernels.NativePath), output, block);
                string ptx = PtxCompiler.Grouped(method);
                Assert.That(Count(ptx, $".reg .f32 wacc<{cols / 2}>;"), Is.EqualTo(1), "accumulators declared once");
                Assert.That(Count(ptx, "wgmma.mma_async.sync.aligned.m64n" + cols + shape), Is.EqualTo(4));
                Assert.That(Count(ptx, "wgmma.mma_async"), Is.EqualTo(4));
                Assert.That(Count(ptx, "wgmma.wait_group.sync.aligned 1;"), Is.EqualTo(1), "one slab left in flight");
                Assert.That(Count(ptx, "wgmma.wait_group.sync.aligned 0;"), Is.EqualTo(1), "the epilogue's wait");
                Assert.That(Count(ptx, "wgmma.commit_group.sync.aligned;"), Is.EqualTo(1));
                Assert.That(Count(ptx, "fence.proxy.async.shared::cta;"), Is.EqualTo(1));
                Assert.That(Count(ptx, "bar.sync"), Is.EqualTo(1), "one barrier per slab");
                Assert.That(Count(ptx, "cp.async.cg.shared.global"), Is.EqualTo(2 * (4 + cols / 32)), "prologue and loop");
                Assert.That(ptx, Does.Contain($"cp.async.wait_group {(cols == 256 ? 1 : 0)};"));
                Assert.That(Count(ptx, "cvt.rn.tf32.f32"), Is.EqualTo(op == typeof(WgmmaTf32) ? 4 * (4 + cols / 32) : 0));
                string tuned = DynamicSharedMemory.AlignDynamic(PtxRewrite.Tune(ptx, MmaKernels.WgmmaThreads, 1));
                Assert.That(tuned, Does.Contain(".target sm_90a").And.Not.Contain(".target sm_80"));
                var v = Regex.Match(tuned, @"\.version (\d+)\.(\d+)");
                Assert.That(v.Success && int.Parse(v.Groups[1].Value) >= 8, Is.True, "PTX ISA 8.0 or newer");
                Assert.That(tuned, Does.Contain(".extern .shared .align 1024 .b8 __dyn_shared_alloca[];"));
                Assert.That(tuned, Does.Not.Contain("ld.local").And.Not.Contain("st.local"), "local memory");
            }
    }
}

/// <summary>
/// The warpgroup kernel natively (inline-PTX <c>wgmma</c>, sm_90a) on each CUDA device of compute capability 9.x that
/// ILGPU sees (the GPU machine); no fixture elsewhere.
/// </summary>
[TestFixtureSource(nameof(Devices))]
public class MmaWgmmaCudaTests(string device)
{
    /// <summary>CUDA devices of compute capability 9.x.</summary>
    public static IEnumerable<string> Devices() =>
        MmaGemmCudaTests.Devices().Where(d => IlgpuContext.Shared.Get(Device.Parse(d)).Accelerator is ILGPU.Runtime.Cuda.CudaAccelerator { Architecture.Major: 9 });

    private IlgpuDevice Dev => IlgpuContext.Shared.Get(Device.Parse(device));

    /// <summary>Every precision with each block: by size, 128×128, 128×256, 128×256 with grouped tiles.</summary>
    public static IEnumerable<TestCaseData> Variants()
    {
        foreach (var p in new[] { MmaPrecision.Tf32, MmaPrecision.Float16, MmaPrecision.BFloat16 })
            foreach (var s in new[] { MmaStaging.Default, MmaStaging.DeepSlabs, MmaStaging.WideBlock })
                foreach (bool grouped in s == MmaStaging.WideBlock ? new[] { false, true } : new[] { false })
                    yield return new TestCaseData(p, s, grouped);
    }

    [TestCaseSource(nameof(Variants))]
    public void WgmmaVariant(MmaPrecision p, MmaStaging staging, bool grouped)
    {
        var options = new MmaGemmOptions { Wgmma = true, Staging = staging, GroupedBlocks = grouped };
        MmaGemmCudaTests.VariantCases(Dev, p, options, n: 300, batchN: 512);
        MmaGemmTests.Check(Dev, p, false, false, 1100, 600, 555, options: options);
    }

    /// <summary>TF32: every rounding option gives the same bits (rounded in shared memory by cvt.rn), and truncation matches the emulation's.</summary>
    [Test]
    public void WgmmaTf32Rounding()
    {
        MmaGemmTests.Tf32RoundingsAgree(Dev, new[] { new MmaGemmOptions { Wgmma = true }, new MmaGemmOptions { Wgmma = true, Staging = MmaStaging.WideBlock } });
        MmaGemmTests.Check(Dev, MmaPrecision.Tf32, false, true, 300, 260, 100, options: new() { Wgmma = true, Tf32Truncate = true });
    }

    /// <summary>TF32 rounded by the packing kernel (<see cref="MmaTf32Rounding.Packed"/>): every transpose, batched with a broadcast B.</summary>
    [Test]
    public void WgmmaTf32Packed()
    {
        var options = new MmaGemmOptions { Wgmma = true, Tf32Rounding = MmaTf32Rounding.Packed };
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                MmaGemmTests.Check(Dev, MmaPrecision.Tf32, ta, tb, 300, 260, 100, options: options);
        MmaGemmTests.Check(Dev, MmaPrecision.Tf32, false, false, 130, 270, 77, batch: 3, broadcastB: true, pad: 3, options: options with { Staging = MmaStaging.WideBlock });
    }
}
