namespace Ember.Conformance;

/// <summary>The sampling ops built on the Philox fill give the CPU's draws on the device for the same generator state.</summary>
public abstract class SamplingTests(string device) : DeviceTest(device)
{
    [Test]
    public void ExponentialBernoulliMultinomialAndRandpermAgreeWithTheCpu()
    {
        var cpu = Run(Device.Cpu);
        var dev = Run(Dev);
        AssertClose(dev.Exp, cpu.Exp, 1e-6, 1e-6, "Exponential_");
        AssertEqual(dev.Bern, cpu.Bern, "Bernoulli");
        AssertEqual(dev.MultR, cpu.MultR, "Multinomial with replacement");
        AssertEqual(dev.MultNoR, cpu.MultNoR, "Multinomial without replacement");
        AssertEqual(dev.Perm, cpu.Perm, "Randperm");
    }

    private static (double[] Exp, double[] Bern, double[] MultR, double[] MultNoR, double[] Perm) Run(Device d)
    {
        var g = new Generator(2024);
        var exp = Tensor.Empty([37], DType.Float32, d).Exponential_(1.5, g);
        var probs = Tensor.FromArray([0.1f, 0.5f, 0.9f, 0.0f, 1.0f]).To(d);
        var bern = probs.Bernoulli(g);
        var w = Tensor.FromArray([1f, 0f, 3f, 2f, 4f, 0.5f], 2, 3).To(d);
        var multR = w.Multinomial(16, true, g);
        var multNoR = w.Multinomial(2, false, g);
        var perm = Tensor.Randperm(9, device: d, generator: g);
        return (Host(exp), Host(bern), Host(multR), Host(multNoR), Host(perm));
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class SamplingConformance(string device) : SamplingTests(device);
