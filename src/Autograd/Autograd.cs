using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// Reverse-mode automatic differentiation: grad-mode scopes, <see cref="Grad"/>, anomaly detection and
/// graph printing. Tensors get <c>Backward()</c>, <c>RetainGrad()</c> and hooks from
/// <see cref="TensorAutogradExtensions"/>.
/// </summary>
/// <remarks>
/// Loading this assembly installs the engine into <see cref="AutogradHook.Recorder"/>, after which every
/// differentiable Core op over a tensor that requires grad records a node of the backward graph.
/// </remarks>
public static partial class Autograd
{
    private static readonly AsyncLocal<bool> Anomaly = new();

#pragma warning disable CA2255 // a library module initializer is the documented way Core finds the engine
    [ModuleInitializer]
    internal static void Init() => AutogradHook.Recorder ??= Recorder.Instance;
#pragma warning restore CA2255

    /// <summary>
    /// Disables graph recording until the returned scope is disposed (torch.no_grad). Per thread and
    /// async flow: other threads are unaffected, and the mode flows across <c>await</c>.
    /// </summary>
    /// <returns>A scope whose Dispose restores the previous mode.</returns>
    public static IDisposable NoGrad() => new ModeScope(GradMode.Set(false), static p => GradMode.Set(p));

    /// <summary>Enables graph recording (inside a NoGrad scope, for example) until the scope is disposed (torch.enable_grad).</summary>
    /// <returns>A scope whose Dispose restores the previous mode.</returns>
    public static IDisposable EnableGrad() => new ModeScope(GradMode.Set(true), static p => GradMode.Set(p));

    /// <summary>True when ops record the graph (the current flow is not inside NoGrad).</summary>
    public static bool IsGradEnabled => GradMode.IsEnabled;

    /// <summary>
    /// Turns on anomaly detection until disposed (torch.autograd.detect_anomaly): nodes created meanwhile
    /// remember the forward call stack, and a backward pass run meanwhile throws
    /// <see cref="InvalidOperationException"/> as soon as a formula produces NaN or ±∞, naming the forward op
    /// and where it was created. Slow (copies every gradient to the host); for debugging only.
    /// </summary>
    /// <returns>A scope whose Dispose restores the previous setting.</returns>
    public static IDisposable DetectAnomaly()
    {
        bool prev = Anomaly.Value;
        Anomaly.Value = true;
        return new ModeScope(prev, static p => Anomaly.Value = p);
    }

    /// <summary>True inside a <see cref="DetectAnomaly"/> scope.</summary>
    public static bool IsAnomalyEnabled => Anomaly.Value;

    /// <summary>
    /// The gradients of <paramref name="outputs"/> with respect to <paramref name="inputs"/>
    /// (torch.autograd.grad): Σᵢ ∂(outputs[i]·gradOutputs[i])/∂input for each input. Leaves' .Grad is not touched.
    /// </summary>
    /// <param name="outputs">Tensors to differentiate (each requires grad).</param>
    /// <param name="inputs">Tensors (leaves or not) to differentiate with respect to; each requires grad.</param>
    /// <param name="gradOutputs">One gradient per output with its shape; null entries (or a null list) mean ones for scalar outputs.</param>
    /// <param name="retainGraph">Keep the saved tensors so the graph can be differentiated again (implied by createGraph).</param>
    /// <param name="createGraph">Record the backward pass, so the returned gradients can themselves be differentiated.</param>
    /// <param name="allowUnused">Return null for an input the outputs do not depend on instead of throwing.</param>
    /// <returns>One gradient per input, shaped like it (null only for unused inputs with allowUnused).</returns>
    /// <exception cref="InvalidOperationException">An output or input does not require grad; an input is unused (without allowUnused); the graph was freed.</exception>
    /// <exception cref="ArgumentException">gradOutputs has the wrong count, or a gradient's shape/dtype does not match its output.</exception>
    public static Tensor?[] Grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs,
        IReadOnlyList<Tensor?>? gradOutputs = null, bool retainGraph = false, bool createGraph = false, bool allowUnused = false)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (outputs.Count == 0) throw new ArgumentException("Autograd.Grad: expected at least one output.");
        var seeds = SeedGradients(outputs, gradOutputs, "Autograd.Grad");
        var grads = Engine.Run(outputs, seeds, retainGraph || createGraph, createGraph, inputs);
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is null && !allowUnused)
                throw new InvalidOperationException(
                    $"One of the differentiated Tensors (input {i}, shape {inputs[i].Shape}) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.");
            if (grads[i] is { } g && !createGraph && g.RequiresGrad) grads[i] = g.Detach();
        }
        return grads;
    }

    /// <summary>Checks user gradients against the outputs, or creates ones for scalar outputs.</summary>
    internal static Tensor[] SeedGradients(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor?>? gradOutputs, string op)
    {
        if (gradOutputs != null && gradOutputs.Count != outputs.Count)
            throw new ArgumentException($"{op}: got {gradOutputs.Count} gradients for {outputs.Count} outputs; pass one per output.");
        var seeds = new Tensor[outputs.Count];
        for (int i = 0; i < outputs.Count; i++)
        {
            var o = outputs[i];
            var g = gradOutputs?[i];
            if (g is null)
            {
                if (o.Numel != 1)
                    throw new InvalidOperationException(
                        $"grad can be implicitly created only for scalar outputs; pass a gradient of shape {o.Shape} (e.g. Tensor.OnesLike(output)) for output {i}.");
                g = Tensor.OnesLike(o);
            }
            else
            {
                if (g.Shape != o.Shape)
                    throw new ArgumentException($"{op}: mismatch in shape: the gradient for output {i} has shape {g.Shape} but the output has shape {o.Shape}.");
                if (g.DType != o.DType)
                    throw new ArgumentException($"{op}: the gradient for output {i} has dtype {g.DType} but the output has dtype {o.DType}.");
                if (g.Device != o.Device)
                    throw new ArgumentException($"{op}: the gradient for output {i} is on {g.Device} but the output is on {o.Device}.");
            }
            seeds[i] = g;
        }
        return seeds;
    }

    private sealed class ModeScope(bool previous, Action<bool> restore) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            restore(previous);
        }
    }
}
