using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// GRU and LSTM gradients through 8 time steps on the device against the CPU backend, at a tolerance tight enough
/// to catch approximate transcendental instructions: ILGPU compiles float tanh / e^x to PTX tanh.approx / ex2.approx
/// (relative error up to 5e-4 for tanh), which put a GRU's weight gradients 6e-4 (relative) away on CUDA.
/// </summary>
public abstract class RecurrentGradientTests(string device) : DeviceTest(device)
{
    /// <summary>Largest |device − cpu| over the largest |cpu|, per parameter (name → relative error).</summary>
    private Dictionary<string, double> RelativeGradientErrors(Func<Module> make, Func<Module, Tensor, Tensor> output)
    {
        var module = make();
        var x = Rnd(Device.Cpu, [8, 3, 8], 11);
        var proj = Rnd(Device.Cpu, [8, 3, 16], 12);
        (output(module, x) * proj).Sum().Backward();
        var cpu = module.NamedParameters().ToDictionary(p => p.Name, p => Host(p.Parameter.Grad!));
        module.ZeroGrad();
        module.To(Dev);
        (output(module, x.To(Dev)) * proj.To(Dev)).Sum().Backward();
        var errors = new Dictionary<string, double>();
        foreach (var (name, p) in module.NamedParameters())
        {
            Assert.That(p.Device, Is.EqualTo(Dev), name);
            var dev = Host(p.Grad!);
            double maxDiff = 0, maxRef = 0;
            for (int i = 0; i < dev.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(dev[i] - cpu[name][i]));
                maxRef = Math.Max(maxRef, Math.Abs(cpu[name][i]));
            }
            Assert.That(maxRef, Is.GreaterThan(0), $"{name}: the CPU gradient is all zero, so nothing is compared");
            errors[name] = maxDiff / maxRef;
        }
        return errors;
    }

    private static void AssertBelow(Dictionary<string, double> errors, double limit)
    {
        foreach (var (name, e) in errors)
            Assert.That(e, Is.LessThanOrEqualTo(limit), $"{name}: max |device − cpu| / max |cpu| = {e:E2}");
    }

    [Test]
    public void GruWeightGradientsMatchCpuWithin1e5Relative() =>
        AssertBelow(RelativeGradientErrors(() => new GRU(8, 16), (m, x) => ((GRU)m).Forward(x).Output), 1e-5);

    [Test]
    public void LstmWeightGradientsMatchCpuWithin1e5Relative() =>
        AssertBelow(RelativeGradientErrors(() => new LSTM(8, 16), (m, x) => ((LSTM)m).Forward(x).Output), 1e-5);
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class RecurrentGradientsOnDevice(string device) : RecurrentGradientTests(device);
