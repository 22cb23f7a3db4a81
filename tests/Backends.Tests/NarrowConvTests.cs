using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// Autocast's convolution on the ILGPU backend with Float16/BFloat16 tensors: col2im sums 16-bit columns in one launch
/// (the float32 kernel's values between two conversions), and the forward and input-gradient convolutions run on 16-bit
/// storage within the dtype's rounding of the float32 convolution.
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
    }
}
