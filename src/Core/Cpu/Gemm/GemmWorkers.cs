namespace Ember.Cpu;

/// <summary>
/// A small fixed set of persistent worker threads for GEMM: one call runs <c>parts</c> pieces of work, piece 0
/// on the calling thread and the others on workers, and returns when all are done. Nothing is allocated per
/// call. If the pool is already in use (a concurrent call from another thread), the caller runs all pieces
/// itself rather than oversubscribing the cores.
/// </summary>
internal static unsafe class GemmWorkers
{
    private static readonly object growLock = new();
    private static readonly ManualResetEventSlim done = new(false, spinCount: 2000);
    private static Worker[] workers = [];
    private static int busy;
    private static int pending;
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
            done.Reset();
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
                done.Wait();
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

    private static void Finish(Exception? error)
    {
        if (error is not null)
            Interlocked.CompareExchange(ref failure, error, null);
        if (Interlocked.Decrement(ref pending) == 0)
            done.Set();
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim signal = new(0);
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
            signal.Release();
        }

        private void Loop()
        {
            while (true)
            {
                signal.Wait();
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
