using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Ember.Ilgpu;

/// <summary>
/// Ember's one ILGPU <see cref="ILGPU.Context"/> (algorithms enabled, optimization level O2,
/// default IEEE math: no fast-math; profiling enabled, for the stream fences of <see cref="HostStaging"/>)
/// and one <see cref="IlgpuDevice"/> (accelerator, kernel cache, caching allocator, staging ring) per
/// device, each created on first use. Devices are named like Ember's <see cref="Device"/>: <c>cuda:N</c>
/// in ILGPU's CUDA device order, <c>opencl:N</c> in its OpenCL order (devices ILGPU cannot use are not
/// listed), and <c>ilgpu-cpu</c>.
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
            .CPU(new CPUDevice(CpuWarpSize, CpuWarpsPerGroup, CpuMultiprocessors))
            .EnableAlgorithms()
            .Optimize(OptimizationLevel.O2)
            .Math(MathMode.Default)
            // Stream markers (AcceleratorStream.AddProfilingMarker) exist only with profiling on; HostStaging fences
            // its slots with them. On CUDA this changes nothing else; on OpenCL queues are created with
            // CL_QUEUE_PROFILING_ENABLE.
            .Profiling());
        devices = new Lazy<IReadOnlyList<IlgpuDeviceInfo>>(Enumerate);
    }

    /// <summary>Threads per warp of the <c>ilgpu-cpu</c> device.</summary>
    public const int CpuWarpSize = 32;

    /// <summary>Warps per group of the <c>ilgpu-cpu</c> device (so up to 256 threads per group).</summary>
    public const int CpuWarpsPerGroup = 8;

    /// <summary>
    /// Multiprocessors of the <c>ilgpu-cpu</c> device: 1, or <c>EMBER_ILGPU_CPU_MPS</c> (1 to 4). ILGPU's CPU accelerator
    /// runs each group thread as an OS thread, and every launch passes every thread it has started on each
    /// multiprocessor through two barriers, whatever the kernel's group size: once one 256-thread group has run (any
    /// GEMM), a launch wakes 256 threads per multiprocessor. One multiprocessor's 256 threads already keep every core
    /// busy, so more only add wake-ups. Measured on 2 cores (tests/Backends.Tests, ilgpu-cpu): GRU/LSTM gradients after
    /// the GEMM tests 25.3 → 9.6 s, the GEMM tests themselves 14.8 → 13.0 s, the whole suite 13 min 24 s → 9 min 5 s
    /// (with two test trims) going from 2 multiprocessors (then the default: one per core, at most 4) to 1.
    /// </summary>
    public static int CpuMultiprocessors { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("EMBER_ILGPU_CPU_MPS"), out int n) ? Math.Clamp(n, 1, 4) : 1;

    /// <summary>The process-wide context, created on first access.</summary>
    public static IlgpuContext Shared => SharedInstance.Value;

    /// <summary>The underlying ILGPU context.</summary>
    public Context Context { get; }

    /// <summary>Every device this context can open (CUDA first, then OpenCL, then <c>ilgpu-cpu</c>).</summary>
    public IReadOnlyList<IlgpuDeviceInfo> Devices => devices.Value;

    /// <summary>True once <see cref="Shared"/> has been created (reading this creates nothing).</summary>
    internal static bool SharedCreated => SharedInstance.IsValueCreated;

    /// <summary>
    /// Drops ILGPU's compiler caches: the IR of every method it imported, type information and its own kernel caches.
    /// Launchers already loaded (every kernel Ember has run) stay valid; a kernel not loaded yet is compiled from
    /// scratch on first use, as before warm-up. Call it once a program's kernels are warm (after the first training
    /// steps): the IR of the tensor-core kernels is millions of objects that every full garbage collection would mark
    /// again, about 0.5 s per gen-2 collection on two cores. The backend test suite calls it before each fixture.
    /// Thread-safe: it waits for kernel loads in progress, and loads on other threads wait for it.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The context was disposed.</exception>
    public void ClearCompilerCaches()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        KernelCache.CompileGate.EnterWriteLock();
        try
        {
            Context.ClearCache(ClearCacheMode.Everything);
        }
        finally
        {
            KernelCache.CompileGate.ExitWriteLock();
        }
    }

    /// <summary>True when <paramref name="device"/> is listed in <see cref="Devices"/>.</summary>
    public bool IsAvailable(Device device)
    {
        // A loop, not Any(lambda): this runs for every op's backend lookup (Backends.For), where the lambda's closure
        // and enumerator were allocations on every call.
        var all = Devices;
        for (int i = 0; i < all.Count; i++)
            if (all[i].Device == device) return true;
        return false;
    }

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

