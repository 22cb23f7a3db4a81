using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// The ILGPU backend's Float16/BFloat16 max pooling runs in one launch on 16-bit storage and gives the float32 kernel's
/// maxima and indices bit for bit (padding, overlapping windows, a NaN and ties included); its backward, where windows do
/// not overlap, is a zero fill and one launch giving the float32 kernel's gradient bit for bit.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class NarrowPoolTests(string device) : DeviceTest(device)
{
    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void MaxPoolIsOneLaunchAndEqualsTheFloat32Kernel(DType dt)
    {
        foreach (var pg in new[] { new PoolGeometry(8, 8, 2, 2, 2, 2, 0, 0, 4, 4), new PoolGeometry(8, 8, 3, 3, 2, 2, 1, 1, 4, 4) })
        {
            var values = Floats(2 * 3 * 8 * 8, 24, 2);
            values[5] = float.NaN;
            values[70] = values[71] = 9f;   // a tie inside one window
            var x = Tensor.FromArray(values, [2, 3, 8, 8]).To(Dev).To(dt);
            var result = Tensor.Zeros([2, 3, 4, 4], dt, Dev);
            var at = Tensor.Zeros([2, 3, 4, 4], DType.Int64, Dev);
            long before = IlgpuProfiler.Launches;
            x.Backend.MaxPool2d(x, pg, result, at);
            Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(1), "launches");
            var wide = Tensor.Zeros([2, 3, 4, 4], DType.Float32, Dev);
            var wideAt = Tensor.Zeros([2, 3, 4, 4], DType.Int64, Dev);
            x.Backend.MaxPool2d(x.To(DType.Float32), pg, wide, wideAt);
            AssertEqual(Host(result), Host(wide.To(dt)), $"maxima in {dt}");
            AssertEqual(Host(at), Host(wideAt), $"indices in {dt}");
        }
    }
    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void MaxPoolBackwardOfDisjointWindowsIsTwoLaunchesAndEqualsTheFloat32Kernel(DType dt)
    {
        // 2×2 stride 2 (disjoint: the 16-bit kernel) and 3×3 stride 2 padded (overlapping: through float32, sums of two).
        foreach (var pg in new[] { new PoolGeometry(8, 8, 2, 2, 2, 2, 0, 0, 4, 4), new PoolGeometry(8, 8, 3, 3, 2, 2, 1, 1, 4, 4) })
        {
            var x = Rnd(Dev, [2, 3, 8, 8], 25, dt);
            var at = Tensor.Zeros([2, 3, 4, 4], DType.Int64, Dev);
            x.Backend.MaxPool2d(x, pg, Tensor.Zeros([2, 3, 4, 4], dt, Dev), at);
            var values = Floats(2 * 3 * 4 * 4, 26, 3);
            values[7] = -0f;   // stored as +0, as 0 + (−0) in the float32 kernel
            var g = Tensor.FromArray(values, [2, 3, 4, 4]).To(Dev).To(dt);
            var gi = Tensor.Full([2, 3, 8, 8], 5.0, dt, Dev);   // stale contents: the kernel must zero them
            long before = IlgpuProfiler.Launches;
            x.Backend.MaxPool2dBackward(g, x, at, pg, gi);
            long launches = IlgpuProfiler.Launches - before;
            var wide = Tensor.Full([2, 3, 8, 8], 5.0, DType.Float32, Dev);
            x.Backend.MaxPool2dBackward(g.To(DType.Float32), x.To(DType.Float32), at, pg, wide);
            var (got, want) = (Host(gi), Host(wide.To(dt)));
            AssertEqual(got, want, $"gradient in {dt}, kernel {pg.KernelH}");
            Assert.That(got.Select(double.IsNegative), Is.EqualTo(want.Select(double.IsNegative)), "signs of zeros");
            if (pg.KernelH == 2) Assert.That(launches, Is.EqualTo(2), "launches (fill, scatter)");
        }
    }
}
