namespace Ember.Data;

/// <summary>
/// Thrown in the consumer when a <see cref="DataLoader{T, TBatch}"/> worker failed while loading a batch;
/// <see cref="Exception.InnerException"/> is the worker's original exception.
/// </summary>
public sealed class DataLoaderWorkerException : Exception
{
    /// <summary>Wraps a worker's exception.</summary>
    public DataLoaderWorkerException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The worker's id.</summary>
    public int WorkerId { get; init; }

    /// <summary>The index of the batch that failed within its epoch.</summary>
    public long BatchIndex { get; init; }
}
