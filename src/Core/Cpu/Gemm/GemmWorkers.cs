using System.Diagnostics;

namespace Ember.Cpu;

/// <summary>
/// A small set of persistent worker threads shared by every CPU kernel (GEMM, convolution and, through
/// <see cref="CpuParallel"/>, all other parallel loops): one call runs <c>parts</c> pieces of work and returns when
/// all are done. Nothing is allocated per call. The caller and up to parts − 1 woken workers claim pieces from one
/// atomic counter, so a worker that the OS has not scheduled yet (a loaded machine) delays nothing: the others take
/// its pieces. Which thread runs a piece never changes its result. Workers and the waiting caller spin for a short
/// while before they block, because waking a blocked thread costs tens of microseconds, more than a whole 128 x 128
/// product. If the pool is already in use (a concurrent call from another thread, or a nested call from inside a
/// piece), the caller runs all pieces itself rather than oversubscribing the cores.
/// </summary>
internal static unsafe class GemmWorkers
{
    /// <summary>Environment variable that sets how long, in microseconds, idle workers and a waiting caller spin before blocking.</summary>
    public const string SpinVariable = "EMBER_GEMM_SPIN_US";

    /// <summary>
    /// Microseconds an idle worker or a waiting caller spins before blocking: 250 unless <c>EMBER_GEMM_SPIN_US</c> says
    /// otherwise (0 blocks at once). Longer spins keep workers awake across the serial gaps between a training step's ops
    /// (no wake-up cost, as OpenMP's spin-then-sleep), at the price of busy cores while nothing runs. Tests set it.
    /// </summary>
    internal static int SpinMicroseconds
    {
        get => spinMicroseconds;
        set
        {
            spinMicroseconds = Math.Max(0, value);
            spinTicks = Stopwatch.Frequency * spinMicroseconds / 1_000_000;
        }
    }

    private static int spinMicroseconds = ReadSpin();
    private static long spinTicks = Stopwatch.Frequency * spinMicroseconds / 1_000_000;

    /// <summary>
    /// Runs of more than one piece since start (parallel loops of every CPU kernel, also those a busy pool ran inline), and
    /// the threads they were given, the caller included (1 for an inline run): their ratio over an op is how many threads
    /// its parallel loops used (<see cref="CpuProfiler"/> reports it per op). Loops too small to split never get here.
    /// </summary>
    internal static long Runs, RunThreads;

    // Counters of the trace (GemmTrace.Enabled), written only by the thread that owns the current run (or by a worker
    // for its own sleep, with Interlocked), read by the trace's report.
    internal static long TraceRuns, TraceRunTicks, TraceWakes, TraceCallerSleeps, TraceInline;

    private static readonly object growLock = new();
    private static readonly object doneLock = new();
    private static Worker[] workers = [];
    private static int busy;
    private static int generation;
    private static int total;
    private static int remaining;
    private static int callerSleeping;
    private static delegate*<void*, int, void> body;
    private static void* context;
    private static Exception? failure;

    // (generation << 32) | next unclaimed piece. It only ever grows, so a successful compare-exchange from a value read
    // earlier proves that nothing was claimed in between: the run that value belongs to is still going, and body,
    // context and total read in between are that run's (the next run writes them only after every piece is done).
    private static long claim;

