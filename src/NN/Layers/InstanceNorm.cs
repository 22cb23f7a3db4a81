namespace Ember.NN;

/// <summary>
/// Instance normalization (PyTorch's nn.InstanceNorm1d/2d): every (sample, channel) normalized over its spatial dims.
/// PyTorch's defaults: no affine parameters, no running stats; with trackRunningStats, evaluation uses the running stats.
/// </summary>
public abstract class InstanceNormBase : Module<Tensor, Tensor>
{
    private readonly int spatialDims;

    /// <summary>Creates the layer; weight ones and bias zeros when affine, running mean 0 and var 1 when trackRunningStats.</summary>
    private protected InstanceNormBase(int spatialDims, long numFeatures, double eps, double momentum, bool affine, bool trackRunningStats, DType dtype, Device? device)
    {
        this.spatialDims = spatialDims;
        (NumFeatures, Eps, Momentum) = (numFeatures, eps, momentum);
        RegisterParameter("weight", affine ? Tensor.Ones([numFeatures], dtype, device) : null);
        RegisterParameter("bias", affine ? Tensor.Zeros([numFeatures], dtype, device) : null);
        RegisterBuffer("running_mean", trackRunningStats ? Tensor.Zeros([numFeatures], dtype, device) : null);
        RegisterBuffer("running_var", trackRunningStats ? Tensor.Ones([numFeatures], dtype, device) : null);
    }

    /// <summary>Channels C.</summary>
    public long NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Running-stat momentum.</summary>
    public double Momentum { get; }
    /// <summary>Weight [C] or null.</summary>
    public Tensor? Weight => GetParameter("weight");
    /// <summary>Bias [C] or null.</summary>
    public Tensor? Bias => GetParameter("bias");
    /// <summary>Running mean [C] or null.</summary>
    public Tensor? RunningMean => GetBuffer("running_mean");
    /// <summary>Running variance [C] or null.</summary>
    public Tensor? RunningVar => GetBuffer("running_var");

    /// <summary>[N, C, *spatial] or unbatched [C, *spatial] → same shape.</summary>
    /// <exception cref="ArgumentException">The rank or the channel count does not fit.</exception>
    public override Tensor Forward(Tensor input)
    {
        int d = spatialDims;
        if (input.Dim != d + 1 && input.Dim != d + 2)
            throw new ArgumentException($"{GetType().Name}: expected {d + 1}D (unbatched) or {d + 2}D (batched) input (got {input.Dim}D input, shape {input.Shape})");
        bool unbatched = input.Dim == d + 1;
        var x = unbatched ? input.Unsqueeze(0) : input;
        if (x.Size(1) != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected input's size at dim={(unbatched ? 0 : 1)} to match num_features ({NumFeatures}), but got: {x.Size(1)}.");
        bool useInputStats = Training || RunningMean is null;
        var y = Functional.InstanceNorm(x, RunningMean, RunningVar, Weight, Bias, useInputStats, Momentum, Eps);
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <inheritdoc/>
    public override string ExtraRepr() =>
        $"{NumFeatures}, eps={Eps.ToString(System.Globalization.CultureInfo.InvariantCulture)}, momentum={Momentum.ToString(System.Globalization.CultureInfo.InvariantCulture)}, affine={Py(Weight is not null)}, track_running_stats={Py(RunningMean is not null)}";
}

/// <summary>Instance normalization over [N, C, L] (PyTorch's nn.InstanceNorm1d).</summary>
/// <param name="numFeatures">Channels C.</param>
/// <param name="eps">Added to the variance.</param>
/// <param name="momentum">Running-stat momentum.</param>
/// <param name="affine">Learnable per-channel weight and bias.</param>
/// <param name="trackRunningStats">Keep running mean and variance for evaluation.</param>
/// <param name="dtype">Parameter dtype.</param>
/// <param name="device">Parameter device.</param>
public sealed class InstanceNorm1d(long numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false, DType dtype = DType.Float32, Device? device = null)
    : InstanceNormBase(1, numFeatures, eps, momentum, affine, trackRunningStats, dtype, device);

/// <summary>Instance normalization over [N, C, H, W] (PyTorch's nn.InstanceNorm2d).</summary>
/// <param name="numFeatures">Channels C.</param>
/// <param name="eps">Added to the variance.</param>
/// <param name="momentum">Running-stat momentum.</param>
/// <param name="affine">Learnable per-channel weight and bias.</param>
/// <param name="trackRunningStats">Keep running mean and variance for evaluation.</param>
/// <param name="dtype">Parameter dtype.</param>
/// <param name="device">Parameter device.</param>
public sealed class InstanceNorm2d(long numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false, DType dtype = DType.Float32, Device? device = null)
    : InstanceNormBase(2, numFeatures, eps, momentum, affine, trackRunningStats, dtype, device);
