namespace Ember.Optim;

/// <summary>Options of <see cref="RMSprop"/>.</summary>
public sealed record RMSpropOptions : OptimizerOptions
{
    /// <summary>Smoothing constant of the squared-gradient average.</summary>
    public double Alpha { get; set; } = 0.99;
    /// <summary>Added to the denominator.</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>L2 penalty.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Momentum factor.</summary>
    public double Momentum { get; set; }
    /// <summary>Normalize by the estimated variance (subtract the squared mean gradient).</summary>
    public bool Centered { get; set; }
    /// <summary>Maximize the objective.</summary>
    public bool Maximize { get; set; }

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override double? CycleMomentum { get => Momentum; set => Momentum = value ?? 0; }

    /// <inheritdoc/>
    public override void Validate()
    {
        Require(Lr >= 0, "learning rate", Lr);
        Require(Eps >= 0, "epsilon value", Eps);
        Require(Momentum >= 0, "momentum value", Momentum);
        Require(WeightDecay >= 0, "weight_decay value", WeightDecay);
        Require(Alpha >= 0, "alpha value", Alpha);
    }
}

/// <summary>
/// RMSprop (PyTorch's torch.optim.RMSprop): g += λ·p; s = α·s + (1 − α)·g²; (centered: a = α·a + (1 − α)·g, s̃ = s − a²);
/// d = √s̃ + ε; b = μ·b + g/d, p −= lr·b (momentum) or p −= lr·g/d.
/// </summary>
public sealed class RMSprop : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    public RMSprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0,
        double momentum = 0, bool centered = false, bool maximize = false)
        : this([new ParamGroup(parameters)], new RMSpropOptions { Lr = lr, Alpha = alpha, Eps = eps, WeightDecay = weightDecay, Momentum = momentum, Centered = centered, Maximize = maximize }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public RMSprop(IEnumerable<ParamGroup> paramGroups, RMSpropOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (RMSpropOptions)options;
        NextStep(state);
        var g = o.Maximize ? -grad : grad;
        if (o.WeightDecay != 0) g = g + param * o.WeightDecay;
        var sq = GetOrCreate(state, "square_avg", () => Tensor.ZerosLike(param));
        sq.Copy_(sq * o.Alpha + g.Square() * (1 - o.Alpha));
        Tensor avg;
        if (o.Centered)
        {
            var ga = GetOrCreate(state, "grad_avg", () => Tensor.ZerosLike(param));
            ga.Copy_(ga * o.Alpha + g * (1 - o.Alpha));
            avg = (sq - ga.Square()).Sqrt() + o.Eps;
        }
        else avg = sq.Sqrt() + o.Eps;
        if (o.Momentum > 0)
        {
            var buf = GetOrCreate(state, "momentum_buffer", () => Tensor.ZerosLike(param));
            buf.Copy_(buf * o.Momentum + g / avg);
            param.Sub_(buf, o.Lr);
        }
        else param.Sub_(g / avg, o.Lr);
    }
}

/// <summary>Options of <see cref="Adagrad"/>.</summary>
public sealed record AdagradOptions : OptimizerOptions
{
    /// <summary>Learning-rate decay per step.</summary>
    public double LrDecay { get; set; }
    /// <summary>L2 penalty.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Starting value of the squared-gradient sum.</summary>
    public double InitialAccumulatorValue { get; set; }
    /// <summary>Added to the denominator.</summary>
    public double Eps { get; set; } = 1e-10;
    /// <summary>Maximize the objective.</summary>
    public bool Maximize { get; set; }

    /// <inheritdoc/>
    public override void Validate()
    {
        Require(Lr >= 0, "learning rate", Lr);
        Require(LrDecay >= 0, "lr_decay value", LrDecay);
        Require(WeightDecay >= 0, "weight_decay value", WeightDecay);
        Require(InitialAccumulatorValue >= 0, "initial_accumulator_value value", InitialAccumulatorValue);
        Require(Eps >= 0, "epsilon value", Eps);
    }
}

/// <summary>Adagrad (PyTorch's torch.optim.Adagrad): g += λ·p; clr = lr/(1 + (t − 1)·decay); s += g²; p −= clr·g/(√s + ε).</summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this([new ParamGroup(parameters)], new AdagradOptions { Lr = lr, LrDecay = lrDecay, WeightDecay = weightDecay, InitialAccumulatorValue = initialAccumulatorValue, Eps = eps, Maximize = maximize }) { }

    /// <summary>Creates the optimizer over several groups.</summary>
    public Adagrad(IEnumerable<ParamGroup> paramGroups, AdagradOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (AdagradOptions)options;
        var sum = GetOrCreate(state, "sum", () => Tensor.FullLike(param, o.InitialAccumulatorValue));
        long step = NextStep(state);
        var g = o.Maximize ? -grad : grad;
        if (o.WeightDecay != 0) g = g + param * o.WeightDecay;
        double clr = o.Lr / (1 + (step - 1) * o.LrDecay);
        sum.Add_(g.Square());
        param.Sub_(g / (sum.Sqrt() + o.Eps), clr);
    }
}
