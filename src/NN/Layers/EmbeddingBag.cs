namespace Ember.NN;

/// <summary>Bags of embeddings reduced by sum, mean or max (PyTorch's nn.EmbeddingBag); weight [num, dim] ~ N(0, 1).</summary>
public sealed class EmbeddingBag : Module<Tensor, Tensor>
{
    /// <summary>Creates the table.</summary>
    /// <exception cref="ArgumentException">paddingIdx out of range.</exception>
    public EmbeddingBag(long numEmbeddings, long embeddingDim, EmbeddingBagMode mode = EmbeddingBagMode.Mean, bool includeLastOffset = false,
        long? paddingIdx = null, DType dtype = DType.Float32, Device? device = null)
    {
        if (paddingIdx is { } p && (p >= numEmbeddings || p < -numEmbeddings)) throw new ArgumentException("padding_idx must be within num_embeddings");
        (NumEmbeddings, EmbeddingDim, Mode, IncludeLastOffset) = (numEmbeddings, embeddingDim, mode, includeLastOffset);
        PaddingIdx = paddingIdx is { } q && q < 0 ? q + numEmbeddings : paddingIdx;
        RegisterParameter("weight", Tensor.Empty([numEmbeddings, embeddingDim], dtype, device));
        Init.Normal_(Weight);
        if (PaddingIdx is { } pi) using (Autograd.NoGrad()) Weight.Select(0, pi).Fill_(0);
    }

    /// <summary>Rows.</summary>
    public long NumEmbeddings { get; }
    /// <summary>Columns.</summary>
    public long EmbeddingDim { get; }
    /// <summary>The reduction.</summary>
    public EmbeddingBagMode Mode { get; }
    /// <summary>Whether offsets has B + 1 entries.</summary>
    public bool IncludeLastOffset { get; }
    /// <summary>The padding row (left out of bags), or null.</summary>
    public long? PaddingIdx { get; }
    /// <summary>Weight [num, dim].</summary>
    public Tensor Weight => GetParameter("weight")!;

    /// <summary>Bags as the rows of input [B, L] → [B, dim].</summary>
    public override Tensor Forward(Tensor input) => Functional.EmbeddingBag(input, Weight, null, Mode, null, IncludeLastOffset, PaddingIdx);

    /// <summary>Bags of a 1-D input delimited by offsets (optionally weighted, Sum mode) → [B, dim].</summary>
    public Tensor Forward(Tensor input, Tensor offsets, Tensor? perSampleWeights = null) =>
        Functional.EmbeddingBag(input, Weight, offsets, Mode, perSampleWeights, IncludeLastOffset, PaddingIdx);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}, mode='{Mode.ToString().ToLowerInvariant()}'" + (PaddingIdx is { } p ? $", padding_idx={p}" : "");
}
