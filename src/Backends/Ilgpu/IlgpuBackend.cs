using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

[assembly: InternalsVisibleTo("ILGPURuntime")]   // ILGPU's CPU accelerator runs kernels over internal types (Ops/*)

namespace Ember.Ilgpu;

/// <summary>
/// The GPU backend: every <see cref="IBackend"/> kernel as an ILGPU kernel, for <c>cuda:N</c>, <c>opencl:N</c>
/// and <c>ilgpu-cpu</c> (ILGPU's CPU accelerator). Kernels are compiled once per (kernel, dtype, device) and
/// held by the device's <see cref="KernelCache"/>; all work is queued on the accelerator's default stream
/// without host synchronization, and <see cref="CopyToHost"/> waits for it. Host ↔ device copies go through the
/// device's page-locked <see cref="HostStaging"/> ring when <see cref="IlgpuDevice.PinnedStaging"/> is on (then
/// <see cref="CopyFromHost"/> does not synchronize either). Split by kernel family over
/// partial files. Registered with <see cref="Ember.Backends"/> by this assembly's module initializer;
/// the ILGPU context itself is created only when a device is first used or <see cref="Devices"/> is read.
/// </summary>
public sealed partial class IlgpuBackend : IBackend
{
    /// <summary>The single instance.</summary>
    public static IlgpuBackend Instance { get; } = new();

    private IlgpuBackend() { }

    /// <summary>Registers <see cref="Instance"/> with <see cref="Ember.Backends"/> (idempotent; the module initializer already does it).</summary>
    public static void Register() => Ember.Backends.Register(Instance);

#pragma warning disable CA2255 // a library module initializer is the design: registration without reflection scanning
    [ModuleInitializer]
    internal static void RegisterOnLoad() => Register();
#pragma warning restore CA2255

    /// <inheritdoc/>
    public string Name => "ilgpu";

    /// <inheritdoc/>
    public bool Supports(Device device) =>
        device.Type is DeviceType.Cuda or DeviceType.OpenCL or DeviceType.IlgpuCpu && IlgpuContext.Shared.IsAvailable(device);

    /// <inheritdoc/>
    public IReadOnlyList<Device> Devices => IlgpuContext.Shared.Devices.Select(d => d.Device).ToArray();

    /// <summary>The opened device (accelerator, kernels, allocator) of <paramref name="device"/>.</summary>
    /// <exception cref="ArgumentException">The device is not available.</exception>
    public static IlgpuDevice Open(Device device) => IlgpuContext.Shared.Get(device);

    /// <inheritdoc/>
    public Storage Allocate(Device device, DType dtype, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new IlgpuStorage(IlgpuProfiler.Current, Open(device), dtype, length);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With <see cref="IlgpuDevice.PinnedStaging"/> on, the bytes are copied into the device's <see cref="HostStaging"/>
    /// ring and the copy to the device is enqueued on the stream: the call returns without waiting for the device, and
    /// <paramref name="source"/> may be reused at once. Otherwise ILGPU copies from the pageable source (pinned for the
    /// duration of the call) and the call waits for the stream.
    /// </remarks>
    public void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long elementOffset)
    {
        var st = (IlgpuStorage)destination;
        if (source.IsEmpty) return;
        var view = st.Block.Bytes.SubView(elementOffset * st.DType.ElementSize(), source.Length);
        var d = st.Owner;
        if (d.PinnedStaging)
        {
            d.Staging.Upload(source, view);
            return;
        }
        CopyPinned(source, view);
    }

    /// <summary>The plain host → device copy: from the caller's memory, pinned for the copy, which is waited for.</summary>
    private static unsafe void CopyPinned(ReadOnlySpan<byte> source, ArrayView<byte> view)
    {
        // ILGPU's CopyFromCPU(ref T) wants the address of pinned memory: it takes the address, then allocates (a host
        // buffer wrapper) before copying, so an unpinned managed array moved by a compacting GC in between is missed
        // (the device gets stale bytes; the reverse copy writes into whatever lives at the old address). Pinned for
        // the whole call, which synchronizes the stream (OpenCL writes without blocking), so ILGPU is done with it.
        fixed (byte* p = source)
            view.CopyFromCPU(view.GetAccelerator().DefaultStream, ref *p, source.Length);
    }

