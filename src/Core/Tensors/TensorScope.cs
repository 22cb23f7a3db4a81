namespace Ember;

/// <summary>
/// A region of code whose tensors are released deterministically: every tensor allocated on this thread while the
/// scope is the innermost one is disposed when the scope ends, except those passed to <see cref="Keep"/>. Created by
/// <see cref="Tensor.Scope"/>. Correctness never needs a scope (the GC releases what is unreachable); a scope returns
/// memory to the backend's cache at once instead of at the next collection.
/// <code>
/// foreach (var (x, y) in loader)
/// {
///     using var scope = Tensor.Scope();
///     var loss = Functional.CrossEntropy(model.Forward(x), y);
///     opt.ZeroGrad(); loss.Backward(); opt.Step();
///     total += loss.Item();               // use results inside the scope, or Keep them
/// }
/// </code>
/// </summary>
/// <remarks>
/// <para>State that outlives a step is never tracked: parameters and buffers registered in a module, leaf gradients
/// (<see cref="Tensor.Grad"/> written by backward), and optimizer state (the step runs under <see cref="Suspend"/>).
/// Anything else created inside the scope and used after it must be kept: a tensor returned from the scope, a
/// non-leaf's retained gradient, or a graph on which Backward is called after the scope ended. Using a disposed
/// tensor throws <see cref="ObjectDisposedException"/>.</para>
/// <para>Scopes are per thread (tensors made on other threads, e.g. by DataLoader workers, are not tracked) and nest:
/// a kept tensor moves to the enclosing scope, if any. Dispose scopes innermost first, on the thread that made them.</para>
/// </remarks>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? current;
    [ThreadStatic] private static int suspended;

    private readonly TensorScope? outer;
    private readonly HashSet<Storage> storages = new(ReferenceEqualityComparer.Instance);
    private bool disposed;

    internal TensorScope()
    {
        outer = current;
        current = this;
    }

    /// <summary>The innermost scope of this thread, or null.</summary>
    public static TensorScope? Current => current;

    /// <summary>Number of storages this scope will dispose.</summary>
    public int Count => storages.Count;

    /// <summary>
    /// Excludes <paramref name="tensor"/>'s storage (so every view of it) from this scope and hands it to the enclosing
    /// scope, if there is one. Returns the tensor, so <c>return scope.Keep(result);</c> reads naturally.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The scope has ended.</exception>
    public Tensor Keep(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (storages.Remove(tensor.storage)) outer?.storages.Add(tensor.storage);
        return tensor;
    }

    /// <summary>
    /// Until the returned handle is disposed, tensors allocated on this thread are tracked by no scope (for state that
    /// must outlive the step, e.g. an optimizer's buffers or a cache).
    /// </summary>
    public static IDisposable Suspend()
    {
        suspended++;
        return new Resume();
    }

    /// <summary>
    /// Removes <paramref name="tensor"/>'s storage from every scope of this thread, so no scope disposes it: for state that
    /// outlives any step, such as module parameters and buffers and leaf gradients (Ember.NN and Ember.Autograd call it).
    /// Unlike <see cref="Keep"/>, the tensor does not move to an enclosing scope.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="tensor"/> is null.</exception>
    public static void Escape(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        for (var s = current; s is not null; s = s.outer) s.storages.Remove(tensor.storage);
    }

    /// <summary>True while <see cref="Suspend"/> is in effect on this thread.</summary>
    internal static bool IsSuspended => suspended > 0;

    /// <summary>Called for every new storage: the innermost scope tracks it unless tracking is suspended.</summary>
    internal static void Track(Storage storage)
    {
        if (current is { } s && suspended == 0) s.storages.Add(storage);
    }

    /// <summary>Disposes every tracked storage that was not kept, and makes the enclosing scope current again.</summary>
    /// <exception cref="InvalidOperationException">Called on another thread, or while an inner scope is still open.</exception>
    public void Dispose()
    {
        if (disposed) return;
        if (current != this)
            throw new InvalidOperationException("TensorScope: scopes must be disposed innermost first, on the thread that created them.");
        disposed = true;
        current = outer;
        foreach (var st in storages) st.Dispose();
        storages.Clear();
    }

    private sealed class Resume : IDisposable
    {
        private bool done;
        public void Dispose()
        {
            if (done) return;
            done = true;
            suspended--;
        }
    }
}
