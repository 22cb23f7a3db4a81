namespace Ember.Data;

/// <summary>The given indices in a random order, a new one each epoch (torch.utils.data.SubsetRandomSampler).</summary>
public sealed class SubsetRandomSampler : Sampler
{
    private readonly int[] indices;

    /// <summary>A sampler over <paramref name="indices"/>.</summary>
    public SubsetRandomSampler(IEnumerable<int> indices, Generator? generator = null)
    {
        this.indices = (indices ?? throw new ArgumentNullException(nameof(indices))).ToArray();
        Generator = generator;
    }

    /// <summary>The random stream, or null for the default one.</summary>
    public Generator? Generator { get; }

    /// <inheritdoc/>
    public override int Count => indices.Length;

    /// <inheritdoc/>
    public override IEnumerator<int> GetEnumerator()
    {
        var perm = Tensor.RandpermArray(indices.Length, Generator);
        var order = new int[indices.Length];
        for (int i = 0; i < order.Length; i++) order[i] = indices[perm[i]];
        return ((IEnumerable<int>)order).GetEnumerator();
    }
}
