using Ember.Ilgpu;
using ILGPU;

namespace Ember.Backends.Tests.Ilgpu;

public class ContextTests
{
    [Test]
    public void IlgpuCpuIsAlwaysAvailable()
    {
        Assert.That(IlgpuContext.Shared.IsAvailable(Device.IlgpuCpu), Is.True);
        Assert.That(IlgpuContext.Shared.Devices.Select(d => d.Device), Does.Contain(Device.IlgpuCpu));
        var dev = IlgpuContext.Shared.Get(Device.IlgpuCpu);
        Assert.That(dev.Accelerator.MaxNumThreadsPerGroup, Is.GreaterThanOrEqualTo(256));
        Assert.That(IlgpuContext.Shared.Get(Device.IlgpuCpu), Is.SameAs(dev));
    }

    [Test]
    public void UnavailableDeviceListsWhatIs()
    {
        var ex = Assert.Throws<ArgumentException>(() => IlgpuContext.Shared.Get(Device.Cuda(99)));
        Assert.That(ex!.Message, Does.Contain("cuda:99").And.Contain("ilgpu-cpu"));
        Assert.Throws<ArgumentException>(() => IlgpuContext.Shared.Get(Device.Cpu));
    }

    private static void Scale(Index1D i, ArrayView<float> x, float s) => x[i] *= s;

    [Test]
    public void KernelCacheLoadsOnce()
    {
        var dev = IlgpuContext.Shared.Get(Device.IlgpuCpu);
        var first = dev.Kernels.AutoGrouped<Index1D, ArrayView<float>, float>(Scale);
        int count = dev.Kernels.Count;
        var second = dev.Kernels.AutoGrouped<Index1D, ArrayView<float>, float>(Scale);
        Assert.That(second, Is.SameAs(first));
        Assert.That(dev.Kernels.Count, Is.EqualTo(count));
        using var b = dev.Allocator.Allocate(16);
        IlgpuTestDevice.FromHost(b.View<float>(), new float[] { 1, 2, 3, 4 });
        second(4, b.View<float>(), 3f);
        Assert.That(IlgpuTestDevice.ToHost(b.View<float>()), Is.EqualTo(new float[] { 3, 6, 9, 12 }));
    }
}
