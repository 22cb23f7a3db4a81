namespace Ember;

/// <summary>The autograd members of <see cref="Tensor"/>: Backward, RetainGrad and hooks.</summary>
public static class TensorAutogradExtensions
{
    extension(Tensor t)
    {
        /// <summary>
        /// Computes the gradient of this tensor with respect to every leaf of its graph and adds it into the
        /// leaves' <see cref="Tensor.Grad"/> (torch.Tensor.backward). Frees the graph's saved tensors unless
        /// <paramref name="retainGraph"/>.
        /// </summary>
        /// <param name="gradient">∂L/∂this, of this tensor's shape; may be omitted for a one-element tensor (ones).</param>
        /// <param name="retainGraph">Keep saved tensors for another backward (implied by createGraph).</param>
        /// <param name="createGraph">Record the backward pass so the gradients can be differentiated again.</param>
        /// <exception cref="InvalidOperationException">The tensor does not require grad; it is not a scalar and no gradient was given; the graph was freed.</exception>
        /// <exception cref="ArgumentException">The gradient's shape, dtype or device does not match.</exception>
        public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
        {
            if (!t.RequiresGrad)
                throw new InvalidOperationException("element 0 of tensors does not require grad and does not have a grad_fn");
            var seeds = Autograd.SeedGradients([t], [gradient], "Backward");
            Engine.Run([t], seeds, retainGraph || createGraph, createGraph, null);
        }

        /// <summary>
        /// Makes this non-leaf tensor keep its gradient in <see cref="Tensor.Grad"/> during backward
        /// (torch.Tensor.retain_grad). No effect on leaves.
        /// </summary>
        /// <exception cref="InvalidOperationException">The tensor does not require grad.</exception>
        public void RetainGrad()
        {
            if (!t.RequiresGrad)
                throw new InvalidOperationException("RetainGrad: can't retain_grad on a tensor that has RequiresGrad = false.");
            if (t.GradFn is Node n) n.RetainGradOf = t;
        }

        /// <summary>
        /// Registers a hook called with the gradient of this tensor each time it is computed; a non-null return
        /// value replaces the gradient (torch.Tensor.register_hook). On a leaf it runs before accumulation.
        /// Hooks run in registration order.
        /// </summary>
        /// <returns>A handle whose Dispose removes the hook.</returns>
        /// <exception cref="InvalidOperationException">The tensor does not require grad.</exception>
        public IDisposable RegisterHook(Func<Tensor, Tensor?> hook)
        {
            ArgumentNullException.ThrowIfNull(hook);
            var node = TensorState.GradientEdge(t)
                ?? throw new InvalidOperationException("RegisterHook: cannot register a hook on a tensor that doesn't require gradient.");
            var list = node.TensorHooks ??= [];
            lock (list) list.Add(hook);
            return new Removal(() => { lock (list) list.Remove(hook); });
        }

        /// <summary>
        /// Registers a hook called with this leaf after its <see cref="Tensor.Grad"/> was updated by backward
        /// (torch.Tensor.register_post_accumulate_grad_hook); data-parallel training all-reduces from it.
        /// </summary>
        /// <returns>A handle whose Dispose removes the hook.</returns>
        /// <exception cref="InvalidOperationException">The tensor is not a leaf or does not require grad.</exception>
        public IDisposable RegisterPostAccumulateGradHook(Action<Tensor> hook)
        {
            ArgumentNullException.ThrowIfNull(hook);
            if (!t.RequiresGrad)
                throw new InvalidOperationException("RegisterPostAccumulateGradHook: cannot register a hook on a tensor that doesn't require gradient.");
            if (!t.IsLeaf)
                throw new InvalidOperationException("RegisterPostAccumulateGradHook: post accumulate grad hooks cannot be registered on non-leaf tensors.");
            var list = TensorState.Of(t).PostAccumulateHooks ??= [];
            lock (list) list.Add(hook);
            return new Removal(() => { lock (list) list.Remove(hook); });
        }
    }

    private sealed class Removal(Action remove) : IDisposable
    {
        private Action? remove = remove;
        public void Dispose() => Interlocked.Exchange(ref remove, null)?.Invoke();
    }
}
