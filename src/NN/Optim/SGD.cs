namespace Ember.Optim;

/// <summary>Options of <see cref="SGD"/> (PyTorch's names and defaults).</summary>
public sealed record SgdOptions : OptimizerOptions
{
    /// <summary>Momentum factor μ.</summary>
    public double Momentum { get; set; }
    /// <summary>Dampening τ of the momentum.</summary>
    public double Dampening { get; set; }
    /// <summary>L2 penalty added to the gradient.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; set; }
    /// <summary>Maximize the objective instead of minimizing.</summary>
    public bool Maximize { get; set; }

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override double? CycleMomentum { get => Momentum; set => Momentum = value ?? 0; }

    /// <inheritdoc/>
    public override void Validate()
    {
        Require(Lr >= 0, "learning rate", Lr);
        Require(Momentum >= 0, "momentum value", Momentum);
        Require(WeightDecay >= 0, "weight_decay value", WeightDecay);
        if (Nesterov && (Momentum <= 0 || Dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
    }
}

/// <summary>
/// Stochastic gradient descent with momentum (PyTorch's torch.optim.SGD):
/// d = g + λ·p; b = d (first step) or μ·b + (1 − τ)·d; d = d + μ·b (Nesterov) or b; p −= lr·d (g negated when maximizing).
/// One fused pass per parameter (<see cref="IBackend.SgdStep"/>).
/// </summary>
public sealed class SGD : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    /// <exception cref="ArgumentException">Invalid options (PyTorch's messages, e.g. "Invalid learning rate: -1").</exception>
    public SGD(IEnumerable<Tensor> parameters, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this([new ParamGroup(parameters)], new SgdOptions { Lr = lr, Momentum = momentum, Dampening = dampening, WeightDecay = weightDecay, Nesterov = nesterov, Maximize = maximize }) { }

    /// <summary>Creates the optimizer over several groups; groups without options use <paramref name="defaults"/>.</summary>
    public SGD(IEnumerable<ParamGroup> paramGroups, SgdOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (SgdOptions)options;
        Tensor? buf = null;
        bool first = false;
        if (o.Momentum != 0)
        {
            first = !state.ContainsKey("momentum_buffer");
            buf = GetOrCreate(state, "momentum_buffer", () => Tensor.ZerosLike(param));
        }
        var p = param.IsContiguous ? param : param.Contiguous();
        param.Backend.SgdStep(p, grad.Contiguous().To(param.DType), buf,
            new SgdStepArgs(o.Lr, o.Momentum, o.Dampening, o.WeightDecay, o.Nesterov, o.Maximize, first));
        if (!ReferenceEquals(p, param)) param.Copy_(p);
        else param.Storage.BumpVersion();
    }
}
