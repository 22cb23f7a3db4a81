namespace Ember;

/// <summary>
/// The weight-cast cache of one outermost <see cref="Autocast"/> scope (PyTorch's <c>cached_casts</c>): the
/// low-precision copy of each float32 parameter, made by its first cast in the scope and reused by later ones.
/// </summary>
internal sealed class AutocastCache
{
    // One entry per leaf (by identity): the cast copy and the leaf's version when it was made.
    private readonly record struct Entry(Tensor Cast, int Version);

    private Dictionary<Tensor, Entry>? entries;
    private readonly Lock gate = new();

    /// <summary>
    /// PyTorch's rule for what is cached: a float32 leaf that requires grad and is not a view. Ember records no view
    /// bases, so "not a view" is a tensor that covers its whole storage in order (as a parameter does).
    /// </summary>
    public static bool Eligible(Tensor t) =>
        t.DType == DType.Float32 && t.RequiresGrad && t.IsLeaf
        && t.StorageOffset == 0 && t.Numel == t.Storage.Length && t.IsContiguous;

    /// <summary>
    /// <paramref name="leaf"/> cast to <paramref name="target"/>: the cached copy when it is still valid, else a new
    /// recorded cast, which replaces it.
    /// </summary>
    public Tensor Cast(Tensor leaf, DType target)
    {
        lock (gate)
        {
            entries ??= new Dictionary<Tensor, Entry>(ReferenceEqualityComparer.Instance);
            // Valid when: alive (a Tensor.Scope inside the autocast scope may have released it), the same dtype (a nested
            // scope may name another one), the leaf is unchanged since (an in-place update bumps the version), and a graph is there whenever one is recorded now (a copy made under
            // no-grad has no path back to the leaf, and reusing it with grad on would silently drop the gradient).
            if (entries.TryGetValue(leaf, out var e) && !e.Cast.Storage.IsDisposed && e.Cast.DType == target && e.Version == leaf.Version
                && (e.Cast.RequiresGrad || !GradMode.IsEnabled))
                return e.Cast;
            var cast = leaf.To(target);
            entries[leaf] = new Entry(cast, leaf.Version);
            return cast;
        }
    }

    /// <summary>Drops every entry (the outermost scope ended).</summary>
    public void Clear()
    {
        lock (gate) entries = null;
    }
}
