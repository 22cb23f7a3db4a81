using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The fp32 SIMT kernels on each CUDA device of compute capability ≥ 8.0 that ILGPU sees (the GPU machine): the
/// <c>cp.async</c> kernel's copies, zero fill and stage ring as the hardware runs them (ilgpu-cpu runs plain copies, see
/// <see cref="GemmTests"/>), with the 16-deep register-prefetch kernel alongside. No fixture exists where there is no
/// such device, so nothing is skipped.
/// </summary>
[TestFixtureSource(nameof(Devices))]
public class SgemmCudaTests(string device)
{
    /// <summary>CUDA devices with <c>cp.async</c>.</summary>
    public static IEnumerable<string> Devices() =>
        IlgpuContext.Shared.Devices.Select(d => d.Device)
            .Where(d => d.Type == DeviceType.Cuda && IlgpuMmaGemm.IsSupported(IlgpuContext.Shared.Get(d)))
            .Select(d => d.ToString());

    private IlgpuDevice Dev => IlgpuContext.Shared.Get(Device.Parse(device));

    [TestCase(GemmAlgorithm.TiledK16Async)]
    [TestCase(GemmAlgorithm.TiledK16)]
    public void AllTransposesOddSizesAndWholeTiles(GemmAlgorithm algo)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                GemmTests.Check(ta, tb, 130, 77, 45, algo, alignRows: true, device: Dev);
                GemmTests.Check(ta, tb, 256, 256, 256, algo, device: Dev);
                GemmTests.Check(ta, tb, 37, 45, 19, algo, device: Dev);   // unaligned rows: TiledK16 where contiguous along M/N
            }
    }

    [TestCase(GemmAlgorithm.TiledK16Async)]
    [TestCase(GemmAlgorithm.TiledK16)]
    public void BatchedPaddedAlphaBetaAndSplitK(GemmAlgorithm algo)
    {
        GemmTests.Check(false, true, 40, 136, 72, algo, batch: 3, pad: 8, alpha: 0.5f, beta: -2f, device: Dev);
        GemmTests.Check(true, true, 33, 47, 71, algo, batch: 3, pad: 4, alpha: 0.5f, beta: -2f, device: Dev);
        GemmTests.Check(true, false, 16, 12, 20, algo, batch: 2, broadcastB: true, device: Dev);
        GemmTests.Check(false, false, 70, 90, 1, algo, alignRows: true, device: Dev);
        GemmTests.Check(false, false, 38, 42, 70, algo, pad: 2, alpha: 0.5f, beta: -2f, device: Dev);
        GemmTests.Check(false, false, 256, 256, 2048, algo, device: Dev);   // split-K (4 tiles of C on 100+ SMs)
        GemmTests.Check(true, false, 200, 136, 1000, algo, alignRows: true, alpha: 0.5f, beta: -2f, device: Dev);
    }
}
