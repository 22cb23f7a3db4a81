using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Ember.Cpu;

/// <summary>
/// An optional trace of where a CPU GEMM's time goes, per product and per piece of work (one thread's share): packing B,
/// packing A, the micro-kernel, and waiting (from the pool run's start to the piece's start, and from the piece's end to
/// the run's end), plus the chosen split (GridM x GridN, batch groups, MC / NC / KC, pool runs per product). Products
/// are summed per shape; <see cref="Report"/> prints the summary (Ember.Perf <c>--gemm-trace 1</c>).
/// </summary>
/// <remarks>
/// Off by default. When off, the driver tests one pointer per packed block and allocates nothing; when on, each piece
/// writes its timestamps into its own 64-byte slot of an array on the calling thread's stack (no allocation per call,
/// no sharing of cache lines between pieces), and the calling thread folds them into the per-shape totals after the
/// product (a dictionary entry is allocated the first time a shape is seen). The trace never changes a result.
/// </remarks>
internal static unsafe class GemmTrace
{
    /// <summary>Environment variable that turns the trace on at start when "1".</summary>
    public const string Variable = "EMBER_GEMM_TRACE";

    /// <summary>Whether products are traced. Set before the products to trace (Ember.Perf sets it after warm-up).</summary>
    internal static bool Enabled = Environment.GetEnvironmentVariable(Variable) == "1";

    private static readonly object gate = new();
    private static readonly Dictionary<Key, Totals> shapes = [];

    /// <summary>Starts the trace of one product on the calling thread: fills <paramref name="product"/> and clears its piece slots.</summary>
    internal static void Begin(GemmTraceProduct* product, GemmTracePart* parts, int count)
    {
        *product = default;
        product->Parts = parts;
        product->Count = count;
        new Span<byte>(parts, count * sizeof(GemmTracePart)).Clear();
        product->Wakes0 = GemmWorkers.TraceWakes;
        product->CallerSleeps0 = GemmWorkers.TraceCallerSleeps;
    }

    /// <summary>Marks the start of one pool run of the product (or of the inline run when it is not split).</summary>
    internal static void BeginRun(GemmTraceProduct* product) => product->RunStart = Stopwatch.GetTimestamp();

    /// <summary>
    /// Ends one pool run: every piece's wait before its start and after its end (relative to this run) is added to its
    /// slot, and the run's wall time to the product's.
    /// </summary>
    internal static void EndRun(GemmTraceProduct* product, bool pooled)
    {
        long end = Stopwatch.GetTimestamp(), start = product->RunStart;
        product->Wall += end - start;
        if (pooled)
            product->Runs++;
        for (int i = 0; i < product->Count; i++)
        {
            GemmTracePart* part = product->Parts + i;
            if (part->RunFirst == 0)
            {
                // A piece with nothing to do in this run (an empty cell) waited for all of it.
                part->Idle += end - start;
                continue;
            }
            part->StartWait += part->RunFirst - start;
            part->TailWait += end - part->RunLast;
            part->RunFirst = part->RunLast = 0;
        }
    }

    /// <summary>Marks piece <paramref name="part"/> as started (within the current run) on this thread.</summary>
    internal static void PieceStart(GemmTracePart* part)
    {
        long now = Stopwatch.GetTimestamp();
        if (part->RunFirst == 0)
            part->RunFirst = now;
        part->Thread = Environment.CurrentManagedThreadId;
    }

    /// <summary>Marks piece <paramref name="part"/> as finished (within the current run).</summary>
    internal static void PieceEnd(GemmTracePart* part)
    {
        long now = Stopwatch.GetTimestamp();
        part->Busy += now - part->RunFirst;
        part->RunLast = now;
    }

    /// <summary>Folds a finished product into its shape's totals.</summary>
    internal static void End(GemmTraceProduct* product, int elementSize, int batch, int m, int n, int k, bool aColumnMajor,
        bool bRowMajor, char path, int gridM, int gridN, int batchGroups, int mc, int nc, int kc)
    {
        var key = new Key(elementSize, batch, m, n, k, aColumnMajor, bRowMajor, path, gridM, gridN, batchGroups,
            product->Count, mc, nc, kc);
        int threads = 0;
        for (int i = 0; i < product->Count; i++)
        {
            int id = product->Parts[i].Thread;
            bool seen = false;
            for (int j = 0; j < i && !seen; j++)
                seen = product->Parts[j].Thread == id;
            if (!seen && id != 0)
                threads++;
        }
        lock (gate)
        {
            if (!shapes.TryGetValue(key, out Totals? totals))
                shapes[key] = totals = new Totals();
            totals.Calls++;
            totals.Wall += product->Wall;
            totals.Runs += product->Runs;
            totals.Threads += threads;
            totals.Wakes += GemmWorkers.TraceWakes - product->Wakes0;
            totals.CallerSleeps += GemmWorkers.TraceCallerSleeps - product->CallerSleeps0;
            for (int i = 0; i < product->Count; i++)
            {
                GemmTracePart* part = product->Parts + i;
                totals.PackA += part->PackA;
                totals.PackB += part->PackB;
                totals.Kernel += part->Kernel;
                totals.Wait += part->Wait;
                totals.Busy += part->Busy;
                totals.StartWait += part->StartWait;
                totals.TailWait += part->TailWait + part->Idle;
            }
        }
    }

    /// <summary>Forgets every traced product and the pool's counters (call between workloads).</summary>
    internal static void Reset()
    {
        lock (gate)
            shapes.Clear();
        GemmWorkers.ResetTrace();
    }

