namespace Ember.NN;

/// <summary>
/// Batch normalization over dim 1 (PyTorch's nn.BatchNorm1d/2d): learnable weight (ones) and bias (zeros) when affine;
/// buffers running_mean (zeros), running_var (ones), num_batches_tracked (Int64) when trackRunningStats.
/// momentum null means a cumulative average (1/num_batches_tracked).
/// </summary>
public abstract class BatchNormBase : Module<Tensor, Tensor>
{
    private readonly int[] ranks;

    /// <summary>Creates the layer for inputs of the given ranks.</summary>
    protected BatchNormBase(long numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, DType dtype, Device? device, int[] ranks)
    {
        (NumFeatures, Eps, Momentum, this.ranks) = (numFeatures, eps, momentum, ranks);
        RegisterParameter("weight", affine ? Tensor.Ones([numFeatures], dtype, device) : null);
        RegisterParameter("bias", affine ? Tensor.Zeros([numFeatures], dtype, device) : null);
        RegisterBuffer("running_mean", trackRunningStats ? Tensor.Zeros([numFeatures], dtype, device) : null);
        RegisterBuffer("running_var", trackRunningStats ? Tensor.Ones([numFeatures], dtype, device) : null);
        RegisterBuffer("num_batches_tracked", trackRunningStats ? Tensor.Zeros([], DType.Int64, device) : null);
    }

    /// <summary>Channels C.</summary>
    public long NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Running-average factor (null: cumulative).</summary>
    public double? Momentum { get; }
    /// <summary>Scale γ or null.</summary>
    public Tensor? Weight => GetParameter("weight");
    /// <summary>Shift β or null.</summary>
    public Tensor? Bias => GetParameter("bias");
    /// <summary>Running mean or null.</summary>
    public Tensor? RunningMean => GetBuffer("running_mean");
    /// <summary>Running variance or null.</summary>
    public Tensor? RunningVar => GetBuffer("running_var");

    /// <summary>Normalizes x [N, C, *].</summary>
    /// <exception cref="ArgumentException">Wrong rank or channel count.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (!ranks.Contains(input.Dim) || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"{TypeName}: expected {string.Join(" or ", ranks.Select(r => r + "-D"))} input with {NumFeatures} channels in dim 1, got {input.Shape}.");
        bool useBatch = Training || RunningMean is null;
        Tensor? runningMean = useBatch && !Training ? null : RunningMean, runningVar = useBatch && !Training ? null : RunningVar;
        var nbt = Training ? GetBuffer("num_batches_tracked") : null;
        if (nbt is not null && (runningMean is null || runningVar is null))
        {
            // A counter without both running statistics: nothing else to update, so it is counted on its own.
            using (NoGradScope.Enter()) nbt.Add_(1);
            nbt = null;
        }
        // In training the counter's increment, momentum null's factor 1/num_batches_tracked (read on the device) and the
        // running statistics' update are one fused op.
        return Functional.BatchNorm(input, runningMean, runningVar, Weight, Bias, useBatch, Momentum, Eps, nbt);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumFeatures}, eps={Eps.ToString(System.Globalization.CultureInfo.InvariantCulture)}, momentum={Momentum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None"}, affine={Py(Weight is not null)}, track_running_stats={Py(RunningMean is not null)}";
}

/// <summary>Batch norm of [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true,
    DType dtype = DType.Float32, Device? device = null) : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device, [2, 3]);

/// <summary>Batch norm of [N, C, H, W].</summary>
public sealed class BatchNorm2d(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true,
    DType dtype = DType.Float32, Device? device = null) : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device, [4]);

/// <summary>Layer normalization over the trailing normalizedShape (PyTorch's nn.LayerNorm; fused kernel).</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; weight ones and bias zeros when elementwiseAffine.</summary>
    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32, Device? device = null)
    {
        NormalizedShape = (long[])normalizedShape.Clone(); Eps = eps;
        RegisterParameter("weight", elementwiseAffine ? Tensor.Ones(normalizedShape, dtype, device) : null);
        RegisterParameter("bias", elementwiseAffine ? Tensor.Zeros(normalizedShape, dtype, device) : null);
    }

    /// <summary>One trailing dim.</summary>
    public LayerNorm(long normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32, Device? device = null)
        : this([normalizedShape], eps, elementwiseAffine, dtype, device) { }

    /// <summary>The normalized trailing dims.</summary>
    public long[] NormalizedShape { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Weight or null.</summary>
    public Tensor? Weight => GetParameter("weight");
    /// <summary>Bias or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.LayerNorm(input, NormalizedShape, Weight, Bias, Eps);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"({string.Join(", ", NormalizedShape)},), eps={Eps.ToString(System.Globalization.CultureInfo.InvariantCulture)}, elementwise_affine={Py(Weight is not null)}";
}

/// <summary>Group normalization (PyTorch's nn.GroupNorm).</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">numChannels not divisible by numGroups.</exception>
    public GroupNorm(int numGroups, long numChannels, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32, Device? device = null)
    {
        if (numChannels % numGroups != 0) throw new ArgumentException("num_channels must be divisible by num_groups");
        (NumGroups, NumChannels, Eps) = (numGroups, numChannels, eps);
        RegisterParameter("weight", affine ? Tensor.Ones([numChannels], dtype, device) : null);
        RegisterParameter("bias", affine ? Tensor.Zeros([numChannels], dtype, device) : null);
    }

    /// <summary>Groups.</summary>
    public int NumGroups { get; }
    /// <summary>Channels.</summary>
    public long NumChannels { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.GroupNorm(input, NumGroups, GetParameter("weight"), GetParameter("bias"), Eps);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumGroups}, {NumChannels}, eps={Eps.ToString(System.Globalization.CultureInfo.InvariantCulture)}, affine={Py(GetParameter("weight") is not null)}";
}

/// <summary>A lookup table (PyTorch's nn.Embedding): weight [num, dim] ~ N(0, 1), the paddingIdx row zeroed and given no gradient.</summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    /// <summary>Creates the table.</summary>
    /// <exception cref="ArgumentException">paddingIdx out of range.</exception>
    public Embedding(long numEmbeddings, long embeddingDim, long? paddingIdx = null, DType dtype = DType.Float32, Device? device = null)
    {
        if (paddingIdx is { } p && (p >= numEmbeddings || p < -numEmbeddings)) throw new ArgumentException("Padding_idx must be within num_embeddings");
        (NumEmbeddings, EmbeddingDim) = (numEmbeddings, embeddingDim);
        PaddingIdx = paddingIdx is { } q && q < 0 ? q + numEmbeddings : paddingIdx;
        RegisterParameter("weight", Tensor.Empty([numEmbeddings, embeddingDim], dtype, device));
        Init.Normal_(Weight);
        if (PaddingIdx is { } pi) using (NoGradScope.Enter()) Weight.Select(0, pi).Fill_(0);
    }

    /// <summary>Rows.</summary>
    public long NumEmbeddings { get; }
    /// <summary>Columns.</summary>
    public long EmbeddingDim { get; }
    /// <summary>The padding row, or null.</summary>
    public long? PaddingIdx { get; }
    /// <summary>Weight [num, dim].</summary>
    public Tensor Weight => GetParameter("weight")!;

    /// <summary>Indices [*] → [*, dim].</summary>
    public override Tensor Forward(Tensor input) => Functional.Embedding(input, Weight, PaddingIdx);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}" + (PaddingIdx is { } p ? $", padding_idx={p}" : "");
}
