namespace Ember.Data;

/// <summary>The items of <see cref="Source"/> at <see cref="Indices"/> (torch.utils.data.Subset).</summary>
public sealed class Subset<T> : Dataset<T>
{
    private readonly int[] indices;

    /// <summary>A view of <paramref name="source"/> restricted to <paramref name="indices"/> (kept in the given order).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, source.Count).</exception>
    public Subset(Dataset<T> source, IEnumerable<int> indices)
    {
        Source = source ?? throw new ArgumentNullException(nameof(source));
        this.indices = (indices ?? throw new ArgumentNullException(nameof(indices))).ToArray();
        foreach (var i in this.indices)
            if ((uint)i >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Subset: index {i} is out of range for a data set of {source.Count} items.");
    }

    /// <summary>The underlying data set.</summary>
    public Dataset<T> Source { get; }

    /// <summary>The source indices, in subset order.</summary>
    public IReadOnlyList<int> Indices => indices;

    /// <inheritdoc/>
    public override int Count => indices.Length;

    /// <inheritdoc/>
    public override T this[int index] { get { CheckIndex(index); return Source[indices[index]]; } }
}
