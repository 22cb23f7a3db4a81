namespace Ember.Conformance;

/// <summary>
/// The optional <see cref="IBackend.Argsort"/> kernel (ILGPU: a bitonic network on the device) against the CPU: exact
/// permutations with ties (stability), NaN in both directions, row lengths that are and are not powers of two; and the
/// sorting ops built on it.
/// </summary>
public abstract class SortKernelTests(string device) : DeviceTest(device)
{
    // Keys with many ties (integers in [0, 5)), a NaN every 7th element and a -∞ / +∞ pair.
    private static Tensor Keys(Device d, long rows, long n)
    {
        var v = new double[rows * n];
        var rng = new System.Random((int)(rows * 1000 + n));
        for (long i = 0; i < v.Length; i++) v[i] = i % 7 == 3 ? double.NaN : rng.Next(5) - 2;
        if (v.Length > 2) { v[0] = double.NegativeInfinity; v[^1] = double.PositiveInfinity; }
        return Tensor.FromArray(v, rows, n).To(d);
    }

    [TestCase(5, 37, false), TestCase(5, 37, true), TestCase(3, 64, false), TestCase(2, 1, true), TestCase(1, 1000, true), TestCase(4, 2, false)]
    public void ArgsortIsStableWithPyTorchsNaNOrder(long rows, long n, bool descending) =>
        Conform(d => [Keys(d, rows, n), Tensor.Empty([rows, n], DType.Int64, d)], (be, t) => be.Argsort(t[0]!, t[1]!, descending), [1], 0, 0);

    [Test]
    public void SortTopKAndKthValueOnTheDeviceMatchCpu()
    {
        foreach (var dt in new[] { DType.Float32, DType.Int64 })
        {
            var xd = Keys(Dev, 6, 9).NanToNum(0.5).To(dt).Transpose(0, 1);
            var xc = Keys(Device.Cpu, 6, 9).NanToNum(0.5).To(dt).Transpose(0, 1);
            var (vd, id) = xd.Sort(0, descending: true, stable: true);
            var (vc, ic) = xc.Sort(0, descending: true, stable: true);
            Assert.That(vd.Device, Is.EqualTo(Dev));
            AssertEqual(Host(vd), Host(vc), $"sort values {dt}");
            AssertEqual(Host(id), Host(ic), $"sort indices {dt}");
            AssertEqual(Host(xd.TopK(3, 1).Indices), Host(xc.TopK(3, 1).Indices), $"topk {dt}");
            AssertEqual(Host(xd.KthValue(2, 0).Indices), Host(xc.KthValue(2, 0).Indices), $"kthvalue {dt}");
            AssertEqual(Host(xd.Argsort(-1)), Host(xc.Argsort(-1)), $"argsort {dt}");
        }
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class SortKernels(string device) : SortKernelTests(device);
