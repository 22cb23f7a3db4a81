namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Root-mean-square layer normalization (torch.nn.functional.rms_norm, PyTorch 2.4): y = x / √(mean(x²) + ε) · weight,
    /// the mean over the last normalizedShape.Length dims. ε defaults to the machine epsilon of x's dtype, as PyTorch.
    /// No centering and no bias, unlike <see cref="LayerNorm"/>.
    /// </summary>
    /// <exception cref="ArgumentException">x's trailing dims differ from normalizedShape, or weight's shape does.</exception>
    public static Tensor RmsNorm(Tensor x, long[] normalizedShape, Tensor? weight = null, double? eps = null)
    {
        int k = normalizedShape.Length;
        if (k == 0 || x.Dim < k || !x.Shape.ToArray()[^k..].AsSpan().SequenceEqual(normalizedShape))
            throw new ArgumentException($"RmsNorm: Given normalized_shape=[{string.Join(", ", normalizedShape)}], expected input with shape [*, {string.Join(", ", normalizedShape)}], but got input of size {x.Shape}");
        if (weight is not null && !weight.Shape.ToArray().AsSpan().SequenceEqual(normalizedShape))
            throw new ArgumentException($"RmsNorm: weight must have shape [{string.Join(", ", normalizedShape)}], got {weight.Shape}.");
        double e = eps ?? MachineEpsilon(x.DType);
        var dims = Enumerable.Range(x.Dim - k, k).ToArray();
        var y = x * (x.Square().Mean(dims, keepDim: true) + e).Rsqrt();
        return weight is null ? y : y * weight;
    }

    // torch.finfo(dtype).eps: the gap between 1 and the next representable value.
    private static double MachineEpsilon(DType dtype) => dtype == DType.Float64 ? Math.Pow(2, -52) : Math.Pow(2, -23);

    /// <summary>
    /// Instance normalization (torch.nn.functional.instance_norm): each (sample, channel) of x [N, C, *] normalized over its
    /// spatial dims with the biased variance, then weight·x̂ + bias per channel. With running stats and
    /// useInputStats, they are updated with the batch mean of the instance statistics (unbiased variance) and momentum;
    /// with useInputStats false the running stats normalize instead.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 3 dims, a spatial size of 1 in training, or parameter shapes other than [C].</exception>
    public static Tensor InstanceNorm(Tensor x, Tensor? runningMean = null, Tensor? runningVar = null, Tensor? weight = null, Tensor? bias = null,
        bool useInputStats = true, double momentum = 0.1, double eps = 1e-5)
    {
        if (x.Dim < 3) throw new ArgumentException($"InstanceNorm: expected input [N, C, *spatial] with at least one spatial dim, got {x.Shape}.");
        long c = x.Size(1);
        foreach (var (t, name) in new[] { (runningMean, "running_mean"), (runningVar, "running_var"), (weight, "weight"), (bias, "bias") })
            if (t is not null && (t.Dim != 1 || t.Size(0) != c))
                throw new ArgumentException($"InstanceNorm: {name} should contain {c} elements not {t.Numel} (input {x.Shape}).");
        var dims = Enumerable.Range(2, x.Dim - 2).ToArray();
        long count = x.Shape.ToArray()[2..].Aggregate(1L, (a, b) => a * b);
        var chan = Enumerable.Repeat(1L, x.Dim).ToArray();
        chan[1] = c;
        Tensor mean, var;
        if (useInputStats)
        {
            if (count <= 1) throw new ArgumentException($"InstanceNorm: Expected more than 1 spatial element when training, got input size {x.Shape}");
            mean = x.Mean(dims, keepDim: true);
            var = (x - mean).Square().Mean(dims, keepDim: true);
            if (runningMean is not null || runningVar is not null)
                using (Autograd.NoGrad())
                {
                    // Running stats see the batch average of the per-instance statistics (the unbiased variance, as BatchNorm).
                    if (runningMean is not null)
                        runningMean.Copy_(runningMean * (1 - momentum) + mean.Detach().Mean([0]).Reshape(c) * momentum);
                    if (runningVar is not null)
                        runningVar.Copy_(runningVar * (1 - momentum) + (var.Detach() * ((double)count / (count - 1))).Mean([0]).Reshape(c) * momentum);
                }
        }
        else
        {
            if (runningMean is null || runningVar is null)
                throw new ArgumentException("InstanceNorm: Expected running_mean and running_var to be defined when use_input_stats is false");
            mean = runningMean.Reshape(chan); var = runningVar.Reshape(chan);
        }
        var y = (x - mean) * (var + eps).Rsqrt();
        if (weight is not null) y = y * weight.Reshape(chan);
        if (bias is not null) y = y + bias.Reshape(chan);
        return y;
    }
}
