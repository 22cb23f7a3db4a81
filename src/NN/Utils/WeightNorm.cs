namespace Ember.NN;

/// <summary>
/// Weight normalization (PyTorch 1.13's torch.nn.utils.weight_norm): replaces parameter w by a magnitude g = ‖w‖ (over
/// every dim but <c>dim</c>) and a direction v = w, registered as <c>{name}_g</c> and <c>{name}_v</c>; before every call
/// the module's <c>{name}</c> is recomputed as w = g·v/‖v‖, so gradients reach g and v.
/// </summary>
public static class WeightNorm
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Module, Dictionary<string, IDisposable>> Hooks = [];

    /// <summary>Applies weight normalization to parameter <paramref name="name"/> of <paramref name="module"/>; returns the module.</summary>
    /// <param name="module">The module (e.g. a Linear or Conv2d).</param>
    /// <param name="name">The parameter.</param>
    /// <param name="dim">The dim kept by the norm (one g per slice); null computes one norm over the whole tensor.</param>
    /// <exception cref="ArgumentException">No such parameter, or it is already reparametrized; dim out of range.</exception>
    public static T Apply<T, TIn, TOut>(T module, string name = "weight", int? dim = 0) where T : Module<TIn, TOut>
    {
        ArgumentNullException.ThrowIfNull(module);
        var w = module.HideParameter(name);
        int? d = dim is { } k ? (k < 0 ? k + w.Dim : k) : null;
        if (d is { } dd && (dd < 0 || dd >= w.Dim))
        {
            module.RestoreParameter(name, w);
            throw new ArgumentException($"WeightNorm: dim {dim} is out of range for parameter \"{name}\" of shape {w.Shape}.");
        }
        Tensor g, v;
        using (Autograd.NoGrad()) { g = NormExceptDim(w, d).Clone(); v = w.Detach().Clone(); }
        module.AddParameter(name + "_g", g);
        module.AddParameter(name + "_v", v);
        void Compute(Module m) => m.SetComputedParameter(name, Weight(m.GetParameter(name + "_g")!, m.GetParameter(name + "_v")!, d));
        Compute(module);
        var handle = module.RegisterForwardPreHook((m, x) => Compute(m));
        Hooks.GetOrCreateValue(module)[name] = handle;
        return module;
    }

    /// <summary>Applies weight normalization to a <c>Module&lt;Tensor, Tensor&gt;</c> (Linear, Conv2d, …).</summary>
    /// <exception cref="ArgumentException">No such parameter, or it is already reparametrized; dim out of range.</exception>
    public static T Apply<T>(T module, string name = "weight", int? dim = 0) where T : Module<Tensor, Tensor> => Apply<T, Tensor, Tensor>(module, name, dim);

    /// <summary>Removes the reparametrization: <c>{name}</c> becomes a parameter again holding the current g·v/‖v‖ (PyTorch's remove_weight_norm).</summary>
    /// <exception cref="ArgumentException">weight_norm was not applied to this parameter.</exception>
    public static T Remove<T>(T module, string name = "weight") where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!Hooks.TryGetValue(module, out var hs) || !hs.Remove(name, out var handle))
            throw new ArgumentException($"weight_norm of '{name}' not found in {module.GetType().Name}");
        handle.Dispose();
        Tensor w;
        using (Autograd.NoGrad()) w = module.GetParameter(name)!.Detach().Clone();
        module.RemoveMember(name + "_g");
        module.RemoveMember(name + "_v");
        module.RestoreParameter(name, w);
        return module;
    }

    /// <summary>g·v/‖v‖ with the norm over every dim but <paramref name="dim"/> (all dims when null).</summary>
    internal static Tensor Weight(Tensor g, Tensor v, int? dim) => v * (g / NormExceptDim(v, dim));

    // ‖x‖₂ over every dim but dim, kept as size-1 dims so it broadcasts against x (PyTorch's norm_except_dim).
    private static Tensor NormExceptDim(Tensor x, int? dim)
    {
        if (dim is null) return x.Norm(2);
        var dims = Enumerable.Range(0, x.Dim).Where(i => i != dim.Value).ToArray();
        return dims.Length == 0 ? x.Abs() : x.Norm(2, dims, keepDim: true);
    }
}
