namespace Ember.Data;

/// <summary>
/// The share of one process (rank) among <see cref="NumReplicas"/> (torch.utils.data.distributed.DistributedSampler),
/// partitioned exactly like PyTorch: the index list (a permutation from seed + epoch when shuffling, else 0..n−1)
/// is padded by repeating it from the start to <c>numSamples · numReplicas</c> (or cut to that length with
/// dropLast), and rank r takes positions r, r + numReplicas, r + 2·numReplicas, …. Call <see cref="SetEpoch"/>
/// before each epoch so that shuffling differs between epochs and agrees across ranks.
/// numSamples = ⌈(n − numReplicas)/numReplicas⌉ when dropLast and n is not divisible by numReplicas, else ⌈n/numReplicas⌉.
/// </summary>
public sealed class DistributedSampler : Sampler
{
    private readonly int n;

    /// <summary>A distributed sampler over <paramref name="count"/> items.</summary>
    /// <param name="count">The data set's size.</param>
    /// <param name="numReplicas">The number of processes.</param>
    /// <param name="rank">This process's rank in [0, numReplicas).</param>
    /// <param name="shuffle">Shuffle with a permutation seeded by seed + epoch (the same on every rank).</param>
    /// <param name="seed">The shuffle seed; must be the same on every rank.</param>
    /// <param name="dropLast">Cut the tail so every rank gets the same count without repeated indices.</param>
    /// <exception cref="ArgumentException">numReplicas is not positive or rank is outside [0, numReplicas).</exception>
    public DistributedSampler(int count, int numReplicas, int rank, bool shuffle = true, ulong seed = 0, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (numReplicas <= 0) throw new ArgumentException($"DistributedSampler: numReplicas should be positive, got {numReplicas}.", nameof(numReplicas));
        if (rank < 0 || rank >= numReplicas)
            throw new ArgumentException($"DistributedSampler: invalid rank {rank}, rank should be in the interval [0, {numReplicas - 1}].", nameof(rank));
        n = count;
        NumReplicas = numReplicas;
        Rank = rank;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        NumSamples = dropLast && count % numReplicas != 0
            ? (int)Math.Ceiling((count - numReplicas) / (double)numReplicas)
            : (count + numReplicas - 1) / numReplicas;
    }

    /// <summary>The number of processes.</summary>
    public int NumReplicas { get; }

    /// <summary>This process's rank.</summary>
    public int Rank { get; }

    /// <summary>Whether the order is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>The shuffle seed.</summary>
    public ulong Seed { get; }

    /// <summary>Whether the tail is dropped instead of padded.</summary>
    public bool DropLast { get; }

    /// <summary>The current epoch (see <see cref="SetEpoch"/>).</summary>
    public long Epoch { get; private set; }

    /// <summary>Indices this rank yields per epoch.</summary>
    public int NumSamples { get; }

    /// <summary>numSamples · numReplicas: the padded (or cut) length of the global index list.</summary>
    public int TotalSize => NumSamples * NumReplicas;

    /// <inheritdoc/>
    public override int Count => NumSamples;

    /// <summary>Sets the epoch, which seeds the shuffle (seed + epoch) so that all ranks agree.</summary>
    public void SetEpoch(long epoch) => Epoch = epoch;

    /// <inheritdoc/>
    public override IEnumerator<int> GetEnumerator()
    {
        int[] indices;
        if (Shuffle)
        {
            var perm = Tensor.RandpermArray(n, new Generator(unchecked(Seed + (ulong)Epoch)));
            indices = perm.Select(i => (int)i).ToArray();
        }
        else indices = Enumerable.Range(0, n).ToArray();

        var global = new int[TotalSize];
        if (!DropLast)
        {
            // Pad by repeating the list from its start, as many times as needed.
            for (int i = 0; i < global.Length; i++) global[i] = indices[i % n];
        }
        else Array.Copy(indices, global, global.Length);

        var mine = new int[NumSamples];
        for (int i = 0; i < mine.Length; i++) mine[i] = global[Rank + i * NumReplicas];
        return ((IEnumerable<int>)mine).GetEnumerator();
    }
}
