using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Ember.Data;

/// <summary>
/// Batches of a data set (torch.utils.data.DataLoader). Each enumeration is one epoch:
/// a sampler orders the indices (sequential, or a new random order each epoch when shuffling),
/// a batch sampler groups them, items are fetched and merged by the collate function.
/// <para>With <c>numWorkers ≥ 1</c>, background tasks fetch batches ahead into a bounded channel
/// (at most numWorkers · prefetchFactor batches in flight); batches come out in sampler order, and an
/// exception from a worker is rethrown in the consumer as a <see cref="DataLoaderWorkerException"/>
/// whose InnerException is the original. Results do not depend on numWorkers: indices are drawn on the
/// consumer's thread, and random transforms draw from <see cref="WorkerInfo.Generator"/>, seeded by the
/// epoch and the batch index.</para>
/// <para>Enumerate with <c>foreach</c>, <c>await foreach</c> (the loader has <see cref="GetAsyncEnumerator"/>;
/// <see cref="AsAsyncEnumerable"/> gives an <see cref="IAsyncEnumerable{T}"/>), or <see cref="Iterate"/> with a
/// cancellation token. The loader deliberately implements only <see cref="IEnumerable{T}"/>, so LINQ calls on it are
/// not ambiguous with System.Linq.AsyncEnumerable.</para>
/// </summary>
/// <typeparam name="T">The data set's item type.</typeparam>
/// <typeparam name="TBatch">The batch type the collate function makes (with the default collate:
/// Tensor for Tensor items, (Tensor, Tensor) for pairs, Tensor[] for Tensor[] items; see <see cref="Collate"/>).</typeparam>
public class DataLoader<T, TBatch> : IEnumerable<TBatch>
{
    private readonly Func<IReadOnlyList<T>, TBatch> collate;
    private readonly CancellationToken cancellationToken;

    /// <summary>A loader over a map-style data set.</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="batchSize">Items per batch.</param>
    /// <param name="shuffle">A new random order each epoch (from <paramref name="generator"/>).</param>
    /// <param name="sampler">The index order (exclusive with shuffle).</param>
    /// <param name="batchSampler">Batches of indices (exclusive with batchSize ≠ 1, shuffle, sampler and dropLast).</param>
    /// <param name="numWorkers">Background workers; 0 fetches on the consumer's thread.</param>
    /// <param name="collate">Merges a list of items into a batch (default: <see cref="Collate.Default{T, TBatch}"/>).</param>
    /// <param name="dropLast">Drop the last incomplete batch.</param>
    /// <param name="prefetchFactor">Batches each worker loads ahead (numWorkers ≥ 1).</param>
    /// <param name="generator">The random stream for shuffling and worker seeds (the default generator when null).</param>
    /// <param name="cancellationToken">Cancels every enumeration of this loader.</param>
    /// <exception cref="ArgumentException">Conflicting or out-of-range options (PyTorch's rules and messages).</exception>
    public DataLoader(Dataset<T> dataset, int batchSize = 1, bool shuffle = false, Sampler? sampler = null,
        IBatchSampler? batchSampler = null, int numWorkers = 0, Func<IReadOnlyList<T>, TBatch>? collate = null,
        bool dropLast = false, int prefetchFactor = 2, Generator? generator = null, CancellationToken cancellationToken = default)
    {
        Dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        CheckCommon(numWorkers, prefetchFactor);
        if (batchSampler is not null)
        {
            if (batchSize != 1 || shuffle || sampler is not null || dropLast)
                throw new ArgumentException("DataLoader: batchSampler option is mutually exclusive with batchSize, shuffle, sampler, and dropLast.");
        }
        else
        {
            if (batchSize <= 0)
                throw new ArgumentOutOfRangeException(nameof(batchSize), $"DataLoader: batchSize should be a positive integer, got {batchSize}.");
            if (sampler is not null && shuffle)
                throw new ArgumentException("DataLoader: sampler option is mutually exclusive with shuffle.");
            sampler ??= shuffle ? new RandomSampler(dataset.Count, generator: generator) : new SequentialSampler(dataset.Count);
            batchSampler = new BatchSampler(sampler, batchSize, dropLast);
        }
        Sampler = sampler;
        BatchSampler = batchSampler;
        BatchSize = batchSampler is BatchSampler bs ? bs.BatchSize : null;
        DropLast = dropLast;
        NumWorkers = numWorkers;
        PrefetchFactor = prefetchFactor;
        Generator = generator;
        this.collate = collate ?? Collate.Default<T, TBatch>();
        this.cancellationToken = cancellationToken;
    }

