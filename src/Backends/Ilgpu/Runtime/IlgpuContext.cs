using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Ember.Ilgpu;

/// <summary>
/// Ember's one ILGPU <see cref="ILGPU.Context"/> (algorithms enabled, optimization level O2,
/// default IEEE math: no fast-math) and one <see cref="IlgpuDevice"/> (accelerator, kernel cache,
/// caching allocator) per device, each created on first use. Devices are named like Ember's
/// <see cref="Device"/>: <c>cuda:N</c> in ILGPU's CUDA device order, <c>opencl:N</c> in its
/// OpenCL order (devices ILGPU cannot use are not listed), and <c>ilgpu-cpu</c>.
/// Thread-safe.
/// </summary>
public sealed class IlgpuContext : IDisposable
{
    private static readonly Lazy<IlgpuContext> SharedInstance = new(() => new IlgpuContext());
    private readonly object gate = new();
    private readonly Dictionary<Device, IlgpuDevice> open = new();
    private readonly Lazy<IReadOnlyList<IlgpuDeviceInfo>> devices;
    private bool disposed;

    /// <summary>Creates a context. Most code should use <see cref="Shared"/>.</summary>
    public IlgpuContext()
    {
        // ILGPU's default CPU device allows 16 threads per group; Ember's kernels use up to 256 (the GEMM),
        // so ilgpu-cpu is a CPU device with 8 warps of 32 threads per group, like a small GPU.
        Context = Context.Create(builder => builder
            .Cuda()
            .OpenCL()
            .CPU(new CPUDevice(CpuWarpSize, CpuWarpsPerGroup, Math.Clamp(Environment.ProcessorCount, 1, 4)))
            .EnableAlgorithms()
            .Optimize(OptimizationLevel.O2)
            .Math(MathMode.Default));
        devices = new Lazy<IReadOnlyList<IlgpuDeviceInfo>>(Enumerate);
    }

    /// <summary>Threads per warp of the <c>ilgpu-cpu</c> device.</summary>
    public const int CpuWarpSize = 32;

    /// <summary>Warps per group of the <c>ilgpu-cpu</c> device (so up to 256 threads per group).</summary>
    public const int CpuWarpsPerGroup = 8;

    /// <summary>The process-wide context, created on first access.</summary>
    public static IlgpuContext Shared => SharedInstance.Value;

    /// <summary>The underlying ILGPU context.</summary>
    public Context Context { get; }

    /// <summary>Every device this context can open (CUDA first, then OpenCL, then <c>ilgpu-cpu</c>).</summary>
    public IReadOnlyList<IlgpuDeviceInfo> Devices => devices.Value;

    /// <summary>True when <paramref name="device"/> is listed in <see cref="Devices"/>.</summary>
    public bool IsAvailable(Device device) => Devices.Any(d => d.Device == device);

    /// <summary>
    /// The accelerator bundle of <paramref name="device"/>, creating its accelerator, kernel cache
    /// and allocator on first use.
    /// </summary>
    /// <exception cref="ArgumentException">The device is the host CPU or not available; the message lists what is.</exception>
    /// <exception cref="ObjectDisposedException">The context was disposed.</exception>
    public IlgpuDevice Get(Device device)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (open.TryGetValue(device, out var existing)) return existing;
            var info = Devices.FirstOrDefault(d => d.Device == device)
                ?? throw new ArgumentException(
                    $"IlgpuContext.Get: device {device} is not available; available: " +
                    $"{string.Join(", ", Devices.Select(d => d.Device.ToString()))}.", nameof(device));
            var accelerator = info.IlgpuDevice.CreateAccelerator(Context);
            var created = new IlgpuDevice(device, accelerator);
            open.Add(device, created);
            return created;
        }
    }

    private IReadOnlyList<IlgpuDeviceInfo> Enumerate()
    {
        var list = new List<IlgpuDeviceInfo>();
        int i = 0;
        foreach (var d in Context.GetCudaDevices()) list.Add(new IlgpuDeviceInfo(Device.Cuda(i++), d));
        i = 0;
        foreach (var d in Context.GetCLDevices()) list.Add(new IlgpuDeviceInfo(Device.OpenCL(i++), d));
        var cpu = Context.GetCPUDevices();
        if (cpu.Count > 0) list.Add(new IlgpuDeviceInfo(Device.IlgpuCpu, cpu[0]));
        return list;
    }

    /// <summary>Disposes every opened device (allocators first, then accelerators) and the context.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            foreach (var d in open.Values) d.Dispose();
            open.Clear();
            Context.Dispose();
        }
    }
}

/// <summary>A device ILGPU can open: Ember's name for it and ILGPU's description.</summary>
/// <param name="Device">Ember's device (<c>cuda:0</c>, <c>opencl:0</c>, <c>ilgpu-cpu</c>).</param>
/// <param name="IlgpuDevice">ILGPU's device object (name, memory size, limits).</param>
public sealed record IlgpuDeviceInfo(Device Device, ILGPU.Runtime.Device IlgpuDevice)
{
    /// <summary>"cuda:0 (NVIDIA H100 80GB HBM3, 79.1 GiB)".</summary>
    public override string ToString() =>
        $"{Device} ({IlgpuDevice.Name}, {IlgpuDevice.MemorySize / (1024.0 * 1024 * 1024):F1} GiB)";
}

/// <summary>One opened device: its ILGPU accelerator, kernel cache and caching allocator.</summary>
public sealed class IlgpuDevice : IDisposable
{
    internal IlgpuDevice(Device device, Accelerator accelerator)
    {
        Device = device;
        Accelerator = accelerator;
        Kernels = new KernelCache(accelerator);
        Allocator = new CachingAllocator(accelerator);
    }

    /// <summary>Ember's name of the device.</summary>
    public Device Device { get; }
    /// <summary>The ILGPU accelerator (one per device per process).</summary>
    public Accelerator Accelerator { get; }
    /// <summary>Kernels loaded on this accelerator.</summary>
    public KernelCache Kernels { get; }
    /// <summary>The device's caching allocator.</summary>
    public CachingAllocator Allocator { get; }

    /// <summary>Waits until all work queued on the accelerator's default stream is done.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>Frees the allocator's memory and the accelerator. Called by <see cref="IlgpuContext.Dispose"/>.</summary>
    public void Dispose()
    {
        Allocator.Dispose();
        Accelerator.Dispose();
    }
}
