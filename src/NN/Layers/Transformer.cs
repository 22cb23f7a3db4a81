namespace Ember.NN;

/// <summary>
/// A stack of encoder layers (PyTorch's nn.TransformerEncoder) with an optional final norm: children "layers"
/// (layers.0, layers.1, …) and "norm".
/// </summary>
/// <remarks>PyTorch deep-copies one layer numLayers times; the template constructor does the same with
/// <see cref="TransformerEncoderLayer.Clone"/> (every layer starts with the template's weights). The nested-tensor fast
/// path (enable_nested_tensor) is not supported; results are the same without it.</remarks>
public sealed class TransformerEncoder : Module<Tensor, Tensor>
{
    /// <summary>numLayers copies of <paramref name="encoderLayer"/> (same options and initial weights, as PyTorch's deepcopy).</summary>
    /// <exception cref="ArgumentOutOfRangeException">numLayers is negative.</exception>
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, LayerNorm? norm = null)
        : this(CheckTemplate(encoderLayer).Clone, numLayers, norm) { }

    /// <summary>numLayers layers made by <paramref name="layerFactory"/> (each independently initialized).</summary>
    /// <exception cref="ArgumentOutOfRangeException">numLayers is negative.</exception>
    public TransformerEncoder(Func<TransformerEncoderLayer> layerFactory, int numLayers, LayerNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(layerFactory);
        ArgumentOutOfRangeException.ThrowIfNegative(numLayers);
        Layers = RegisterModule("layers", new ModuleList<TransformerEncoderLayer>(Enumerable.Range(0, numLayers).Select(_ => layerFactory())));
        Norm = RegisterModule("norm", norm);
    }

    private static TransformerEncoderLayer CheckTemplate(TransformerEncoderLayer l) => l ?? throw new ArgumentNullException(nameof(l));

    /// <summary>The layers ("layers").</summary>
    public ModuleList<TransformerEncoderLayer> Layers { get; }
    /// <summary>The final norm ("norm") or null.</summary>
    public LayerNorm? Norm { get; }
    /// <summary>Number of layers.</summary>
    public int NumLayers => Layers.Count;

    /// <summary>src through every layer, then the norm; no masks.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null, null);

    /// <summary>src [S, N, E] ([N, S, E] with batchFirst layers) through every layer with the same masks, then the norm.</summary>
    /// <param name="src">Input sequence.</param>
    /// <param name="mask">Attention mask [S, S] or [N·H, S, S].</param>
    /// <param name="srcKeyPaddingMask">[N, S].</param>
    /// <param name="isCausal">With no mask, apply the causal mask.</param>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask, bool isCausal = false)
    {
        var x = src;
        foreach (var l in Layers) x = l.Forward(x, mask, srcKeyPaddingMask, isCausal);
        return Norm is null ? x : Norm.Call(x);
    }
}

/// <summary>A stack of decoder layers (PyTorch's nn.TransformerDecoder) with an optional final norm: children "layers" and "norm".</summary>
public sealed class TransformerDecoder : Module<(Tensor Tgt, Tensor Memory), Tensor>
{
    /// <summary>numLayers copies of <paramref name="decoderLayer"/> (same options and initial weights, as PyTorch's deepcopy).</summary>
    /// <exception cref="ArgumentOutOfRangeException">numLayers is negative.</exception>
    public TransformerDecoder(TransformerDecoderLayer decoderLayer, int numLayers, LayerNorm? norm = null)
        : this((decoderLayer ?? throw new ArgumentNullException(nameof(decoderLayer))).Clone, numLayers, norm) { }

    /// <summary>numLayers layers made by <paramref name="layerFactory"/> (each independently initialized).</summary>
    /// <exception cref="ArgumentOutOfRangeException">numLayers is negative.</exception>
    public TransformerDecoder(Func<TransformerDecoderLayer> layerFactory, int numLayers, LayerNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(layerFactory);
        ArgumentOutOfRangeException.ThrowIfNegative(numLayers);
        Layers = RegisterModule("layers", new ModuleList<TransformerDecoderLayer>(Enumerable.Range(0, numLayers).Select(_ => layerFactory())));
        Norm = RegisterModule("norm", norm);
    }

    /// <summary>The layers ("layers").</summary>
    public ModuleList<TransformerDecoderLayer> Layers { get; }
    /// <summary>The final norm ("norm") or null.</summary>
    public LayerNorm? Norm { get; }
    /// <summary>Number of layers.</summary>
    public int NumLayers => Layers.Count;

    /// <summary>(tgt, memory) with no masks.</summary>
    public override Tensor Forward((Tensor Tgt, Tensor Memory) input) => Forward(input.Tgt, input.Memory);

    /// <summary>tgt through every layer (each attending to memory) with the same masks, then the norm. Masks as in <see cref="TransformerDecoderLayer.Forward(Tensor, Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, bool)"/>.</summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        var x = tgt;
        foreach (var l in Layers) x = l.Forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal);
        return Norm is null ? x : Norm.Call(x);
    }
}

