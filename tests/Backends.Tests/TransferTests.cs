using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>Device placement: registration, round trips, storage release, and errors for mixed-device ops.</summary>
public abstract class TransferTests(string device) : DeviceTest(device)
{
    [Test]
    public void BackendIsRegisteredAndListsTheDevice()
    {
        // (Ember.Backends itself is shadowed here by the test namespace Ember.Backends.Tests.Ilgpu.)
        Assert.That(IlgpuBackend.Instance.Devices, Does.Contain(Dev));
        Assert.That(Tensor.Zeros([1], DType.Float32, Dev).Backend, Is.SameAs(IlgpuBackend.Instance));
        Assert.That(Device.Best().Type, Is.Not.EqualTo(DeviceType.IlgpuCpu), "Best() prefers CUDA/OpenCL, else the CPU backend");
        Assert.That(IlgpuBackend.Instance.Supports(Device.Cpu), Is.False);
    }

    [Test]
    public void SynchronizeWaitsForTheDeviceAndNamesAMissingOne()
    {
        var x = Tensor.Arange(0.0, 4096.0, device: Dev).Reshape(64, 64) / 4096;
        var y = x.MatMul(x.T).Sum();
        Dev.Synchronize();
        Device.Cpu.Synchronize();
        Assert.That(y.Item(), Is.EqualTo(Host(x.To(Device.Cpu).MatMul(x.To(Device.Cpu).T).Sum())[0]).Within(1e-3).Percent);
        var missing = Device.OpenCL(97);
        var e = Assert.Throws<InvalidOperationException>(() => missing.Synchronize());
        Assert.That(e!.Message, Does.Contain("opencl:97"));
    }

    [TestCase(DType.Float32), TestCase(DType.Float64), TestCase(DType.Int32), TestCase(DType.Int64), TestCase(DType.Bool)]
    public void RoundTripKeepsValuesAndStridedViews(DType dt)
    {
        var cpu = Ints(Device.Cpu, [4, 6], 1, -5, 5).To(dt);
        var dev = cpu.To(Dev);
        Assert.That(dev.Device, Is.EqualTo(Dev));
        Assert.That(dev.Storage, Is.InstanceOf<IlgpuStorage>());
        AssertEqual(Host(dev.To(Device.Cpu)), Host(cpu), "round trip");
        AssertEqual(Host(dev.T.Narrow(0, 1, 3).To(Device.Cpu)), Host(cpu.T.Narrow(0, 1, 3)), "strided view round trip");
    }

    [TestCase(DType.Float32), TestCase(DType.Int64), TestCase(DType.BFloat16)]
    public void CopyAcrossDevicesIntoViewsWithOffsets(DType dt)
    {
        // Copy_ between the CPU and a device transfers straight into the destination's window (storage offset honoured,
        // nothing outside it touched), from contiguous and strided sources.
        var src = Ints(Device.Cpu, [3, 4], 2, -9, 9).To(dt);
        var onDev = Tensor.Zeros([5, 4], dt, Dev);
        onDev.Narrow(0, 1, 3).Copy_(src);
        var expectDev = Tensor.Zeros([5, 4], dt, Device.Cpu);
        expectDev.Narrow(0, 1, 3).Copy_(src);
        AssertEqual(Host(onDev.To(Device.Cpu)), Host(expectDev), "host → device window");
        var onHost = Tensor.Zeros([5, 4], dt, Device.Cpu);
        onHost.Narrow(0, 2, 3).Copy_(onDev.Narrow(0, 1, 3));
        var expectHost = Tensor.Zeros([5, 4], dt, Device.Cpu);
        expectHost.Narrow(0, 2, 3).Copy_(src);
        AssertEqual(Host(onHost), Host(expectHost), "device → host window");
        var strided = Tensor.Zeros([4, 3], dt, Device.Cpu);
        strided.Copy_(onDev.Narrow(0, 1, 3).T);
        AssertEqual(Host(strided), Host(src.T), "strided device source");
        var flat = Tensor.Zeros([12], dt, Dev);
        Assert.Throws<ArgumentException>(() => flat.Copy_(src), "[3, 4] does not broadcast to [12]");
    }

    [Test]
    public void DisposeReturnsTheBlock()
    {
        var t = Tensor.Zeros([256], DType.Float32, Dev);
        var st = (IlgpuStorage)t.Storage;
        long before = st.Owner.Allocator.MemoryAllocated;
        t.Dispose();
        Assert.That(st.Block.IsReleased, Is.True);
        Assert.That(st.Owner.Allocator.MemoryAllocated, Is.LessThan(before));
    }

    [Test]
    public void MixedDeviceOpsThrowBeforeAnyKernel()
    {
        var a = Tensor.Ones([3], DType.Float32, Dev);
        var b = Tensor.Ones([3]);
        var e = Assert.Throws<ArgumentException>(() => _ = a + b)!;
        Assert.That(e.Message, Does.Contain(Dev.ToString()).And.Contain("cpu"));
        Assert.Throws<ArgumentException>(() => Tensor.Where(Tensor.Ones([3], DType.Bool), a, a));
    }

    [Test]
    public void TensorOpsRunOnTheDevice()
    {
        var x = Rnd(Dev, [3, 4], 1);
        var y = (x * 2 + 1).Relu();
        Assert.That(y.Device, Is.EqualTo(Dev));
        var expected = (Rnd(Device.Cpu, [3, 4], 1) * 2 + 1).Relu();
        AssertClose(Host(y), Host(expected), 1e-6, 1e-7, "(x*2+1).Relu()");
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class Transfers(string device) : TransferTests(device);
