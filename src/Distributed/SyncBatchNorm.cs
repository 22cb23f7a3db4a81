namespace Ember.NN;

/// <summary>
/// Batch normalization whose training statistics are computed over the whole global batch of a
/// <see cref="ProcessGroup"/> (torch.nn.SyncBatchNorm): mean = Σ_ranks Σ x / N and biased variance
/// = Σ_ranks Σ (x − mean)² / N, N the global count per channel. Evaluation and a group of one behave exactly like
/// <see cref="BatchNorm2d"/>. Parameters, buffers and state-dict keys are BatchNorm's.
/// </summary>
/// <remarks>
/// The statistics travel through a differentiable all-reduce (its backward all-reduces the incoming gradient), so
/// gradients flow through the global mean and variance as in PyTorch. The variance is computed in two passes
/// (mean first, then the centered squares), the numerically stable form. Every rank must call forward in
/// training together, as for any collective.
/// </remarks>
public sealed class SyncBatchNorm : BatchNormBase
{
    /// <summary>Creates the layer for inputs [N, C, *] (2-D to 5-D).</summary>
    /// <param name="numFeatures">Channels C.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="momentum">Running-average factor (null: cumulative).</param>
    /// <param name="affine">Learnable weight and bias.</param>
    /// <param name="trackRunningStats">Keep running statistics.</param>
    /// <param name="processGroup">The group (default: <see cref="Distributed.World"/> at the first forward).</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    public SyncBatchNorm(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true,
        ProcessGroup? processGroup = null, DType dtype = DType.Float32, Device? device = null)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device, [2, 3, 4, 5])
    {
        ProcessGroup = processGroup;
    }

    /// <summary>The group statistics are reduced over (null: the world group).</summary>
    public ProcessGroup? ProcessGroup { get; set; }

    /// <summary>Normalizes x [N, C, *] with global batch statistics in training, running statistics in evaluation.</summary>
    /// <exception cref="ArgumentException">Wrong rank or channel count.</exception>
    public override Tensor Forward(Tensor input)
    {
        var group = ProcessGroup ?? (Distributed.IsInitialized ? Distributed.World : null);
        if (!Training || group is null || group.Size == 1) return base.Forward(input);
        if (input.Dim < 2 || input.Dim > 5 || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"SyncBatchNorm: expected 2-D to 5-D input with {NumFeatures} channels in dim 1, got {input.Shape}.");
        var dims = Enumerable.Range(0, input.Dim).Where(d => d != 1).ToArray();
        var channelShape = Enumerable.Range(0, input.Dim).Select(d => d == 1 ? NumFeatures : 1L).ToArray();
        var local = Tensor.Full([1], input.Numel / NumFeatures, input.DType, input.Device);
        var count = new AllReduceSum(group).Apply(local).Item();   // the global N per channel
        var mean = new AllReduceSum(group).Apply(input.Sum(dims)) / count;
        var centered = input - mean.View(channelShape);
        var variance = new AllReduceSum(group).Apply(centered.Square().Sum(dims)) / count;
        var output = centered * (variance + Eps).Rsqrt().View(channelShape);
        if (Weight is { } w) output = output * w.View(channelShape);
        if (Bias is { } b) output = output + b.View(channelShape);
        UpdateRunningStatistics(mean, variance, count);
        return output;
    }

    // BatchNorm's fused update (one launch where the backend has it; no host read of num_batches_tracked): the running
    // variance takes the unbiased estimate N/(N−1)·var, momentum null the cumulative average 1/num_batches_tracked.
    private void UpdateRunningStatistics(Tensor mean, Tensor variance, double count)
    {
        if (RunningMean is not { } rm || RunningVar is not { } rv) return;
        using var _ = Autograd.NoGrad();
        FusedOps.BatchNormUpdateStats(mean.Detach(), variance.Detach(), (long)count, Momentum, rm, rv, GetBuffer("num_batches_tracked"));
    }

    /// <summary>
    /// Replaces every BatchNorm1d/2d in <paramref name="module"/> by a SyncBatchNorm with the same options, parameters
    /// and buffers (convert_sync_batchnorm). BatchNorms held by <see cref="Sequential"/> (or the root itself) are
    /// replaced; a BatchNorm held by another kind of module cannot be swapped from outside and is reported.
    /// </summary>
    /// <returns>The converted module (a new object when the root itself is a BatchNorm).</returns>
    /// <exception cref="NotSupportedException">A BatchNorm sits inside a module other than Sequential (named by path).</exception>
    public static Module ConvertSyncBatchNorm(Module module, ProcessGroup? processGroup = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module is BatchNormBase bn and not SyncBatchNorm) return FromBatchNorm(bn, processGroup);
        foreach (var (path, parent) in module.NamedModules().ToList())
            foreach (var (name, child) in parent.NamedChildren().ToList())
            {
                if (child is not BatchNormBase cb || child is SyncBatchNorm) continue;
                if (parent is not Sequential seq)
                    throw new NotSupportedException(
                        $"ConvertSyncBatchNorm: the BatchNorm at \"{(path.Length == 0 ? name : path + "." + name)}\" is held by {parent.GetType().Name}, whose child cannot be replaced from outside; build it with SyncBatchNorm or inside a Sequential.");
                seq[IndexOf(seq, child)] = FromBatchNorm(cb, processGroup);
            }
        return module;
    }

    private static int IndexOf(Sequential seq, Module child)
    {
        for (int i = 0; i < seq.Count; i++) if (ReferenceEquals(seq[i], child)) return i;
        throw new InvalidOperationException("ConvertSyncBatchNorm: child not found.");
    }

    private static SyncBatchNorm FromBatchNorm(BatchNormBase bn, ProcessGroup? group)
    {
        var w = bn.Weight ?? bn.RunningMean ?? throw new NotSupportedException("ConvertSyncBatchNorm: a BatchNorm without affine parameters or running statistics is not supported.");
        var sync = new SyncBatchNorm(bn.NumFeatures, bn.Eps, bn.Momentum, bn.Weight is not null, bn.RunningMean is not null, group, w.DType, w.Device);
        sync.LoadStateDict(bn.StateDict());
        if (!bn.Training) sync.Eval();
        return sync;
    }

    /// <summary>Σ over the group's ranks; its backward is the same all-reduce of the gradient.</summary>
    private sealed class AllReduceSum(ProcessGroup group) : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var y = inputs[0].Clone();
            group.AllReduce(y);
            return y;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var g = gradOutput.Clone();
            group.AllReduce(g);
            return [g];
        }
    }
}
