using Ember.Ilgpu;
using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// Batch norm layers in training on the device against the CPU: the running statistics and num_batches_tracked after
/// several steps (momentum, the cumulative average of momentum null, Float64 layers), the eval output from them, and a
/// training forward's launches (the statistics pass and one fused running-statistics update).
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class BatchNormRunningStatsTests(string device) : DeviceTest(device)
{
    [TestCase(0.1, DType.Float32), TestCase(null, DType.Float32), TestCase(0.25, DType.Float64), TestCase(null, DType.Float64)]
    public void TrainingStepsUpdateTheRunningStatisticsAsOnTheCpu(double? momentum, DType dt)
    {
        var onCpu = new BatchNorm2d(3, momentum: momentum, dtype: dt);
        var onDev = new BatchNorm2d(3, momentum: momentum, dtype: dt);
        using (Autograd.NoGrad())
            foreach (var m in (BatchNorm2d[])[onCpu, onDev])
            {
                m.Weight!.Copy_(Rnd(Device.Cpu, [3], 1, dt));
                m.Bias!.Copy_(Rnd(Device.Cpu, [3], 2, dt));
            }
        onDev.To(Dev);
        for (int step = 0; step < 3; step++)
        {
            var y = onDev.Forward(Rnd(Dev, [4, 3, 5, 2], 10 + step, dt, scale: 2, shift: step));
            var yc = onCpu.Forward(Rnd(Device.Cpu, [4, 3, 5, 2], 10 + step, dt, scale: 2, shift: step));
            AssertClose(Host(y), Host(yc), 2e-5, 2e-6, $"step {step} output");
        }
        AssertClose(Host(onDev.RunningMean!), Host(onCpu.RunningMean!), 1e-6, 1e-7, "running_mean");
        AssertClose(Host(onDev.RunningVar!), Host(onCpu.RunningVar!), 1e-6, 1e-7, "running_var");
        AssertEqual(Host(onDev.GetBuffer("num_batches_tracked")!), [3], "num_batches_tracked");
        onDev.Eval(); onCpu.Eval();
        var x = Rnd(Dev, [2, 3, 4, 4], 20, dt);
        AssertClose(Host(onDev.Forward(x)), Host(onCpu.Forward(x.Cpu())), 2e-5, 2e-6, "eval output");
        AssertEqual(Host(onDev.GetBuffer("num_batches_tracked")!), [3], "num_batches_tracked after eval");
    }

    [TestCase(0.1), TestCase(null)]
    public void TrainingForwardIsThreeLaunches(double? momentum)
    {
        var bn = new BatchNorm2d(4, momentum: momentum).To(Dev);
        var x = Rnd(Dev, [3, 4, 5, 2], 30);
        bn.Forward(x);
        long before = IlgpuProfiler.Launches;
        bn.Forward(x);
        // Partial statistics; their merge, normalization and affine; then the counter, the factor and both running statistics.
        Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(3), "launches");
    }
}
