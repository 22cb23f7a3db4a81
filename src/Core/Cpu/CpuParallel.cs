using System.Runtime.InteropServices;

namespace Ember.Cpu;

/// <summary>
/// Splits a loop over the GEMM worker threads (<see cref="GemmWorkers"/>), the threads the GEMM and direct-convolution
/// kernels already use. A memory-bound pass that runs right after a GEMM then reuses the worker that is still spinning
/// for work instead of waking a thread-pool thread next to it (on a 2-core machine that would be three runnable
/// threads for two cores).
/// </summary>
internal static unsafe class CpuParallel
{
    /// <summary>Work (items × workPerItem) below which one thread runs the whole loop.</summary>
    private const long MinWorkPerPart = 1 << 15;

    /// <summary>
    /// Runs body(start, count) over [0, n) as at most <see cref="CpuThreads.Count"/> contiguous ranges, in parallel when
    /// n·workPerItem is large; returns when all ranges are done. Each item is in exactly one range, in order.
    /// </summary>
    public static void For(long n, long workPerItem, Action<long, long> body)
    {
        long work = n * Math.Max(1, workPerItem);
        int parts = (int)Math.Clamp(Math.Min(n, work / MinWorkPerPart), 1, CpuThreads.Count);
        if (parts <= 1)
        {
            if (n > 0) body(0, n);
            return;
        }
        var handle = GCHandle.Alloc(new Job(n, parts, body));
        try
        {
            GemmWorkers.Run(parts, &Part, (void*)GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }
    }

    private static void Part(void* context, int part)
    {
        var job = (Job)GCHandle.FromIntPtr((IntPtr)context).Target!;
        long start = job.N * part / job.Parts, end = job.N * (part + 1) / job.Parts;
        if (end > start) job.Body(start, end - start);
    }

    private sealed record Job(long N, int Parts, Action<long, long> Body);
}
