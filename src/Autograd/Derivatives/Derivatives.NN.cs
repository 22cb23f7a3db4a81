namespace Ember;

internal static partial class Derivatives
{
    private static void AddNN(Dictionary<OpKind, Derivative> t)
    {
        // y = x·Wᵀ + b: gx = g·W, gW = gᵀ·x (contiguous [out, in]), gb = column sums of g (one fused pass unless recorded).
        t[OpKind.Linear] = new("AddmmBackward", Saves.Inputs, (c, g) =>
        {
            Tensor x = c.Input(0), w = c.Input(1);
            long i = w.Shape[1], o = w.Shape[0];
            var g2 = g.Reshape(-1, o);
            return [c.NeedsGrad[0] ? g.MatMul(w) : null,
                    c.NeedsGrad[1] ? g2.mT.MatMul(x.Reshape(-1, i)) : null,
                    c.NeedsGrad[2] ? (Recording(g) ? g2.Sum(0) : ColumnSum(g2)) : null];
        });

        // Per-row cross-entropy: gx = g·(a·p − (1 − ε)·w[t]·onehot(t) − (ε/C)·w), a = (1 − ε)·w[t] + (ε/C)·W, p = softmax(x),
        // ignored rows 0. One backend kernel from the saved log-sum-exp, or (createGraph) the same formula in tensor ops.
        t[OpKind.CrossEntropy] = new("CrossEntropyLossBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            var x = c.Input(0);
            if (Recording(g)) return [CompositeKernels.CrossEntropyGradient(g, x, f.Target!, f.ClassWeight, f.CrossEntropy)];
            var gx = Tensor.Empty(x.Shape, x.DType, x.Device);
            // g is read through its stride: a mean's or sum's gradient is one element expanded over the rows (no copy).
            x.Backend.CrossEntropyBackward(g, x.Contiguous(), f.Target!, f.ClassWeight, f.CrossEntropy, f.LogSumExp, gx);
            return [gx];
        });

        // out = P·v, P = softmax(q·kᵀ·scale): dP = g·vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale, dq = dS·k, dk = dSᵀ·q,
        // dv = Pᵀ·g. One backend call from the saved P, or (createGraph) tensor ops with P recomputed from q and k.
        t[OpKind.Attention] = new("ScaledDotProductAttentionBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            Tensor q = c.Input(0), k = c.Input(1), v = c.Input(2);
            if (GradMode.IsEnabled)
            {
                var (gq, gk, gv) = CompositeKernels.AttentionGradients(g, q, k, v, CompositeKernels.AttentionProbabilities(q, k, f.Scale, f.Causal), f.Scale);
                return [gq, gk, gv];
            }
            var dq = Tensor.Empty(q.Shape, q.DType, q.Device);
            var dk = Tensor.Empty(k.Shape, k.DType, k.Device);
            var dv = Tensor.Empty(v.Shape, v.DType, v.Device);
            q.Backend.AttentionBackward(g, q, k, v, f.Probabilities, f.Scale, f.Causal, dq, dk, dv);   // any strides: no copy of g
            return [dq, dk, dv];
        });
    }

    // Σ over the rows of g [m, n] through the backend's fused column sum.
    private static Tensor ColumnSum(Tensor g)
    {
        var result = Tensor.Empty([g.Shape[1]], g.DType, g.Device);
        g.Backend.ColumnSum(g.Contiguous(), result);
        return result;
    }
}
