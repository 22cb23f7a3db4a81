using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// The ILGPU backend's Float16/BFloat16 column sum (Linear's bias gradient) against the CPU backend, and against the
/// float32 column reduction rounded once (bit for bit where that takes the column kernel: n ≥ 128), in one or two
/// launches on 16-bit storage.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class NarrowColumnSumTests(string device) : DeviceTest(device)
{
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dt in new[] { DType.Float16, DType.BFloat16 })
            foreach (var (m, n) in new[] { (0L, 5L), (1L, 7L), (16L, 130L), (40L, 3L), (200L, 128L), (700L, 200L) })
                yield return new TestCaseData(dt, m, n);
    }

    [TestCaseSource(nameof(Cases))]
    public void ColumnSumMatchesTheCpuAndTheFloat32ReductionRoundedOnce(DType dt, long m, long n)
    {
        Conform(d => [Rnd(d, [m, n], 11, dt, 2), Tensor.Zeros([n], dt, d)], (be, t) => be.ColumnSum(t[0]!, t[1]!), [1],
            rtol: dt == DType.Float16 ? Math.Pow(2, -10) : Math.Pow(2, -7), atol: 1e-3);
        var g = Rnd(Dev, [m, n], 11, dt, 2);
        var result = Tensor.Zeros([n], dt, Dev);
        long before = IlgpuProfiler.Launches;
        g.Backend.ColumnSum(g, result);
        Assert.That(IlgpuProfiler.Launches - before, Is.LessThanOrEqualTo(m > 16 ? 2 : 1), "launches");
        if (n >= IlgpuBackend.ColumnMinRows)
            AssertEqual(Host(result), Host(g.To(DType.Float32).Sum(0).To(dt)), $"[{m}, {n}] in {dt}");
    }
}