    /// <summary>
    /// The summary since the last <see cref="Reset"/>: one line per shape (the <paramref name="top"/> costliest), times per
    /// product and per <paramref name="steps"/> (the timed steps), and how the pieces' time divides; then the pool's runs.
    /// </summary>
    internal static string Report(int steps, int top = 30)
    {
        var text = new StringBuilder();
        double tick = 1e3 / Stopwatch.Frequency;
        steps = Math.Max(1, steps);
        KeyValuePair<Key, Totals>[] rows;
        lock (gate)
            rows = shapes.OrderByDescending(r => r.Value.Wall).ToArray();
        long wall = rows.Sum(r => r.Value.Wall), calls = rows.Sum(r => r.Value.Calls);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  GEMM trace: {calls / (double)steps:F1} products and {wall * tick / steps:F3} ms in GEMM per step; piece time (pieces x wall) split into pack A / pack B / kernel / waiting inside the piece for others' packing / other in piece / wait before start / wait after end (idle)");
        text.AppendLine("  shape (batch x m x n x k, A B layout)   path  grid (groups) pieces  MC/NC/KC     runs  thr   calls/step  ms/call  GF/s  kernel GF/s/piece  packA packB kernel  wait other  start  tail  wakes/call");
        foreach (var (key, t) in rows.Take(top))
        {
            double flops = 2.0 * key.Batch * key.M * key.N * key.K * t.Calls;
            double seconds = t.Wall / (double)Stopwatch.Frequency;
            double pieceTicks = Math.Max(1, t.Busy + t.StartWait + t.TailWait);
            double Pct(long x) => 100.0 * x / pieceTicks;
            long other = t.Busy - t.PackA - t.PackB - t.Kernel - t.Wait;
            string shape = $"{key.Batch}x{key.M}x{key.N}x{key.K} {(key.AColumnMajor ? 'T' : 'N')}{(key.BRowMajor ? 'N' : 'T')}{(key.ElementSize == 8 ? " f64" : "")}";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {shape,-39} {key.Path,4}  {key.GridM + "x" + key.GridN + " (" + key.BatchGroups + ")",-13} {key.Pieces,6}  {key.Mc + "/" + key.Nc + "/" + key.Kc,-12} {t.Runs / (double)t.Calls,4:F1} {t.Threads / (double)t.Calls,4:F1} {t.Calls / (double)steps,11:F1} {seconds * 1e3 / t.Calls,8:F3} {flops / seconds / 1e9,5:F0} {(t.Kernel > 0 ? flops / (t.Kernel / (double)Stopwatch.Frequency) / 1e9 : 0),18:F1}  {Pct(t.PackA),5:F1} {Pct(t.PackB),5:F1} {Pct(t.Kernel),6:F1} {Pct(t.Wait),5:F1} {Pct(other),5:F1} {Pct(t.StartWait),6:F1} {Pct(t.TailWait),5:F1} {t.Wakes / (double)t.Calls,11:F1}");
        }
        if (rows.Length > top)
            text.AppendLine(CultureInfo.InvariantCulture, $"  ({rows.Length - top} more shapes, {rows.Skip(top).Sum(r => r.Value.Wall) * tick / steps:F3} ms per step)");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  pool: {GemmWorkers.TraceRuns / (double)steps:F1} runs per step (GEMM and every other parallel loop), {GemmWorkers.TraceRunTicks * tick / steps:F3} ms per step inside them, {GemmWorkers.TraceWakes / (double)steps:F1} workers woken from sleep and {GemmWorkers.TraceCallerSleeps / (double)steps:F1} caller sleeps per step, {GemmWorkers.TraceInline / (double)steps:F1} runs per step done inline (pool busy); spin {GemmWorkers.SpinMicroseconds} us");
        return text.ToString();
    }

    private readonly record struct Key(int ElementSize, int Batch, int M, int N, int K, bool AColumnMajor, bool BRowMajor,
        char Path, int GridM, int GridN, int BatchGroups, int Pieces, int Mc, int Nc, int Kc);

    private sealed class Totals
    {
        public long Calls, Wall, Runs, Threads, Wakes, CallerSleeps, PackA, PackB, Kernel, Wait, Busy, StartWait, TailWait;
    }
}

/// <summary>One traced product, on the calling thread's stack: its piece slots and its runs.</summary>
internal unsafe struct GemmTraceProduct
{
    /// <summary>One slot per piece.</summary>
    public GemmTracePart* Parts;

    /// <summary>Number of pieces (slots).</summary>
    public int Count;

    /// <summary>Pool runs the product took (0 when it ran inline on the caller).</summary>
    public int Runs;

    /// <summary>Timestamp of the current run's start.</summary>
    public long RunStart;

    /// <summary>Wall ticks over all runs.</summary>
    public long Wall;

    /// <summary>The pool's counters when the product started.</summary>
    public long Wakes0, CallerSleeps0;
}

/// <summary>One piece's timings (Stopwatch ticks), a cache line of its own so that pieces on different cores share none.</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
internal struct GemmTracePart
{
    /// <summary>Time packing A, packing B and in the micro-kernel (partial-tile merges included).</summary>
    public long PackA, PackB, Kernel;

    /// <summary>Time from the piece's start to its end, summed over runs.</summary>
    public long Busy;

    /// <summary>Waits inside the piece for other pieces' work (the shared-ready path's panels).</summary>
    public long Wait;

    /// <summary>Waits before the piece started and after it ended, relative to each run; whole runs with nothing to do.</summary>
    public long StartWait, TailWait, Idle;

    /// <summary>The current run's first start and last end (0 until then).</summary>
    public long RunFirst, RunLast;

    /// <summary>Managed id of the thread that ran the piece last.</summary>
    public int Thread;
}
