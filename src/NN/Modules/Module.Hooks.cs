namespace Ember.NN;

public abstract partial class Module<TIn, TOut>
{
    private List<Func<Module<TIn, TOut>, TIn, TIn>>? forwardPreHooks;
    private List<Func<Module<TIn, TOut>, TIn, TOut, TOut>>? forwardHooks;
    private List<Func<Module<TIn, TOut>, Tensor?[], Tensor?[], Tensor?[]?>>? backwardHooks;

    /// <summary>
    /// Registers a hook run before every <see cref="Call"/> (PyTorch's register_forward_pre_hook with a return value):
    /// <c>hook(module, input)</c> returns the input Forward receives (return <c>input</c> to keep it).
    /// </summary>
    /// <returns>A handle whose Dispose removes the hook.</returns>
    public IDisposable RegisterForwardPreHook(Func<Module<TIn, TOut>, TIn, TIn> hook) => Add(ref forwardPreHooks, hook);

    /// <summary>Registers an observing pre-hook <c>hook(module, input)</c> run before every <see cref="Call"/>.</summary>
    /// <returns>A handle whose Dispose removes the hook.</returns>
    public IDisposable RegisterForwardPreHook(Action<Module<TIn, TOut>, TIn> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return RegisterForwardPreHook((m, x) => { hook(m, x); return x; });
    }

    /// <summary>
    /// Registers a hook run after every <see cref="Call"/> (PyTorch's register_forward_hook with a return value):
    /// <c>hook(module, input, output)</c> returns the output the caller receives (return <c>output</c> to keep it).
    /// </summary>
    /// <returns>A handle whose Dispose removes the hook.</returns>
    public IDisposable RegisterForwardHook(Func<Module<TIn, TOut>, TIn, TOut, TOut> hook) => Add(ref forwardHooks, hook);

    /// <summary>Registers an observing hook <c>hook(module, input, output)</c> run after every <see cref="Call"/> (e.g. to record activations or output shapes).</summary>
    /// <returns>A handle whose Dispose removes the hook.</returns>
    public IDisposable RegisterForwardHook(Action<Module<TIn, TOut>, TIn, TOut> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return RegisterForwardHook((m, x, y) => { hook(m, x, y); return y; });
    }

    /// <summary>
    /// Registers a hook run when the gradients with respect to the module's input are computed (PyTorch's
    /// register_full_backward_hook): <c>hook(module, gradInput, gradOutput)</c> gets ∂L/∂input and ∂L/∂output (one
    /// entry each; null when the input does not require grad) and may return a replacement gradInput, or null to keep it.
    /// When the input does not require grad the hook runs as soon as gradOutput is known.
    /// </summary>
    /// <returns>A handle whose Dispose removes the hook.</returns>
    /// <exception cref="NotSupportedException">The module is not a <c>Module&lt;Tensor, Tensor&gt;</c>.</exception>
    public IDisposable RegisterFullBackwardHook(Func<Module<TIn, TOut>, Tensor?[], Tensor?[], Tensor?[]?> hook)
    {
        if (typeof(TIn) != typeof(Tensor) || typeof(TOut) != typeof(Tensor))
            throw new NotSupportedException($"RegisterFullBackwardHook: supported for Module<Tensor, Tensor>, {GetType().Name} is Module<{typeof(TIn).Name}, {typeof(TOut).Name}>.");
        return Add(ref backwardHooks, hook);
    }

    private static IDisposable Add<T>(ref List<T>? list, T hook) where T : Delegate
    {
        ArgumentNullException.ThrowIfNull(hook);
        var l = list ??= [];
        l.Add(hook);
        return new HookHandle(() => l.Remove(hook));
    }

    private TOut CallWithHooks(TIn input)
    {
        if (forwardPreHooks is { Count: > 0 })
            foreach (var h in forwardPreHooks.ToArray()) input = h(this, input);
        TOut output = backwardHooks is { Count: > 0 } && Autograd.IsGradEnabled ? ForwardWithBackwardHooks(input) : Forward(input);
        if (forwardHooks is { Count: > 0 })
            foreach (var h in forwardHooks.ToArray()) output = h(this, input, output);
        return output;
    }

    // Identity nodes around Forward: the one on the output sees ∂L/∂output first, the one on the input then sees ∂L/∂input.
    private TOut ForwardWithBackwardHooks(TIn input)
    {
        var x = (Tensor)(object)input!;
        var state = new BackwardHookState(this);
        bool inputTracked = x.RequiresGrad;
        if (inputTracked) x = new BackwardHookInput(state).Apply(x);
        var y = (Tensor)(object)Forward((TIn)(object)x)!;
        if (y.RequiresGrad) y = new BackwardHookOutput(state, inputTracked).Apply(y);
        return (TOut)(object)y;
    }

    private sealed class BackwardHookState(Module<TIn, TOut> module)
    {
        public Tensor?[] GradOutput { get; set; } = [null];

        public Tensor?[] Run(Tensor?[] gradInput)
        {
            foreach (var h in module.backwardHooks?.ToArray() ?? [])
            {
                var replaced = h(module, gradInput, GradOutput);
                if (replaced is null) continue;
                if (replaced.Length != gradInput.Length)
                    throw new InvalidOperationException($"Backward hook of {module.GetType().Name} returned {replaced.Length} gradients, expected {gradInput.Length}.");
                gradInput = replaced;
            }
            return gradInput;
        }
    }

    private sealed class BackwardHookOutput(BackwardHookState state, bool inputTracked) : Function
    {
        public override string Name => "BackwardHookFunction";
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0];
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            state.GradOutput = [gradOutput];
            if (!inputTracked) state.Run([null]);   // no gradient will reach the input: run the hooks now
            return [gradOutput];
        }
    }

    private sealed class BackwardHookInput(BackwardHookState state) : Function
    {
        public override string Name => "BackwardHookFunction";
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0];
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => state.Run([gradOutput]);
    }
}

/// <summary>Removes a registered module hook when disposed (PyTorch's RemovableHandle.remove()).</summary>
internal sealed class HookHandle(Action remove) : IDisposable
{
    private Action? remove = remove;

    /// <summary>Removes the hook (idempotent).</summary>
    public void Dispose()
    {
        remove?.Invoke();
        remove = null;
    }
}
