using System.Runtime;

namespace Ember.Cpu;

/// <summary>
/// The CPU backend's caching allocator: large element arrays of tensors that died are kept and lent again to
/// the next tensor of the same dtype and length, so a training loop's steady state allocates little managed
/// memory and writes into memory that is already mapped and cache-warm (a fresh large-object-heap array
/// costs a page fault per 4 KiB on first touch).
/// </summary>
/// <remarks>
/// <para><b>How an array comes back without Dispose.</b> Every pooled array has a small finalizable
/// <see cref="PoolLease"/> tied to it by a <see cref="DependentHandle"/> (array → lease): the GC keeps the
/// lease alive exactly as long as the array itself is reachable — through its storage, a kernel's local
/// variable, a span or a user who kept <see cref="CpuStorage.Data"/>. Only when nothing can reach the array
/// does the lease's finalizer run and return it, so an array is never lent twice while in use (a kernel
/// that still reads an input whose tensor died keeps that input's array, hence its lease, alive).
/// <see cref="Tensor.Dispose"/> returns the array at once.</para>
/// <para><b>When the GC is asked to run.</b> Arrays of dead tensors come back only after a collection. A miss
/// allocates a new array while the pool (bytes lent plus cached) is smaller than <see cref="GrowthFactor"/> times the
/// bytes live after the last forced collection; once it is that large, a miss forces a full collection (pooled arrays
/// live on the large-object heap, which only a full collection examines), waits for the finalizers and retries, so a
/// training loop allocates new arrays only while it warms up and memory stays within a small multiple of what is live.
/// Before the first forced collection, and with <see cref="GrowthFactor"/> 0, the plain rule applies: a collection once
/// the bytes allocated by misses since the last one exceed max(<see cref="CollectThresholdBytes"/>, a quarter of the
/// bytes lent out after the last forced collection). Two opt-in rules change
/// this: <see cref="CollectOnLentBytes"/> also collects once the bytes lent since the last forced collection reach the
/// threshold (a loop's steady state then reuses its arrays instead of adding an interval's misses for good), and
/// <see cref="CollectBudgetPerThreadBytes"/> raises the threshold with the thread count (fewer stop-the-world
/// collections). Both are off by default: measured on a 16-core Xeon at 16 threads (one run, medians of 5), both on
/// gave cnn 16.8 ms against 22.9, gpt 110 against 103, conv2d 11.9 against 7.6, with 1.2–2.1 GiB cached against
/// 0.15–0.45 GiB (a budget of 1 GiB of fresh arrays costs page faults that 16 threads take in turn). When a forced
/// collection did not pay (fewer than half of the bytes it brought back were lent again before the next one: sizes that
/// never repeat), the threshold doubles, up to 64 times, and returns to the base after one that did.</para>
/// <para>Arrays are binned by exact (dtype, length): a training step asks for the same shapes every step.
/// Idle arrays beyond <see cref="CacheLimitBytes"/> are dropped for the GC to free, and so are those of sizes that were
/// neither lent nor returned during the last two intervals between forced collections. Bool arrays and arrays
/// under <see cref="MinPooledBytes"/> are not pooled (gen-0 allocation is cheaper than a lease).
/// Pooled arrays are handed out with stale contents, as <see cref="Tensor.Empty(long[])"/> promises.
/// Thread-safe.</para>
/// </remarks>
public static class CpuMemoryPool
{
    /// <summary>Environment variable: <c>0</c> disables pooling when the class is first used.</summary>
    public const string EnvironmentVariable = "EMBER_CPU_POOL";

    /// <summary>
    /// Environment variable: <c>1</c> fills every array the pool lends (new or reused) with NaN / 0x5A bytes,
    /// so code that wrongly relies on fresh arrays being zero fails loudly (a testing aid).
    /// </summary>
    public const string PoisonVariable = "EMBER_CPU_POOL_POISON";

