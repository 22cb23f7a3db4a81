namespace Ember.NN;

/// <summary>Gradient clipping (PyTorch's torch.nn.utils.clip_grad_norm_ / clip_grad_value_).</summary>
public static class ClipGrad
{
    /// <summary>
    /// Scales all gradients in place so their joint p-norm is at most <paramref name="maxNorm"/>: total = ‖(‖g₁‖, ‖g₂‖, …)‖ₚ,
    /// every g ·= min(1, maxNorm/(total + 1e-6)). normType = ∞ uses max |g|.
    /// </summary>
    /// <returns>The total norm before clipping (0-dim tensor; 0 when no parameter has a gradient).</returns>
    /// <exception cref="InvalidOperationException">errorIfNonfinite and the norm is NaN or ∞.</exception>
    public static Tensor ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2.0, bool errorIfNonfinite = false)
    {
        var grads = parameters.Where(p => p.Grad is not null).Select(p => p.Grad!).ToList();
        if (grads.Count == 0) return Tensor.Scalar(0);
        var prev = GradMode.Set(false);
        try
        {
            var norms = grads.Select(g => (double.IsPositiveInfinity(normType) ? g.Abs().Max() : g.Norm(normType)).To(DType.Float64).Cpu()).ToList();
            var stacked = Tensor.Stack(norms);
            var total = double.IsPositiveInfinity(normType) ? stacked.Max() : stacked.Norm(normType);
            double tv = total.Item();
            if (errorIfNonfinite && !double.IsFinite(tv))
                throw new InvalidOperationException($"The total norm of order {normType} for gradients from `parameters` is non-finite, so it cannot be clipped.");
            double coef = Math.Min(1.0, maxNorm / (tv + 1e-6));
            foreach (var g in grads) g.Copy_(g * coef);
            return total.To(grads[0].DType);
        }
        finally { GradMode.Set(prev); }
    }

    /// <summary>Clamps every gradient element in place to [−clipValue, clipValue].</summary>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        var prev = GradMode.Set(false);
        try { foreach (var p in parameters) p.Grad?.Clamp_(-clipValue, clipValue); }
        finally { GradMode.Set(prev); }
    }
}
