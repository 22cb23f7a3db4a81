namespace Ember.Optim;

/// <summary>Options of <see cref="Adadelta"/> (PyTorch's names).</summary>
public sealed record AdadeltaOptions : OptimizerOptions
{
    /// <summary>Decay of the running averages of g² and Δ².</summary>
    public double Rho { get; set; } = 0.9;
    /// <summary>Added inside both square roots.</summary>
    public double Eps { get; set; } = 1e-6;
    /// <summary>L2 penalty.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Maximize the objective.</summary>
    public bool Maximize { get; set; }

    /// <inheritdoc/>
    public override void Validate()
    {
        Require(Lr >= 0, "learning rate", Lr);
        Require(Rho >= 0 && Rho <= 1, "rho value", Rho);
        Require(Eps >= 0, "epsilon value", Eps);
        Require(WeightDecay >= 0, "weight_decay value", WeightDecay);
    }
}

/// <summary>
/// Adadelta (PyTorch's torch.optim.Adadelta): g += λ·p; s = ρ·s + (1 − ρ)·g²; Δ = √(a + ε)/√(s + ε)·g;
/// a = ρ·a + (1 − ρ)·Δ²; p −= lr·Δ. State: "step", "square_avg", "acc_delta".
/// </summary>
public sealed class Adadelta : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    /// <exception cref="ArgumentException">Invalid options (PyTorch's messages, e.g. "Invalid rho value: 1.5").</exception>
    public Adadelta(IEnumerable<Tensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : this([new ParamGroup(parameters)], new AdadeltaOptions { Lr = lr, Rho = rho, Eps = eps, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public Adadelta(IEnumerable<ParamGroup> paramGroups, AdadeltaOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (AdadeltaOptions)options;
        NextStep(state);
        var sq = GetOrCreate(state, "square_avg", () => Tensor.ZerosLike(param));
        var acc = GetOrCreate(state, "acc_delta", () => Tensor.ZerosLike(param));
        var g = o.Maximize ? -grad : grad;
        if (o.WeightDecay != 0) g = g + param * o.WeightDecay;
        sq.Copy_(sq * o.Rho + g.Square() * (1 - o.Rho));
        // The ratio of the two RMS values makes the step unit-consistent: Δ has the units of p.
        var delta = (acc + o.Eps).Sqrt() / (sq + o.Eps).Sqrt() * g;
        acc.Copy_(acc * o.Rho + delta.Square() * (1 - o.Rho));
        param.Sub_(delta, o.Lr);
    }
}
