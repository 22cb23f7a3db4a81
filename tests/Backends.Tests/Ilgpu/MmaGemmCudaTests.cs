using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The inline-PTX <c>mma.sync</c> kernels on each CUDA device of compute capability ≥ 8.0 that ILGPU sees (the GPU
/// machine): the same checks as <see cref="MmaGemmTests"/>, which test the emulation on ilgpu-cpu. No fixture exists
/// where there is no such device, so nothing is skipped.
/// </summary>
[TestFixtureSource(nameof(Devices))]
public class MmaGemmCudaTests(string device)
{
    /// <summary>CUDA devices that run the tensor-core kernels natively.</summary>
    public static IEnumerable<string> Devices() =>
        IlgpuContext.Shared.Devices.Select(d => d.Device)
            .Where(d => d.Type == DeviceType.Cuda && IlgpuMmaGemm.IsSupported(IlgpuContext.Shared.Get(d)))
            .Select(d => d.ToString());

    private IlgpuDevice Dev => IlgpuContext.Shared.Get(Device.Parse(device));

    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void AllTransposesOddSizesAndWholeTiles(MmaPrecision p)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                MmaGemmTests.Check(Dev, p, ta, tb, 130, 77, 45);
                MmaGemmTests.Check(Dev, p, ta, tb, 256, 256, 256);
            }
    }

    /// <summary>The tensor core's own treatment of unrounded operands: truncation, on every path.</summary>
    [Test]
    public void Tf32TruncateAllPaths()
    {
        MmaGemmTests.Tf32RoundingProbe(Dev);
        foreach (var o in new MmaGemmOptions[] { new() { Pipeline = false }, new() { Pipeline = true, WarpTile64 = false }, default })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    MmaGemmTests.Check(Dev, MmaPrecision.Tf32, ta, tb, 130, 77, 45, options: o with { Tf32Truncate = true });
    }

    /// <summary>TF32 rounded in shared memory, in registers and by <c>cvt.rn.tf32</c>: the same bits on every kernel path, every layout within tolerance.</summary>
    [Test]
    public void Tf32RoundingPlacesAgree()
    {
        MmaGemmTests.Tf32RoundingsAgree(Dev, new MmaGemmOptions[]
        {
            new() { Pipeline = false }, new() { Pipeline = true, WarpTile64 = false }, default, new() { SplitK = 3 },
            new() { Staging = MmaStaging.DeepSlabs }, new() { Staging = MmaStaging.WideBlockDeepSlabs, EarlyBarrier = true },
        });
        foreach (var r in MmaGemmTests.RoundingOptions)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    MmaGemmTests.Check(Dev, MmaPrecision.Tf32, ta, tb, 130, 77, 45, options: r);
    }

    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void BatchedPaddedUnalignedAlphaBeta(MmaPrecision p)
    {
        MmaGemmTests.Check(Dev, p, false, true, 40, 136, 72, batch: 3, pad: 8, alpha: 0.5f, beta: -2f);
        MmaGemmTests.Check(Dev, p, true, false, 33, 20, 50, pad: 3, offset: 1);
        MmaGemmTests.Check(Dev, p, true, false, 16, 12, 10, batch: 2, broadcastB: true);
        MmaGemmTests.Check(Dev, p, false, false, 70, 90, 1);
        MmaGemmTests.Check(Dev, p, true, true, 33, 47, 71, batch: 3, pad: 5, alpha: 0.5f, beta: -2f);
    }

    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void InPlaceLayoutsAndSplitK(MmaPrecision p)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                MmaGemmTests.Check(Dev, p, ta, tb, 130, 77, 45, options: new MmaGemmOptions { KeepLayout = true });
                MmaGemmTests.Check(Dev, p, ta, tb, 200, 136, 1000, alpha: 0.5f, beta: -2f, options: new MmaGemmOptions { SplitK = 5 });
            }
        MmaGemmTests.Check(Dev, p, false, false, 256, 256, 2048);   // automatic split-K
    }

    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void PipelinedVariant(MmaPrecision p)
    {
        // cp.async with its zero fill (partial slabs), the swizzled stages, more slabs than stages, packing, split-K.
        var pipe = new MmaGemmOptions { Pipeline = true, WarpTile64 = false };   // the 64x32-warp loop (64x64 is the CUDA default)
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                MmaGemmTests.Check(Dev, p, ta, tb, 130, 77, 45, options: pipe);
                MmaGemmTests.Check(Dev, p, ta, tb, 200, 136, 1000, alpha: 0.5f, beta: -2f, options: pipe with { SplitK = 5 });
            }
        MmaGemmTests.Check(Dev, p, false, true, 256, 256, 256, batch: 2, alpha: 0.5f, beta: -2f, options: pipe);
        MmaGemmTests.Check(Dev, p, false, true, 40, 136, 72, batch: 3, pad: 8, alpha: 0.5f, beta: -2f, options: pipe);
        MmaGemmTests.Check(Dev, p, true, false, 33, 20, 50, pad: 3, offset: 1, options: pipe);
        MmaGemmTests.Check(Dev, p, false, false, 70, 90, 1, options: pipe);
        MmaGemmTests.Check(Dev, p, false, false, 256, 256, 2048, options: pipe);   // automatic split-K
        var ld = pipe with { LdMatrix = true };
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                MmaGemmTests.Check(Dev, p, ta, tb, 130, 77, 45, options: ld);
        MmaGemmTests.Check(Dev, p, false, true, 256, 256, 256, batch: 2, alpha: 0.5f, beta: -2f, options: ld);
        MmaGemmTests.Check(Dev, p, false, false, 256, 256, 2048, options: ld);
    }

    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void WideWarpTileVariant(MmaPrecision p)
    {
        // 4 warps of 64x64 (128 threads): the same cases as the pipelined loop's.
        VariantCases(Dev, p, new MmaGemmOptions { WarpTile64 = true });
    }

    /// <summary>
    /// The cases every kernel variant runs on CUDA with <paramref name="options"/>: every transpose (odd sizes, and
    /// split-K 5 with alpha/beta and N = <paramref name="n"/>), batches (the first with N = <paramref name="batchN"/>)
    /// with strides and padding, an offset operand, K = 1, and the automatic split-K.
    /// </summary>
    internal static void VariantCases(IlgpuDevice dev, MmaPrecision p, MmaGemmOptions options, int n = 136, int batchN = 256)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                MmaGemmTests.Check(dev, p, ta, tb, 130, 77, 45, options: options);
                MmaGemmTests.Check(dev, p, ta, tb, 200, n, 1000, alpha: 0.5f, beta: -2f, options: options with { SplitK = 5 });
            }
        MmaGemmTests.Check(dev, p, false, true, 256, batchN, 256, batch: 2, alpha: 0.5f, beta: -2f, options: options);
        MmaGemmTests.Check(dev, p, false, true, 40, 136, 72, batch: 3, pad: 8, alpha: 0.5f, beta: -2f, options: options);
        MmaGemmTests.Check(dev, p, true, false, 33, 20, 50, pad: 3, offset: 1, options: options);
        MmaGemmTests.Check(dev, p, false, false, 70, 90, 1, options: options);
        MmaGemmTests.Check(dev, p, false, false, 256, 256, 2048, options: options);   // automatic split-K
    }

    [TestCaseSource(typeof(MmaGemmTests), nameof(MmaGemmTests.Stagings))]
    public void DynamicSharedStagesVariant(MmaPrecision p, MmaStaging staging)
    {
        // Stages in dynamic shared memory above 48 KB (the cuFuncSetAttribute opt-in): the 64x64 kernel's cases, plus
        // K long enough for many trips around the ring of stages.
        var dyn = new MmaGemmOptions { Staging = staging };
        VariantCases(Dev, p, dyn);
        MmaGemmTests.Check(Dev, p, false, true, 256, 130, 1111, options: dyn);
    }

    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void LdMatrixVariant(MmaPrecision p)
    {
        var ld = new MmaGemmOptions { LdMatrix = true };
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                MmaGemmTests.Check(Dev, p, ta, tb, 130, 77, 45, options: ld);
        MmaGemmTests.Check(Dev, p, false, true, 256, 256, 256, batch: 2, alpha: 0.5f, beta: -2f, options: ld);
        MmaGemmTests.Check(Dev, p, false, false, 256, 256, 2048, options: ld);
    }
}
