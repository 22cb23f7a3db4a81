using Ember.Ilgpu;
using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// The mixed batch norm (Float16/BFloat16 x, Float32 weight and bias, autocast's): the ILGPU backend runs each direction in
/// two launches on 16-bit storage and gives the float32 kernel's values between two conversions bit for bit; every result
/// matches the CPU's; under autocast a training step's batch norm records no casts.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class NarrowBatchNormTests(string device) : DeviceTest(device)
{
    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void ForwardIsTwoLaunchesAndEqualsTheFloat32Kernel(DType dt)
    {
        var x = Rnd(Dev, [3, 4, 5, 2], 31, dt, scale: 2, shift: 1);
        var w = Rnd(Dev, [4], 32);
        var b = Rnd(Dev, [4], 33);
        var (y, mean, variance, rstd) = (Tensor.Zeros([3, 4, 5, 2], dt, Dev), Tensor.Zeros([4], DType.Float64, Dev), Tensor.Zeros([4], DType.Float64, Dev), Tensor.Zeros([4], DType.Float64, Dev));
        long before = IlgpuProfiler.Launches;
        x.Backend.BatchNorm(x, w, b, 1e-5, y, mean, variance, rstd);
        Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(2), "launches (partial statistics, then the merge and elementwise pass)");
        var (wide, m2, v2, r2) = (Tensor.Zeros([3, 4, 5, 2], DType.Float32, Dev), Tensor.Zeros([4], DType.Float64, Dev), Tensor.Zeros([4], DType.Float64, Dev), Tensor.Zeros([4], DType.Float64, Dev));
        x.Backend.BatchNorm(x.To(DType.Float32), w, b, 1e-5, wide, m2, v2, r2);
        AssertEqual(Host(y), Host(wide.To(dt)), $"y in {dt}");
        AssertEqual(Host(mean), Host(m2), "mean");
        AssertEqual(Host(variance), Host(v2), "variance");
        AssertEqual(Host(rstd), Host(r2), "rstd");
    }

    [TestCase(DType.Float16), TestCase(DType.BFloat16)]
    public void BackwardIsTwoLaunchesAndEqualsTheFloat32Kernel(DType dt)
    {
        var x = Rnd(Dev, [3, 4, 5, 2], 41, dt, scale: 2, shift: 1);
        var g = Rnd(Dev, [3, 4, 5, 2], 42, dt);
        var w = Rnd(Dev, [4], 43);
        var (mean, variance, rstd) = (Tensor.Zeros([4], DType.Float64, Dev), Tensor.Zeros([4], DType.Float64, Dev), Tensor.Zeros([4], DType.Float64, Dev));
        x.Backend.BatchNorm(x, w, null, 1e-5, Tensor.Zeros([3, 4, 5, 2], dt, Dev), mean, variance, rstd);
        var (gx, gw, gb) = (Tensor.Zeros([3, 4, 5, 2], dt, Dev), Tensor.Zeros([4], DType.Float32, Dev), Tensor.Zeros([4], DType.Float32, Dev));
        long before = IlgpuProfiler.Launches;
        x.Backend.BatchNormBackward(g, x, w, mean, rstd, gx, gw, gb);
        Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(2), "launches (partial statistics, then the merge and elementwise pass)");
        var (gx2, gw2, gb2) = (Tensor.Zeros([3, 4, 5, 2], DType.Float32, Dev), Tensor.Zeros([4], DType.Float32, Dev), Tensor.Zeros([4], DType.Float32, Dev));
        x.Backend.BatchNormBackward(g.To(DType.Float32), x.To(DType.Float32), w, mean, rstd, gx2, gw2, gb2);
        AssertEqual(Host(gx), Host(gx2.To(dt)), $"gradX in {dt}");
        AssertEqual(Host(gw), Host(gw2), "gradWeight");
        AssertEqual(Host(gb), Host(gb2), "gradBias");
    }

    [Test]
    public void MixedBatchNormMatchesTheCpu() =>
        Conform(d => [Rnd(d, [2, 3, 4, 4], 51, DType.BFloat16), Rnd(d, [3], 52), Rnd(d, [3], 53), Tensor.Zeros([2, 3, 4, 4], DType.BFloat16, d),
                Tensor.Zeros([3], DType.Float64, d), Tensor.Zeros([3], DType.Float64, d), Tensor.Zeros([3], DType.Float64, d)],
            (be, t) => be.BatchNorm(t[0]!, t[1], t[2], 1e-5, t[3]!, t[4]!, t[5]!, t[6]!), [3, 4, 5, 6], rtol: 8e-3, atol: 1e-5);

    [Test]
    public void AutocastTrainingBatchNormCastsNothingAndMatchesTheFloat32Path()
    {
        Tensor.ManualSeed(7);
        var bn = new BatchNorm2d(3);
        bn.To(Dev);
        var x = Rnd(Dev, [2, 3, 4, 4], 61, DType.BFloat16).RequiresGrad_();
        Tensor y;
        using (Autocast.Enable(Dev, DType.BFloat16)) y = bn.Forward(x);
        Assert.That(y.DType, Is.EqualTo(DType.BFloat16));
        Assert.That(y.GradFn!.Name, Is.EqualTo("NativeBatchNormBackward"), "no cast after the batch norm");
        var g = Rnd(Dev, [2, 3, 4, 4], 62, DType.BFloat16);
        y.Backward(g);
        // The former path: x cast to float32, the float32 batch norm, the result cast back.
        var bn2 = new BatchNorm2d(3);
        bn2.To(Dev);
        var x2 = x.Detach().RequiresGrad_();
        var y2 = bn2.Forward(x2.To(DType.Float32)).To(DType.BFloat16);
        y2.Backward(g);
        AssertEqual(Host(y), Host(y2), "y");
        AssertEqual(Host(x.Grad!), Host(x2.Grad!), "x.grad");
        AssertEqual(Host(bn.Weight!.Grad!), Host(bn2.Weight!.Grad!), "weight.grad");
        AssertEqual(Host(bn.Bias!.Grad!), Host(bn2.Bias!.Grad!), "bias.grad");
        AssertEqual(Host(bn.RunningMean!), Host(bn2.RunningMean!), "running mean");
        AssertEqual(Host(bn.RunningVar!), Host(bn2.RunningVar!), "running var");
    }
}
