using System.Diagnostics;

namespace Ember;

/// <summary>
/// A node of the backward graph: the gradient function of one forward operation. It receives the
/// gradient of the operation's output and returns one gradient per input edge (<see cref="Next"/>).
/// </summary>
/// <remarks>
/// Every node has exactly one output (the tensor whose <see cref="Tensor.GradFn"/> it is).
/// Nodes are created by the recorder (<see cref="OpNode"/>), by <see cref="Function.Apply"/>
/// (<see cref="FunctionNode"/>) and, once per leaf, as <see cref="AccumulateGrad"/>.
/// </remarks>
internal abstract class Node : GradFn
{
    private static long sequenceCounter;

    /// <summary>The input edges: the node that wants each input's gradient, or null (input needs none).</summary>
    public readonly Node?[] Next;

    /// <summary>Creation order. Among ready nodes the engine runs the newest first (as PyTorch does).</summary>
    public readonly long Sequence;

    /// <summary>Hooks registered on the output tensor: they see (and may replace) its gradient.</summary>
    public List<Func<Tensor, Tensor?>>? TensorHooks;

    /// <summary>The non-leaf output tensor that asked for <c>RetainGrad()</c>, or null.</summary>
    public Tensor? RetainGradOf;

    /// <summary>The forward call stack, captured only under <see cref="Autograd.DetectAnomaly"/>.</summary>
    public readonly string? CreationTrace;

    protected Node(Node?[] next)
    {
        Next = next;
        Sequence = Interlocked.Increment(ref sequenceCounter);
        if (Autograd.IsAnomalyEnabled) CreationTrace = new StackTrace(2, true).ToString();
    }

    /// <inheritdoc/>
    public override IReadOnlyList<GradFn?> NextFunctions => Next;

    /// <summary>Shapes of the inputs, one per edge (for checking the gradients a node returns).</summary>
    public abstract Shape[] InputShapes { get; }

    /// <summary>Computes the gradients of the inputs from the gradient of the output.</summary>
    public abstract Tensor?[] Apply(Tensor gradOutput);

    /// <summary>
    /// Drops the saved tensors (after a backward pass without retainGraph). With <paramref name="disposeScratch"/>, the
    /// tensors a fused op saved for its backward alone are disposed too (the engine passes it when no recorded formula
    /// can read them again).
    /// </summary>
    public virtual void Release(bool disposeScratch = false) { }

    /// <summary>Descriptions of the saved tensors, for <see cref="Autograd.ToDot"/>.</summary>
    public virtual IEnumerable<string> SavedDescriptions => [];
}

/// <summary>
/// A tensor saved for the backward pass together with the version of its storage at save time,
/// so an in-place change between forward and backward is detected instead of silently giving a wrong gradient.
/// </summary>
internal sealed class SavedTensor
{
    private Tensor? tensor;
    private readonly int version;

    public SavedTensor(Tensor t)
    {
        tensor = t;
        version = t.Version;
    }

    /// <summary>True after <see cref="Release"/>.</summary>
    public bool IsReleased => tensor is null;

    /// <summary>Shape/dtype text of the saved tensor (or "freed").</summary>
    public string Describe() => tensor is null ? "freed" : $"{tensor.DType} {tensor.Shape}";

    /// <summary>Returns the tensor after checking it is still there and unmodified.</summary>
    /// <exception cref="InvalidOperationException">The graph was freed, or the tensor was modified in place.</exception>
    public Tensor Unpack(string nodeName)
    {
        var t = tensor ?? throw Engine.FreedGraphError(nodeName);
        if (t.Version != version)
            throw new InvalidOperationException(
                $"one of the variables needed for gradient computation has been modified by an inplace operation: " +
                $"[{t.DType} {t.Shape}], saved by {nodeName}, is at version {t.Version}; expected version {version} instead. " +
                "Hint: do not modify in place (e.g. with Mul_ under NoGrad) a tensor that the forward pass used; use the out-of-place op or Clone() it first.");
        return t;
    }

    public void Release() => tensor = null;
}
