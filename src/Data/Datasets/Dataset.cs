namespace Ember.Data;

/// <summary>
/// A map-style data set (torch.utils.data.Dataset): <see cref="Count"/> items reachable by index.
/// Items are produced on demand by the indexer, so a data set can be larger than memory.
/// </summary>
/// <typeparam name="T">The item type, e.g. <c>(Tensor, Tensor)</c> for (input, target) pairs.</typeparam>
public abstract class Dataset<T>
{
    /// <summary>The number of items.</summary>
    public abstract int Count { get; }

    /// <summary>The item at <paramref name="index"/> (0 ≤ index &lt; Count).</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is outside [0, Count).</exception>
    public abstract T this[int index] { get; }

    /// <summary>A lazy data set whose item i is <c>selector(this[i])</c> (e.g. applying a transform in the loader's workers).</summary>
    public Dataset<TOut> Map<TOut>(Func<T, TOut> selector) => new MappedDataset<T, TOut>(this, selector);

    /// <summary>The concatenation of <paramref name="a"/> and <paramref name="b"/> (PyTorch's <c>a + b</c>).</summary>
    public static ConcatDataset<T> operator +(Dataset<T> a, Dataset<T> b) => new(a, b);

    /// <summary>Throws the standard out-of-range exception when index is outside [0, Count).</summary>
    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"{GetType().Name}: index {index} is out of range for a data set of {Count} items.");
    }
}

/// <summary>Helpers over data sets: <see cref="RandomSplit{T}(Dataset{T}, int[], Generator?)"/>.</summary>
public static class Dataset
{
    /// <summary>
    /// Splits a data set into non-overlapping random subsets of the given lengths
    /// (torch.utils.data.random_split). The permutation comes from <see cref="Tensor.RandpermArray"/>
    /// with <paramref name="generator"/> (the default generator when null), so a seeded generator gives the same split.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths are negative or do not sum to the data set's Count.</exception>
    public static Subset<T>[] RandomSplit<T>(Dataset<T> dataset, int[] lengths, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Any(l => l < 0))
            throw new ArgumentException($"RandomSplit: lengths must be non-negative, got [{string.Join(", ", lengths)}].", nameof(lengths));
        if (lengths.Sum() != dataset.Count)
            throw new ArgumentException($"RandomSplit: the lengths [{string.Join(", ", lengths)}] sum to {lengths.Sum()} but the data set has {dataset.Count} items.", nameof(lengths));
        var perm = Tensor.RandpermArray(dataset.Count, generator);
        var result = new Subset<T>[lengths.Length];
        int offset = 0;
        for (int k = 0; k < lengths.Length; k++)
        {
            var idx = new int[lengths[k]];
            for (int i = 0; i < idx.Length; i++) idx[i] = (int)perm[offset + i];
            result[k] = new Subset<T>(dataset, idx);
            offset += lengths[k];
        }
        return result;
    }

    /// <summary>
    /// Splits by fractions that sum to 1: each split gets ⌊fraction·Count⌋ items, and the remaining items
    /// go one each to the splits in order, round-robin (PyTorch's rule).
    /// </summary>
    /// <exception cref="ArgumentException">A fraction is outside [0, 1] or they do not sum to 1.</exception>
    public static Subset<T>[] RandomSplit<T>(Dataset<T> dataset, double[] fractions, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(fractions);
        if (fractions.Any(f => f < 0 || f > 1) || Math.Abs(fractions.Sum() - 1) > 1e-9)
            throw new ArgumentException($"RandomSplit: fractions must lie in [0, 1] and sum to 1, got [{string.Join(", ", fractions)}].", nameof(fractions));
        int n = dataset.Count;
        var lengths = fractions.Select(f => (int)Math.Floor(n * f)).ToArray();
        int remainder = n - lengths.Sum();
        for (int i = 0; i < remainder; i++) lengths[i % lengths.Length]++;
        return RandomSplit(dataset, lengths, generator);
    }
}
