namespace Ember.Optim;

/// <summary>Options of <see cref="NAdam"/> (PyTorch 1.13's names; betas split into Beta1/Beta2).</summary>
public sealed record NAdamOptions : AdamFamilyOptions
{
    /// <summary>ψ of the momentum schedule μₜ = β1·(1 − 0.5·0.96^(t·ψ)).</summary>
    public double MomentumDecay { get; set; } = 4e-3;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Require(MomentumDecay >= 0, "momentum_decay value", MomentumDecay);
    }
}

/// <summary>
/// NAdam (PyTorch's torch.optim.NAdam, Adam with Nesterov momentum): g += λ·p; μₜ = β1·(1 − 0.5·0.96^(t·ψ));
/// Πₜ = Π μ; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; d = √(v/(1 − β2ᵗ)) + ε;
/// p −= lr·(1 − μₜ)/(1 − Πₜ)·g/d + lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁)·m/d. State: "step", "mu_product", "exp_avg", "exp_avg_sq".
/// </summary>
/// <remarks>
/// Πₜ₊₁ = Πₜ·μₜ₊₁ as in PyTorch ≥ 2.0: PyTorch 1.13 multiplies μₜ in twice there (fixed by pytorch/pytorch#92699), so
/// its trajectories differ slightly; the golden test uses a reference checked against 1.13 up to that fix.
/// </remarks>
public sealed class NAdam : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    /// <exception cref="ArgumentException">Invalid options (PyTorch's messages).</exception>
    public NAdam(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0, double momentumDecay = 4e-3)
        : this([new ParamGroup(parameters)], new NAdamOptions { Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, MomentumDecay = momentumDecay }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public NAdam(IEnumerable<ParamGroup> paramGroups, NAdamOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override bool IsPerElementState(string key) => key is not ("step" or "mu_product");

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (NAdamOptions)options;
        long step = NextStep(state);
        double muProduct = state.TryGetValue("mu_product", out var mp) ? mp.Item() : 1.0;
        var m = GetOrCreate(state, "exp_avg", () => Tensor.ZerosLike(param));
        var v = GetOrCreate(state, "exp_avg_sq", () => Tensor.ZerosLike(param));
        var g = o.WeightDecay != 0 ? grad + param * o.WeightDecay : grad;
        double mu = o.Beta1 * (1 - 0.5 * Math.Pow(0.96, step * o.MomentumDecay));
        double muNext = o.Beta1 * (1 - 0.5 * Math.Pow(0.96, (step + 1) * o.MomentumDecay));
        muProduct *= mu;
        state["mu_product"] = Tensor.Scalar(muProduct, DType.Float64);
        m.Copy_(m * o.Beta1 + g * (1 - o.Beta1));
        v.Copy_(v * o.Beta2 + g.Square() * (1 - o.Beta2));
        var denom = (v / (1 - Math.Pow(o.Beta2, step))).Sqrt() + o.Eps;
        // Two terms: the current gradient weighted by this step's momentum, and the look-ahead (Nesterov) first moment.
        param.Sub_(g / denom, o.Lr * (1 - mu) / (1 - muProduct));
        param.Sub_(m / denom, o.Lr * muNext / (1 - muProduct * muNext));
    }
}
