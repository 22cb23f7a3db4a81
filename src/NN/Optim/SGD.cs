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
    /// <summary>
    /// PyTorch's foreach: true updates the group's parameters with one multi-tensor step per (device, dtype, first step
    /// or not) (<see cref="IBackend.SgdStepForeach"/>: few launches on a GPU), false one <see cref="IBackend.SgdStep"/>
    /// per parameter, null (default) picks foreach where the backend prefers it (the ILGPU devices). The results are the same.
    /// </summary>
    public bool? Foreach { get; set; }

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
/// One fused pass per parameter (<see cref="IBackend.SgdStep"/>), or with <see cref="SgdOptions.Foreach"/> one multi-tensor
/// pass per group of parameters (<see cref="IBackend.SgdStepForeach"/>).
/// </summary>
public sealed class SGD : Optimizer
{
    /// <summary>Creates the optimizer over one group.</summary>
    /// <exception cref="ArgumentException">Invalid options (PyTorch's messages, e.g. "Invalid learning rate: -1").</exception>
    public SGD(IEnumerable<Tensor> parameters, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false, bool? @foreach = null)
        : this([new ParamGroup(parameters)], new SgdOptions { Lr = lr, Momentum = momentum, Dampening = dampening, WeightDecay = weightDecay, Nesterov = nesterov, Maximize = maximize, Foreach = @foreach }) { }

    /// <summary>Creates the optimizer over several groups; groups without options use <paramref name="defaults"/>.</summary>
    public SGD(IEnumerable<ParamGroup> paramGroups, SgdOptions defaults) : base(paramGroups, defaults) { }

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options)
    {
        var o = (SgdOptions)options;
        var (buf, first) = PrepareState(param, state, o);
        var p = param.IsContiguous ? param : param.Contiguous();
        param.Backend.SgdStep(p, grad.Contiguous().To(param.DType), buf, Args(o, first));
        if (!ReferenceEquals(p, param)) param.Copy_(p);
        else param.Storage.BumpVersion();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With foreach (see <see cref="SgdOptions.Foreach"/>), parameters sharing backend, device, dtype and whether this is
    /// their first momentum step are updated by one <see cref="IBackend.SgdStepForeach"/>; the others (e.g.
    /// non-contiguous ones) by <see cref="Update"/>.
    /// </remarks>
    protected override void UpdateGroup(IReadOnlyList<ParamUpdate> updates, OptimizerOptions options)
    {
        var o = (SgdOptions)options;
        UpdateInBuckets(updates, options, o.Foreach, u =>
            {
                var (buf, first) = PrepareState(u.Param, u.State, o);
                return ((u.Param.Backend, u.Param.Device, u.Param.DType, first), (P: u.Param, G: u.Grad.Contiguous(), Buf: buf));
            },
            (key, list) => key.Backend.SgdStepForeach(list.ConvertAll(e => e.P), list.ConvertAll(e => e.G),
                o.Momentum != 0 ? list.ConvertAll(e => e.Buf!) : null, Args(o, key.first)));
    }

    // The momentum buffer (created on the first step, which copies the gradient into it) and whether this is that step.
    private static (Tensor? Buf, bool First) PrepareState(Tensor param, Dictionary<string, Tensor> state, SgdOptions o)
    {
        if (o.Momentum == 0) return (null, false);
        bool first = !state.ContainsKey("momentum_buffer");
        return (GetOrCreate(state, "momentum_buffer", () => Tensor.ZerosLike(param)), first);
    }

    private static SgdStepArgs Args(SgdOptions o, bool first) =>
        new(o.Lr, o.Momentum, o.Dampening, o.WeightDecay, o.Nesterov, o.Maximize, first);
}
