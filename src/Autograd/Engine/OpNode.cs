namespace Ember;

/// <summary>What a backward formula needs saved at forward time.</summary>
[Flags]
internal enum Saves
{
    /// <summary>Nothing but shapes and attributes.</summary>
    Nothing = 0,
    /// <summary>The op's inputs.</summary>
    Inputs = 1,
    /// <summary>The op's result.</summary>
    Result = 2,
}

/// <summary>One entry of the formula table: the node's name, what it saves and its backward formula.</summary>
/// <param name="Name">Node name, e.g. "MulBackward".</param>
/// <param name="Saves">Tensors to keep for the formula.</param>
/// <param name="Backward">Maps (context, gradient of the result) to one gradient per input (null = none).</param>
internal sealed record Derivative(string Name, Saves Saves, Func<BackwardContext, Tensor, Tensor?[]> Backward);

/// <summary>
/// What a formula sees: saved inputs and result (version-checked on access), the op's attributes,
/// and each input's shape, dtype, device and whether it needs a gradient.
/// </summary>
internal sealed class BackwardContext
{
    private readonly SavedTensor?[] inputs;
    private SavedTensor? result;
    private readonly string nodeName;

    public BackwardContext(string nodeName, OpArgs args, Tensor[] inputTensors, Tensor resultTensor, Saves saves)
    {
        this.nodeName = nodeName;
        Args = args;
        int n = inputTensors.Length;
        inputs = new SavedTensor?[n];
        InputShapes = new Shape[n];
        InputDTypes = new DType[n];
        InputDevices = new Device[n];
        NeedsGrad = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var t = inputTensors[i];
            InputShapes[i] = t.Shape;   // a view's shape array is never mutated, so the node shares it instead of copying
            InputDTypes[i] = t.DType;
            InputDevices[i] = t.Device;
            NeedsGrad[i] = t.RequiresGrad;
            if (saves.HasFlag(Saves.Inputs)) inputs[i] = new SavedTensor(t);
        }
        if (saves.HasFlag(Saves.Result)) result = new SavedTensor(resultTensor);
    }

    /// <summary>The op's attributes.</summary>
    public OpArgs Args { get; }
    /// <summary>Each input's shape.</summary>
    public Shape[] InputShapes { get; }
    /// <summary>Each input's dtype.</summary>
    public DType[] InputDTypes { get; }
    /// <summary>Each input's device.</summary>
    public Device[] InputDevices { get; }
    /// <summary>Whether each input wants a gradient (formulas skip the others).</summary>
    public bool[] NeedsGrad { get; }

    /// <summary>Saved input <paramref name="i"/>.</summary>
    public Tensor Input(int i) =>
        (inputs[i] ?? throw new InvalidOperationException($"{nodeName}: input {i} was not saved (formula table bug).")).Unpack(nodeName);

    /// <summary>The saved result.</summary>
    public Tensor Result =>
        (result ?? throw new InvalidOperationException($"{nodeName}: the result was not saved (formula table bug).")).Unpack(nodeName);

    /// <summary>
    /// Sums a broadcast gradient back to input <paramref name="i"/>'s shape, in that input's dtype (an op that read a
    /// 16-bit input beside a Float32 one returns its gradient as the 16-bit input's, as PyTorch's engine converts it).
    /// </summary>
    public Tensor ReduceTo(int i, Tensor grad)
    {
        var g = Derivatives.SumToShape(grad, InputShapes[i].AsSpan());
        return g.DType == InputDTypes[i] || !g.IsFloatingPoint || !InputDTypes[i].IsFloatingPoint() ? g : g.To(InputDTypes[i]);
    }

    /// <summary>True when something was saved and then freed.</summary>
    public bool IsReleased => result?.IsReleased == true || inputs.Any(s => s?.IsReleased == true);

    public void Release(bool disposeScratch)
    {
        Args.Fused?.ReleaseSaved(disposeScratch);
        result?.Release();
        foreach (var s in inputs) s?.Release();
    }

    public IEnumerable<string> Describe()
    {
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is { } s) yield return $"input {i}: {s.Describe()}";
        if (result is { } r) yield return $"result: {r.Describe()}";
    }
}

/// <summary>The node of a recorded Core primitive: runs the formula table's entry for its <see cref="OpKind"/>.</summary>
internal sealed class OpNode : Node
{
    private readonly Derivative derivative;
    private readonly BackwardContext context;

    public OpNode(OpKind kind, Derivative derivative, OpArgs args, Tensor result, Tensor[] inputs)
        : base(EdgesOf(inputs))
    {
        Kind = kind;
        this.derivative = derivative;
        context = new BackwardContext(derivative.Name, args, inputs, result, derivative.Saves);
    }

    private static Node?[] EdgesOf(Tensor[] inputs)
    {
        var next = new Node?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) next[i] = TensorState.GradientEdge(inputs[i]);
        return next;
    }

    /// <summary>The primitive.</summary>
    public OpKind Kind { get; }

    /// <summary>The op's attributes.</summary>
    public OpArgs Args => context.Args;

    /// <inheritdoc/>
    public override string Name => derivative.Name;

    /// <inheritdoc/>
    public override Shape[] InputShapes => context.InputShapes;

    /// <inheritdoc/>
    public override Tensor?[] Apply(Tensor gradOutput)
    {
        if (context.IsReleased) throw Engine.FreedGraphError(Name);
        return derivative.Backward(context, gradOutput);
    }

    /// <inheritdoc/>
    public override void Release(bool disposeScratch = false) => context.Release(disposeScratch);

    /// <inheritdoc/>
    public override IEnumerable<string> SavedDescriptions => context.Describe();
}

/// <summary>Core's hook into the engine: turns each recorded primitive into an <see cref="OpNode"/>.</summary>
internal sealed class Recorder : IAutogradRecorder
{
    public static readonly Recorder Instance = new();

    public void Record(OpKind op, Tensor result, OpArgs args, params Tensor[] inputs)
    {
        var derivative = Derivatives.For(op, args);
        var node = new OpNode(op, derivative, args, result, inputs);
        result.SetGradFn(node, true);
    }
}