    /// <summary>The plain device → host copy into the caller's memory, pinned for the copy, which is waited for.</summary>
    private static unsafe void CopyPinned(ArrayView<byte> view, Span<byte> destination)
    {
        fixed (byte* p = destination)
            view.CopyToCPU(view.GetAccelerator().DefaultStream, ref *p, destination.Length);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Waits for all work queued on the device before copying; then throws for an index check queued on the device that
    /// failed (<see cref="CheckIndices"/>), after the copy is complete. With <see cref="IlgpuDevice.PinnedStaging"/> on, the
    /// bytes come through the device's <see cref="HostStaging"/> ring (the fence after the last chunk completing
    /// implies all earlier work on the in-order stream has completed); otherwise the device is synchronized and ILGPU
    /// copies into the pageable destination (pinned for the duration of the call).
    /// </remarks>
    public void CopyToHost(Storage source, long elementOffset, Span<byte> destination)
    {
        Interlocked.Increment(ref hostReads);
        if (TraceHostReads) Console.Error.WriteLine($"host read {destination.Length} bytes at\n{Environment.StackTrace}");
        var st = (IlgpuStorage)source;
        var d = st.Owner;
        if (destination.IsEmpty) d.Synchronize();
        else
        {
            var view = st.Block.Bytes.SubView(elementOffset * st.DType.ElementSize(), destination.Length);
            if (d.PinnedStaging) d.Staging.Download(view, destination);
            else
            {
                d.Synchronize();
                CopyPinned(view, destination);
            }
        }
        // The device has finished everything queued before the copy: report the index checks queued with it.
        d.Checks.ThrowIfFailed();
    }

    /// <inheritdoc/>
    /// <remarks>Then throws for an index check queued on the device that failed (<see cref="CheckIndices"/>).</remarks>
    public void Synchronize(Device device)
    {
        var d = Open(device);
        d.Synchronize();
        d.Checks.ThrowIfFailed();
    }

    private static long hostReads;

    /// <summary>
    /// Device → host reads (<see cref="CopyToHost"/> calls) of this process so far, all devices: each one waits for the
    /// device, so the host can no longer queue launches ahead of it. The difference over a training step is its host
    /// reads per step (Ember.Perf's "host reads/step"; 0 is the goal). <see cref="Synchronize"/> is not counted.
    /// </summary>
    public static long HostReads => Interlocked.Read(ref hostReads);

    /// <summary>
    /// Environment variable: <c>1</c> prints the managed stack of every <see cref="CopyToHost"/> to standard error, to
    /// find which op reads the device in a step (diagnostics; slow).
    /// </summary>
    public const string TraceHostReadsVariable = "EMBER_ILGPU_TRACE_HOST_READS";

    private static readonly bool TraceHostReads = Environment.GetEnvironmentVariable(TraceHostReadsVariable) == "1";

    // ---- helpers shared by the partial files ------------------------------------------------------

    /// <summary>The device of a tensor on this backend.</summary>
    internal static IlgpuDevice Dev(Tensor t) => ((IlgpuStorage)t.Storage).Owner;

    /// <summary>The whole storage of <paramref name="t"/> as a typed view (kernels add the tensor's offset).</summary>
    internal static ArrayView<T> ViewOf<T>(Tensor t) where T : unmanaged => ((IlgpuStorage)t.Storage).View<T>();

    /// <summary>The storage's view from the tensor's first element (for kernels that index a contiguous tensor from 0).</summary>
    internal static ArrayView<T> ViewAt<T>(Tensor t) where T : unmanaged => ViewOf<T>(t).SubView(t.StorageOffset);

    /// <summary>The auto-grouped launcher of <paramref name="kernel"/> on <paramref name="d"/>, loaded once.</summary>
    internal static TLauncher Load<TKernel, TLauncher>(IlgpuDevice d, TKernel kernel, Func<Accelerator, TKernel, TLauncher> load)
        where TKernel : Delegate where TLauncher : Delegate => d.Kernels.Get(kernel, load);

    /// <summary>Launch size of an elementwise kernel over <paramref name="n"/> elements.</summary>
    /// <exception cref="NotSupportedException">More than 2³¹ − 1 elements in one launch.</exception>
    internal static Index1D Count(long n) =>
        n <= int.MaxValue ? new Index1D((int)n) : throw new NotSupportedException($"ILGPU backend: {n} elements in one kernel launch; at most {int.MaxValue} are supported.");

    /// <summary>Threads per group of row kernels on <paramref name="d"/>: a power of two ≤ 256 the accelerator allows.</summary>
    internal static int RowGroupSize(IlgpuDevice d)
    {
        // ILGPU's CPU accelerator runs group threads as OS threads with real barriers: keep its groups small.
        int max = Math.Min(d.Accelerator.AcceleratorType == AcceleratorType.CPU ? 8 : 256, d.Accelerator.MaxNumThreadsPerGroup);
        int g = 1;
        while (g * 2 <= max) g *= 2;
        return Math.Max(g, 1);
    }
}
