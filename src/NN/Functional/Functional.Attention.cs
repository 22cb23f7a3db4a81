namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Scaled dot-product attention softmax(q·kᵀ/√d + mask)·v over q [*, L, d], k [*, S, d], v [*, S, dv] → [*, L, dv].
    /// attnMask: Bool (true = attend; false positions get −∞) or float (added), broadcast to [*, L, S]; isCausal masks
    /// j &gt; i; dropoutP applies dropout to the attention weights (training only).
    /// </summary>
    /// <exception cref="ArgumentException">Both attnMask and isCausal given, or mismatched feature sizes.</exception>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null, double dropoutP = 0,
        bool isCausal = false, bool training = true)
    {
        if (Autocast.Cast(AutocastOp.Attention, query, key, value) is { } cast)
            return ScaledDotProductAttention(cast[0]!, cast[1]!, cast[2]!, attnMask, dropoutP, isCausal, training);
        if (attnMask is not null && isCausal) throw new ArgumentException("ScaledDotProductAttention: give either attnMask or isCausal, not both.");
        if (query.Shape[-1] != key.Shape[-1])
            throw new ArgumentException($"ScaledDotProductAttention: query {query.Shape} and key {key.Shape} must share the last dim.");
        long l = query.Shape[-2], s = key.Shape[-2];
        // No mask (or the causal one) and no dropout: the fused primitive (one node, P kept for the backward pass).
        if (attnMask is null && (dropoutP == 0 || !training) && FusedOps.AttentionApplies(query, key, value))
            return FusedOps.Attention(query, key, value, 1.0 / Math.Sqrt(query.Shape[-1]), isCausal);
        var scores = query.MatMul(key.mT) * (1.0 / Math.Sqrt(query.Shape[-1]));
        if (isCausal) attnMask = Tensor.Ones([l, s], DType.Bool, query.Device).Tril();
        if (attnMask is not null)
            scores = attnMask.DType == DType.Bool ? scores.MaskedFill(attnMask.LogicalNot(), double.NegativeInfinity) : scores + attnMask.To(scores.DType);
        var w = scores.Softmax(-1);
        if (dropoutP > 0) w = Dropout(w, dropoutP, training);
        return w.MatMul(value);
    }
}
