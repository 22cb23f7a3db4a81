namespace Ember.NN;

/// <summary>
/// Spectral normalization (PyTorch 1.13's torch.nn.utils.spectral_norm): the module's <c>{name}</c> becomes
/// W = W_orig/σ(W_orig), σ estimated by power iteration on W_orig viewed as a [size(dim), rest] matrix. The parameter is
/// kept as <c>{name}_orig</c>; buffers <c>{name}_u</c> and <c>{name}_v</c> hold the singular-vector estimates. Before every
/// call in training mode, nPowerIterations steps v = normalize(Wᵀu), u = normalize(Wv) run (without recording), then
/// σ = uᵀWv with gradients to W_orig; in evaluation mode u and v are kept.
/// </summary>
public static class SpectralNorm
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Module, Dictionary<string, IDisposable>> Hooks = [];

    /// <summary>Applies spectral normalization to <paramref name="name"/>; returns the module.</summary>
    /// <param name="module">The module (e.g. a Linear or Conv2d).</param>
    /// <param name="name">The parameter.</param>
    /// <param name="nPowerIterations">Power-iteration steps per training call.</param>
    /// <param name="eps">Floor of the norms when normalizing u and v.</param>
    /// <param name="dim">The dim that becomes the matrix's rows (PyTorch: 0, 1 for transposed convolutions).</param>
    /// <param name="generator">Random source of the initial u and v (default generator when null).</param>
    /// <exception cref="ArgumentException">No such parameter, already reparametrized, nPowerIterations ≤ 0, or dim out of range.</exception>
    public static T Apply<T>(T module, string name = "weight", int nPowerIterations = 1, double eps = 1e-12, int dim = 0, Generator? generator = null)
        where T : Module<Tensor, Tensor>
    {
        ArgumentNullException.ThrowIfNull(module);
        if (nPowerIterations <= 0) throw new ArgumentException($"Expected n_power_iterations to be positive, but got n_power_iterations={nPowerIterations}");
        var w = module.HideParameter(name);
        int d = dim < 0 ? dim + w.Dim : dim;
        if (d < 0 || d >= w.Dim)
        {
            module.RestoreParameter(name, w);
            throw new ArgumentException($"SpectralNorm: dim {dim} is out of range for parameter \"{name}\" of shape {w.Shape}.");
        }
        Tensor orig, u, v;
        using (Autograd.NoGrad())
        {
            orig = w.Detach().Clone();
            var mat = Matrix(orig, d);
            u = Functional.Normalize(Tensor.Randn([mat.Size(0)], w.DType, w.Device, generator: generator), dim: 0, eps: eps);
            v = Functional.Normalize(Tensor.Randn([mat.Size(1)], w.DType, w.Device, generator: generator), dim: 0, eps: eps);
        }
        module.AddParameter(name + "_orig", orig);
        module.AddBuffer(name + "_u", u);
        module.AddBuffer(name + "_v", v);
        void Compute(Module<Tensor, Tensor> m) => m.SetComputedParameter(name,
            Normalized(m.GetParameter(name + "_orig")!, m.GetBuffer(name + "_u")!, m.GetBuffer(name + "_v")!, d, m.Training ? nPowerIterations : 0, eps));
        // PyTorch computes the weight once without power iteration when applying.
        module.SetComputedParameter(name, Normalized(orig, u, v, d, 0, eps));
        var handle = module.RegisterForwardPreHook((m, x) => Compute(m));
        Hooks.GetOrCreateValue(module)[name] = handle;
        return module;
    }

    /// <summary>Removes the reparametrization: <c>{name}</c> becomes a parameter holding the current normalized weight (PyTorch's remove_spectral_norm).</summary>
    /// <exception cref="ArgumentException">spectral_norm was not applied to this parameter.</exception>
    public static T Remove<T>(T module, string name = "weight") where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!Hooks.TryGetValue(module, out var hs) || !hs.Remove(name, out var handle))
            throw new ArgumentException($"spectral_norm of '{name}' not found in {module.GetType().Name}");
        handle.Dispose();
        Tensor w;
        using (Autograd.NoGrad()) w = module.GetParameter(name)!.Detach().Clone();
        module.RemoveMember(name + "_orig");
        module.RemoveMember(name + "_u");
        module.RemoveMember(name + "_v");
        module.RestoreParameter(name, w);
        return module;
    }

    // W viewed as [size(dim), rest].
    private static Tensor Matrix(Tensor w, int dim)
    {
        var t = w;
        if (dim != 0) t = w.Permute([dim, .. Enumerable.Range(0, w.Dim).Where(i => i != dim)]);
        return t.Reshape(t.Size(0), -1);
    }

    /// <summary>W/σ with σ = uᵀWv after <paramref name="iterations"/> power-iteration steps that update u and v in place.</summary>
    internal static Tensor Normalized(Tensor orig, Tensor u, Tensor v, int dim, int iterations, double eps)
    {
        var mat = Matrix(orig, dim);
        if (iterations > 0)
        {
            using (Autograd.NoGrad())
            {
                var m = mat.Detach();
                for (int i = 0; i < iterations; i++)
                {
                    v.Copy_(Functional.Normalize(m.mT.MatMul(u.Unsqueeze(1)).Squeeze(1), dim: 0, eps: eps));
                    u.Copy_(Functional.Normalize(m.MatMul(v.Unsqueeze(1)).Squeeze(1), dim: 0, eps: eps));
                }
            }
        }
        // u and v are constants of σ's graph (PyTorch clones them so later in-place updates don't invalidate backward).
        var uc = u.Clone(); var vc = v.Clone();
        var sigma = (uc * mat.MatMul(vc.Unsqueeze(1)).Squeeze(1)).Sum();
        return orig / sigma;
    }
}
