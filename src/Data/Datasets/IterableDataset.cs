namespace Ember.Data;

/// <summary>
/// A stream-style data set (torch.utils.data.IterableDataset): items come from enumeration, not by index,
/// e.g. lines of a large file or samples generated on the fly. A <see cref="DataLoader{T, TBatch}"/> over it
/// batches consecutive items; its workers read ahead from one enumeration (the stream is not split).
/// </summary>
public abstract class IterableDataset<T> : IEnumerable<T>
{
    /// <summary>Starts a new pass over the stream.</summary>
    public abstract IEnumerator<T> GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>An iterable data set over any sequence (enumerated anew each pass).</summary>
    public static IterableDataset<T> From(IEnumerable<T> source) => new EnumerableDataset(source ?? throw new ArgumentNullException(nameof(source)));

    private sealed class EnumerableDataset(IEnumerable<T> source) : IterableDataset<T>
    {
        public override IEnumerator<T> GetEnumerator() => source.GetEnumerator();
    }
}
