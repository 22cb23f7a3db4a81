namespace Ember.NN;

/// <summary>The feed-forward activation of the transformer layers (PyTorch's activation="relu" / "gelu").</summary>
public enum TransformerActivation
{
    /// <summary>max(x, 0) (PyTorch's default).</summary>
    Relu,
    /// <summary>Exact (erf) GELU.</summary>
    Gelu,
}

/// <summary>
/// One encoder block of "Attention Is All You Need" (PyTorch's nn.TransformerEncoderLayer): self-attention and a
/// feed-forward network linear2(dropout(act(linear1(x)))), each wrapped in a residual connection and a LayerNorm.
/// Post-norm (default): x = norm1(x + sa(x)); x = norm2(x + ff(x)). Pre-norm (normFirst): x = x + sa(norm1(x)); x = x + ff(norm2(x)).
/// Submodules have PyTorch's names: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2.
/// </summary>
/// <remarks>Not supported: the bias=False option of PyTorch ≥ 2.1 (linear and norm biases) and the fused inference fast path
/// (same results; PyTorch's nested-tensor path additionally returns zeros at padded positions, this layer returns their computed values).</remarks>
public sealed class TransformerEncoderLayer : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with PyTorch's defaults and initialization.</summary>
    /// <param name="dModel">Model width E.</param>
    /// <param name="nhead">Attention heads (must divide dModel).</param>
    /// <param name="dimFeedforward">Hidden width of the feed-forward network.</param>
    /// <param name="dropout">Dropout probability (attention weights, feed-forward hidden, and both residual branches).</param>
    /// <param name="activation">Feed-forward activation.</param>
    /// <param name="layerNormEps">LayerNorm epsilon.</param>
    /// <param name="batchFirst">Inputs are [N, S, E] instead of [S, N, E].</param>
    /// <param name="normFirst">Pre-norm instead of post-norm.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="customActivation">A differentiable callable used instead of <paramref name="activation"/> (PyTorch's activation=callable).</param>
    /// <exception cref="ArgumentException">dModel is not divisible by nhead, or dropout is outside [0, 1].</exception>
    public TransformerEncoderLayer(long dModel, int nhead, long dimFeedforward = 2048, double dropout = 0.1,
        TransformerActivation activation = TransformerActivation.Relu, double layerNormEps = 1e-5, bool batchFirst = false,
        bool normFirst = false, DType dtype = DType.Float32, Device? device = null, Func<Tensor, Tensor>? customActivation = null)
    {
        (DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, CustomActivation) =
            (dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, customActivation);
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst, dtype: dtype, device: device));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, true, dtype, device));
        Dropout = RegisterModule("dropout", new Dropout(dropout));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, true, dtype, device));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, true, dtype, device));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, true, dtype, device));
        Dropout1 = RegisterModule("dropout1", new Dropout(dropout));
        Dropout2 = RegisterModule("dropout2", new Dropout(dropout));
    }

    /// <summary>Model width.</summary>
    public long DModel { get; }
    /// <summary>Attention heads.</summary>
    public int NHead { get; }
    /// <summary>Feed-forward hidden width.</summary>
    public long DimFeedforward { get; }
    /// <summary>Dropout probability.</summary>
    public double DropoutP { get; }
    /// <summary>Feed-forward activation (ignored when <see cref="CustomActivation"/> is set).</summary>
    public TransformerActivation Activation { get; }
    /// <summary>A callable activation replacing <see cref="Activation"/>, or null.</summary>
    public Func<Tensor, Tensor>? CustomActivation { get; }
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; }
    /// <summary>Whether inputs are [N, S, E].</summary>
    public bool BatchFirst { get; }
    /// <summary>Pre-norm (true) or post-norm.</summary>
    public bool NormFirst { get; }
    /// <summary>Self-attention ("self_attn").</summary>
    public MultiheadAttention SelfAttn { get; }
    /// <summary>First feed-forward projection ("linear1").</summary>
    public Linear Linear1 { get; }
    /// <summary>Dropout inside the feed-forward network ("dropout").</summary>
    public Dropout Dropout { get; }
    /// <summary>Second feed-forward projection ("linear2").</summary>
    public Linear Linear2 { get; }
    /// <summary>Norm around self-attention ("norm1").</summary>
    public LayerNorm Norm1 { get; }
    /// <summary>Norm around the feed-forward network ("norm2").</summary>
    public LayerNorm Norm2 { get; }
    /// <summary>Dropout on the attention branch ("dropout1").</summary>
    public Dropout Dropout1 { get; }
    /// <summary>Dropout on the feed-forward branch ("dropout2").</summary>
    public Dropout Dropout2 { get; }

    /// <summary>A new layer with the same options, a copy of this layer's parameters and the same training mode (PyTorch's copy.deepcopy).</summary>
    public TransformerEncoderLayer Clone()
    {
        var w = SelfAttn.InProjWeight!;
        var c = new TransformerEncoderLayer(DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, w.DType, w.Device, CustomActivation);
        c.LoadStateDict(StateDict());
        c.Train(Training);
        return c;
    }

    /// <summary>src [S, N, E] ([N, S, E] with batchFirst) with no masks.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null, null);

    /// <summary>Runs the block.</summary>
    /// <param name="src">[S, N, E] ([N, S, E] with batchFirst, or unbatched [S, E]).</param>
    /// <param name="srcMask">Attention mask [S, S] or [N·H, S, S] (Bool true = masked, or float added).</param>
    /// <param name="srcKeyPaddingMask">[N, S] (Bool true = padding, or float added).</param>
    /// <param name="isCausal">With no srcMask, apply the causal mask.</param>
    /// <returns>[S, N, E] like src.</returns>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask, bool isCausal = false)
    {
        var x = src;
        if (NormFirst)
        {
            x = x + SaBlock(Norm1.Call(x), srcMask, srcKeyPaddingMask, isCausal);
            x = x + FfBlock(Norm2.Call(x));
        }
        else
        {
            x = Norm1.Call(x + SaBlock(x, srcMask, srcKeyPaddingMask, isCausal));
            x = Norm2.Call(x + FfBlock(x));
        }
        return x;
    }

    private Tensor SaBlock(Tensor x, Tensor? mask, Tensor? kpm, bool isCausal) =>
        Dropout1.Call(SelfAttn.Forward(x, x, x, kpm, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor FfBlock(Tensor x) =>
        Dropout2.Call(Linear2.Call(Dropout.Call((CustomActivation ?? (t => TransformerActivations.Apply(Activation, t)))(Linear1.Call(x)))));
}

/// <summary>
/// One decoder block (PyTorch's nn.TransformerDecoderLayer): masked self-attention, cross-attention to the encoder's
/// memory, and a feed-forward network, each with a residual connection and LayerNorm (post-norm by default, pre-norm with normFirst).
/// Submodules: self_attn, multihead_attn, linear1, dropout, linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3.
/// </summary>
/// <remarks>Not supported: the bias=False option of PyTorch ≥ 2.1 (linear and norm biases).</remarks>
public sealed class TransformerDecoderLayer : Module<(Tensor Tgt, Tensor Memory), Tensor>
{
    /// <summary>Creates the layer with PyTorch's defaults and initialization (parameters as in <see cref="TransformerEncoderLayer"/>,
    /// including <c>customActivation</c>).</summary>
    /// <exception cref="ArgumentException">dModel is not divisible by nhead, or dropout is outside [0, 1].</exception>
    public TransformerDecoderLayer(long dModel, int nhead, long dimFeedforward = 2048, double dropout = 0.1,
        TransformerActivation activation = TransformerActivation.Relu, double layerNormEps = 1e-5, bool batchFirst = false,
        bool normFirst = false, DType dtype = DType.Float32, Device? device = null, Func<Tensor, Tensor>? customActivation = null)
    {
        (DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, CustomActivation) =
            (dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, customActivation);
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst, dtype: dtype, device: device));
        MultiheadAttn = RegisterModule("multihead_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst, dtype: dtype, device: device));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, true, dtype, device));
        Dropout = RegisterModule("dropout", new Dropout(dropout));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, true, dtype, device));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, true, dtype, device));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, true, dtype, device));
        Norm3 = RegisterModule("norm3", new LayerNorm(dModel, layerNormEps, true, dtype, device));
        Dropout1 = RegisterModule("dropout1", new Dropout(dropout));
        Dropout2 = RegisterModule("dropout2", new Dropout(dropout));
        Dropout3 = RegisterModule("dropout3", new Dropout(dropout));
    }

    /// <summary>Model width.</summary>
    public long DModel { get; }
    /// <summary>Attention heads.</summary>
    public int NHead { get; }
    /// <summary>Feed-forward hidden width.</summary>
    public long DimFeedforward { get; }
    /// <summary>Dropout probability.</summary>
    public double DropoutP { get; }
    /// <summary>Feed-forward activation (ignored when <see cref="CustomActivation"/> is set).</summary>
    public TransformerActivation Activation { get; }
    /// <summary>A callable activation replacing <see cref="Activation"/>, or null.</summary>
    public Func<Tensor, Tensor>? CustomActivation { get; }
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; }
    /// <summary>Whether inputs are [N, T, E].</summary>
    public bool BatchFirst { get; }
    /// <summary>Pre-norm (true) or post-norm.</summary>
    public bool NormFirst { get; }
    /// <summary>Self-attention ("self_attn").</summary>
    public MultiheadAttention SelfAttn { get; }
    /// <summary>Cross-attention to memory ("multihead_attn").</summary>
    public MultiheadAttention MultiheadAttn { get; }
    /// <summary>First feed-forward projection.</summary>
    public Linear Linear1 { get; }
    /// <summary>Dropout inside the feed-forward network.</summary>
    public Dropout Dropout { get; }
    /// <summary>Second feed-forward projection.</summary>
    public Linear Linear2 { get; }
    /// <summary>Norm around self-attention.</summary>
    public LayerNorm Norm1 { get; }
    /// <summary>Norm around cross-attention.</summary>
    public LayerNorm Norm2 { get; }
    /// <summary>Norm around the feed-forward network.</summary>
    public LayerNorm Norm3 { get; }
    /// <summary>Dropout on the self-attention branch.</summary>
    public Dropout Dropout1 { get; }
    /// <summary>Dropout on the cross-attention branch.</summary>
    public Dropout Dropout2 { get; }
    /// <summary>Dropout on the feed-forward branch.</summary>
    public Dropout Dropout3 { get; }

    /// <summary>A new layer with the same options, a copy of this layer's parameters and the same training mode (PyTorch's copy.deepcopy).</summary>
    public TransformerDecoderLayer Clone()
    {
        var w = SelfAttn.InProjWeight!;
        var c = new TransformerDecoderLayer(DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, w.DType, w.Device, CustomActivation);
        c.LoadStateDict(StateDict());
        c.Train(Training);
        return c;
    }

    /// <summary>(tgt, memory) with no masks.</summary>
    public override Tensor Forward((Tensor Tgt, Tensor Memory) input) => Forward(input.Tgt, input.Memory);

    /// <summary>Runs the block.</summary>
    /// <param name="tgt">[T, N, E] ([N, T, E] with batchFirst, or unbatched [T, E]).</param>
    /// <param name="memory">The encoder output [S, N, E].</param>
    /// <param name="tgtMask">Self-attention mask [T, T] or [N·H, T, T] (e.g. <see cref="Transformer.GenerateSquareSubsequentMask"/>).</param>
    /// <param name="memoryMask">Cross-attention mask [T, S] or [N·H, T, S].</param>
    /// <param name="tgtKeyPaddingMask">[N, T].</param>
    /// <param name="memoryKeyPaddingMask">[N, S].</param>
    /// <param name="tgtIsCausal">With no tgtMask, apply the causal mask to self-attention.</param>
    /// <param name="memoryIsCausal">With no memoryMask, apply the causal mask to cross-attention.</param>
    /// <returns>[T, N, E] like tgt.</returns>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        var x = tgt;
        if (NormFirst)
        {
            x = x + SaBlock(Norm1.Call(x), tgtMask, tgtKeyPaddingMask, tgtIsCausal);
            x = x + MhaBlock(Norm2.Call(x), memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal);
            x = x + FfBlock(Norm3.Call(x));
        }
        else
        {
            x = Norm1.Call(x + SaBlock(x, tgtMask, tgtKeyPaddingMask, tgtIsCausal));
            x = Norm2.Call(x + MhaBlock(x, memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal));
            x = Norm3.Call(x + FfBlock(x));
        }
        return x;
    }

    private Tensor SaBlock(Tensor x, Tensor? mask, Tensor? kpm, bool isCausal) =>
        Dropout1.Call(SelfAttn.Forward(x, x, x, kpm, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor MhaBlock(Tensor x, Tensor mem, Tensor? mask, Tensor? kpm, bool isCausal) =>
        Dropout2.Call(MultiheadAttn.Forward(x, mem, mem, kpm, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor FfBlock(Tensor x) =>
        Dropout3.Call(Linear2.Call(Dropout.Call((CustomActivation ?? (t => TransformerActivations.Apply(Activation, t)))(Linear1.Call(x)))));
}

internal static class TransformerActivations
{
    public static Tensor Apply(TransformerActivation a, Tensor x) => a switch
    {
        TransformerActivation.Gelu => Functional.Gelu(x),
        _ => Functional.Relu(x),
    };
}
