namespace Ember;

/// <summary>
/// Records the storages <see cref="Tensor.Alloc"/> creates on this thread while a recording is open. The autograd engine
/// records its built-in backward formulas with it, so it knows which gradient buffers and temporaries were born inside
/// the backward pass and can return them to the backend as soon as it holds no reference to them (PyTorch frees them
/// by reference counting; without this they would wait for a garbage collection). Storages made while
/// <see cref="TensorScope.Suspend"/> is in effect are state that outlives the step and are not recorded.
/// </summary>
internal static class AllocationRecorder
{
    [ThreadStatic] private static List<Storage>? current;

    /// <summary>Records into <paramref name="into"/> until <see cref="End"/>; returns the recording it replaces (nesting).</summary>
    public static List<Storage>? Begin(List<Storage> into)
    {
        var previous = current;
        current = into;
        return previous;
    }

    /// <summary>Stops the recording begun by the <see cref="Begin"/> that returned <paramref name="previous"/>.</summary>
    public static void End(List<Storage>? previous) => current = previous;

    /// <summary>Called for every new storage.</summary>
    public static void Record(Storage storage)
    {
        if (current is { } list && !TensorScope.IsSuspended) list.Add(storage);
    }
}
