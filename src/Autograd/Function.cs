namespace Ember;

/// <summary>
/// A custom differentiable operation with a hand-written backward (PyTorch's torch.autograd.Function).
/// Subclass it, implement <see cref="Forward"/> and <see cref="Backward"/>, and call <see cref="Apply"/>.
/// </summary>
/// <example>
/// <code>
/// sealed class Cube : Function {
///     protected override Tensor Forward(FunctionContext ctx, Tensor[] x) { ctx.SaveForBackward(x[0]); return x[0] * x[0] * x[0]; }
///     protected override Tensor?[] Backward(FunctionContext ctx, Tensor g) => [3 * g * ctx.SavedTensors[0].Square()];
/// }
/// var y = new Cube().Apply(x);
/// </code>
/// </example>
public abstract class Function
{
    /// <summary>
    /// Runs <see cref="Forward"/> with grad mode off and, if grad mode is on and an input requires grad,
    /// records one node whose backward is <see cref="Backward"/>.
    /// </summary>
    /// <param name="inputs">The op's inputs.</param>
    /// <returns>Forward's result (a new tensor object when Forward returned one of its inputs).</returns>
    /// <exception cref="InvalidOperationException">Forward returned null.</exception>
    public Tensor Apply(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        bool record = AutogradHook.ShouldRecord(inputs);
        var ctx = new FunctionContext(Array.ConvertAll(inputs, t => t.RequiresGrad));
        Tensor output;
        using (Autograd.NoGrad())
            output = Forward(ctx, inputs) ?? throw new InvalidOperationException($"{Name}.Forward returned null.");
        if (!record) return output;
        // The node belongs to the output: never attach it to a caller's tensor (an input returned as is).
        if (Array.Exists(inputs, t => ReferenceEquals(t, output)) || output.GradFn != null || output.RequiresGrad)
            output = output.Detach();
        output.SetGradFn(new FunctionNode(this, ctx, inputs), true);
        return output;
    }

    /// <summary>Computes the result from the inputs (runs with grad mode off). Save what Backward needs on <paramref name="ctx"/>.</summary>
    protected abstract Tensor Forward(FunctionContext ctx, Tensor[] inputs);

    /// <summary>
    /// Computes ∂L/∂input for each input from <paramref name="gradOutput"/> = ∂L/∂output: one entry per input,
    /// shaped like it (null = no gradient). Runs with grad mode on only under createGraph; write it with
    /// tensor ops if the function must be twice differentiable.
    /// </summary>
    protected abstract Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput);

    /// <summary>The node's name in graphs and error messages (the class name by default).</summary>
    public virtual string Name => GetType().Name;

    internal Tensor?[] RunBackward(FunctionContext ctx, Tensor gradOutput) => Backward(ctx, gradOutput);
}

/// <summary>What a <see cref="Function"/>'s Forward leaves for its Backward: saved tensors and other state.</summary>
public sealed class FunctionContext
{
    private SavedTensor[] saved = [];
    private bool released;

    internal FunctionContext(bool[] needsInputGrad) => NeedsInputGrad = needsInputGrad;

    /// <summary>
    /// Saves tensors for the backward pass. Their versions are recorded: modifying one in place before
    /// backward makes <see cref="SavedTensors"/> throw.
    /// </summary>
    public void SaveForBackward(params Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        saved = Array.ConvertAll(tensors, t => new SavedTensor(t));
    }

    /// <summary>The tensors passed to <see cref="SaveForBackward"/>, in order.</summary>
    /// <exception cref="InvalidOperationException">The graph was freed by an earlier backward, or a saved tensor was modified in place.</exception>
    public IReadOnlyList<Tensor> SavedTensors
    {
        get
        {
            if (released) throw Engine.FreedGraphError("a custom Function");
            return Array.ConvertAll(saved, s => s.Unpack("a custom Function"));
        }
    }

    /// <summary>For each input, whether it requires grad (Backward may skip the others).</summary>
    public bool[] NeedsInputGrad { get; }

    /// <summary>Non-tensor state Forward wants Backward to see.</summary>
    public Dictionary<string, object> Values { get; } = [];

    internal bool HasSaved => saved.Length > 0;

    internal IEnumerable<string> Describe() => saved.Select((s, i) => $"saved {i}: {s.Describe()}");

    internal void Release()
    {
        if (saved.Length == 0) return;
        released = true;
        foreach (var s in saved) s.Release();
    }
}

/// <summary>The node of one <see cref="Function.Apply"/> call.</summary>
internal sealed class FunctionNode : Node
{
    private readonly Function function;
    private readonly FunctionContext context;
    private readonly Shape[] inputShapes;
    private readonly DType[] inputDTypes;

    public FunctionNode(Function function, FunctionContext context, Tensor[] inputs)
        : base(Array.ConvertAll(inputs, TensorState.GradientEdge))
    {
        this.function = function;
        this.context = context;
        inputShapes = Array.ConvertAll(inputs, t => t.Shape);
        inputDTypes = Array.ConvertAll(inputs, t => t.DType);
    }

    /// <inheritdoc/>
    public override string Name => function.Name + "Backward";

    /// <inheritdoc/>
    public override Shape[] InputShapes => inputShapes;

    /// <inheritdoc/>
    public override Tensor?[] Apply(Tensor gradOutput)
    {
        var grads = function.RunBackward(context, gradOutput)
            ?? throw new InvalidOperationException($"{function.Name}.Backward returned null; return one gradient (or null) per input.");
        if (grads.Length != Next.Length)
            throw new InvalidOperationException(
                $"{function.Name}.Backward returned {grads.Length} gradients but Forward had {Next.Length} inputs; return one per input (null for none).");
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is not { } g) continue;
            if (!g.ShapeSpan.SequenceEqual(inputShapes[i].AsSpan()))
                throw new InvalidOperationException(
                    $"{function.Name}.Backward returned a gradient of shape {g.Shape} for input {i}, whose shape is {inputShapes[i]}.");
            if (g.DType != inputDTypes[i])
                throw new InvalidOperationException(
                    $"{function.Name}.Backward returned a {g.DType} gradient for input {i}, which is {inputDTypes[i]}.");
        }
        return grads;
    }

    /// <inheritdoc/>
    public override void Release(bool disposeScratch = false) => context.Release();

    /// <inheritdoc/>
    public override IEnumerable<string> SavedDescriptions => context.Describe();
}
