using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// Autocast's attention (Float16/BFloat16 q, k, v): where the device runs the fused attention kernels, the forward is one
/// launch and the backward two on 16-bit storage (float32 scratch for the scores and dS), and each result equals bit for
/// bit the float32 kernel's on widened inputs, rounded once to the 16-bit type.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class NarrowAttentionTests(string device) : DeviceTest(device)
{
    // (batch, heads, L, S, D, Dv, causal, heads permuted out of [B, L, H, D]): lengths around the 32-key chunks, small
    // enough for ilgpu-cpu on 2 cores.
    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dt in new[] { DType.Float16, DType.BFloat16 })
        {
            yield return new TestCaseData(dt, 2L, 3L, 7L, 7L, 5L, 3L, true, false).SetName($"NarrowAttention {dt} L7 D5 Dv3 causal");
            yield return new TestCaseData(dt, 2L, 2L, 7L, 9L, 16L, 16L, false, true).SetName($"NarrowAttention {dt} L7 S9 D16 strided");
            yield return new TestCaseData(dt, 1L, 2L, 33L, 45L, 8L, 12L, true, true).SetName($"NarrowAttention {dt} L33 S45 D8 Dv12 causal strided");
        }
    }

    private static Tensor Input(Device d, long b, long h, long rows, long width, int seed, DType dt, bool permuted) => permuted
        ? Rnd(d, [b, rows, h, width], seed, dt).Permute(0, 2, 1, 3)
        : Rnd(d, [b, h, rows, width], seed, dt);

    private static Tensor Output(Device d, long b, long h, long rows, long width, DType dt, bool permuted) => permuted
        ? Tensor.Zeros([b, rows, h, width], dt, d).Permute(0, 2, 1, 3)
        : Tensor.Zeros([b, h, rows, width], dt, d);

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndBackwardEqualTheFloat32KernelsRoundedOnce(DType dt, long b, long h, long l, long s, long dim, long dv, bool causal, bool permuted)
    {
        double scale = 1 / Math.Sqrt(dim);
        Tensor q = Input(Dev, b, h, l, dim, 1, dt, permuted), k = Input(Dev, b, h, s, dim, 2, dt, permuted), v = Input(Dev, b, h, s, dv, 3, dt, permuted);
        var be = q.Backend;
        Tensor Wide(Tensor t) => t.To(DType.Float32);

        // Forward: P and o in 16 bits against the float32 kernel on the widened q, k, v.
        var (p, o) = (Tensor.Zeros([b, h, l, s], dt, Dev), Output(Dev, b, h, l, dv, dt, permuted));
        var (p32, o32) = (Tensor.Zeros([b, h, l, s], DType.Float32, Dev), Output(Dev, b, h, l, dv, DType.Float32, permuted));
        var (q32, k32, v32) = (Wide(q), Wide(k), Wide(v));
        long before = IlgpuProfiler.Launches;
        be.Attention(q32, k32, v32, scale, causal, p32, o32);
        long wideLaunches = IlgpuProfiler.Launches - before;
        before = IlgpuProfiler.Launches;
        be.Attention(q, k, v, scale, causal, p, o);
        long launches = IlgpuProfiler.Launches - before;
        AssertEqual(Host(p), Host(p32.To(dt)), $"P in {dt}");
        AssertEqual(Host(o), Host(o32.To(dt)), $"output in {dt}");
        // Where the float32 attention is the one fused kernel, the 16-bit one is too (no conversions around it).
        if (wideLaunches == 1) Assert.That(launches, Is.EqualTo(1), "forward launches");

        // Backward from the 16-bit P, against the float32 kernels on widened copies of the same operands.
        var g = Input(Dev, b, h, l, dv, 4, dt, permuted);
        var (dq, dk, dvv) = (Output(Dev, b, h, l, dim, dt, permuted), Output(Dev, b, h, s, dim, dt, permuted), Output(Dev, b, h, s, dv, dt, permuted));
        var (dq32, dk32, dv32) = (Output(Dev, b, h, l, dim, DType.Float32, permuted), Output(Dev, b, h, s, dim, DType.Float32, permuted),
            Output(Dev, b, h, s, dv, DType.Float32, permuted));
        Tensor[] wide = [Wide(g), Wide(q), Wide(k), Wide(v), Wide(p)];
        before = IlgpuProfiler.Launches;
        be.AttentionBackward(wide[0], wide[1], wide[2], wide[3], wide[4], scale, causal, dq32, dk32, dv32);
        wideLaunches = IlgpuProfiler.Launches - before;
        before = IlgpuProfiler.Launches;
        be.AttentionBackward(g, q, k, v, p, scale, causal, dq, dk, dvv);
        launches = IlgpuProfiler.Launches - before;
        AssertEqual(Host(dq), Host(dq32.To(dt)), $"dq in {dt}");
        AssertEqual(Host(dk), Host(dk32.To(dt)), $"dk in {dt}");
        AssertEqual(Host(dvv), Host(dv32.To(dt)), $"dv in {dt}");
        if (wideLaunches == 2) Assert.That(launches, Is.EqualTo(2), "backward launches");
    }

    [Test]
    public void AutocastAttentionOfBFloat16ProjectionsCastsNothing()
    {
        // The model's q/k/v: one bfloat16 [B, L, 3, H, D] buffer (a linear layer's output under autocast) permuted and
        // selected; attention keeps the dtype and records no cast, forward or backward.
        var qkv = Rnd(Dev, [2, 9, 3, 2, 8], 5, DType.BFloat16).RequiresGrad_();
        var parts = qkv.Permute(2, 0, 3, 1, 4);
        Tensor att;
        using (Autocast.Enable(Dev, DType.BFloat16)) att = FusedOps.Attention(parts[0], parts[1], parts[2], 0.35, true);
        Assert.That(att.DType, Is.EqualTo(DType.BFloat16));
        Assert.That(att.GradFn!.Name, Is.EqualTo("ScaledDotProductAttentionBackward"));
        att.Backward(Rnd(Dev, [2, 2, 9, 8], 6, DType.BFloat16));
        // The same on the CPU (its composite in float32 between conversions): within two bfloat16 ulps.
        var cpu = qkv.Detach().To(Device.Cpu).RequiresGrad_();
        var cp = cpu.Permute(2, 0, 3, 1, 4);
        var attCpu = FusedOps.Attention(cp[0], cp[1], cp[2], 0.35, true);
        attCpu.Backward(Rnd(Device.Cpu, [2, 2, 9, 8], 6, DType.BFloat16));
        AssertClose(Host(att), Host(attCpu), 2 * Math.Pow(2, -7), 2e-3, "output");
        AssertClose(Host(qkv.Grad!), Host(cpu.Grad!), 2 * Math.Pow(2, -7), 2e-3, "qkv.grad");
    }
}