/// <summary>One opened device: its ILGPU accelerator, kernel cache, caching allocator and host staging ring.</summary>
public sealed class IlgpuDevice : IDisposable
{
    /// <summary>
    /// Environment variable that sets the initial <see cref="PinnedStaging"/> of every device: <c>1</c> (on) or
    /// <c>0</c> (off); unset or anything else keeps the per-kind default.
    /// </summary>
    public const string PinnedStagingVariable = "EMBER_ILGPU_PINNED_STAGING";

    private readonly object stagingGate = new();
    private HostStaging? staging;
    private volatile bool pinnedStaging;
    private bool disposed;

    internal IlgpuDevice(Device device, Accelerator accelerator)
    {
        Device = device;
        Accelerator = accelerator;
        Kernels = new KernelCache(accelerator);
        Checks = new DeviceChecks(accelerator);
        Allocator = new CachingAllocator(accelerator);
        pinnedStaging = DefaultPinnedStaging(accelerator.AcceleratorType, Environment.GetEnvironmentVariable(PinnedStagingVariable));
    }

    /// <summary>Ember's name of the device.</summary>
    public Device Device { get; }
    /// <summary>The ILGPU accelerator (one per device per process).</summary>
    public Accelerator Accelerator { get; }
    /// <summary>Kernels loaded on this accelerator.</summary>
    public KernelCache Kernels { get; }
    /// <summary>The device's caching allocator.</summary>
    public CachingAllocator Allocator { get; }
    /// <summary>Index checks queued on the device, reported at the next synchronisation.</summary>
    internal DeviceChecks Checks { get; }

    /// <summary>
    /// True: host ↔ device copies of <see cref="IlgpuBackend.CopyFromHost"/> and <see cref="IlgpuBackend.CopyToHost"/>
    /// go through <see cref="Staging"/>, and a copy to the device returns without synchronizing the host. False (the
    /// plain path): ILGPU copies straight from or to the caller's pageable memory and waits for the stream each time.
    /// </summary>
    /// <remarks>
    /// Defaults (unless <see cref="PinnedStagingVariable"/> is set): on for <c>ilgpu-cpu</c>, so that CI runs every
    /// test through the staging ring (there it costs one extra memcpy per copy: the CPU accelerator's copies are
    /// synchronous anyway); off for CUDA, conservatively, because the staged path (page-locked slots, CUDA-event
    /// fences, copies left running while the host goes on) has not yet been run on a CUDA GPU; off for OpenCL, where
    /// ILGPU 1.5.3 cannot page-lock memory (the slots would only be pinned) and the path is unmeasured too. Can be
    /// changed at any time; copies already enqueued stay correct either way, since both paths use the same in-order
    /// stream.
    /// </remarks>
    public bool PinnedStaging
    {
        get => pinnedStaging;
        set => pinnedStaging = value;
    }

    /// <summary>The default of <see cref="PinnedStaging"/> for an accelerator kind and the value of <see cref="PinnedStagingVariable"/>.</summary>
    public static bool DefaultPinnedStaging(AcceleratorType type, string? variable) => variable?.Trim() switch
    {
        "1" => true,
        "0" => false,
        _ => type == AcceleratorType.CPU,
    };

    /// <summary>
    /// The device's staging ring (<see cref="HostStaging.DefaultSlotCount"/> slots of
    /// <see cref="HostStaging.DefaultSlotBytes"/> unless <see cref="ConfigureStaging"/> changed it), created on first use.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public HostStaging Staging
    {
        get
        {
            lock (stagingGate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                return staging ??= new HostStaging(Accelerator);
            }
        }
    }

    /// <summary>
    /// Replaces the staging ring by one of <paramref name="slotCount"/> slots of <paramref name="slotBytes"/> bytes. The
    /// old ring is disposed after its outstanding copies complete.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slotCount"/> or <paramref name="slotBytes"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public void ConfigureStaging(int slotCount, int slotBytes) => ReplaceStaging(new HostStaging(Accelerator, slotCount, slotBytes));

    /// <summary>Installs <paramref name="ring"/> (tests install rings over a deferring stream) and disposes the old ring.</summary>
    internal void ReplaceStaging(HostStaging ring)
    {
        HostStaging? old;
        lock (stagingGate)
        {
            if (disposed)
            {
                ring.Dispose();
                throw new ObjectDisposedException(nameof(IlgpuDevice));
            }
            old = staging;
            staging = ring;
        }
        // A copy still running on the old ring holds its lock: Dispose waits for it, then for its fences.
        old?.Dispose();
    }

    /// <summary>Waits until all work queued on the accelerator's default stream is done.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>
    /// Frees the staging ring (after its copies complete), the allocator's memory and the accelerator. Called by
    /// <see cref="IlgpuContext.Dispose"/>.
    /// </summary>
    public void Dispose()
    {
        HostStaging? ring;
        lock (stagingGate)
        {
            if (disposed) return;
            disposed = true;
            ring = staging;
            staging = null;
        }
        ring?.Dispose();
        Allocator.Dispose();
        Checks.Dispose();
        Accelerator.Dispose();
    }
}
