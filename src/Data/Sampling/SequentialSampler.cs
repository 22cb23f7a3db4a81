namespace Ember.Data;

/// <summary>0, 1, …, n−1 in order (torch.utils.data.SequentialSampler).</summary>
public sealed class SequentialSampler : Sampler
{
    private readonly int count;

    /// <summary>A sampler over <paramref name="count"/> items.</summary>
    /// <exception cref="ArgumentOutOfRangeException">count is negative.</exception>
    public SequentialSampler(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        this.count = count;
    }

    /// <inheritdoc/>
    public override int Count => count;

    /// <inheritdoc/>
    public override IEnumerator<int> GetEnumerator() => Enumerable.Range(0, count).GetEnumerator();
}