    /// <summary>A loader over a stream-style data set: consecutive items form the batches (no sampler, no shuffle).
    /// With numWorkers ≥ 1 one background task reads the stream ahead (the stream is not split between workers).</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public DataLoader(IterableDataset<T> dataset, int batchSize = 1, int numWorkers = 0, Func<IReadOnlyList<T>, TBatch>? collate = null,
        bool dropLast = false, int prefetchFactor = 2, Generator? generator = null, CancellationToken cancellationToken = default)
    {
        IterableDataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        CheckCommon(numWorkers, prefetchFactor);
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"DataLoader: batchSize should be a positive integer, got {batchSize}.");
        BatchSize = batchSize;
        DropLast = dropLast;
        NumWorkers = Math.Min(numWorkers, 1);
        PrefetchFactor = prefetchFactor;
        Generator = generator;
        this.collate = collate ?? Collate.Default<T, TBatch>();
        this.cancellationToken = cancellationToken;
    }

    private static void CheckCommon(int numWorkers, int prefetchFactor)
    {
        if (numWorkers < 0)
            throw new ArgumentOutOfRangeException(nameof(numWorkers), $"DataLoader: numWorkers option should be non-negative, got {numWorkers}.");
        if (prefetchFactor <= 0)
            throw new ArgumentOutOfRangeException(nameof(prefetchFactor), $"DataLoader: prefetchFactor should be a positive integer, got {prefetchFactor}.");
    }

    /// <summary>The map-style data set, or null for a stream.</summary>
    public Dataset<T>? Dataset { get; }

    /// <summary>The stream-style data set, or null for a map-style one.</summary>
    public IterableDataset<T>? IterableDataset { get; }

    /// <summary>The sampler of single indices (null when a batch sampler was given or for streams).</summary>
    public Sampler? Sampler { get; }

    /// <summary>The batch sampler (null for streams).</summary>
    public IBatchSampler? BatchSampler { get; }

    /// <summary>Items per batch (null when a custom batch sampler decides).</summary>
    public int? BatchSize { get; }

    /// <summary>Whether the last incomplete batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Background workers (0: fetch on the consumer's thread).</summary>
    public int NumWorkers { get; }

    /// <summary>Batches each worker loads ahead.</summary>
    public int PrefetchFactor { get; }

    /// <summary>The random stream (null: the default generator).</summary>
    public Generator? Generator { get; }

    /// <summary>The number of batches per epoch (len(loader)).</summary>
    /// <exception cref="NotSupportedException">The loader reads a stream, whose length is unknown.</exception>
    public int Count => BatchSampler?.Count ?? throw new NotSupportedException("DataLoader: a loader over an IterableDataset has no length.");

    /// <summary>One epoch of batches.</summary>
    public IEnumerator<TBatch> GetEnumerator() => Iterate(default).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>One epoch of batches, cancellable: cancelling throws <see cref="OperationCanceledException"/> at the next batch and stops the workers.</summary>
    public IEnumerable<TBatch> Iterate(CancellationToken cancellationToken)
    {
        var epoch = StartEpoch();
        if (NumWorkers == 0) return Synchronous(epoch, cancellationToken);
        return BlockOn(Background(epoch, cancellationToken));
    }

    /// <summary>The loader as an <see cref="IAsyncEnumerable{T}"/> (each enumeration one epoch).</summary>
    public IAsyncEnumerable<TBatch> AsAsyncEnumerable() => new AsyncView(this);

    private sealed class AsyncView(DataLoader<T, TBatch> loader) : IAsyncEnumerable<TBatch>
    {
        public IAsyncEnumerator<TBatch> GetAsyncEnumerator(CancellationToken cancellationToken = default) => loader.GetAsyncEnumerator(cancellationToken);
    }

    /// <summary>One epoch of batches for <c>await foreach</c>; the batches are always fetched in the background
    /// (by one task when numWorkers is 0).</summary>
    public async IAsyncEnumerator<TBatch> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        var epoch = StartEpoch();
        var e = Background(epoch, cancellationToken);
        await using (e.ConfigureAwait(false))
            while (await e.MoveNextAsync().ConfigureAwait(false)) yield return e.Current;
    }

    /// <summary>Fetches the batch made of <paramref name="indices"/> (a map-style data set) with the collate function.</summary>
    protected virtual TBatch Fetch(int[] indices)
    {
        var items = new T[indices.Length];
        for (int i = 0; i < items.Length; i++) items[i] = Dataset![indices[i]];
        return collate(items);
    }

    // An epoch: the base seed of the per-batch generators, then the batch order (drawn here, on the caller's thread).
    private sealed record Epoch(ulong Seed, IEnumerator<int[]>? Batches, IEnumerator<T>? Stream);

    private Epoch StartEpoch()
    {
        var (s, o) = (Generator ?? Ember.Random.Default).Reserve(4);
        Philox.Block(s, o, out var r0, out var r1, out _, out _);
        ulong seed = ((ulong)r0 << 32) | r1;
        return BatchSampler is not null
            ? new Epoch(seed, BatchSampler.GetEnumerator(), null)
            : new Epoch(seed, null, IterableDataset!.GetEnumerator());
    }

    private TBatch FetchWithInfo(Epoch epoch, int workerId, long batchIndex, int[]? indices, List<T>? streamItems)
    {
        var previous = WorkerInfo.Enter(new WorkerInfo(workerId, NumWorkers, batchIndex, WorkerInfo.Mix(epoch.Seed, batchIndex)));
        // A background worker's tensor ops run on one thread (PyTorch's workers run with torch.set_num_threads(1)), so
        // a fetch never takes the CPU kernels' worker pool away from the training step running beside it.
        IDisposable? limit = workerId >= 0 ? Threads.LimitCurrentThread(1) : null;
        try { return indices is not null ? Fetch(indices) : collate(streamItems!); }
        finally { limit?.Dispose(); WorkerInfo.Enter(previous); }
    }

    // Reads the next batch's worth of stream items; null at the end (or a short tail with dropLast).
    private List<T>? NextStreamChunk(IEnumerator<T> stream)
    {
        var chunk = new List<T>(BatchSize!.Value);
        while (chunk.Count < BatchSize && stream.MoveNext()) chunk.Add(stream.Current);
        if (chunk.Count == 0 || (DropLast && chunk.Count < BatchSize)) return null;
        return chunk;
    }

    private IEnumerable<TBatch> Synchronous(Epoch epoch, CancellationToken token)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
        using var batches = epoch.Batches;
        using var stream = epoch.Stream;
        for (long b = 0; ; b++)
        {
            linked.Token.ThrowIfCancellationRequested();
            if (batches is not null)
            {
                if (!batches.MoveNext()) yield break;
                yield return FetchWithInfo(epoch, -1, b, batches.Current, null);
            }
            else
            {
                var chunk = NextStreamChunk(stream!);
                if (chunk is null) yield break;
                yield return FetchWithInfo(epoch, -1, b, null, chunk);
            }
        }
    }

    private sealed class Slot(long index, int[]? indices, List<T>? items)
    {
        public long Index { get; } = index;
        public int[]? Indices { get; } = indices;
        public List<T>? Items { get; } = items;
        public int WorkerId { get; set; }
        public TaskCompletionSource<TBatch> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async IAsyncEnumerator<TBatch> Background(Epoch epoch, CancellationToken token)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
        var ct = linked.Token;
        int workers = Math.Max(1, NumWorkers);
        // In order: slots are written here as they are dispatched, so reading them in order preserves the batch order;
        // the bound (workers · prefetchFactor) limits how far the workers run ahead of the consumer.
        var ordered = Channel.CreateBounded<Slot>(new BoundedChannelOptions(workers * PrefetchFactor) { SingleReader = true, SingleWriter = true });
        var work = Channel.CreateUnbounded<Slot>(new UnboundedChannelOptions { SingleWriter = true });

        var dispatcher = Task.Run(async () =>
        {
            try
            {
                for (long b = 0; ; b++)
                {
                    Slot slot;
                    if (epoch.Batches is not null)
                    {
                        if (!epoch.Batches.MoveNext()) break;
                        slot = new Slot(b, epoch.Batches.Current, null);
                    }
                    else
                    {
                        var chunk = NextStreamChunk(epoch.Stream!);
                        if (chunk is null) break;
                        slot = new Slot(b, null, chunk);
                    }
                    await ordered.Writer.WriteAsync(slot, ct).ConfigureAwait(false);
                    await work.Writer.WriteAsync(slot, ct).ConfigureAwait(false);
                }
                ordered.Writer.TryComplete();
            }
            catch (OperationCanceledException) { ordered.Writer.TryComplete(); }
            catch (Exception e) { ordered.Writer.TryComplete(e); } // a sampler or stream failure surfaces in the consumer
            finally
            {
                work.Writer.TryComplete();
                epoch.Batches?.Dispose();
                epoch.Stream?.Dispose();
            }
        }, CancellationToken.None);

        var tasks = new Task[workers + 1];
        tasks[0] = dispatcher;
        for (int w = 0; w < workers; w++)
        {
            int id = w;
            tasks[w + 1] = Task.Run(async () =>
            {
                try
                {
                    await foreach (var slot in work.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                    {
                        slot.WorkerId = id;
                        try { slot.Result.SetResult(FetchWithInfo(epoch, id, slot.Index, slot.Indices, slot.Items)); }
                        catch (Exception e) { slot.Result.SetException(e); }
                    }
                }
                catch (OperationCanceledException) { }
            }, CancellationToken.None);
        }

        try
        {
            while (await ordered.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                if (!ordered.Reader.TryRead(out var slot)) continue;
                TBatch batch;
                try { batch = await slot.Result.Task.WaitAsync(ct).ConfigureAwait(false); }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    throw new DataLoaderWorkerException(
                        $"DataLoader worker {slot.WorkerId} failed while loading batch {slot.Index}: {e.GetType().Name}: {e.Message}", e)
                    { WorkerId = slot.WorkerId, BatchIndex = slot.Index };
                }
                yield return batch;
            }
        }
        finally
        {
            // Early exit or failure: stop dispatching and let in-flight fetches finish. On the caller's cancellation, return
            // at once: a worker stuck inside the data set must not hold the caller; the workers see the cancelled token
            // after their current item and end on their own (their exceptions are caught in their loops).
            bool callerCancelled = token.IsCancellationRequested || cancellationToken.IsCancellationRequested;
            linked.Cancel();
            if (!callerCancelled)
            {
                try { await Task.WhenAll(tasks).ConfigureAwait(false); } catch { /* already reported or cancelled */ }
            }
        }
    }

    private static IEnumerable<TBatch> BlockOn(IAsyncEnumerator<TBatch> e)
    {
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) yield return e.Current;
        }
        finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }
}
