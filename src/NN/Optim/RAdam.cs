namespace Ember.Optim;

/// <summary>Options of <see cref="RAdam"/> (PyTorch 1.13's names; betas split into Beta1/Beta2).</summary>
public sealed record RAdamOptions : AdamFamilyOptions
{
}

/// <summary>
/// RAdam (PyTorch's torch.optim.RAdam, rectified Adam): g += λ·p; m, v as Adam; m̂ = m/(1 − β1ᵗ);
/// ρ∞ = 2/(1 − β2) − 1, ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ); when ρₜ &gt; 5: r = √((ρₜ − 4)(ρₜ − 2)ρ∞/((ρ∞ − 4)(ρ∞ − 2)ρₜ)),
/// p −= lr·r·m̂·√(1 − β2ᵗ)/(√v + ε); otherwise p −= lr·m̂ (plain momentum while the variance estimate is unreliable).
/// State: "step", "exp_avg", "exp_avg_sq".
/// </summary>
public sealed class RAdam : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    /// <exception cref="ArgumentException">Invalid options (PyTorch's messages).</exception>
    public RAdam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : this([new ParamGroup(parameters)], new RAdamOptions { Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public RAdam(IEnumerable<ParamGroup> paramGroups, RAdamOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (RAdamOptions)options;
        long step = NextStep(state);
        var m = GetOrCreate(state, "exp_avg", () => Tensor.ZerosLike(param));
        var v = GetOrCreate(state, "exp_avg_sq", () => Tensor.ZerosLike(param));
        var g = o.WeightDecay != 0 ? grad + param * o.WeightDecay : grad;
        double bc1 = 1 - Math.Pow(o.Beta1, step), bc2 = 1 - Math.Pow(o.Beta2, step);
        m.Copy_(m * o.Beta1 + g * (1 - o.Beta1));
        v.Copy_(v * o.Beta2 + g.Square() * (1 - o.Beta2));
        double rhoInf = 2 / (1 - o.Beta2) - 1;
        double rhoT = rhoInf - 2 * step * Math.Pow(o.Beta2, step) / bc2;
        // ρₜ ≤ 5: the adaptive learning rate's variance is intractable (the rectification term is undefined or huge).
        if (rhoT > 5)
        {
            double rect = Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
            param.Sub_(m / (v.Sqrt() + o.Eps), o.Lr * rect * Math.Sqrt(bc2) / bc1);
        }
        else param.Sub_(m, o.Lr / bc1);
    }
}
