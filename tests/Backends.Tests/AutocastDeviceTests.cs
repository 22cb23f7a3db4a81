using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// Autocast on GPU-type devices (ilgpu-cpu here; CUDA and OpenCL on the GPU machine): PyTorch's CUDA lists, float16 by
/// default, and gradients of float32 master weights within float16 tolerance of the CPU's float32 ones.
/// </summary>
public abstract class AutocastDeviceTests(string device) : DeviceTest(device)
{
    [Test]
    public void OpsProduceTheCudaListsDTypes()
    {
        var x = Rnd(Dev, [4, 8], 1);
        var w = Rnd(Dev, [6, 8], 2);
        var b = Rnd(Dev, [6], 3);
        using var _ = Autocast.Enable(Dev);
        Assert.That(Autocast.GetDType(Dev.Type), Is.EqualTo(DType.Float16), "PyTorch's default on GPUs");
        var y = Functional.Linear(x, w, b);
        Assert.That(y.DType, Is.EqualTo(DType.Float16), "linear: lower precision");
        Assert.That(x.MatMul(w.T).DType, Is.EqualTo(DType.Float16), "matmul: lower precision");
        Assert.That(y.Softmax(-1).DType, Is.EqualTo(DType.Float32), "softmax: float32 on CUDA");
        Assert.That(y.Exp().DType, Is.EqualTo(DType.Float32), "exp: float32 on CUDA");
        Assert.That(y.Sum().DType, Is.EqualTo(DType.Float32), "sum: float32 on CUDA");
        Assert.That(Functional.LayerNorm(y, [6], Rnd(Dev, [6], 4), Rnd(Dev, [6], 5)).DType, Is.EqualTo(DType.Float32), "layer norm: float32 on CUDA");
        Assert.That(Functional.BatchNorm(y, null, null, Rnd(Dev, [6], 6), Rnd(Dev, [6], 7), training: true).DType, Is.EqualTo(DType.Float16),
            "batch norm: float32 statistics, the input's dtype out");
        Assert.That((y + b).DType, Is.EqualTo(DType.Float32), "mixed inputs: the widest");
        Assert.That(y.Relu().DType, Is.EqualTo(DType.Float16), "on no list: the input's dtype");
        var target = Tensor.FromArray(new long[] { 0, 5, 2, 1 }).To(Dev);
        Assert.That(Functional.CrossEntropy(y, target).DType, Is.EqualTo(DType.Float32), "losses: float32");
        Assert.Throws<InvalidOperationException>(() => Functional.BinaryCrossEntropy(y.Sigmoid(), y.Sigmoid().Detach()),
            "binary_cross_entropy is banned under CUDA autocast");
        using (Autocast.Enable(Dev, DType.BFloat16))
            Assert.That(Functional.Linear(x, w, b).DType, Is.EqualTo(DType.BFloat16));
        using (Autocast.Enable(DeviceType.Cpu, enabled: false))
            Assert.That(Functional.Linear(x, w, b).DType, Is.EqualTo(DType.Float16), "turning the CPU's autocast off leaves this device's on");
    }

    [Test]
    public void GradientsAreWithinFloat16ToleranceOfCpuFloat32()
    {
        Tensor.ManualSeed(5);
        var model = new Sequential(new Linear(12, 24), new GELU(), new LayerNorm([24]), new Linear(24, 4));
        var x = Tensor.Randn(6, 12);
        var y = Tensor.FromArray(new long[] { 0, 1, 2, 3, 0, 1 });
        Functional.CrossEntropy(model.Forward(x), y).Backward();
        var reference = model.Parameters().Select(p => p.Grad!.ToArray<float>()).ToList();

        model.ZeroGrad();
        model.To(Dev);
        Tensor loss;
        using (Autocast.Enable(Dev)) loss = Functional.CrossEntropy(model.Forward(x.To(Dev)), y.To(Dev));
        loss.Backward();
        var ps = model.Parameters().ToList();
        for (int i = 0; i < ps.Count; i++)
        {
            Assert.That((ps[i].Grad!.DType, ps[i].Grad!.Device), Is.EqualTo((DType.Float32, Dev)), $"parameter {i}");
            var g = ps[i].Grad!.ToArray<float>();
            double scale = reference[i].Max(v => Math.Abs(v));
            double err = g.Zip(reference[i], (a, b) => Math.Abs(a - b)).Max();
            // float16 keeps 11 significant bits (2⁻¹¹ ≈ 0.05%): a few roundings per layer stay within 1% of the largest element.
            Assert.That(err, Is.LessThanOrEqualTo(0.01 * scale + 1e-6), $"parameter {i}: max |Δ| {err:g3} vs max |g| {scale:g3}");
        }
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class AutocastOnDevice(string device) : AutocastDeviceTests(device);
