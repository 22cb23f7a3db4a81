namespace Ember;

/// <summary>
/// The sink node of a leaf tensor: adds the incoming gradient into the leaf's <see cref="Tensor.Grad"/>
/// and then runs the leaf's post-accumulate hooks.
/// </summary>
internal sealed class AccumulateGrad(Tensor variable) : Node([])
{
    /// <summary>The leaf whose .Grad this node fills.</summary>
    public readonly Tensor Variable = variable;

    private readonly Shape[] inputShapes = [];

    // One lock per leaf (this node is the leaf's only accumulator): backward passes on several threads that share the
    // leaf would otherwise read the same old .Grad and each store old + its own gradient, losing the others'.
    private readonly Lock gate = new();

    /// <inheritdoc/>
    public override string Name => "AccumulateGrad";

    /// <inheritdoc/>
    public override Shape[] InputShapes => inputShapes;

    /// <summary>
    /// leaf.Grad += gradient. Always produces a new tensor, never writes into a user-visible one. Thread-safe: concurrent
    /// backward passes into one leaf add every gradient; the post-accumulate hooks run outside the lock.
    /// </summary>
    public override Tensor?[] Apply(Tensor gradOutput)
    {
        var leaf = Variable;
        lock (gate) Accumulate(leaf, gradOutput);
        if (leaf.AutogradState is TensorState { PostAccumulateHooks: { } hooks })
            foreach (var hook in hooks.ToArray()) hook(leaf);
        return [];
    }

    /// <summary>
    /// The engine's fast path when it holds the only reference to <paramref name="gradOutput"/> (born in its own formulas):
    /// a leaf without a gradient takes the tensor itself as .Grad, with no copy, when it is dense (contiguous, the whole
    /// of its storage). Returns false, having done nothing, otherwise. Runs the post-accumulate hooks like
    /// <see cref="Apply"/>.
    /// </summary>
    public bool TryAdopt(Tensor gradOutput)
    {
        var leaf = Variable;
        if (!gradOutput.IsContiguous || gradOutput.StorageOffset != 0 || gradOutput.Storage.Length != gradOutput.Numel) return false;
        lock (gate)
        {
            if (leaf.Grad is not null) return false;
            leaf.Grad = gradOutput.Detach();
            TensorScope.Escape(leaf.Grad);
        }
        if (leaf.AutogradState is TensorState { PostAccumulateHooks: { } hooks })
            foreach (var hook in hooks.ToArray()) hook(leaf);
        return true;
    }

    private static void Accumulate(Tensor leaf, Tensor gradOutput)
    {
        if (leaf.Grad is null)
        {
            // First gradient: store a private contiguous copy. The engine may hand the same tensor to
            // several leaves (Add sends its gradient to both inputs), and a user (or an optimizer, or an
            // all-reduce) may later modify one leaf's .Grad in place: the copy keeps them independent.
            // Under createGraph the clone is recorded, so .Grad stays differentiable.
            leaf.Grad = GradMode.IsEnabled ? gradOutput.Clone() : Detached(gradOutput);
        }
        else
        {
            if (leaf.Grad.Shape != gradOutput.Shape)
                throw new InvalidOperationException(
                    $"AccumulateGrad: the leaf's existing .Grad has shape {leaf.Grad.Shape} but the new gradient has shape {gradOutput.Shape}; set .Grad = null first.");
            leaf.Grad = leaf.Grad + gradOutput;     // += as a new tensor
        }
        TensorScope.Escape(leaf.Grad);              // a leaf's gradient outlives any Tensor.Scope of the step
    }

    private static Tensor Detached(Tensor g)
    {
        var copy = Tensor.Empty(g.ShapeSpan.ToArray(), g.DType, g.Device);
        g.Backend.Copy(g, copy);
        return copy;
    }
}
