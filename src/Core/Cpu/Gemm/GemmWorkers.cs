using System.Diagnostics;

namespace Ember.Cpu;

/// <summary>
/// A small set of persistent worker threads for GEMM: one call runs <c>parts</c> pieces of work, piece 0 on the
/// calling thread and the others on workers, and returns when all are done. Nothing is allocated per call.
/// Workers and the waiting caller spin for a short while before they block, because waking a blocked thread
/// costs tens of microseconds, more than a whole 128 x 128 product. If the pool is already in use (a concurrent
/// call from another thread), the caller runs all pieces itself rather than oversubscribing the cores.
/// </summary>
internal static unsafe class GemmWorkers
{
    /// <summary>How long an idle worker or a waiting caller spins before blocking.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 4000; // 250 microseconds

    private static readonly object growLock = new();
    private static readonly object doneLock = new();
    private static Worker[] workers = [];
    private static int busy;
    private static int pending;
    private static int callerSleeping;
    private static delegate*<void*, int, void> body;
    private static void* context;
    private static Exception? failure;

    /// <summary>
    /// Runs <c>work(ctx, i)</c> for i in [0, <paramref name="parts"/>), in parallel, and waits for all of them.
    /// <paramref name="ctx"/> must stay valid until this returns (a pointer to the caller's stack is fine).
    /// </summary>
    public static void Run(int parts, delegate*<void*, int, void> work, void* ctx)
    {
        if (parts <= 1 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (int i = 0; i < parts; i++)
                work(ctx, i);
            return;
        }
        try
        {
            Worker[] pool = EnsureWorkers(parts - 1);
            body = work;
            context = ctx;
            failure = null;
            Volatile.Write(ref pending, parts - 1);
            for (int i = 1; i < parts; i++)
                pool[i - 1].Start(i);
            try
            {
                work(ctx, 0);
            }
            finally
            {
                // The workers read ctx, which may live on this thread's stack: always wait for them.
                WaitForWorkers();
            }
            if (failure is Exception error)
                throw new AggregateException("A GEMM worker thread failed.", error);
        }
        finally
        {
            body = null;
            context = null;
            Volatile.Write(ref busy, 0);
        }
    }

    private static void WaitForWorkers()
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        while (Volatile.Read(ref pending) != 0)
        {
            if (Stopwatch.GetTimestamp() < deadline)
            {
                Thread.SpinWait(16);
                continue;
            }
            lock (doneLock)
            {
                // Full fence between announcing the sleep and re-reading the counter (pairs with Finish).
                Interlocked.Exchange(ref callerSleeping, 1);
                while (Volatile.Read(ref pending) != 0)
                    Monitor.Wait(doneLock);
                Volatile.Write(ref callerSleeping, 0);
            }
        }
    }

    private static void Finish(Exception? error)
    {
        if (error is not null)
            Interlocked.CompareExchange(ref failure, error, null);
        if (Interlocked.Decrement(ref pending) == 0 && Volatile.Read(ref callerSleeping) != 0)
        {
            lock (doneLock)
                Monitor.PulseAll(doneLock);
        }
    }

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
        private int part;

        public Worker(int index)
        {
            var thread = new Thread(Loop, maxStackSize: 256 * 1024)
            {
                IsBackground = true,
                Name = $"Ember GEMM worker {index}",
            };
            thread.Start();
        }

        public void Start(int index)
        {
            part = index;
            // Full fence between raising the flag and reading whether the worker sleeps (pairs with Loop).
            Interlocked.Exchange(ref go, 1);
            if (Volatile.Read(ref sleeping) != 0)
            {
                lock (sleepLock)
                    Monitor.Pulse(sleepLock);
            }
        }

        private void Loop()
        {
            while (true)
            {
                long deadline = Stopwatch.GetTimestamp() + SpinTicks;
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
                Exception? error = null;
                try
                {
                    body(context, part);
                }
                catch (Exception e)
                {
                    error = e;
                }
                Finish(error);
            }
        }
    }
}
