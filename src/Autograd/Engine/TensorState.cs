namespace Ember;

/// <summary>The engine's per-tensor state, kept in <see cref="Tensor.AutogradState"/>.</summary>
internal sealed class TensorState
{
    private static readonly Lock Gate = new();

    /// <summary>The leaf's gradient accumulator (one per leaf, so every use of the leaf shares it).</summary>
    public AccumulateGrad? Accumulator;

    /// <summary>Hooks run after the leaf's .Grad was updated.</summary>
    public List<Action<Tensor>>? PostAccumulateHooks;

    /// <summary>The state of <paramref name="t"/>, created on first use.</summary>
    public static TensorState Of(Tensor t)
    {
        if (t.AutogradState is TensorState s) return s;
        lock (Gate)
        {
            if (t.AutogradState is TensorState s2) return s2;
            var created = new TensorState();
            t.AutogradState = created;
            return created;
        }
    }

    /// <summary>The node that receives <paramref name="t"/>'s gradient: its GradFn, or its leaf accumulator.</summary>
    public static Node? GradientEdge(Tensor t)
    {
        if (!t.RequiresGrad) return null;
        if (t.GradFn is Node n) return n;
        var state = Of(t);
        if (state.Accumulator != null) return state.Accumulator;
        lock (Gate) return state.Accumulator ??= new AccumulateGrad(t);
    }
}
