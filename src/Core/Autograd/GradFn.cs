namespace Ember;

/// <summary>
/// A node of the autograd graph: the operation that produced a tensor. Core only stores it;
/// Ember.Autograd creates and runs the nodes.
/// </summary>
public abstract class GradFn
{
    /// <summary>Name of the forward operation, e.g. "MulBackward".</summary>
    public abstract string Name { get; }

    /// <summary>The nodes this one sends gradients to (null where an input needs no gradient).</summary>
    public abstract IReadOnlyList<GradFn?> NextFunctions { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
