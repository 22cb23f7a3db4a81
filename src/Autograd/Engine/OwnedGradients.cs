namespace Ember;

/// <summary>
/// The memory a backward pass allocated for itself, returned to the backend as soon as the engine drops its last
/// reference, as PyTorch's reference counting does (without this, every gradient buffer and every temporary of a
/// formula waits for a garbage collection, and the CPU pool or the device allocator has to force collections that stop
/// every thread).
/// </summary>
/// <remarks>
/// <para>Only storages born inside the engine's own code are candidates: the built-in formulas of
/// <see cref="OpNode"/>s, the sums of gradients arriving at one node, and slice-gradient buffers
/// (<see cref="AllocationRecorder"/> records them). Custom <see cref="Function"/>s and hooks run user code, which may
/// keep what it makes, so nothing they allocate is recorded.</para>
/// <para>A recorded storage is counted by the engine references that view it (a pending gradient buffer, the gradient
/// being processed, a slice buffer); at zero it is disposed. Storages a formula made and did not return (its
/// temporaries) are disposed when the formula returns. A gradient that leaves the engine's hands — handed to a hook,
/// retained with <c>RetainGrad</c>, returned by <c>Autograd.Grad</c>, passed to a custom Function — is
/// <see cref="Export"/>ed: never disposed by the engine.</para>
/// <para>Not used under create_graph (the recorded backward graph saves gradients) or anomaly mode.</para>
/// </remarks>
internal sealed class OwnedGradients
{
    private readonly Dictionary<Storage, int> refs = new(ReferenceEqualityComparer.Instance);
    private readonly List<Storage> born = [];

    /// <summary>Runs a built-in formula, recording what it allocates; disposes what it made but does not return.</summary>
    /// <remarks>Runs for every node of every backward pass: no closure, no set (a formula returns one to three gradients).</remarks>
    public Tensor?[] Apply(Node node, Tensor grad)
    {
        Tensor?[] results;
        var previous = Open();
        try { results = node.Apply(grad); }
        finally { AllocationRecorder.End(previous); }
        foreach (var st in born)
        {
            if (Views(results, st)) refs.TryAdd(st, 0);     // held once the engine stores the gradients
            else st.Dispose();                               // a temporary of the formula: nothing can reach it
        }
        return results;
    }

    /// <summary>a + b as a new recorded gradient (held once); drops the engine's references to a and b.</summary>
    public Tensor Sum(Tensor a, Tensor b)
    {
        Tensor sum;
        var previous = Open();
        try { sum = a + b; }
        finally { AllocationRecorder.End(previous); }
        foreach (var st in born) refs.TryAdd(st, 0);
        Hold(sum);
        Drop(a);
        Drop(b);
        return sum;
    }

    private static bool Views(Tensor?[] results, Storage st)
    {
        foreach (var g in results)
            if (g is not null && ReferenceEquals(g.Storage, st)) return true;
        return false;
    }

    /// <summary>Runs <paramref name="action"/> (the slice-gradient bookkeeping), holding each storage it allocates once.</summary>
    public bool Track(Func<bool> action)
    {
        bool result;
        var previous = Open();
        try { result = action(); }
        finally { AllocationRecorder.End(previous); }
        foreach (var st in born) refs[st] = 1;
        return result;
    }

    /// <summary>One more engine reference to <paramref name="t"/>'s storage (if recorded).</summary>
    public void Hold(Tensor t)
    {
        if (refs.TryGetValue(t.Storage, out int n)) refs[t.Storage] = n + 1;
    }

    /// <summary>One engine reference less; the storage is disposed when none is left.</summary>
    public void Drop(Tensor t)
    {
        var st = t.Storage;
        if (!refs.TryGetValue(st, out int n)) return;
        if (n > 1) { refs[st] = n - 1; return; }
        refs.Remove(st);
        st.Dispose();
    }

    /// <summary>Disposes the recorded storages that no engine reference holds (gradients for inputs nothing consumes).</summary>
    public void Settle(Tensor?[] results)
    {
        foreach (var g in results)
            if (g is not null && refs.TryGetValue(g.Storage, out int n) && n == 0)
            {
                refs.Remove(g.Storage);
                g.Storage.Dispose();
            }
    }

    /// <summary>The storage leaves the engine's hands (a hook, a retained or captured gradient): never disposed here.</summary>
    public void Export(Tensor t) => refs.Remove(t.Storage);

    /// <summary>True when the engine's reference being processed is the only one to <paramref name="t"/>'s recorded storage.</summary>
    public bool IsExclusive(Tensor t) => refs.TryGetValue(t.Storage, out int n) && n == 1;

    // Starts recording into `born` (cleared); the caller ends it with AllocationRecorder.End(previous).
    private List<Storage>? Open()
    {
        born.Clear();
        return AllocationRecorder.Begin(born);
    }
}