/// <summary>
/// The encoder–decoder transformer (PyTorch's nn.Transformer): children "encoder" (a <see cref="TransformerEncoder"/> with a
/// final LayerNorm) and "decoder" (a <see cref="TransformerDecoder"/> with a final LayerNorm). After construction every
/// parameter with more than one dim is re-drawn with xavier_uniform, as PyTorch's _reset_parameters does.
/// </summary>
/// <remarks>Not supported: a custom activation callable here (build the layers with customActivation and pass customEncoder/customDecoder)
/// and the bias=False option of PyTorch ≥ 2.1.</remarks>
public sealed class Transformer : Module<(Tensor Src, Tensor Tgt), Tensor>
{
    /// <summary>Creates the model with PyTorch's defaults.</summary>
    /// <param name="dModel">Model width E (default 512).</param>
    /// <param name="nhead">Attention heads (default 8).</param>
    /// <param name="numEncoderLayers">Encoder depth (default 6).</param>
    /// <param name="numDecoderLayers">Decoder depth (default 6).</param>
    /// <param name="dimFeedforward">Feed-forward width (default 2048).</param>
    /// <param name="dropout">Dropout probability (default 0.1).</param>
    /// <param name="activation">Feed-forward activation.</param>
    /// <param name="customEncoder">Use this encoder instead of building one.</param>
    /// <param name="customDecoder">Use this decoder instead of building one.</param>
    /// <param name="layerNormEps">LayerNorm epsilon.</param>
    /// <param name="batchFirst">Inputs are [N, S, E].</param>
    /// <param name="normFirst">Pre-norm layers.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    public Transformer(long dModel = 512, int nhead = 8, int numEncoderLayers = 6, int numDecoderLayers = 6, long dimFeedforward = 2048,
        double dropout = 0.1, TransformerActivation activation = TransformerActivation.Relu, TransformerEncoder? customEncoder = null,
        TransformerDecoder? customDecoder = null, double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false,
        DType dtype = DType.Float32, Device? device = null)
    {
        (DModel, NHead, BatchFirst) = (dModel, nhead, batchFirst);
        Encoder = RegisterModule("encoder", customEncoder ?? new TransformerEncoder(
            new TransformerEncoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, dtype, device),
            numEncoderLayers, new LayerNorm(dModel, layerNormEps, true, dtype, device)));
        Decoder = RegisterModule("decoder", customDecoder ?? new TransformerDecoder(
            new TransformerDecoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, dtype, device),
            numDecoderLayers, new LayerNorm(dModel, layerNormEps, true, dtype, device)));
        foreach (var p in Parameters())
            if (p.Dim > 1) Init.XavierUniform_(p);
    }

    /// <summary>Model width.</summary>
    public long DModel { get; }
    /// <summary>Attention heads.</summary>
    public int NHead { get; }
    /// <summary>Whether inputs are [N, S, E].</summary>
    public bool BatchFirst { get; }
    /// <summary>The encoder ("encoder").</summary>
    public TransformerEncoder Encoder { get; }
    /// <summary>The decoder ("decoder").</summary>
    public TransformerDecoder Decoder { get; }

    /// <summary>(src, tgt) with no masks.</summary>
    public override Tensor Forward((Tensor Src, Tensor Tgt) input) => Forward(input.Src, input.Tgt);

    /// <summary>memory = encoder(src, srcMask, srcKeyPaddingMask); decoder(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask).</summary>
    /// <param name="src">[S, N, E] ([N, S, E] with batchFirst, or unbatched [S, E]).</param>
    /// <param name="tgt">[T, N, E] ([N, T, E] with batchFirst, or unbatched [T, E]).</param>
    /// <param name="srcMask">[S, S] or [N·H, S, S].</param>
    /// <param name="tgtMask">[T, T] or [N·H, T, T], typically <see cref="GenerateSquareSubsequentMask"/>(T).</param>
    /// <param name="memoryMask">[T, S] or [N·H, T, S].</param>
    /// <param name="srcKeyPaddingMask">[N, S].</param>
    /// <param name="tgtKeyPaddingMask">[N, T].</param>
    /// <param name="memoryKeyPaddingMask">[N, S].</param>
    /// <param name="srcIsCausal">With no srcMask, apply the causal mask in the encoder.</param>
    /// <param name="tgtIsCausal">With no tgtMask, apply the causal mask in the decoder's self-attention.</param>
    /// <param name="memoryIsCausal">With no memoryMask, apply the causal mask in the decoder's cross-attention.</param>
    /// <returns>[T, N, E] like tgt.</returns>
    /// <exception cref="ArgumentException">src and tgt batch sizes differ, or their feature size is not dModel.</exception>
    public Tensor Forward(Tensor src, Tensor tgt, Tensor? srcMask = null, Tensor? tgtMask = null, Tensor? memoryMask = null,
        Tensor? srcKeyPaddingMask = null, Tensor? tgtKeyPaddingMask = null, Tensor? memoryKeyPaddingMask = null,
        bool srcIsCausal = false, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        bool batched = src.Dim == 3;
        if (batched && tgt.Dim == 3)
        {
            int bd = BatchFirst ? 0 : 1;
            if (src.Shape[bd] != tgt.Shape[bd])
                throw new ArgumentException($"Transformer: the batch number of src {src.Shape} and tgt {tgt.Shape} must be equal.");
        }
        if (src.Shape[-1] != DModel || tgt.Shape[-1] != DModel)
            throw new ArgumentException($"Transformer: the feature number of src {src.Shape} and tgt {tgt.Shape} must be equal to d_model {DModel}.");
        var memory = Encoder.Forward(src, srcMask, srcKeyPaddingMask, srcIsCausal);
        return Decoder.Forward(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal);
    }

    /// <summary>The causal mask for a sequence of length sz: 0 on and below the diagonal, −∞ above ([sz, sz] float).</summary>
    /// <exception cref="ArgumentOutOfRangeException">sz is negative.</exception>
    public static Tensor GenerateSquareSubsequentMask(long sz, DType dtype = DType.Float32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sz);
        return Tensor.Full([sz, sz], double.NegativeInfinity, dtype, device).Triu(1);
    }
}
