using System.Diagnostics;

namespace Ember;

/// <summary>One primitive recorded during a traced forward pass: what <see cref="IAutogradRecorder.Record"/> saw.</summary>
/// <param name="Kind">The primitive.</param>
/// <param name="Result">The tensor it produced.</param>
/// <param name="Args">Its attributes (and, for fused primitives, its <see cref="FusedArgs"/>).</param>
/// <param name="Inputs">Its inputs, in the order the formula table documents.</param>
/// <param name="Stack">The call stack at record time (first trace only), for naming the module in errors.</param>
internal sealed record TracedOp(OpKind Kind, Tensor Result, OpArgs Args, Tensor[] Inputs, StackTrace? Stack);

/// <summary>
/// The tracing hook: wraps the installed autograd recorder for the duration of an export. Every primitive Core records
/// still goes to the real engine (so results get their GradFn and RequiresGrad and later ops keep recording), and the
/// ones recorded on the exporting flow are also appended to the current trace.
/// </summary>
/// <remarks>
/// Why a recorder rather than walking GradFn nodes from the output: the recorder sees the input tensors themselves
/// (a node only sees the nodes of inputs that require grad), so constants, integer inputs (token ids) and buffers are
/// visible and can become initializers or graph inputs, and it sees the ops in execution order, which is already a
/// topological order for the ONNX node list.
/// </remarks>
internal sealed class TraceRecorder(IAutogradRecorder inner) : IAutogradRecorder
{
    private static readonly AsyncLocal<List<TracedOp>?> Current = new();
    private static readonly Lock InstallGate = new();

    /// <inheritdoc/>
    public void Record(OpKind op, Tensor result, OpArgs args, params Tensor[] inputs)
    {
        inner.Record(op, result, args, inputs);
        if (Current.Value is { } ops)
            ops.Add(new TracedOp(op, result, args, inputs, ops.Count < 100_000 ? new StackTrace(2, false) : null));
    }

    /// <summary>
    /// Runs <paramref name="forward"/> with grad mode on and this recorder installed, and returns the primitives it
    /// recorded on this flow (other threads keep recording into the engine only). Exports run one at a time.
    /// </summary>
    public static List<TracedOp> Capture(Action forward)
    {
        lock (InstallGate)
        {
            AutogradHook.EnsureLoaded();
            var previous = AutogradHook.Recorder!;
            var ops = new List<TracedOp>();
            AutogradHook.Recorder = new TraceRecorder(previous);
            bool gradMode = GradMode.Set(true);
            Current.Value = ops;
            try
            {
                forward();
            }
            finally
            {
                Current.Value = null;
                GradMode.Set(gradMode);
                AutogradHook.Recorder = previous;
            }
            return ops;
        }
    }
}