    /// <summary>
    /// Runs <c>work(ctx, i)</c> for i in [0, <paramref name="parts"/>), in parallel, and waits for all of them.
    /// <paramref name="ctx"/> must stay valid until this returns (a pointer to the caller's stack is fine). The first
    /// exception a piece throws is rethrown here (with its stack trace) after all pieces have finished.
    /// <paramref name="threads"/> (when positive) caps the threads that run them, the caller included: more pieces than
    /// threads are claimed in turn by whoever is free.
    /// </summary>
    public static void Run(int parts, delegate*<void*, int, void> work, void* ctx, int threads = 0)
    {
        if (parts <= 1 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            if (parts > 1)
            {
                Interlocked.Increment(ref Runs);
                Interlocked.Increment(ref RunThreads);
            }
            if (parts > 1 && GemmTrace.Enabled)
                Interlocked.Increment(ref TraceInline);
            for (int i = 0; i < parts; i++)
                work(ctx, i);
            return;
        }
        bool trace = GemmTrace.Enabled;
        long start = trace ? Stopwatch.GetTimestamp() : 0;
        try
        {
            int helpers = (threads > 0 ? Math.Min(threads, parts) : parts) - 1;
            Interlocked.Increment(ref Runs);
            Interlocked.Add(ref RunThreads, helpers + 1);
            Worker[] pool = EnsureWorkers(helpers);
            body = work;
            context = ctx;
            total = parts;
            failure = null;
            Volatile.Write(ref remaining, parts);
            // Publish the run (a full fence: everything above is visible to whoever reads the new claim word).
            Interlocked.Exchange(ref claim, (long)++generation << 32);
            int woken = 0;
            for (int i = 0; i < helpers; i++)
                woken += pool[i].Start();
            if (trace)
                TraceWakes += woken;
            // The caller claims pieces too; it cannot stop early (total and claim are its own run's), so the run
            // finishes even if no worker ever wakes.
            RunPieces();
            WaitForPieces(trace);
            if (trace)
            {
                TraceRuns++;
                TraceRunTicks += Stopwatch.GetTimestamp() - start;
            }
            if (failure is Exception error)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
        finally
        {
            body = null;
            context = null;
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Claims and runs pieces of the current run until none is left unclaimed.</summary>
    private static void RunPieces()
    {
        while (true)
        {
            long seen = Volatile.Read(ref claim);
            int count = Volatile.Read(ref total);
            if ((int)seen >= count)
                return;
            if (Interlocked.CompareExchange(ref claim, seen + 1, seen) != seen)
                continue;
            // Piece (int)seen is ours; its run cannot finish before we call Finish, so body and context are its own.
            Exception? error = null;
            try
            {
                body(context, (int)seen);
            }
            catch (Exception e)
            {
                error = e;
            }
            Finish(error);
        }
    }

    private static void WaitForPieces(bool trace)
    {
        long deadline = Stopwatch.GetTimestamp() + Volatile.Read(ref spinTicks);
        while (Volatile.Read(ref remaining) != 0)
        {
            if (Stopwatch.GetTimestamp() < deadline)
            {
                Thread.SpinWait(16);
                continue;
            }
            if (trace)
                TraceCallerSleeps++;
            lock (doneLock)
            {
                // Full fence between announcing the sleep and re-reading the counter (pairs with Finish).
                Interlocked.Exchange(ref callerSleeping, 1);
                while (Volatile.Read(ref remaining) != 0)
                    Monitor.Wait(doneLock);
                Volatile.Write(ref callerSleeping, 0);
            }
        }
    }

    private static void Finish(Exception? error)
    {
        if (error is not null)
            Interlocked.CompareExchange(ref failure, error, null);
        if (Interlocked.Decrement(ref remaining) == 0 && Volatile.Read(ref callerSleeping) != 0)
        {
            lock (doneLock)
                Monitor.PulseAll(doneLock);
        }
    }

    /// <summary>Zeroes the trace's counters.</summary>
    internal static void ResetTrace()
    {
        TraceRuns = TraceRunTicks = TraceWakes = TraceCallerSleeps = 0;
        Interlocked.Exchange(ref TraceInline, 0);
    }

    private static int ReadSpin()
        => int.TryParse(Environment.GetEnvironmentVariable(SpinVariable), System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture, out int value) && value >= 0 ? value : 250;

    private static Worker[] EnsureWorkers(int count)
    {
        Worker[] pool = workers;
        if (pool.Length >= count)
            return pool;
        lock (growLock)
        {
            pool = workers;
            if (pool.Length < count)
            {
                var grown = new Worker[count];
                Array.Copy(pool, grown, pool.Length);
                for (int i = pool.Length; i < count; i++)
                    grown[i] = new Worker(i + 1);
                workers = pool = grown;
            }
        }
        return pool;
    }

    private sealed class Worker
    {
        private readonly object sleepLock = new();
        private int go;
        private int sleeping;

        public Worker(int index)
        {
            var thread = new Thread(Loop, maxStackSize: 256 * 1024)
            {
                IsBackground = true,
                Name = $"Ember GEMM worker {index}",
            };
            thread.Start();
        }

        /// <summary>Hands the worker the current run; returns 1 when it had to be woken from sleep, else 0.</summary>
        public int Start()
        {
            // Full fence between raising the flag and reading whether the worker sleeps (pairs with Loop).
            Interlocked.Exchange(ref go, 1);
            if (Volatile.Read(ref sleeping) != 0)
            {
                lock (sleepLock)
                    Monitor.Pulse(sleepLock);
                return 1;
            }
            return 0;
        }

        private void Loop()
        {
            while (true)
            {
                long deadline = Stopwatch.GetTimestamp() + Volatile.Read(ref spinTicks);
                while (Volatile.Read(ref go) == 0)
                {
                    if (Stopwatch.GetTimestamp() < deadline)
                    {
                        Thread.SpinWait(16);
                        continue;
                    }
                    lock (sleepLock)
                    {
                        Interlocked.Exchange(ref sleeping, 1);
                        while (Volatile.Read(ref go) == 0)
                            Monitor.Wait(sleepLock);
                        Volatile.Write(ref sleeping, 0);
                    }
                }
                Volatile.Write(ref go, 0);
                // Woken for a run that may already be over (the caller and other workers took every piece): then
                // there is nothing to claim and the worker goes back to waiting.
                RunPieces();
            }
        }
    }
}
