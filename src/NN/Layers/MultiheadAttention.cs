namespace Ember.NN;

/// <summary>
/// Multi-head attention (PyTorch's nn.MultiheadAttention): MultiHead(Q, K, V) = Concat(head₁…head_H)·W_Oᵀ + b_O with
/// headᵢ = softmax(Q·W_Qᵢᵀ·(K·W_Kᵢᵀ)ᵀ/√d + mask)·V·W_Vᵢᵀ, d = embedDim/numHeads.
/// Parameters have PyTorch's names: <c>in_proj_weight</c> [3E, E] (xavier_uniform), <c>in_proj_bias</c> [3E] (zeros),
/// <c>out_proj.weight</c> [E, E] (Linear's default init) and <c>out_proj.bias</c> [E] (zeros).
/// </summary>
/// <remarks>
/// Inputs are [L, N, E] (or [N, L, E] with batchFirst, or unbatched [L, E]). Not supported: kdim/vdim different from
/// embedDim (the separate q/k/v_proj_weight layout), add_bias_kv and add_zero_attn (rarely used; each changes the
/// parameter set), and PyTorch's fused inference fast path (results are the same without it).
/// </remarks>
public sealed class MultiheadAttention : Module<(Tensor Query, Tensor Key, Tensor Value), (Tensor Output, Tensor? Weights)>
{
    /// <summary>Creates the layer with PyTorch's initialization.</summary>
    /// <param name="embedDim">E, the model width of query, key and value.</param>
    /// <param name="numHeads">H; must divide E.</param>
    /// <param name="dropout">Dropout probability on the attention weights (training only).</param>
    /// <param name="bias">Give the input and output projections biases.</param>
    /// <param name="batchFirst">Inputs and output are [N, L, E] instead of [L, N, E].</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    /// <exception cref="ArgumentException">embedDim is not positive or not divisible by numHeads, or dropout is outside [0, 1].</exception>
    public MultiheadAttention(long embedDim, int numHeads, double dropout = 0, bool bias = true, bool batchFirst = false,
        DType dtype = DType.Float32, Device? device = null)
    {
        if (embedDim <= 0 || numHeads <= 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim and num_heads must be greater than 0, got embed_dim={embedDim} and num_heads={numHeads} instead.");
        if (embedDim % numHeads != 0) throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) must be divisible by num_heads ({numHeads}).");
        if (dropout < 0 || dropout > 1) throw new ArgumentException($"MultiheadAttention: dropout probability has to be between 0 and 1, but got {dropout}.");
        (EmbedDim, NumHeads, DropoutP, BatchFirst) = (embedDim, numHeads, dropout, batchFirst);
        RegisterParameter("in_proj_weight", Tensor.Empty([3 * embedDim, embedDim], dtype, device));
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
    /// <summary>Packed q/k/v projection weight [3E, E].</summary>
    public Tensor InProjWeight => GetParameter("in_proj_weight")!;
    /// <summary>Packed q/k/v bias [3E] or null.</summary>
    public Tensor? InProjBias => GetParameter("in_proj_bias");
    /// <summary>The output projection (E → E).</summary>
    public Linear OutProj => (Linear)GetModule("out_proj")!;

    /// <summary>PyTorch's _reset_parameters: xavier_uniform on in_proj_weight, zeros on both biases (out_proj.weight keeps Linear's init).</summary>
    public void ResetParameters()
    {
        Init.XavierUniform_(InProjWeight);
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
            keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal, DropoutP, Training);
        if (BatchFirst && o.Dim == 3) o = o.Transpose(0, 1);
        return (o, w);
    }
}