    private static readonly object Gate = new();
    private static readonly Dictionary<long, Bin> Bins = new();
    private static long cachedBytes, lentBytes, lentAtCollection, missBytesSinceCollection;
    private static long hits, misses, forcedCollections, epoch;
    private static long hitBytesSinceCollection, returnedByLastCollection, backoff = 1, liveMark;
    private static int gcCountSeen, collecting;
    private static bool reachedLimit;
    private static bool enabled = Environment.GetEnvironmentVariable(EnvironmentVariable) != "0";
    private static readonly bool Poison = Environment.GetEnvironmentVariable(PoisonVariable) == "1";

    /// <summary>Whether new tensors draw from the pool (default true). Turning it off empties the cache.</summary>
    public static bool Enabled
    {
        get => Volatile.Read(ref enabled);
        set { Volatile.Write(ref enabled, value); if (!value) EmptyCache(); }
    }

    /// <summary>Arrays smaller than this many bytes are plain GC allocations (default 32 KiB).</summary>
    public static long MinPooledBytes { get; set; } = 32 << 10;

    /// <summary>Most idle bytes the pool keeps; a returned array that would exceed it is left to the GC.
    /// Default: an eighth of the memory available to the process, clamped to [256 MiB, 4 GiB].</summary>
    public static long CacheLimitBytes { get; set; } =
        Math.Clamp(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8, 256L << 20, 4L << 30);

    /// <summary>Miss bytes since the last collection before the pool forces one (default 2 MiB; see remarks).</summary>
    public static long CollectThresholdBytes { get; set; } = 2L << 20;

    /// <summary>
    /// How large the pool (bytes lent plus bytes cached) may grow, as a multiple of the bytes live after a forced
    /// collection, before a miss counts toward the next collection (default 4; 0 restores the plain threshold rule).
    /// </summary>
    /// <remarks>
    /// A training step's garbage comes back only at a collection. With misses counted from the first byte, every
    /// interval between collections added up to a threshold of new arrays (a quarter of the live bytes) for good, and
    /// those misses were nearly all the managed bytes a step allocated (perf's gpt at 2 threads: 18–30 MB a step, 95 %
    /// of it large-object arrays). Letting the pool reach a few times the live set first puts the misses into the
    /// warm-up; after it, a size that runs dry forces a collection that returns the last steps' arrays. Once reached,
    /// the limit lets the pool grow again only after it has risen by a quarter (the live set grew), so estimates of the
    /// live bytes taken at fuller points of a step do not add arrays for many steps. perf's gpt (2 threads): no misses
    /// after 6 steps, one collection every 3 steps, about 620 MB pooled (4 × 160–210 MB live).
    /// </remarks>
    public static double GrowthFactor { get; set; } = 4;

    /// <summary>
    /// Bytes per CPU thread (<see cref="Threads.Count"/>) the pool may lend between forced collections, whatever the
    /// other limits (default 0: off; at most a 64th of the memory available to the process in all; 64 MiB was tried, see
    /// the class remarks).
    /// </summary>
    /// <remarks>
    /// A forced collection stops every thread, so its cost in thread time grows with the thread count while the garbage
    /// a training step leaves depends on the model, not on the threads (a trace of perf's gpt step at 16 threads had
    /// about a fifth of all thread time parked in the GC's poll, at about one forced collection per two steps). A larger
    /// budget trades memory (the pool may hold about this much beyond what is live) for fewer collections: a step that
    /// leaves G bytes of garbage forces about G / budget collections.
    /// </remarks>
    public static long CollectBudgetPerThreadBytes { get; set; }

    /// <summary>
    /// Whether the bytes lent since the last forced collection (not only the bytes of misses) may force the next one
    /// (default false: only misses count; see the class remarks).
    /// </summary>
    public static bool CollectOnLentBytes { get; set; }

    // The cap of the per-thread budget: a 64th of the memory available to the process (a 24 GiB machine: 384 MiB).
    private static readonly long ThreadBudgetCap = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 64;

