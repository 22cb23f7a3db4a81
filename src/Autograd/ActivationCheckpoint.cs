namespace Ember;

/// <summary>
/// Activation checkpointing (PyTorch's torch.utils.checkpoint.checkpoint, reentrant variant): runs a segment of the
/// forward pass without keeping its intermediate activations, and runs it again during backward to get them. Trades
/// one extra forward of the segment for its activation memory.
/// </summary>
/// <remarks>
/// Named ActivationCheckpoint, not Checkpoint, because Ember.Serialization already has a <c>Checkpoint</c> class for
/// saving training state (model + optimizer): two public types with one simple name in the Ember namespaces would make
/// every file that imports both ambiguous.
/// <para>
/// The default random generator's state is saved before the forward and restored for the recomputation, so dropout
/// inside the segment draws the same mask both times. As in PyTorch's reentrant checkpoint, gradients reach
/// parameters used inside <c>fn</c> through <see cref="TensorAutogradExtensions"/>' Backward (they accumulate into
/// <c>.Grad</c>); <see cref="Autograd.Grad"/> with respect to such parameters does not see them.
/// </para>
/// </remarks>
public static class ActivationCheckpoint
{
    /// <summary>Computes <c>fn(inputs)</c> without saving its activations; backward recomputes them.</summary>
    /// <param name="fn">The segment: must be deterministic given its inputs and the random state, and must not modify its inputs in place.</param>
    /// <param name="inputs">The segment's tensor inputs (at least one).</param>
    /// <returns>The segment's output; when grad mode is on and an input requires grad, its backward reruns <paramref name="fn"/>
    /// (as in PyTorch's reentrant checkpoint, with no input requiring grad nothing is recorded, not even for parameters inside).</returns>
    /// <exception cref="ArgumentException">No inputs.</exception>
    public static Tensor Run(Func<Tensor[], Tensor> fn, params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0) throw new ArgumentException("ActivationCheckpoint.Run: expected at least one input tensor.", nameof(inputs));
        if (!Autograd.IsGradEnabled) return fn(inputs);
        return new Segment(fn).Apply(inputs);
    }

    private sealed class Segment(Func<Tensor[], Tensor> fn) : Function
    {
        private (ulong Seed, ulong Offset) rngState;
        private bool recorded;

        public override string Name => "CheckpointFunction";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            rngState = Ember.Random.Default.GetState();
            // Keep the inputs themselves (not activations); their versions are checked when backward unpacks them.
            ctx.SaveForBackward(inputs);
            var output = fn(inputs);
            recorded = true;
            return output;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            if (!recorded) throw new InvalidOperationException("CheckpointFunction: backward before forward.");
            var saved = ctx.SavedTensors;
            var detachedInputs = new Tensor[saved.Count];
            for (int i = 0; i < saved.Count; i++)
            {
                detachedInputs[i] = saved[i].Detach();
                if (ctx.NeedsInputGrad[i]) detachedInputs[i].RequiresGrad_();
            }
            var current = Ember.Random.Default.GetState();
            Ember.Random.Default.SetState(rngState);
            Tensor recomputed;
            try
            {
                using (Autograd.EnableGrad()) recomputed = fn(detachedInputs);
            }
            finally { Ember.Random.Default.SetState(current); }
            // Re-entrant backward through the recomputed segment: parameters inside accumulate into .Grad, the detached inputs give ours.
            if (recomputed.RequiresGrad) recomputed.Backward(gradOutput);
            var grads = new Tensor?[saved.Count];
            for (int i = 0; i < saved.Count; i++) grads[i] = ctx.NeedsInputGrad[i] ? detachedInputs[i].Grad : null;
            return grads;
        }
    }
}
