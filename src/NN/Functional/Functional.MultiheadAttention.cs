namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Multi-head attention (PyTorch's F.multi_head_attention_forward) over sequence-first inputs: query [L, N, E],
    /// key [S, N, E], value [S, N, E] (or unbatched [L, E], [S, E], [S, E]).
    /// q, k, v = the three row blocks of <paramref name="inProjWeight"/> [3E, E] (and <paramref name="inProjBias"/> [3E])
    /// applied to query, key, value; each is split into <paramref name="numHeads"/> heads of size d = E/H;
    /// per head: softmax(q·kᵀ/√d + mask)·v; the heads are concatenated and projected by outProjWeight [E, E] / outProjBias [E].
    /// </summary>
    /// <param name="query">[L, N, E] or [L, E].</param>
    /// <param name="key">[S, N, E] or [S, E].</param>
    /// <param name="value">[S, N, E] or [S, E].</param>
    /// <param name="numHeads">H; must divide E.</param>
    /// <param name="inProjWeight">Packed q/k/v projection [3E, E], or null when the separate q/k/v weights are given.</param>
    /// <param name="inProjBias">Packed bias [3E] or null.</param>
    /// <param name="outProjWeight">Output projection [E, E].</param>
    /// <param name="outProjBias">Output bias [E] or null.</param>
    /// <param name="keyPaddingMask">[N, S] (or [S] unbatched): Bool, true = this key is ignored; or float, added to the scores.</param>
    /// <param name="needWeights">Also return the attention weights.</param>
    /// <param name="attnMask">[L, S] or [N·H, L, S]: Bool, true = not allowed to attend; or float, added to the scores.</param>
    /// <param name="averageAttnWeights">Return the weights averaged over heads ([N, L, S]) rather than per head ([N, H, L, S]).</param>
    /// <param name="isCausal">When <paramref name="attnMask"/> is null, mask key j &gt; query i (with a mask given, it is only a hint and the mask is used, as in PyTorch).</param>
    /// <param name="dropoutP">Dropout probability on the attention weights (training only).</param>
    /// <param name="training">Whether dropout is active.</param>
    /// <param name="qProjWeight">Separate query projection [E, E] (PyTorch's use_separate_proj_weight, used when kdim/vdim ≠ E).</param>
    /// <param name="kProjWeight">Separate key projection [E, kdim]; key is then [S, N, kdim].</param>
    /// <param name="vProjWeight">Separate value projection [E, vdim]; value is then [S, N, vdim].</param>
    /// <returns>Output [L, N, E] (or [L, E]) and, when <paramref name="needWeights"/>, the weights (after dropout, as PyTorch returns them)
    /// [N, L, S] / [N, H, L, S] (unbatched: [L, S] / [H, L, S]); otherwise null. Fully masked rows give NaN, as in PyTorch.</returns>
    /// <exception cref="ArgumentException">Ranks, sizes, dtypes or mask shapes do not match (the message names them).</exception>
    public static (Tensor Output, Tensor? Weights) MultiHeadAttentionForward(Tensor query, Tensor key, Tensor value, int numHeads,
        Tensor? inProjWeight, Tensor? inProjBias, Tensor outProjWeight, Tensor? outProjBias, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false,
        double dropoutP = 0, bool training = true, Tensor? qProjWeight = null, Tensor? kProjWeight = null, Tensor? vProjWeight = null)
    {
        const string Op = "MultiHeadAttentionForward";
        if (query.Dim is not (2 or 3) || key.Dim != query.Dim || value.Dim != query.Dim)
            throw new ArgumentException($"{Op}: query, key and value must all be 3-D [seq, batch, embed] or all 2-D [seq, embed], got {query.Shape}, {key.Shape}, {value.Shape}.");
        bool selfAttention = ReferenceEquals(query, key) && ReferenceEquals(key, value);
        bool batched = query.Dim == 3;
        if (!batched)
        {
            query = query.Unsqueeze(1); key = selfAttention ? query : key.Unsqueeze(1); value = selfAttention ? query : value.Unsqueeze(1);
            if (keyPaddingMask is not null)
            {
                if (keyPaddingMask.Dim != 1)
                    throw new ArgumentException($"{Op}: for unbatched (2-D) query, expected key_padding_mask to be None or 1-D, got {keyPaddingMask.Shape}.");
                keyPaddingMask = keyPaddingMask.Unsqueeze(0);
            }
        }
        long l = query.Shape[0], n = query.Shape[1], e = query.Shape[2], s = key.Shape[0];
        if (numHeads <= 0 || e % numHeads != 0)
            throw new ArgumentException($"{Op}: embed_dim {e} must be divisible by num_heads {numHeads}.");
        bool separate = qProjWeight is not null || kProjWeight is not null || vProjWeight is not null;
        if (separate == (inProjWeight is not null) || (separate && (qProjWeight is null || kProjWeight is null || vProjWeight is null)))
            throw new ArgumentException($"{Op}: give either in_proj_weight or all three of q_proj_weight, k_proj_weight and v_proj_weight.");
        long kdim = separate ? kProjWeight!.Shape[-1] : e, vdim = separate ? vProjWeight!.Shape[-1] : e;
        if (key.Shape[0] != value.Shape[0] || key.Shape[1] != n || value.Shape[1] != n || key.Shape[2] != kdim || value.Shape[2] != vdim)
            throw new ArgumentException($"{Op}: key {key.Shape} and value {value.Shape} must be [S, {n}, {kdim}] and [S, {n}, {vdim}] for query {query.Shape}.");
        if (separate && (qProjWeight!.Shape != new Shape([e, e]) || kProjWeight!.Shape != new Shape([e, kdim]) || vProjWeight!.Shape != new Shape([e, vdim])))
            throw new ArgumentException($"{Op}: q/k/v_proj_weight {qProjWeight.Shape}/{kProjWeight!.Shape}/{vProjWeight!.Shape} must be [{e}, {e}], [{e}, kdim], [{e}, vdim].");
        if (!separate && inProjWeight!.Shape != new Shape([3 * e, e]))
            throw new ArgumentException($"{Op}: in_proj_weight {inProjWeight.Shape} must be [{3 * e}, {e}] for embed_dim {e}.");
        if (inProjBias is not null && inProjBias.Shape != new Shape([3 * e]))
            throw new ArgumentException($"{Op}: in_proj_bias {inProjBias.Shape} must be [{3 * e}] for embed_dim {e}.");
        if (outProjWeight.Shape != new Shape([e, e]) || (outProjBias is not null && outProjBias.Shape != new Shape([e])))
            throw new ArgumentException($"{Op}: out_proj weight {outProjWeight.Shape} / bias {outProjBias?.Shape.ToString() ?? "None"} must be [{e}, {e}] / [{e}].");
        var wDType = (inProjWeight ?? qProjWeight)!.DType;
        if (query.DType != wDType || key.DType != query.DType || value.DType != query.DType)
            throw new ArgumentException($"{Op}: query/key/value dtypes {query.DType}/{key.DType}/{value.DType} must equal the weights' {wDType}.");
        int h = numHeads;
        long hd = e / h;

        // ---- masks → one additive float mask of shape [1 or N·H, L or 1, S] --------------------------------
        Tensor? mask = null;
        if (attnMask is null && isCausal)
            attnMask = Tensor.Ones([l, s], DType.Bool, query.Device).Triu(1);
        if (attnMask is not null)
        {
            if (attnMask.DType != DType.Bool && !attnMask.IsFloatingPoint)
                throw new ArgumentException($"{Op}: only bool and floating types of attn_mask are supported, got {attnMask.DType}.");
            if (attnMask.Dim == 2)
            {
                if (attnMask.Shape != new Shape([l, s]))
                    throw new ArgumentException($"{Op}: the shape of the 2D attn_mask is {attnMask.Shape}, but should be [{l}, {s}].");
                attnMask = attnMask.Unsqueeze(0);
            }
            else if (attnMask.Dim == 3)
            {
                if (attnMask.Shape != new Shape([n * h, l, s]))
                    throw new ArgumentException($"{Op}: the shape of the 3D attn_mask is {attnMask.Shape}, but should be [{n * h}, {l}, {s}].");
            }
            else throw new ArgumentException($"{Op}: attn_mask's dimension {attnMask.Dim} is not supported (expected 2 or 3).");
            mask = AdditiveMask(attnMask, query);
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Shape != new Shape([n, s]))
                throw new ArgumentException($"{Op}: expected key_padding_mask shape [{n}, {s}], got {keyPaddingMask.Shape}.");
            if (keyPaddingMask.DType != DType.Bool && !keyPaddingMask.IsFloatingPoint)
                throw new ArgumentException($"{Op}: only bool and floating types of key_padding_mask are supported, got {keyPaddingMask.DType}.");
            var kpm = AdditiveMask(keyPaddingMask, query).Reshape(n, 1, 1, s).Expand(n, h, 1, s).Reshape(n * h, 1, s);
            mask = mask is null ? kpm : mask + kpm;
        }

        // ---- projections ----------------------------------------------------------------------------------------
        Tensor q, k, v;
        if (selfAttention && !separate)
        {
            var qkv = Linear(query, inProjWeight!, inProjBias).Chunk(3, -1);
            (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        }
        else
        {
            var w = separate ? [qProjWeight!, kProjWeight!, vProjWeight!] : inProjWeight!.Chunk(3, 0);
            var b = inProjBias?.Chunk(3, 0);
            q = Linear(query, w[0], b?[0]);
            k = Linear(key, w[1], b?[1]);
            v = Linear(value, w[2], b?[2]);
        }
        // [T, N, E] → [N·H, T, d]
        q = q.Reshape(l, n * h, hd).Transpose(0, 1);
        k = k.Reshape(s, n * h, hd).Transpose(0, 1);
        v = v.Reshape(s, n * h, hd).Transpose(0, 1);

        var scores = (q * (1.0 / Math.Sqrt(hd))).MatMul(k.mT);   // [N·H, L, S]
        if (mask is not null) scores = scores + mask;
        var weights = scores.Softmax(-1);
        if (dropoutP > 0) weights = Dropout(weights, dropoutP, training);
        var o = weights.MatMul(v).Transpose(0, 1).Reshape(l, n, e);   // [L, N·H, d] → [L, N, E]
        var output = Linear(o, outProjWeight, outProjBias);

        Tensor? wOut = null;
        if (needWeights)
        {
            wOut = weights.Reshape(n, h, l, s);
            if (averageAttnWeights) wOut = wOut.Mean(1);
            if (!batched) wOut = wOut.Squeeze(0);
        }
        if (!batched) output = output.Squeeze(1);
        return (output, wOut);
    }

    /// <summary>Bool mask (true = masked) → 0/−∞ in the query's dtype; a float mask is converted to that dtype.</summary>
    private static Tensor AdditiveMask(Tensor mask, Tensor like) =>
        mask.DType == DType.Bool
            ? Tensor.Zeros(mask.Shape, like.DType, like.Device).MaskedFill(mask, double.NegativeInfinity)
            : mask.To(like.DType);
}