    /// <summary>Bytes of idle arrays held for reuse.</summary>
    public static long CachedBytes => Interlocked.Read(ref cachedBytes);
    /// <summary>Bytes of pooled arrays lent to live storages.</summary>
    public static long LentBytes => Interlocked.Read(ref lentBytes);
    /// <summary>Requests served from the cache since start.</summary>
    public static long Hits => Interlocked.Read(ref hits);
    /// <summary>Requests of poolable size that needed a new array since start.</summary>
    public static long Misses => Interlocked.Read(ref misses);
    /// <summary>Collections the pool forced since start.</summary>
    public static long ForcedCollections => Interlocked.Read(ref forcedCollections);

    /// <summary>
    /// Drops every idle array (the GC frees them at its next collection of the large-object heap) and restarts the
    /// collection schedule (no back-off).
    /// </summary>
    public static void EmptyCache()
    {
        lock (Gate) { Bins.Clear(); cachedBytes = 0; }
        Interlocked.Exchange(ref liveMark, 0);
        Volatile.Write(ref reachedLimit, false);
        Interlocked.Exchange(ref backoff, 1);
        Interlocked.Exchange(ref returnedByLastCollection, 0);
        Interlocked.Exchange(ref hitBytesSinceCollection, 0);
    }

    /// <summary>Lends an array of exactly <paramref name="length"/> elements; <paramref name="lease"/> is null when not pooled.</summary>
    internal static Array Rent(DType dtype, int length, out PoolLease? lease)
    {
        long bytes = (long)length * dtype.ElementSize();
        if (!Enabled || dtype == DType.Bool || bytes < MinPooledBytes)
        {
            lease = null;
            return NewArray(dtype, length);
        }
        long key = ((long)dtype << 32) | (uint)length;
        var array = TryTake(key, bytes);
        if (array is null && ShouldCollect())
        {
            Collect();
            array = TryTake(key, bytes);
        }
        if (array is null)
        {
            Interlocked.Increment(ref misses);
            Interlocked.Add(ref missBytesSinceCollection, bytes);
            array = NewArray(dtype, length);
        }
        else
        {
            Interlocked.Increment(ref hits);
            Interlocked.Add(ref hitBytesSinceCollection, bytes);
        }
        if (Poison) PoisonArray(array);
        Interlocked.Add(ref lentBytes, bytes);
        lease = new PoolLease(array, key, bytes);
        return array;
    }

    /// <summary>Takes an array back (from <see cref="PoolLease"/>: Dispose or finalizer).</summary>
    internal static void Return(Array array, long key, long bytes)
    {
        Interlocked.Add(ref lentBytes, -bytes);
        if (!Enabled) return;
        lock (Gate)
        {
            if (cachedBytes + bytes > CacheLimitBytes) return;
            if (!Bins.TryGetValue(key, out var bin)) Bins[key] = bin = new Bin(bytes);
            bin.Arrays.Push(array);
            bin.LastUse = epoch;
            cachedBytes += bytes;
        }
    }

    private static Array? TryTake(long key, long bytes)
    {
        lock (Gate)
        {
            if (!Bins.TryGetValue(key, out var bin) || bin.Arrays.Count == 0) return null;
            bin.LastUse = epoch;
            cachedBytes -= bytes;
            return bin.Arrays.Pop();
        }
    }

