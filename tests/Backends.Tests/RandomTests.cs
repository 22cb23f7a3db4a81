namespace Ember.Conformance;

/// <summary>Philox fills: the device reproduces the CPU backend's values for the same (seed, offset).</summary>
public abstract class RandomTests(string device) : DeviceTest(device)
{
    // 37 elements (not a multiple of 4) written through a contiguous slice with a storage offset.
    private static Tensor Dest(Device d, DType dt) => Tensor.Zeros([45], dt, d).Narrow(0, 5, 37);

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void UniformIsBitIdentical(DType dt)
    {
        Conform(d => [Dest(d, dt)], (be, t) => be.Random(RandomDistribution.Uniform, t[0]!, 42, 7, 0, 1), [0], 0, 0);
        Conform(d => [Dest(d, dt)], (be, t) => be.Random(RandomDistribution.Uniform, t[0]!, 0xDEADBEEFCAFEUL, 1UL << 33, -2, 3), [0], 1e-7, 0);
    }

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void BernoulliIsBitIdentical(DType dt)
    {
        Conform(d => [Dest(d, dt)], (be, t) => be.Random(RandomDistribution.Bernoulli, t[0]!, 5, 3, 0.3, 0), [0], 0, 0);
    }

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void NormalMatchesToFloatRounding(DType dt)
    {
        Conform(d => [Dest(d, dt)], (be, t) => be.Random(RandomDistribution.Normal, t[0]!, 123, 11, 0.5, 2), [0], 1e-5, 1e-5);
    }

    [Test]
    public void SeededFactoriesAgreeAcrossDevices()
    {
        var g1 = new Generator(99); var g2 = new Generator(99);
        var cpu = Tensor.Rand([3, 5], DType.Float32, Device.Cpu, generator: g1);
        var dev = Tensor.Rand([3, 5], DType.Float32, Dev, generator: g2);
        AssertEqual(Host(dev), Host(cpu), "Rand");
        var ncpu = Tensor.Randn([7], DType.Float32, Device.Cpu, generator: g1);
        var ndev = Tensor.Randn([7], DType.Float32, Dev, generator: g2);
        AssertClose(Host(ndev), Host(ncpu), 1e-5, 1e-5, "Randn");
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class RandomFills(string device) : RandomTests(device);
