namespace Ember.Data;

/// <summary>
/// Groups a sampler's indices into batches of <see cref="BatchSize"/> (torch.utils.data.BatchSampler); the last,
/// smaller batch is kept unless <see cref="DropLast"/>.
/// </summary>
public sealed class BatchSampler : IBatchSampler
{
    /// <summary>Batches of <paramref name="batchSize"/> indices from <paramref name="sampler"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">batchSize is not positive.</exception>
    public BatchSampler(Sampler sampler, int batchSize, bool dropLast)
    {
        Sampler = sampler ?? throw new ArgumentNullException(nameof(sampler));
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"BatchSampler: batchSize should be a positive integer, got {batchSize}.");
        BatchSize = batchSize;
        DropLast = dropLast;
    }

    /// <summary>The sampler of single indices.</summary>
    public Sampler Sampler { get; }

    /// <summary>Indices per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether a last incomplete batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Batches per epoch: ⌊n/b⌋ with dropLast, else ⌈n/b⌉.</summary>
    public int Count => DropLast ? Sampler.Count / BatchSize : (Sampler.Count + BatchSize - 1) / BatchSize;

    /// <summary>Starts an epoch (the sampler draws its order now).</summary>
    public IEnumerator<int[]> GetEnumerator() => Batches(Sampler.GetEnumerator());

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerator<int[]> Batches(IEnumerator<int> source)
    {
        using (source)
        {
            var batch = new List<int>(BatchSize);
            while (source.MoveNext())
            {
                batch.Add(source.Current);
                if (batch.Count == BatchSize) { yield return batch.ToArray(); batch.Clear(); }
            }
            if (batch.Count > 0 && !DropLast) yield return batch.ToArray();
        }
    }
}
