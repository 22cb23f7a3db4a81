namespace Ember.Optim;

/// <summary>Options of <see cref="Adamax"/> (PyTorch's names; betas split into Beta1/Beta2).</summary>
public sealed record AdamaxOptions : AdamFamilyOptions
{
    /// <summary>Maximize the objective.</summary>
    public bool Maximize { get; set; }
}

/// <summary>
/// Adamax (PyTorch's torch.optim.Adamax, Adam with the infinity norm): g += λ·p; m = β1·m + (1 − β1)·g;
/// u = max(β2·u, |g| + ε); p −= lr/(1 − β1ᵗ)·m/u. State: "step", "exp_avg", "exp_inf".
/// </summary>
public sealed class Adamax : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    /// <exception cref="ArgumentException">Invalid options (PyTorch's messages).</exception>
    public Adamax(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0, bool maximize = false)
        : this([new ParamGroup(parameters)], new AdamaxOptions { Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public Adamax(IEnumerable<ParamGroup> paramGroups, AdamaxOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (AdamaxOptions)options;
        long step = NextStep(state);
        var m = GetOrCreate(state, "exp_avg", () => Tensor.ZerosLike(param));
        var u = GetOrCreate(state, "exp_inf", () => Tensor.ZerosLike(param));
        var g = o.Maximize ? -grad : grad;
        if (o.WeightDecay != 0) g = g + param * o.WeightDecay;
        m.Copy_(m * o.Beta1 + g * (1 - o.Beta1));
        // ε is added to |g| (not to the denominator) so u > 0 from the first step on.
        u.Copy_((u * o.Beta2).Maximum(g.Abs() + o.Eps));
        param.Sub_(m / u, o.Lr / (1 - Math.Pow(o.Beta1, step)));
    }
}
