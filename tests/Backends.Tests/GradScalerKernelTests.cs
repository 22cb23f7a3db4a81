extern alias core;
using Ember.Amp;
using Ember.Ilgpu;
using Ember.Optim;

namespace Ember.Conformance;

/// <summary>
/// GradScaler's fused unscale (<see cref="IBackend.NonFiniteCheckAndUnscale"/>) on the device against the CPU's kernel
/// and a float64 host reference, and a GradScaler training run on the device against the same run on the CPU.
/// </summary>
public abstract class GradScalerKernelTests(string device) : DeviceTest(device)
{
    private Tensor Grad(Device d, int n, int seed, DType dtype, int badIndex = -1, float badValue = 0)
    {
        var a = Floats(n, seed, scale: 1000);
        if (badIndex >= 0) a[badIndex] = badValue;
        return Tensor.FromArray(a).To(dtype).To(d);
    }

    [TestCase(-1, 0f, DType.Float32), TestCase(40, float.PositiveInfinity, DType.Float32), TestCase(3, float.NaN, DType.Float32),
     TestCase(70, float.NegativeInfinity, DType.Float64), TestCase(-1, 0f, DType.Float64)]
    public void NonFiniteCheckAndUnscale(int badIndex, float badValue, DType dtype)
    {
        const double inv = 1.0 / 1024;
        // Three gradients of odd lengths (vector bodies and scalar tails); the bad value, if any, in the third.
        Conform(d => [Grad(d, 37, 1, dtype), Grad(d, 5, 2, dtype), Grad(d, 131, 3, dtype, badIndex, badValue), Tensor.Zeros([1], DType.Float32, d)],
            (be, t) => be.NonFiniteCheckAndUnscale([t[0]!, t[1]!, t[2]!], t[3]!, inv), [0, 1, 2, 3], 0, 0,
            reference: t =>
            {
                var outs = new double[4][];
                bool found = false;
                for (int k = 0; k < 3; k++)
                {
                    var h = Host(t[k]!);
                    found |= h.Any(v => !double.IsFinite(v));
                    // The product rounded once to the gradient's dtype (inv is a power of two: exact).
                    outs[k] = h.Select(v => dtype == DType.Float32 ? (double)(float)(v * inv) : v * inv).ToArray();
                }
                outs[3] = [found ? 1 : 0];
                return outs;
            });
    }

    [Test]
    public void FoundInfIsNeverCleared()
    {
        var found = Tensor.Full([1], 1.0, DType.Float32, Dev);
        var g = Grad(Dev, 9, 4, DType.Float32);
        g.Backend.NonFiniteCheckAndUnscale([g], found, 0.5);
        Assert.That(found.Item(), Is.EqualTo(1.0));
    }

    // SGD on w [4], loss Σ w·x_t, Inf/NaN injected into one gradient element at some steps (as tests/golden/amp_gen.py).
    private static List<(double Scale, bool Stepped, float[] W)> Train(Device d)
    {
        var w = Tensor.FromArray(new[] { 0.5f, -1f, 2f, 0.25f }).To(d).RequiresGrad_();
        var opt = new SGD([w], lr: 0.1);
        var scaler = new GradScaler(growthInterval: 3);
        var bad = new Dictionary<int, double> { [3] = double.PositiveInfinity, [4] = double.NaN, [9] = double.NegativeInfinity };
        var result = new List<(double, bool, float[])>();
        for (int t = 0; t < 14; t++)
        {
            var x = Tensor.FromArray(new[] { 1f, 2f, -3f, 0.5f }).To(d) * ((t % 7) + 1) / 8.0;
            opt.ZeroGrad();
            scaler.Scale((w * x).Sum()).Backward();
            if (bad.TryGetValue(t, out var v))
                using (Autograd.NoGrad()) w.Grad!.Narrow(0, t % 4, 1).Fill_(v);
            bool stepped = scaler.Step(opt);
            scaler.Update();
            result.Add((scaler.GetScale(), stepped, w.Detach().Cpu().ToArray<float>()));
        }
        return result;
    }

    [Test]
    public void TrainingRunMatchesTheCpu()
    {
        var dev = Train(Dev);
        var cpu = Train(Device.Cpu);
        for (int t = 0; t < cpu.Count; t++)
        {
            Assert.That((dev[t].Scale, dev[t].Stepped), Is.EqualTo((cpu[t].Scale, cpu[t].Stepped)), $"step {t}");
            AssertClose(dev[t].W.Select(v => (double)v).ToArray(), cpu[t].W.Select(v => (double)v).ToArray(), 1e-6, 1e-7, $"w after step {t}");
        }
        Assert.That(cpu.Count(r => !r.Stepped), Is.EqualTo(3), "the three injected steps are skipped");
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class GradScalerKernels(string device) : GradScalerKernelTests(device);

/// <summary>The composite default of NonFiniteCheckAndUnscale, on a backend with only the required core.</summary>
[TestFixture]
public sealed class GradScalerKernelsOnRequiredCore() : GradScalerKernelTests(RequiredCoreBackend.Device.ToString());

/// <summary><c>Backends.Cuda.AllowTF32</c> and the hook the ILGPU GEMM dispatch reads (a process-wide switch: not run beside other tests).</summary>
[NonParallelizable]
public sealed class TF32SwitchTests
{
    [Test]
    public void OffByDefaultAndIgnoredOffCuda()
    {
        IlgpuBackend.Register();
        Assert.That(core::Ember.Backends.Cuda.AllowTF32, Is.False, "PyTorch's default (allow_tf32 = False)");
        var ilgpuCpu = IlgpuBackend.Open(Device.IlgpuCpu);
        try
        {
            core::Ember.Backends.Cuda.AllowTF32 = true;
            Assert.That(core::Ember.Backends.Cuda.AllowTF32, Is.True);
            Assert.That(IlgpuBackend.UseTF32(ilgpuCpu), Is.False, "ILGPU's CPU accelerator ignores the switch");
            // A float32 product is unaffected off CUDA: the same bits with the switch on and off.
            var a = Tensor.FromArray(new[] { 1.0001f, 3.14159f, -2.5f, 0.1f }, 2, 2).To(Device.IlgpuCpu);
            var on = a.MatMul(a).ToArray<float>();
            core::Ember.Backends.Cuda.AllowTF32 = false;
            Assert.That(a.MatMul(a).ToArray<float>(), Is.EqualTo(on));
            Assert.That(Tensor.FromArray(new[] { 1.0001f, 3.14159f, -2.5f, 0.1f }, 2, 2).MatMul(Tensor.FromArray(new[] { 1.0001f, 3.14159f, -2.5f, 0.1f }, 2, 2)).ToArray<float>(),
                Is.EqualTo(on).Within(1e-6), "and equal to the CPU's");
        }
        finally { core::Ember.Backends.Cuda.AllowTF32 = false; }
    }

    [Test]
    public void VisibleToOtherThreadsAtOnce()
    {
        try
        {
            core::Ember.Backends.Cuda.AllowTF32 = true;
            bool seen = Task.Run(() => core::Ember.Backends.Cuda.AllowTF32).Result;
            Assert.That(seen, Is.True);
        }
        finally { core::Ember.Backends.Cuda.AllowTF32 = false; }
    }
}
