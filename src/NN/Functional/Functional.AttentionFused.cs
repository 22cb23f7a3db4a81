using System.Numerics;
using Ember.Cpu;

namespace Ember.NN;

public static partial class Functional
{
    // Fused CPU attention for q [*, L, D], k [*, S, D], v [*, S, Dv] with equal leading dims, no mask or a causal one and
    // no dropout: P = softmax(q·kᵀ·scale (+ causal −∞)) computed in place in one [*, L, S] buffer, out = P·v. The GEMMs
    // read q, k, v through their strides (the permuted views of a fused qkv projection need no copies).
    // Backward: dP = g·vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale, dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·g; under createGraph the
    // same formulas run as tensor ops (recomputing P), so attention stays twice differentiable.
    private sealed class AttentionFunction(double scale, bool causal) : Function
    {
        public override string Name => "ScaledDotProductAttentionBackward";

        internal static bool Applies(Tensor q, Tensor k, Tensor v)
        {
            if (q.Device.Type != DeviceType.Cpu || q.DType is not (DType.Float32 or DType.Float64)) return false;
            if (k.DType != q.DType || v.DType != q.DType || k.Device != q.Device || v.Device != q.Device) return false;
            if (q.Dim < 3 || k.Dim != q.Dim || v.Dim != q.Dim) return false;
            var lq = q.Shape.ToArray()[..^2];
            if (!lq.AsSpan().SequenceEqual(k.Shape.ToArray()[..^2]) || !lq.AsSpan().SequenceEqual(v.Shape.ToArray()[..^2])) return false;
            return k.Shape[-2] == v.Shape[-2] && q.Shape[-2] > 0 && k.Shape[-2] > 0 && q.Numel > 0;
        }

        // The merged 3-D view [Π lead, rows, cols] of t, or null when its leading dims do not form one stride.
        private static Tensor? Merged(Tensor t)
        {
            int lead = t.Dim - 2;
            long nb = 1, bs = 0, expect = -1;
            for (int i = lead - 1; i >= 0; i--)
            {
                if (t.Shape[i] == 1) continue;
                if (expect >= 0 && t.strides[i] != expect) return null;
                if (expect < 0) bs = t.strides[i];
                expect = t.strides[i] * t.Shape[i];
                nb *= t.Shape[i];
            }
            return new Tensor(t.storage, t.offset, [nb, t.Shape[-2], t.Shape[-1]], [bs, t.strides[^2], t.strides[^1]]);
        }

        // Splits same-lead-shape tensors jointly into batches of 3-D views: one batch when every tensor's leading dims
        // merge, else one per index of dim 0 (recursively).
        private static List<Tensor[]> Split(params Tensor[] ts)
        {
            var merged = ts.Select(Merged).ToArray();
            if (merged.All(m => m is not null)) return [merged!];
            var r = new List<Tensor[]>();
            for (long i = 0; i < ts[0].Shape[0]; i++) r.AddRange(Split(ts.Select(t => t.Select(0, i)).ToArray()));
            return r;
        }

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            Tensor q = inputs[0], k = inputs[1], v = inputs[2];
            long l = q.Shape[-2], s = k.Shape[-2], dv = v.Shape[-1];
            var lead = q.Shape.ToArray()[..^2];
            var p = Tensor.Empty([.. lead, l, s], q.DType, q.Device);
            var o = Tensor.Empty([.. lead, l, dv], q.DType, q.Device);
            foreach (var t in Split(q, k, v, p, o))
            {
                q.Backend.MatMul(t[0], t[1].mT, t[3]);
                SoftmaxRows(t[3], l, s);
                q.Backend.MatMul(t[3], t[2], t[4]);
            }
            ctx.SaveForBackward(q, k, v, p);
            return o;
        }

        // In place on a contiguous [b, l, s] block: row i ← softmax(scale·row (−∞ beyond column i when causal)).
        private void SoftmaxRows(Tensor p, long l, long s) => CpuAttention.ScaledSoftmaxRows(p, l, s, scale, causal);

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor g)
        {
            Tensor q = ctx.SavedTensors[0], k = ctx.SavedTensors[1], v = ctx.SavedTensors[2], p = ctx.SavedTensors[3];
            long l = q.Shape[-2], s = k.Shape[-2];
            if (GradMode.IsEnabled)
            {
                // createGraph: the same gradients from tensor ops (P recomputed), differentiable again.
                var scores = q.MatMul(k.mT) * scale;
                if (causal) scores = scores.MaskedFill(Tensor.Ones([l, s], DType.Bool, q.Device).Tril().LogicalNot(), double.NegativeInfinity);
                var pr = scores.Softmax(-1);
                var dpr = g.MatMul(v.mT);
                var ds = pr * (dpr - (dpr * pr).Sum(-1, keepDim: true)) * scale;
                return [ds.MatMul(k), ds.mT.MatMul(q), pr.mT.MatMul(g)];
            }
            var gc = g.Contiguous();
            var dq = Tensor.Empty(q.Shape.ToArray(), q.DType, q.Device);
            var dk = Tensor.Empty(k.Shape.ToArray(), k.DType, k.Device);
            var dvT = Tensor.Empty(v.Shape.ToArray(), v.DType, v.Device);
            var dp = Tensor.Empty(p.Shape.ToArray(), p.DType, p.Device);
            foreach (var t in Split(q, k, v, p, gc, dp, dq, dk, dvT))
            {
                q.Backend.MatMul(t[4], t[2].mT, t[5]);
                SoftmaxGradRows(t[5], t[3]);
                q.Backend.MatMul(t[5], t[1], t[6]);
                q.Backend.MatMul(t[5].mT, t[0], t[7]);
                q.Backend.MatMul(t[3].mT, t[4], t[8]);
            }
            return [dq, dk, dvT];
        }

        // In place: dp ← p ⊙ (dp − Σ dp ⊙ p)·scale, row by row (p and dp contiguous [b, l, s]).
        private void SoftmaxGradRows(Tensor dp, Tensor p) => CpuAttention.ScaledSoftmaxGradRows(dp, p, scale);
    }
}
