namespace Ember.Data;

/// <summary>Several data sets one after another (torch.utils.data.ConcatDataset): item i of the whole is found by binary search over cumulative sizes.</summary>
public sealed class ConcatDataset<T> : Dataset<T>
{
    private readonly Dataset<T>[] parts;
    private readonly int[] cumulative; // cumulative[k] = total size of parts[0..k]

    /// <summary>Concatenates <paramref name="datasets"/> in order.</summary>
    /// <exception cref="ArgumentException">No data set is given.</exception>
    public ConcatDataset(params IEnumerable<Dataset<T>> datasets)
    {
        parts = (datasets ?? throw new ArgumentNullException(nameof(datasets))).ToArray();
        if (parts.Length == 0) throw new ArgumentException("ConcatDataset: expected at least one data set.", nameof(datasets));
        cumulative = new int[parts.Length];
        long sum = 0;
        for (int k = 0; k < parts.Length; k++)
        {
            sum += (parts[k] ?? throw new ArgumentNullException(nameof(datasets))).Count;
            if (sum > int.MaxValue) throw new ArgumentException("ConcatDataset: more than int.MaxValue items in total.", nameof(datasets));
            cumulative[k] = (int)sum;
        }
    }

    /// <summary>The parts, in order.</summary>
    public IReadOnlyList<Dataset<T>> Datasets => parts;

    /// <inheritdoc/>
    public override int Count => cumulative[^1];

    /// <inheritdoc/>
    public override T this[int index]
    {
        get
        {
            CheckIndex(index);
            int k = Array.BinarySearch(cumulative, index);
            k = k >= 0 ? k + 1 : ~k; // first part whose cumulative size exceeds index
            while (parts[k].Count == 0) k++;
            return parts[k][index - (k == 0 ? 0 : cumulative[k - 1])];
        }
    }
}
