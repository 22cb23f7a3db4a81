namespace Ember.Cpu;

/// <summary>
/// A diagnostic per-op profiler of the CPU backend: while enabled, CPU storages allocated afterwards route their ops
/// through a <see cref="ProfilingBackend"/> that adds each <see cref="IBackend"/> call's wall time to a table keyed by
/// member, op and result shape (CPU calls are synchronous, so a call's time is its kernel's). Comparing the tables of the
/// same step at 1 and at N threads (<c>Ember.Perf --device cpu --profile 5 --threads N</c>) shows which ops do not
/// scale. What runs outside the backend (autograd bookkeeping, the tensor layer's own loops, GEMM calls made from
/// inside a fused kernel) is not in the table: the step time minus the table's total. For benchmarks only.
/// The GPU counterpart is <c>Ember.Ilgpu.IlgpuProfiler</c>.
/// </summary>
public static class CpuProfiler
{
    private static readonly ProfilingBackend Proxy = new(CpuBackend.Instance, null,
        () => Interlocked.Read(ref GemmWorkers.Runs), () => Interlocked.Read(ref GemmWorkers.RunThreads));
    private static volatile bool enabled;

    /// <summary>True while CPU storages allocated from now on are profiled.</summary>
    public static bool Enabled => enabled;

    /// <summary>The backend that new CPU storages report (the proxy while enabled, else the backend itself).</summary>
    internal static IBackend Current => enabled ? Proxy : CpuBackend.Instance;

    /// <summary>Starts profiling CPU storages allocated from now on (tensors allocated before keep running unprofiled).</summary>
    public static void Enable() => enabled = true;

    /// <summary>Stops profiling new CPU storages.</summary>
    public static void Disable() => enabled = false;

    /// <summary>Clears the table.</summary>
    public static void Reset() => Proxy.Reset();

    /// <summary>Total seconds of the outermost recorded calls since the last <see cref="Reset"/>.</summary>
    public static double OuterSeconds => Proxy.OuterSeconds;

    /// <summary>Per-key totals since the last <see cref="Reset"/> (launches are always 0 on the CPU; pool runs and threads are counted).</summary>
    public static IReadOnlyDictionary<string, ProfiledOp> Entries => Proxy.Entries;

    /// <summary>
    /// The table as text: one line per key with calls, the pool's parallel runs and the threads per run (an op's parallel
    /// width: run at 16 threads, an op whose loops get fewer threads does not scale, whatever machine runs the table) and
    /// milliseconds per step (totals divided by <paramref name="steps"/>), largest first, then the total of the outermost calls.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public static string Report(int steps, int top = 40) => Proxy.Report(steps, top);
}
