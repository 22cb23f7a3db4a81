namespace Ember.Data;

/// <summary>A data set whose item i is <c>selector(source[i])</c>, computed on access. Made by <see cref="Dataset{T}.Map{TOut}"/>.</summary>
public sealed class MappedDataset<TIn, TOut> : Dataset<TOut>
{
    private readonly Dataset<TIn> source;
    private readonly Func<TIn, TOut> selector;

    /// <summary>Wraps <paramref name="source"/>.</summary>
    public MappedDataset(Dataset<TIn> source, Func<TIn, TOut> selector)
    {
        this.source = source ?? throw new ArgumentNullException(nameof(source));
        this.selector = selector ?? throw new ArgumentNullException(nameof(selector));
    }

    /// <inheritdoc/>
    public override int Count => source.Count;

    /// <inheritdoc/>
    public override TOut this[int index] => selector(source[index]);
}
