namespace Ember.NN;

/// <summary>
/// Multi-head attention (PyTorch's nn.MultiheadAttention): MultiHead(Q, K, V) = Concat(head₁…head_H)·W_Oᵀ + b_O with
/// headᵢ = softmax(Q·W_Qᵢᵀ·(K·W_Kᵢᵀ)ᵀ/√d + mask)·V·W_Vᵢᵀ, d = embedDim/numHeads.
/// Parameters have PyTorch's names: <c>in_proj_weight</c> [3E, E] (xavier_uniform), <c>in_proj_bias</c> [3E] (zeros),
/// <c>out_proj.weight</c> [E, E] (Linear's default init) and <c>out_proj.bias</c> [E] (zeros). When kdim or vdim differs
/// from E, in_proj_weight is replaced by <c>q_proj_weight</c> [E, E], <c>k_proj_weight</c> [E, kdim] and
/// <c>v_proj_weight</c> [E, vdim] (each xavier_uniform), as in PyTorch.
/// </summary>
/// <remarks>
/// Inputs are [L, N, E] (or [N, L, E] with batchFirst, or unbatched [L, E]). Not supported: add_bias_kv and
/// add_zero_attn (rarely used legacy options that append a learned/zero key and value), and PyTorch's fused inference
/// fast path (results are the same without it).
/// </remarks>
public sealed class MultiheadAttention : Module<(Tensor Query, Tensor Key, Tensor Value), (Tensor Output, Tensor? Weights)>
{
    /// <summary>Creates the layer with PyTorch's initialization.</summary>
    /// <param name="embedDim">E, the model width of query, key and value.</param>
    /// <param name="numHeads">H; must divide E.</param>
    /// <param name="dropout">Dropout probability on the attention weights (training only).</param>
    /// <param name="bias">Give the input and output projections biases.</param>
    /// <param name="batchFirst">Inputs and output are [N, L, E] instead of [L, N, E].</param>
    /// <param name="kdim">Features of key (default E).</param>
    /// <param name="vdim">Features of value (default E).</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    /// <exception cref="ArgumentException">embedDim is not positive or not divisible by numHeads, or dropout is outside [0, 1].</exception>
    public MultiheadAttention(long embedDim, int numHeads, double dropout = 0, bool bias = true, bool batchFirst = false,
        long? kdim = null, long? vdim = null, DType dtype = DType.Float32, Device? device = null)
    {
        if (embedDim <= 0 || numHeads <= 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim and num_heads must be greater than 0, got embed_dim={embedDim} and num_heads={numHeads} instead.");
        if (embedDim % numHeads != 0) throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) must be divisible by num_heads ({numHeads}).");
        if (dropout < 0 || dropout > 1) throw new ArgumentException($"MultiheadAttention: dropout probability has to be between 0 and 1, but got {dropout}.");
        (EmbedDim, NumHeads, DropoutP, BatchFirst) = (embedDim, numHeads, dropout, batchFirst);
        (KDim, VDim) = (kdim ?? embedDim, vdim ?? embedDim);
        if (KDim <= 0 || VDim <= 0) throw new ArgumentException($"MultiheadAttention: kdim and vdim must be positive, got {KDim} and {VDim}.");
        if (QkvSameEmbedDim)
            RegisterParameter("in_proj_weight", Tensor.Empty([3 * embedDim, embedDim], dtype, device));
        else
        {
            RegisterParameter("q_proj_weight", Tensor.Empty([embedDim, embedDim], dtype, device));
            RegisterParameter("k_proj_weight", Tensor.Empty([embedDim, KDim], dtype, device));
            RegisterParameter("v_proj_weight", Tensor.Empty([embedDim, VDim], dtype, device));
        }
        RegisterParameter("in_proj_bias", bias ? Tensor.Empty([3 * embedDim], dtype, device) : null);
        RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, dtype, device));
        ResetParameters();
    }

    /// <summary>E.</summary>
    public long EmbedDim { get; }
    /// <summary>H.</summary>
    public int NumHeads { get; }
    /// <summary>E/H.</summary>
    public long HeadDim => EmbedDim / NumHeads;
    /// <summary>Dropout probability on the attention weights.</summary>
    public double DropoutP { get; }
    /// <summary>Whether inputs are [N, L, E].</summary>
    public bool BatchFirst { get; }
    /// <summary>Features of key.</summary>
    public long KDim { get; }
    /// <summary>Features of value.</summary>
    public long VDim { get; }
    /// <summary>True when kdim = vdim = E (one packed in_proj_weight).</summary>
    public bool QkvSameEmbedDim => KDim == EmbedDim && VDim == EmbedDim;
    /// <summary>Packed q/k/v projection weight [3E, E] (null when kdim/vdim ≠ E).</summary>
    public Tensor? InProjWeight => QkvSameEmbedDim ? GetParameter("in_proj_weight") : null;
    /// <summary>Separate query projection [E, E] (only when kdim/vdim ≠ E).</summary>
    public Tensor? QProjWeight => QkvSameEmbedDim ? null : GetParameter("q_proj_weight");
    /// <summary>Separate key projection [E, kdim] (only when kdim/vdim ≠ E).</summary>
    public Tensor? KProjWeight => QkvSameEmbedDim ? null : GetParameter("k_proj_weight");
    /// <summary>Separate value projection [E, vdim] (only when kdim/vdim ≠ E).</summary>
    public Tensor? VProjWeight => QkvSameEmbedDim ? null : GetParameter("v_proj_weight");
    /// <summary>Packed q/k/v bias [3E] or null.</summary>
    public Tensor? InProjBias => GetParameter("in_proj_bias");
    /// <summary>The output projection (E → E).</summary>
    public Linear OutProj => (Linear)GetModule("out_proj")!;

    /// <summary>PyTorch's _reset_parameters: xavier_uniform on in_proj_weight (or each of q/k/v_proj_weight), zeros on both biases
    /// (out_proj.weight keeps Linear's init).</summary>
    public void ResetParameters()
    {
        if (InProjWeight is { } w) Init.XavierUniform_(w);
        else { Init.XavierUniform_(QProjWeight!); Init.XavierUniform_(KProjWeight!); Init.XavierUniform_(VProjWeight!); }
        if (InProjBias is { } b) Init.Zeros_(b);
        if (OutProj.Bias is { } ob) Init.Zeros_(ob);
    }

    /// <summary>Attention with no masks, returning head-averaged weights (PyTorch's defaults).</summary>
    public override (Tensor Output, Tensor? Weights) Forward((Tensor Query, Tensor Key, Tensor Value) input) =>
        Forward(input.Query, input.Key, input.Value);

    /// <summary>
    /// Attends from query [L, N, E] to key/value [S, N, E] ([N, L, E] / [N, S, E] with batchFirst; [L, E] / [S, E] unbatched).
    /// </summary>
    /// <param name="query">Queries.</param>
    /// <param name="key">Keys.</param>
    /// <param name="value">Values.</param>
    /// <param name="keyPaddingMask">[N, S]: Bool, true = ignore this key (padding); or float, added to the scores.</param>
    /// <param name="needWeights">Also return the attention weights (PyTorch's default true).</param>
    /// <param name="attnMask">[L, S] or [N·H, L, S]: Bool, true = not allowed to attend; or float, added to the scores.</param>
    /// <param name="averageAttnWeights">Weights averaged over heads [N, L, S] (default) or per head [N, H, L, S].</param>
    /// <param name="isCausal">With no attnMask, apply the causal mask (key j &gt; query i masked); with one, a hint only.</param>
    /// <returns>Output shaped like query and the weights (null unless needWeights).</returns>
    /// <exception cref="ArgumentException">Shapes, dtypes or masks do not match.</exception>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false)
    {
        if (query.Dim == 3 && query.Shape[-1] != EmbedDim)
            throw new ArgumentException($"MultiheadAttention: expected query's last dim to be embed_dim {EmbedDim}, got shape {query.Shape}.");
        if (BatchFirst && query.Dim == 3)
        {
            bool self = ReferenceEquals(query, key) && ReferenceEquals(key, value);
            bool kv = ReferenceEquals(key, value);
            query = query.Transpose(0, 1);
            key = self ? query : key.Transpose(0, 1);
            value = self ? query : kv ? key : value.Transpose(0, 1);
        }
        var (o, w) = Functional.MultiHeadAttentionForward(query, key, value, NumHeads, InProjWeight, InProjBias, OutProj.Weight, OutProj.Bias,
            keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal, DropoutP, Training, QProjWeight, KProjWeight, VProjWeight);
        if (BatchFirst && o.Dim == 3) o = o.Transpose(0, 1);
        return (o, w);
    }
}
