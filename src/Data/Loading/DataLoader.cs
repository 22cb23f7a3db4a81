namespace Ember.Data;

/// <summary>
/// The common loader: a data set of (input, target) tensor pairs such as <see cref="TensorDataset"/>,
/// batched into (inputs [B, …], targets [B, …]) by stacking, so that
/// <c>foreach (var (images, targets) in new DataLoader(dataset, batchSize: 64, shuffle: true))</c> works.
/// See <see cref="DataLoader{T, TBatch}"/> for the options and their semantics; <see cref="Create{T}"/> makes
/// loaders for other item types.
/// </summary>
public sealed class DataLoader : DataLoader<(Tensor Input, Tensor Target), (Tensor Input, Tensor Target)>
{
    /// <summary>A loader over (input, target) pairs; see <see cref="DataLoader{T, TBatch}"/> for the parameters.</summary>
    /// <exception cref="ArgumentException">Conflicting or out-of-range options.</exception>
    public DataLoader(Dataset<(Tensor Input, Tensor Target)> dataset, int batchSize = 1, bool shuffle = false, Sampler? sampler = null,
        IBatchSampler? batchSampler = null, int numWorkers = 0,
        Func<IReadOnlyList<(Tensor Input, Tensor Target)>, (Tensor Input, Tensor Target)>? collate = null,
        bool dropLast = false, int prefetchFactor = 2, Generator? generator = null, CancellationToken cancellationToken = default)
        : base(dataset, batchSize, shuffle, sampler, batchSampler, numWorkers, collate, dropLast, prefetchFactor, generator, cancellationToken) { }

    /// <summary>
    /// A loader whose batches have the item type (items made of tensors: Tensor, Tensor[], tuples of tensors),
    /// so the type arguments are inferred: <c>DataLoader.Create(new TensorArrayDataset(a, b, c), 32)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Conflicting or out-of-range options.</exception>
    public static DataLoader<T, T> Create<T>(Dataset<T> dataset, int batchSize = 1, bool shuffle = false, Sampler? sampler = null,
        IBatchSampler? batchSampler = null, int numWorkers = 0, Func<IReadOnlyList<T>, T>? collate = null,
        bool dropLast = false, int prefetchFactor = 2, Generator? generator = null, CancellationToken cancellationToken = default) =>
        new(dataset, batchSize, shuffle, sampler, batchSampler, numWorkers, collate, dropLast, prefetchFactor, generator, cancellationToken);
}
