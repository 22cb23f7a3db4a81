namespace Ember.Data;

/// <summary>
/// An order of data-set indices for one epoch (torch.utils.data.Sampler). Each call of
/// <see cref="GetEnumerator"/> is a new epoch: random samplers draw their whole order from their generator
/// at that call (not lazily), so the draws happen on the caller's thread in a reproducible place.
/// </summary>
public abstract class Sampler : IEnumerable<int>
{
    /// <summary>The number of indices one epoch yields.</summary>
    public abstract int Count { get; }

    /// <summary>Starts an epoch.</summary>
    public abstract IEnumerator<int> GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Uniform Float64 draws in [0, 1) from a generator (the default one when null).</summary>
    internal static double[] Uniform(int n, Generator? generator) =>
        n == 0 ? [] : Tensor.Rand([n], DType.Float64, Device.Cpu, false, generator).ToArray<double>();
}

/// <summary>Yields lists of indices, one list per batch (torch.utils.data.BatchSampler and custom batch samplers).</summary>
public interface IBatchSampler : IEnumerable<int[]>
{
    /// <summary>The number of batches one epoch yields.</summary>
    int Count { get; }
}
