namespace Ember.Optim;

/// <summary>Options of <see cref="Lamb"/>.</summary>
public sealed record LambOptions : AdamFamilyOptions
{
    /// <summary>Creates the options with LAMB's ε = 1e-6.</summary>
    public LambOptions() => Eps = 1e-6;

    /// <summary>Upper bound of the trust ratio (the reference implementation's 10); null for none.</summary>
    public double? MaxTrustRatio { get; set; } = 10;
    /// <summary>Apply Adam's bias correction to the moments.</summary>
    public bool BiasCorrection { get; set; } = true;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        if (MaxTrustRatio is { } c) Require(c > 0, "max_trust_ratio value", c);
    }
}

/// <summary>
/// LAMB (You et al., 2019, "Large Batch Optimization for Deep Learning"); PyTorch has none built in, so this is the
/// exact formula (checked against a Python reference in tests/golden/nn_gen.py):
/// m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ) (when BiasCorrection);
/// u = m̂/(√v̂ + ε) + λ·p; r = ‖p‖₂/‖u‖₂ when both norms are &gt; 0, else 1; r = min(r, MaxTrustRatio) when set;
/// p −= lr·r·u. Norms are per parameter tensor.
/// </summary>
public sealed class Lamb : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    public Lamb(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-6,
        double weightDecay = 0, double? maxTrustRatio = 10, bool biasCorrection = true)
        : this([new ParamGroup(parameters)], new LambOptions { Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, MaxTrustRatio = maxTrustRatio, BiasCorrection = biasCorrection }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public Lamb(IEnumerable<ParamGroup> paramGroups, LambOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (LambOptions)options;
        long t = NextStep(state);
        var m = GetOrCreate(state, "exp_avg", () => Tensor.ZerosLike(param));
        var v = GetOrCreate(state, "exp_avg_sq", () => Tensor.ZerosLike(param));
        m.Copy_(m * o.Beta1 + grad * (1 - o.Beta1));
        v.Copy_(v * o.Beta2 + grad.Square() * (1 - o.Beta2));
        double bc1 = o.BiasCorrection ? 1 - Math.Pow(o.Beta1, t) : 1;
        double bc2 = o.BiasCorrection ? 1 - Math.Pow(o.Beta2, t) : 1;
        var u = (m / bc1) / ((v / bc2).Sqrt() + o.Eps);
        if (o.WeightDecay != 0) u = u + param * o.WeightDecay;
        double wn = param.Norm().Item(), un = u.Norm().Item();
        double ratio = wn > 0 && un > 0 ? wn / un : 1;
        if (o.MaxTrustRatio is { } c) ratio = Math.Min(ratio, c);
        param.Sub_(u, o.Lr * ratio);
    }
}
