using Ember.Ilgpu;
using Ember.Ilgpu.Ops;

namespace Ember.Conformance;

/// <summary>
/// The ILGPU backend's two-launch weight gradient of convolutions with few outputs (<see cref="ConvWeightGradKernels"/>):
/// against the CPU backend and against the im2col + GEMM path it replaces, with and without a bias, with strides,
/// padding, dilation and rectangular kernels, positions that leave the last tile short and several tiles per group;
/// 16-bit storage equal to the float32 kernel's sums rounded once.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class ConvWeightGradDirectTests(string device) : DeviceTest(device)
{
    // (N, C, H, W, O, kH, kW, stride H, stride W, pad, dilation, bias)
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(5, 3, 13, 11, 8, 3, 3, 2, 2, 1, 2, true).SetName("Direct weight grad 3x13x11 o8 k3 s2 p1 d2 bias");
        yield return new TestCaseData(3, 1, 28, 28, 32, 5, 5, 1, 1, 0, 1, false).SetName("Direct weight grad 1x28x28 o32 k5");
        yield return new TestCaseData(2, 3, 9, 7, 5, 3, 2, 1, 2, 1, 1, true).SetName("Direct weight grad 3x9x7 o5 k3x2 s1x2 p1 bias");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesTheCpuBackendAndTheGemmPathInTwoLaunches(int n, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int pad,
        int dil, bool bias)
    {
        var g = new ConvGeometry(c, h, w, kh, kw, sh, sw, pad, pad, dil, dil);
        long[] xs = [n, c, h, w], ws = [o, c, kh, kw], ys = [n, o, g.OutH, g.OutW];
        Assert.That(ConvWeightGradKernels.Tile(o, (long)c * kh * kw), Is.GreaterThan(0), "the case takes the direct kernel");
        Tensor?[] Make(Device d) => [Rnd(d, ys, 4), Rnd(d, xs, 1), Tensor.Empty(ws, DType.Float32, d), bias ? Tensor.Empty([o], DType.Float32, d) : null];
        long launches = 0;
        // Sums of up to 1,728 products in float32, in other orders on the CPU: 1e-4.
        Conform(Make, (be, t) =>
        {
            long before = IlgpuProfiler.Launches;
            be.Conv2dWeightGrad(t[0]!, t[1]!, g, 1, t[2]!, t[3]);
            if (be is IlgpuBackend) launches = IlgpuProfiler.Launches - before;
        }, bias ? [2, 3] : [2], 1e-4, 1e-4);
        Assert.That(launches, Is.EqualTo(2), "launches");

        var direct = Make(Dev);
        direct[0]!.Backend.Conv2dWeightGrad(direct[0]!, direct[1]!, g, 1, direct[2]!, direct[3]);
        var gemm = Make(Dev);
        WithoutDirect(() => gemm[0]!.Backend.Conv2dWeightGrad(gemm[0]!, gemm[1]!, g, 1, gemm[2]!, gemm[3]));
        AssertClose(Host(direct[2]!), Host(gemm[2]!), 1e-4, 1e-4, "weight gradient, direct vs GEMM");
        if (bias) AssertClose(Host(direct[3]!), Host(gemm[3]!), 1e-4, 1e-4, "bias gradient, direct vs GEMM");
    }

    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void SixteenBitStorageIsTheFloat32SumsRoundedOnce(DType dt)
    {
        // A first layer: 32 output channels over 3 × 3 × 3 windows, 16 × 16 planes with padding 1 (768 positions).
        var g = new ConvGeometry(3, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1);
        var x = Rnd(Dev, [3, 3, 16, 16], 11, dt);
        var grad = Rnd(Dev, [3, 32, 16, 16], 12, dt, scale: 0.1);
        var (gw, gb) = (Tensor.Zeros([32, 3, 3, 3], dt, Dev), Tensor.Zeros([32], dt, Dev));
        long before = IlgpuProfiler.Launches;
        x.Backend.Conv2dWeightGrad(grad, x, g, 1, gw, gb);
        Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(2), "launches");
        // The same kernel on the widened values: the 16-bit loads are exact and the sums run in the same order, so the
        // only difference is the final rounding.
        var (gw32, gb32) = (Tensor.Zeros([32, 3, 3, 3], DType.Float32, Dev), Tensor.Zeros([32], DType.Float32, Dev));
        x.Backend.Conv2dWeightGrad(grad.To(DType.Float32), x.To(DType.Float32), g, 1, gw32, gb32);
        AssertEqual(Host(gw), Host(gw32.To(dt)), $"weight gradient in {dt}");
        AssertEqual(Host(gb), Host(gb32.To(dt)), $"bias gradient in {dt}");
        // And the float32 kernel agrees with the CPU backend up to the order of its float32 sums.
        var (cw, cb) = (Tensor.Zeros([32, 3, 3, 3], DType.Float32, Device.Cpu), Tensor.Zeros([32], DType.Float32, Device.Cpu));
        Ember.Cpu.CpuBackend.Instance.Conv2dWeightGrad(grad.Cpu().To(DType.Float32), x.Cpu().To(DType.Float32), g, 1, cw, cb);
        AssertClose(Host(gw32), Host(cw), 1e-4, 1e-4, "float32 weight gradient vs cpu");
        AssertClose(Host(gb32), Host(cb), 1e-4, 1e-4, "float32 bias gradient vs cpu");
    }

    [Test]
    public void TileFitsSharedMemory()
    {
        // 32 × 27 windows: 32 + 27 + 2 rows (with the ones and zeros rows) of 129 floats ≤ 8192; 256 positions would not fit.
        Assert.That(ConvWeightGradKernels.Tile(32, 27), Is.EqualTo(128));
        Assert.That(ConvWeightGradKernels.Tile(4, 9), Is.EqualTo(256));
        // Too many gradients (64 × 289) or not even 32 positions per tile (303 rows of 33 floats): the GEMM path.
        Assert.That(ConvWeightGradKernels.Tile(64, 288), Is.EqualTo(0));
        Assert.That(ConvWeightGradKernels.Tile(1, 300), Is.EqualTo(0));
    }

    // Runs body with the direct kernel off (the im2col + GEMM path), restoring the setting after.
    internal static void WithoutDirect(Action body)
    {
        bool was = IlgpuBackend.ConvDirectWeightGrad;
        IlgpuBackend.ConvDirectWeightGrad = false;
        try { body(); }
        finally { IlgpuBackend.ConvDirectWeightGrad = was; }
    }
}
