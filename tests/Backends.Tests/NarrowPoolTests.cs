using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// The ILGPU backend's Float16/BFloat16 max pooling runs in one launch on 16-bit storage and gives the float32 kernel's
/// maxima and indices bit for bit (padding, overlapping windows, a NaN and ties included).
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
}
