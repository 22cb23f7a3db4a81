namespace Ember.Data;

/// <summary>
/// What a data set or transform running inside a <see cref="DataLoader{T, TBatch}"/> fetch knows about it
/// (torch.utils.data.get_worker_info). <see cref="Generator"/> is seeded from the epoch's seed and the batch
/// index only, so random transforms that use it give the same batches whatever the number of workers.
/// </summary>
public sealed class WorkerInfo
{
    [ThreadStatic] private static WorkerInfo? current;

    internal WorkerInfo(int id, int numWorkers, long batchIndex, ulong seed)
    {
        Id = id; NumWorkers = numWorkers; BatchIndex = batchIndex; Seed = seed;
        Generator = new Generator(seed);
    }

    /// <summary>The info of the fetch running on this thread, or null outside a loader's fetch.</summary>
    public static WorkerInfo? Current => current;

    /// <summary>The worker's id in [0, NumWorkers), or −1 when the loader fetches on the consumer's thread (numWorkers = 0).</summary>
    public int Id { get; }

    /// <summary>The loader's number of workers.</summary>
    public int NumWorkers { get; }

    /// <summary>The index of the batch being fetched within the epoch.</summary>
    public long BatchIndex { get; }

    /// <summary>The seed of <see cref="Generator"/>: a hash of the epoch's base seed and the batch index.</summary>
    public ulong Seed { get; }

    /// <summary>A random stream for this batch (used by the random transforms when they are given none).</summary>
    public Generator Generator { get; }

    internal static WorkerInfo? Enter(WorkerInfo? info)
    {
        var previous = current;
        current = info;
        return previous;
    }

    /// <summary>SplitMix64 of (baseSeed, batchIndex): well-spread seeds for consecutive batches.</summary>
    internal static ulong Mix(ulong baseSeed, long batchIndex)
    {
        ulong z = baseSeed + 0x9E3779B97F4A7C15UL * (ulong)(batchIndex + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