    private static bool ShouldCollect()
    {
        // A collection the runtime made on its own also brought back the dead tensors' arrays: restart the count.
        int count = GC.CollectionCount(GC.MaxGeneration);
        if (count != Volatile.Read(ref gcCountSeen))
        {
            Volatile.Write(ref gcCountSeen, count);
            Interlocked.Exchange(ref missBytesSinceCollection, 0);
            return false;
        }
        long lentBefore = Interlocked.Read(ref lentAtCollection);
        long threshold = Math.Max(CollectThresholdBytes * Interlocked.Read(ref backoff), ThreadBudget());
        // Bytes lent since the last collection and not yet handed back: what died since (and what grew live). Once
        // they pass the threshold a collection most likely returns an array of this size: reuse it instead of growing
        // the pool with new memory, which costs a page fault per 4 KiB on first touch and would never stop growing
        // (a loop whose every step leaves garbage misses once per interval, and each miss adds an array for good).
        if (CollectOnLentBytes && Interlocked.Read(ref lentBytes) - lentBefore >= Math.Max(threshold, lentBefore / 4))
            return true;
        long missBytes = Interlocked.Read(ref missBytesSinceCollection);
        long limit = GrowthLimit();
        // The plain rule (GrowthFactor 0, and before the first forced collection, when nothing is known of the live set).
        if (limit == 0)
            return missBytes > Math.Max(threshold, lentBefore / 4);
        // Below the growth limit the pool grows instead of collecting: a loop's misses are then the warm-up's. Once it
        // has reached the limit it grows again only when the limit has risen by a quarter (the live set grew), not each
        // time a collection samples the live bytes at a slightly fuller point of a step.
        long total = Interlocked.Read(ref lentBytes) + Interlocked.Read(ref cachedBytes);
        if (total < limit && !(Volatile.Read(ref reachedLimit) && total >= limit / 5 * 4))
            return false;
        Volatile.Write(ref reachedLimit, true);
        // At the limit, a size that ran dry most likely has arrays among the garbage of the last steps: collect at the
        // first miss while collections pay (backoff 1), after more misses while they do not (sizes that never repeat,
        // or a live set that grows). The limit follows the live set, so a growing live set meets it only after growing
        // by the factor: collections at geometric intervals.
        return missBytes >= Math.Max(CollectThresholdBytes * (Interlocked.Read(ref backoff) - 1), ThreadBudget());
    }

    // GrowthFactor × the live mark, and no more than the cache can hold beyond it (arrays returned past CacheLimitBytes
    // are dropped, so a larger limit would never be reached and misses would never collect); 0 before the first forced
    // collection and when the factor is 0 (the plain rule).
    private static long GrowthLimit()
    {
        long live = Interlocked.Read(ref liveMark);
        return GrowthFactor > 0 ? (long)Math.Min(GrowthFactor * live, live + (double)CacheLimitBytes) : 0;
    }

    private static long ThreadBudget()
    {
        long perThread = CollectBudgetPerThreadBytes;
        if (perThread <= 0)
            return 0;
        int threads;
        try { threads = Threads.Count; }
        catch (InvalidOperationException) { threads = 1; }   // a malformed EMBER_NUM_THREADS surfaces at the first kernel, not here
        return Math.Min(perThread * threads, ThreadBudgetCap);
    }

    private static void Collect()
    {
        // A full collection: pooled arrays are old (large-object heap), and a dependent handle whose array is old
        // is only resolved by a collection of the array's generation. With a heap of mostly primitive arrays (not
        // scanned inside) a full blocking collection costs about a millisecond here. The finalizers only hand
        // arrays back, which the pool reads right after; no second collection is needed.
        // One collection at a time: a thread that misses while another collects allocates instead of collecting again.
        if (Interlocked.CompareExchange(ref collecting, 1, 0) != 0) return;
        try
        {
            Interlocked.Increment(ref forcedCollections);
            // Did the last forced collection pay? It did when at least half the bytes it brought back were lent
            // again since (shapes that repeat); arrays of sizes that never come again only cost it, so collect less
            // often then.
            bool paid = Interlocked.Exchange(ref hitBytesSinceCollection, 0) * 2 >= Interlocked.Read(ref returnedByLastCollection);
            Interlocked.Exchange(ref backoff, paid ? 1 : Math.Min(64, Interlocked.Read(ref backoff) * 2));
            TrimStale();
            long cachedBefore = CachedBytes;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            Interlocked.Exchange(ref returnedByLastCollection, Math.Max(0, CachedBytes - cachedBefore));
            Volatile.Write(ref gcCountSeen, GC.CollectionCount(GC.MaxGeneration));
            Interlocked.Exchange(ref missBytesSinceCollection, 0);
            long live = Interlocked.Read(ref lentBytes);
            Interlocked.Exchange(ref lentAtCollection, live);
            // A slowly decaying maximum: collections come at any point of a step, so the bytes live then vary (gpt: 150 to
            // 215 MiB); the limit follows the larger ones (a limit that moved with each would add arrays whenever it
            // rose), and an old peak fades by an eighth per collection.
            long mark = Interlocked.Read(ref liveMark);
            Interlocked.Exchange(ref liveMark, Math.Max(live, mark - mark / 8));
        }
        finally { Volatile.Write(ref collecting, 0); }
    }

