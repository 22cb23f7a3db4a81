namespace Ember.Data;

/// <summary>
/// Random indices over [0, n) (torch.utils.data.RandomSampler). Without replacement: a Philox permutation
/// (<see cref="Tensor.RandpermArray"/>) per epoch, concatenating permutations when
/// <c>numSamples</c> exceeds n. With replacement: <c>numSamples</c> uniform draws. A new order each epoch;
/// the same sequence of orders for the same seeded generator.
/// </summary>
public sealed class RandomSampler : Sampler
{
    private readonly int n;

    /// <summary>A random sampler over <paramref name="count"/> items.</summary>
    /// <param name="count">The data set's size.</param>
    /// <param name="replacement">Draw with replacement.</param>
    /// <param name="numSamples">Indices per epoch (default: count).</param>
    /// <param name="generator">The random stream (the default generator when null).</param>
    /// <exception cref="ArgumentOutOfRangeException">count is negative or numSamples is not positive.</exception>
    public RandomSampler(int count, bool replacement = false, int? numSamples = null, Generator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (numSamples is <= 0)
            throw new ArgumentOutOfRangeException(nameof(numSamples), $"RandomSampler: numSamples should be a positive integer, got {numSamples}.");
        n = count;
        Replacement = replacement;
        NumSamples = numSamples ?? count;
        Generator = generator;
    }

    /// <summary>Whether indices are drawn with replacement.</summary>
    public bool Replacement { get; }

    /// <summary>Indices per epoch.</summary>
    public int NumSamples { get; }

    /// <summary>The random stream, or null for the default one.</summary>
    public Generator? Generator { get; }

    /// <inheritdoc/>
    public override int Count => NumSamples;

    /// <inheritdoc/>
    public override IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Draw()).GetEnumerator();

    private int[] Draw()
    {
        var order = new int[NumSamples];
        if (n == 0) return order.Length == 0 ? order : throw new InvalidOperationException("RandomSampler: cannot draw from an empty data set.");
        if (Replacement)
        {
            var u = Uniform(NumSamples, Generator);
            for (int i = 0; i < order.Length; i++) order[i] = Math.Min((int)(u[i] * n), n - 1);
            return order;
        }
        for (int filled = 0; filled < order.Length; filled += n)
        {
            var perm = Tensor.RandpermArray(n, Generator);
            for (int i = 0; i < n && filled + i < order.Length; i++) order[filled + i] = (int)perm[i];
        }
        return order;
    }
}
