using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// Index checks without a host read (issue 18): cross-entropy's class indices and IndexSelect's (embedding) indices are
/// validated on the device and the mean's count is computed there; a bad index still raises an
/// <see cref="ArgumentOutOfRangeException"/> naming the op, the value and the range, at the device's next
/// synchronisation (on the CPU, at the call). The losses match the CPU's, ignored targets included.
/// </summary>
public abstract class DeviceIndexCheckTests(string device) : DeviceTest(device)
{
    private static Tensor Targets(Device d, params long[] v) => Tensor.FromArray(v).To(d);

    [Test]
    public void CrossEntropyBadTargetThrowsAtTheNextSynchronisation([Values(Reduction.Mean, Reduction.Sum, Reduction.None)] Reduction reduction)
    {
        foreach (var d in new[] { Device.Cpu, Dev })
        {
            var x = Rnd(d, [3, 5], 1);
            Assert.That(() => Functional.CrossEntropy(x, Targets(d, 0, 7, 2), reduction: reduction).Sum().Item(),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("CrossEntropy")
                    .And.Message.Contains("target 7").And.Message.Contains("5 classes"), d.ToString());
            Assert.That(() => Functional.CrossEntropy(x, Targets(d, -3, 1, 2), reduction: reduction).Sum().Item(),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("target -3"), d.ToString());
            // Reported once: the device is usable afterwards and the next loss is right.
            Assert.That(Functional.CrossEntropy(x, Targets(d, 0, 4, 2)).Item(), Is.GreaterThan(0).And.Not.NaN, d.ToString());
        }
    }

    [Test]
    public void CrossEntropyBadTargetThrowsFromSynchronize()
    {
        var x = Rnd(Dev, [2, 4], 2);
        var loss = Functional.CrossEntropy(x, Targets(Dev, 1, 9));   // no host read: the call returns
        Assert.That(() => Dev.Synchronize(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("target 9").And.Message.Contains("4 classes"));
        Assert.That(float.IsNaN(loss.Item<float>()), "the bad row's loss is NaN, the mean too");
    }

    [Test]
    public void CrossEntropyMeanCountsOnTheDevice([Values(4, 256)] int classes)
    {
        // ignore_index rows, label smoothing, the register kernel (C = 256) and the group kernel (C = 4); forward and x's gradient.
        long[] t = [1, -100, 3, 0, -100, 2];
        foreach (var smoothing in new[] { 0.0, 0.1 })
        {
            var xc = Rnd(Device.Cpu, [6, classes], 3).RequiresGrad_();
            var xd = xc.Detach().To(Dev).RequiresGrad_();
            var lc = Functional.CrossEntropy(xc, Targets(Device.Cpu, t), labelSmoothing: smoothing);
            var ld = Functional.CrossEntropy(xd, Targets(Dev, t), labelSmoothing: smoothing);
            lc.Backward(); ld.Backward();
            AssertClose(Host(ld), Host(lc), 2e-5, 2e-6, "loss");
            AssertClose(Host(xd.Grad!), Host(xc.Grad!), 2e-5, 2e-6, "grad");
        }
        // Every target ignored: 0/0 = NaN, as PyTorch.
        var all = Functional.CrossEntropy(Rnd(Dev, [2, classes], 4), Targets(Dev, -100, -100));
        Assert.That(float.IsNaN(all.Item<float>()));
    }

    [Test]
    public void IndexSelectBadIndexThrowsAtTheNextSynchronisation()
    {
        foreach (var d in new[] { Device.Cpu, Dev })
        {
            var w = Rnd(d, [4, 3], 5);
            Assert.That(() => w.IndexSelect(0, Targets(d, 1, 4)).Sum().Item(),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("IndexSelect").And.Message.Contains("index 4")
                    .And.Message.Contains("size 4"), d.ToString());
            AssertClose(Host(w.IndexSelect(0, Targets(d, 3, 0))), Host(w.Cpu().IndexSelect(0, Targets(Device.Cpu, 3, 0))), 0, 0, d.ToString());
        }
        // An embedding lookup with a bad token.
        var emb = new Embedding(10, 4);
        emb.To(Dev);
        Assert.That(() => emb.Forward(Targets(Dev, 3, 12)).Cpu(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("index 12"));
    }

    [Test]
    public void CheckIndicesCountsLikeTheHost()
    {
        var idx = Ints(Dev, [1000], 6, -1, 50);
        var count = Tensor.Empty([], DType.Float32, Dev);
        long? host = FusedOps.CheckIndices(idx.Cpu(), 50, -1, null, new IndexCheck("index", v => $"bad {v}"));
        long? dev = FusedOps.CheckIndices(idx, 50, -1, count, new IndexCheck("index", v => $"bad {v}"));
        Assert.That(host, Is.Not.Null);
        if (dev is null) Assert.That(count.Item<float>(), Is.EqualTo((float)host!.Value));
        else Assert.That(dev, Is.EqualTo(host));
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class DeviceIndexCheckTestsOnDevice(string device) : DeviceIndexCheckTests(device);
