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

    private static void AddTo<T>(Index1D i, ArrayView<T> x, T s) where T : unmanaged, System.Numerics.INumber<T> => x[i] += s;

    /// <summary>
    /// Clearing the compiler caches while other threads load new kernels: every load completes, every launcher (loaded
    /// before or during the clears) still runs correctly afterwards.
    /// </summary>
    [Test]
    public void ClearCompilerCachesIsSafeBesideKernelLoads()
    {
        var dev = IlgpuContext.Shared.Get(Device.IlgpuCpu);
        var before = dev.Kernels.AutoGrouped<Index1D, ArrayView<float>, float>(Scale);
        using var stop = new CancellationTokenSource();
        int clears = 0;
        var clearer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                IlgpuContext.Shared.ClearCompilerCaches();
                Interlocked.Increment(ref clears);
                Thread.Sleep(1);
            }
        });
        Delegate[] loaded;
        try
        {
            // Three generic instantiations, each a new kernel for ILGPU to import and compile, on three threads.
            loaded = Task.WhenAll(
                Task.Run(() => (Delegate)dev.Kernels.AutoGrouped<Index1D, ArrayView<double>, double>(AddTo)),
                Task.Run(() => (Delegate)dev.Kernels.AutoGrouped<Index1D, ArrayView<int>, int>(AddTo)),
                Task.Run(() => (Delegate)dev.Kernels.AutoGrouped<Index1D, ArrayView<long>, long>(AddTo))).GetAwaiter().GetResult();
        }
        finally
        {
            stop.Cancel();
            clearer.GetAwaiter().GetResult();
        }
        Assert.That(clears, Is.GreaterThan(0));

        using var f = dev.Allocator.Allocate(16);
        IlgpuTestDevice.FromHost(f.View<float>(), new float[] { 1, 2, 3, 4 });
        before(4, f.View<float>(), 2f);
        Assert.That(IlgpuTestDevice.ToHost(f.View<float>()), Is.EqualTo(new float[] { 2, 4, 6, 8 }));
        using var d = dev.Allocator.Allocate(32);
        IlgpuTestDevice.FromHost(d.View<double>(), new double[] { 1, 2, 3, 4 });
        ((Action<Index1D, ArrayView<double>, double>)loaded[0])(4, d.View<double>(), 0.5);
        Assert.That(IlgpuTestDevice.ToHost(d.View<double>()), Is.EqualTo(new double[] { 1.5, 2.5, 3.5, 4.5 }));
        using var l = dev.Allocator.Allocate(32);
        IlgpuTestDevice.FromHost(l.View<long>(), new long[] { 1, 2, 3, 4 });
        ((Action<Index1D, ArrayView<long>, long>)loaded[2])(4, l.View<long>(), 10L);
        Assert.That(IlgpuTestDevice.ToHost(l.View<long>()), Is.EqualTo(new long[] { 11, 12, 13, 14 }));
    }
}