    // Sizes nobody asked for or gave back during the last two intervals between forced collections belong to an earlier
    // workload (another batch size, evaluation): drop their idle arrays so the collection about to run frees them.
    private static void TrimStale()
    {
        lock (Gate)
        {
            epoch++;
            foreach (var (key, bin) in Bins.Where(kv => kv.Value.LastUse < epoch - 2).ToList())
            {
                cachedBytes -= bin.Arrays.Count * bin.Bytes;
                Bins.Remove(key);
            }
        }
    }

    private sealed class Bin(long bytes)
    {
        public readonly Stack<Array> Arrays = new();
        public readonly long Bytes = bytes;
        public long LastUse;
    }

    private static Array NewArray(DType dtype, int n) => dtype switch
    {
        DType.Float32 => GC.AllocateUninitializedArray<float>(n),
        DType.Float64 => GC.AllocateUninitializedArray<double>(n),
        DType.Int32 => GC.AllocateUninitializedArray<int>(n),
        DType.Int64 => GC.AllocateUninitializedArray<long>(n),
        DType.Bool => new bool[n],
        DType.Float16 => GC.AllocateUninitializedArray<Half>(n),
        DType.BFloat16 => GC.AllocateUninitializedArray<BFloat16>(n),
        DType.UInt8 => GC.AllocateUninitializedArray<byte>(n),
        DType.Int8 => GC.AllocateUninitializedArray<sbyte>(n),
        DType.Int16 => GC.AllocateUninitializedArray<short>(n),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "CpuMemoryPool: unknown dtype."),
    };

    private static void PoisonArray(Array a)
    {
        switch (a)
        {
            case float[] f: f.AsSpan().Fill(float.NaN); break;
            case double[] d: d.AsSpan().Fill(double.NaN); break;
            case int[] i: i.AsSpan().Fill(0x5A5A5A5A); break;
            case long[] l: l.AsSpan().Fill(0x5A5A5A5A5A5A5A5A); break;
            case Half[] h: h.AsSpan().Fill(Half.NaN); break;
            case BFloat16[] b: b.AsSpan().Fill(BFloat16.NaN); break;
        }
    }
}

/// <summary>
/// Ties one pooled array to its return: alive exactly while the array is reachable (a
/// <see cref="DependentHandle"/> from the array to this lease), finalized — and the array returned — only
/// when it is not. See <see cref="CpuMemoryPool"/>.
/// </summary>
internal sealed class PoolLease
{
    private readonly Array array;
    private readonly long key, bytes;
    private DependentHandle handle;
    private int returned;

    internal PoolLease(Array array, long key, long bytes)
    {
        this.array = array; this.key = key; this.bytes = bytes;
        handle = new DependentHandle(array, this);
    }

    /// <summary>Returns the array now (Dispose of the storage); later calls and the finalizer do nothing.</summary>
    internal void Return()
    {
        if (Interlocked.Exchange(ref returned, 1) != 0) return;
        handle.Dispose();
        GC.SuppressFinalize(this);
        CpuMemoryPool.Return(array, key, bytes);
    }

    ~PoolLease()
    {
        if (Interlocked.Exchange(ref returned, 1) != 0) return;
        // Nothing can reach the array any more (else the dependent handle would have kept this lease alive).
        handle.Dispose();
        CpuMemoryPool.Return(array, key, bytes);
    }
}
