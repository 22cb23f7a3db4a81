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
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class AutogradOnDevice(string device) : AutogradTests(device);
