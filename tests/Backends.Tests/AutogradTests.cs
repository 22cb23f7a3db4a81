namespace Ember.Conformance;

/// <summary>Backward through autograd on the device: a small MLP's gradients match the CPU's.</summary>
public abstract class AutogradTests(string device) : DeviceTest(device)
{
    private static (Tensor Loss, Tensor[] Params) Mlp(Device d)
    {
        var x = Rnd(d, [4, 5], 1);
        var w1 = Rnd(d, [5, 6], 2, scale: 0.5).RequiresGrad_();
        var b1 = Rnd(d, [6], 3, scale: 0.1).RequiresGrad_();
        var w2 = Rnd(d, [6, 3], 4, scale: 0.5).RequiresGrad_();
        var h = (x.MatMul(w1) + b1).Tanh();
        var logits = h.MatMul(w2).LogSoftmax(-1);
        var loss = (logits * logits).Mean() - logits.Sum(0).Relu().Sum();
        return (loss, [w1, b1, w2]);
    }

    [Test]
    public void MlpGradientsMatchCpu()
    {
        var (lossDev, pDev) = Mlp(Dev);
        var (lossCpu, pCpu) = Mlp(Device.Cpu);
        lossDev.Backward();
        lossCpu.Backward();
        AssertClose(Host(lossDev), Host(lossCpu), 1e-4, 1e-5, "loss");
        for (int i = 0; i < pDev.Length; i++)
        {
            Assert.That(pDev[i].Grad, Is.Not.Null, $"param {i} has no grad");
            Assert.That(pDev[i].Grad!.Device, Is.EqualTo(Dev));
            AssertClose(Host(pDev[i].Grad!), Host(pCpu[i].Grad!), 1e-4, 1e-5, $"grad of param {i}");
        }
    }

    // MiniGpt's attention: one qkv buffer [B, T, 3·H·Dh] viewed as heads by a permute, split by indexing, fused causal
    // attention, heads merged back; exercises strided q/k/v and grad, the output's layout and the slices' gradient buffer.
    private static (Tensor Loss, Tensor Qkv) AttentionBlock(Device d, long t, long dh, bool causal)
    {
        const long B = 2, H = 3;
        var qkv = Rnd(d, [B, t, 3 * H * dh], 5).RequiresGrad_();
        var parts = qkv.Reshape(B, t, 3, H, dh).Permute(2, 0, 3, 1, 4);
        var att = FusedOps.Attention(parts[0], parts[1], parts[2], 1 / Math.Sqrt(dh), causal);
        var merged = att.Transpose(1, 2).Reshape(B, t, H * dh);
        var loss = (merged * Rnd(d, [B, t, H * dh], 6)).Sum();
        return (loss, qkv);
    }

    [TestCase(7, 16, true), TestCase(33, 64, false), TestCase(1, 8, true)]
    public void FusedAttentionOnPermutedHeadsMatchesCpu(int t, int dh, bool causal)
    {
        var (lossDev, xDev) = AttentionBlock(Dev, t, dh, causal);
        var (lossCpu, xCpu) = AttentionBlock(Device.Cpu, t, dh, causal);
        lossDev.Backward();
        lossCpu.Backward();
        AssertClose(Host(lossDev), Host(lossCpu), 1e-4, 1e-4, "loss");
        AssertClose(Host(xDev.Grad!), Host(xCpu.Grad!), 1e-4, 1e-5, "grad of qkv");
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class AutogradOnDevice(string device) : AutogradTests(device);
