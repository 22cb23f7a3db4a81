using Ember.Ilgpu;
using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// Autocast's convolution on the ILGPU backend with Float16/BFloat16 tensors: col2im sums 16-bit columns in one launch
/// (the float32 kernel's values between two conversions), and the forward and input-gradient convolutions run on 16-bit
/// storage (the weight gradient as one GEMM over every sample) within the dtype's rounding of the float32 convolution.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class NarrowConvTests(string device) : DeviceTest(device)
{
    private static readonly ConvGeometry Geometry = new(3, 6, 5, 3, 3, 2, 1, 1, 1, 1, 1);

    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void Col2ImIsOneLaunchAndEqualsTheFloat32Kernel(DType dt)
    {
        long rows = 3 * 3 * 3, l = Geometry.OutH * Geometry.OutW;
        var columns = Rnd(Dev, [2, rows, l], 81, dt);
        var x = Tensor.Zeros([2, 3, 6, 5], dt, Dev);
        long before = IlgpuProfiler.Launches;
        x.Backend.Col2Im(columns, Geometry, x);
        Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(1), "launches");
        var wide = Tensor.Zeros([2, 3, 6, 5], DType.Float32, Dev);
        x.Backend.Col2Im(columns.To(DType.Float32), Geometry, wide);
        AssertEqual(Host(x), Host(wide.To(dt)), $"col2im in {dt}");
    }

    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void ConvolutionAndInputGradientAreWithinTheDTypeRounding(DType dt)
    {
        var x = Rnd(Dev, [2, 3, 6, 5], 82, dt);
        var w = Rnd(Dev, [4, 3, 3, 3], 83, dt, scale: 0.5);
        var b = Rnd(Dev, [4], 84, dt);
        var y = Tensor.Zeros([2, 4, Geometry.OutH, Geometry.OutW], dt, Dev);
        x.Backend.Conv2d(x, w, b, Geometry, 1, y);
        var y32 = Tensor.Zeros(y.Shape, DType.Float32, Dev);
        x.Backend.Conv2d(x.To(DType.Float32), w.To(DType.Float32), b.To(DType.Float32), Geometry, 1, y32);
        // One rounding of the float32 result (the GEMM may sum in another order).
        AssertClose(Host(y), Host(y32), 8e-3, 1e-3, $"conv2d in {dt}");

        var g = Rnd(Dev, y.Shape.ToArray(), 85, dt);
        var gx = Tensor.Zeros([2, 3, 6, 5], dt, Dev);
        x.Backend.Conv2dInputGrad(g, w, Geometry, 1, gx);
        var gx32 = Tensor.Zeros([2, 3, 6, 5], DType.Float32, Dev);
        x.Backend.Conv2dInputGrad(g.To(DType.Float32), w.To(DType.Float32), Geometry, 1, gx32);
        // Two roundings: the GEMM's columns, then col2im's sums.
        AssertClose(Host(gx), Host(gx32), 2e-2, 2e-2, $"input gradient in {dt}");

        var gw = Tensor.Zeros([4, 3, 3, 3], dt, Dev);
        var gb = Tensor.Zeros([4], dt, Dev);
        x.Backend.Conv2dWeightGrad(g, x, Geometry, 1, gw, gb);
        var gw32 = Tensor.Zeros([4, 3, 3, 3], DType.Float32, Dev);
        var gb32 = Tensor.Zeros([4], DType.Float32, Dev);
        x.Backend.Conv2dWeightGrad(g.To(DType.Float32), x.To(DType.Float32), Geometry, 1, gw32, gb32);
        // One GEMM over every sample and position, rounded once.
        AssertClose(Host(gw), Host(gw32), 8e-3, 1e-3, $"weight gradient in {dt}");
        AssertClose(Host(gb), Host(gb32), 8e-3, 1e-3, $"bias gradient in {dt}");
    }

    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void BiasGradientIsTwoLaunchesOn16BitStorageWithinOneRounding(DType dt)
    {
        // 4 samples of 16×16 with padding 1: rows of 1024 gradient elements per output channel, summed in 64 slices.
        var geometry = new ConvGeometry(2, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1);
        var x = Rnd(Dev, [4, 2, 16, 16], 91, dt);
        var g = Rnd(Dev, [4, 5, 16, 16], 92, dt);
        var (gw, gb) = (Tensor.Zeros([5, 2, 3, 3], dt, Dev), Tensor.Zeros([5], dt, Dev));
        long withoutBias = 0, withBias = 0;
        // The GEMM path's bias gradient (this layer's few outputs would otherwise take the two-launch direct kernel).
        ConvWeightGradDirectTests.WithoutDirect(() =>
        {
            long before = IlgpuProfiler.Launches;
            x.Backend.Conv2dWeightGrad(g, x, geometry, 1, gw, null);
            withoutBias = IlgpuProfiler.Launches - before;
            before = IlgpuProfiler.Launches;
            x.Backend.Conv2dWeightGrad(g, x, geometry, 1, gw, gb);
            withBias = IlgpuProfiler.Launches - before;
        });
        // Float32 sums of the same gradient, rounded once: within one rounding of the dtype (the order differs).
        var expected = g.To(DType.Float32).Sum([0, 2, 3]);
        AssertClose(Host(gb), Host(expected), dt == DType.Float16 ? Math.Pow(2, -10) : Math.Pow(2, -7), 1e-3, $"bias gradient in {dt}");
        Assert.That(withBias - withoutBias, Is.EqualTo(2), "launches of the bias gradient");
    }

    [Test]
    public void AutocastConvolutionTrainsLikeTheFloat32Convolution()
    {
        var conv = new Conv2d(3, 4, (3, 3), stride: (2, 2), padding: (1, 1));
        conv.To(Dev);
        var x = Rnd(Dev, [2, 3, 6, 5], 86).RequiresGrad_();
        Tensor y;
        using (Autocast.Enable(Dev, DType.BFloat16)) y = conv.Forward(x);
        Assert.That(y.DType, Is.EqualTo(DType.BFloat16));
        var g = Rnd(Dev, y.Shape.ToArray(), 87, DType.BFloat16);
        y.Backward(g);
        Assert.That(conv.Weight.Grad!.DType, Is.EqualTo(DType.Float32));
        // The float32 convolution with the same parameters.
        var conv2 = new Conv2d(3, 4, (3, 3), stride: (2, 2), padding: (1, 1));
        conv2.To(Dev);
        using (Autograd.NoGrad()) { conv2.Weight.Copy_(conv.Weight); conv2.Bias!.Copy_(conv.Bias!); }
        var x2 = x.Detach().RequiresGrad_();
        var y2 = conv2.Forward(x2);
        y2.Backward(g.To(DType.Float32));
        AssertClose(Host(y), Host(y2), 2e-2, 2e-2, "y");
        AssertClose(Host(x.Grad!), Host(x2.Grad!), 3e-2, 3e-2, "x.grad");
        AssertClose(Host(conv.Weight.Grad!), Host(conv2.Weight.Grad!), 3e-2, 3e-2, "weight.grad");
        AssertClose(Host(conv.Bias!.Grad!), Host(conv2.Bias!.Grad!), 3e-2, 3e-2, "bias.grad");
    }
}
