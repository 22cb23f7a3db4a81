namespace Ember.Optim;

/// <summary>Options of <see cref="Adam"/> and <see cref="AdamW"/> (PyTorch's names; betas split into Beta1/Beta2).</summary>
public sealed record AdamOptions : AdamFamilyOptions
{
    /// <summary>Use the maximum of past second moments (AMSGrad).</summary>
    public bool Amsgrad { get; set; }
    /// <summary>Maximize the objective.</summary>
    public bool Maximize { get; set; }
    /// <summary>
    /// PyTorch's foreach: true updates the group's parameters with one multi-tensor step per (device, dtype, step count)
    /// (<see cref="IBackend.AdamStepForeach"/>: few launches on a GPU), false one <see cref="IBackend.AdamStep"/> per
    /// parameter, null (default) picks foreach where the backend prefers it (the ILGPU devices). The results are the same.
    /// </summary>
    public bool? Foreach { get; set; }
}

/// <summary>
/// Adam (PyTorch's torch.optim.Adam): g += λ·p; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
/// p −= lr/(1 − β1ᵗ)·m/(√(v or max v)/√(1 − β2ᵗ) + ε). One fused pass per parameter (<see cref="IBackend.AdamStep"/>), or
/// with <see cref="AdamOptions.Foreach"/> one multi-tensor pass per group of parameters (<see cref="IBackend.AdamStepForeach"/>).
/// </summary>
public class Adam : Optimizer
{
    private readonly bool decoupled;

    /// <summary>Creates the optimizer over one group.</summary>
    /// <exception cref="ArgumentException">Invalid options (PyTorch's messages).</exception>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0, bool amsgrad = false, bool maximize = false, bool? @foreach = null)
        : this([new ParamGroup(parameters)], new AdamOptions { Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, Maximize = maximize, Foreach = @foreach }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public Adam(IEnumerable<ParamGroup> paramGroups, AdamOptions defaults) : this(paramGroups, defaults, false) { }

    /// <summary>For AdamW: decoupled weight decay.</summary>
    protected Adam(IEnumerable<ParamGroup> paramGroups, AdamOptions defaults, bool decoupledWeightDecay) : base(paramGroups, defaults)
    {
        decoupled = decoupledWeightDecay;
    }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (AdamOptions)options;
        var (step, m, v, vmax) = PrepareState(param, state, o);
        var p = param.IsContiguous ? param : param.Contiguous();
        param.Backend.AdamStep(p, grad.Contiguous().To(param.DType), m, v, vmax, Args(o, step));
        if (!ReferenceEquals(p, param)) param.Copy_(p);
        else param.Storage.BumpVersion();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With foreach (see <see cref="AdamOptions.Foreach"/>), parameters sharing backend, device, dtype and step count are
    /// updated by one <see cref="IBackend.AdamStepForeach"/>; the others (e.g. non-contiguous ones) by <see cref="Update"/>.
    /// </remarks>
    protected override void UpdateGroup(IReadOnlyList<ParamUpdate> updates, OptimizerOptions options)
    {
        var o = (AdamOptions)options;
        UpdateInBuckets(updates, options, o.Foreach, u =>
            {
                var (step, m, v, vmax) = PrepareState(u.Param, u.State, o);
                return ((u.Param.Backend, u.Param.Device, u.Param.DType, step), (P: u.Param, G: u.Grad.Contiguous(), M: m, V: v, VMax: vmax));
            },
            (key, list) => key.Backend.AdamStepForeach(list.ConvertAll(e => e.P), list.ConvertAll(e => e.G), list.ConvertAll(e => e.M),
                list.ConvertAll(e => e.V), o.Amsgrad ? list.ConvertAll(e => e.VMax!) : null, Args(o, key.step)));
    }

    // Advances the step count and creates the moments on the first step, in the order the state dict lists them.
    private static (long Step, Tensor M, Tensor V, Tensor? VMax) PrepareState(Tensor param, Dictionary<string, Tensor> state, AdamOptions o)
    {
        long step = NextStep(state);
        var m = GetOrCreate(state, "exp_avg", () => Tensor.ZerosLike(param));
        var v = GetOrCreate(state, "exp_avg_sq", () => Tensor.ZerosLike(param));
        var vmax = o.Amsgrad ? GetOrCreate(state, "max_exp_avg_sq", () => Tensor.ZerosLike(param)) : null;
        return (step, m, v, vmax);
    }

    private AdamStepArgs Args(AdamOptions o, long step) =>
        new(o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, decoupled, o.Amsgrad, o.Maximize, step);
}

/// <summary>
/// AdamW (PyTorch's torch.optim.AdamW): Adam with decoupled weight decay p ·= 1 − lr·λ before the update; default λ = 0.01.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer over one group.</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false, bool? @foreach = null)
        : this([new ParamGroup(parameters)], new AdamOptions { Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, Maximize = maximize, Foreach = @foreach }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public AdamW(IEnumerable<ParamGroup> paramGroups, AdamOptions defaults) : base(paramGroups, defaults, true) { }
}
