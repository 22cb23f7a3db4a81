namespace Ember.Ilgpu;

/// <summary>
/// A diagnostic per-op profiler of the ILGPU backend: while enabled, storages allocated afterwards route their
/// kernels through a <see cref="ProfilingBackend"/> that synchronizes the device before and after every
/// <see cref="IBackend"/> call and adds the elapsed wall time (launch overhead plus kernel time) and the kernel launches
/// to a table keyed by member, op and result shape. Synchronizing serializes the stream, so profiled steps are slower
/// than normal ones; the table says where the time of a step goes, not how long a step takes. For benchmarks only.
/// The CPU backend's counterpart is <see cref="Cpu.CpuProfiler"/>.
/// </summary>
public static class IlgpuProfiler
{
    private static ProfilingBackend? proxy;

    /// <summary>True while storages allocated by the backend are profiled.</summary>
    public static bool Enabled { get; private set; }

    private static ProfilingBackend Proxy => proxy ??= new ProfilingBackend(IlgpuBackend.Instance, () => KernelCache.Launches);

    /// <summary>The backend that new storages report (the proxy while enabled, else the backend itself).</summary>
    internal static IBackend Current => Enabled ? Proxy : IlgpuBackend.Instance;

    /// <summary>Starts profiling storages allocated from now on (tensors allocated before keep running unprofiled).</summary>
    public static void Enable() => Enabled = true;

    /// <summary>Stops profiling new storages.</summary>
    public static void Disable() => Enabled = false;

    /// <summary>
    /// Kernel launches of the ILGPU backend in this process so far, counted whether or not the profiler is enabled
    /// (every launch goes through a device's <see cref="KernelCache"/>); the difference over a training step is its
    /// launch count. Host↔device copies are not kernels and are not counted.
    /// </summary>
    public static long Launches => KernelCache.Launches;

    /// <summary>Clears the table.</summary>
    public static void Reset() => proxy?.Reset();

    /// <summary>
    /// The table as text: one line per key with calls, kernel launches and milliseconds per step (totals divided by
    /// <paramref name="steps"/>), largest first, then the total of the outermost calls (<see cref="ProfilingBackend.Report"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public static string Report(int steps, int top = 40) => Proxy.Report(steps, top);

    /// <summary>
    /// The table's keys by kernel launches per step, most first (launches of a fused member include those of the
    /// kernels it runs; copies between host and device are not launches), with calls per step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public static string LaunchReport(int steps, int top = 40) => Proxy.LaunchReport(steps, top);
}
