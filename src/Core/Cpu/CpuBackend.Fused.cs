namespace Ember.Cpu;

// The CPU's fast kernels for IBackend's optional convolution, batch-norm, attention and column-sum members. Each takes
// its direct kernel where that applies (float32, AVX-512, the shapes the kernel was written for) and otherwise runs
// the composite of CompositeKernels, so every case has one meaning.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry geometry, int groups, Tensor y)
    {
        if (ReducedPrecision.Any(x, weight, bias)) { CompositeKernels.Conv2d(this, x, weight, bias, geometry, groups, y); return; }
        // Direct kernel (float32, stride 1, no dilation, one group): no columns at all.
        if (CpuConv.SupportsForward(x, weight, geometry, groups)) CpuConv.Forward(x, weight.ContiguousRaw(), bias, geometry, y);
        else CompositeKernels.Conv2d(this, x, weight, bias, geometry, groups, y);
    }

    /// <inheritdoc/>
    public void Conv2dInputGrad(Tensor grad, Tensor weight, ConvGeometry geometry, int groups, Tensor gradInput)
    {
        if (ReducedPrecision.Any(grad, weight)) { CompositeKernels.Conv2dInputGrad(this, grad, weight, geometry, groups, gradInput); return; }
        // The direct kernel reads grad through its strides (the gradient of a Sum is an expanded view).
        if (CpuConv.SupportsInputGrad(gradInput, weight, geometry, groups)) CpuConv.BackwardInput(grad, weight.ContiguousRaw(), geometry, gradInput);
        else CompositeKernels.Conv2dInputGrad(this, grad, weight, geometry, groups, gradInput);
    }

    /// <inheritdoc/>
    public void Conv2dWeightGrad(Tensor grad, Tensor x, ConvGeometry geometry, int groups, Tensor gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, gradWeight)) { CompositeKernels.Conv2dWeightGrad(this, grad, x, geometry, groups, gradWeight, gradBias); return; }
        // The direct kernel sums the bias gradient in the same pass over grad.
        if (CpuConv.SupportsForward(x, gradWeight, geometry, groups))
            CpuConv.BackwardWeight(grad, x, geometry, gradWeight.RawView([gradWeight.Shape[0], geometry.Channels, geometry.KernelH, geometry.KernelW]), gradBias);
        else CompositeKernels.Conv2dWeightGrad(this, grad, x, geometry, groups, gradWeight, gradBias);
    }

    /// <inheritdoc/>
    public void BatchNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor variance, Tensor rstd)
    {
        if (ReducedPrecision.Any(x, weight, bias)) { CompositeKernels.BatchNorm(this, x, weight, bias, eps, y, mean, variance, rstd); return; }
        RequireFloat("BatchNorm", x);
        int c = (int)x.Shape[1];
        double[] mu = new double[c], v = new double[c], r = new double[c];
        CpuFusedBatchNorm.Forward(x, weight, bias, eps, y, mu, v, r);
        Store(mu, mean); Store(v, variance); Store(r, rstd);
    }

    /// <inheritdoc/>
    public void BatchNormBackward(Tensor grad, Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor? gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, weight)) { CompositeKernels.BatchNormBackward(this, grad, x, weight, mean, rstd, gradX, gradWeight, gradBias); return; }
        RequireFloat("BatchNormBackward", x);
        CpuFusedBatchNorm.Backward(grad, x, weight, Load(mean), Load(rstd), gradX, gradWeight, gradBias);
    }

    // Per-channel statistics travel as Float64 [C] tensors; the kernels take them as arrays.
    private static void Store(double[] values, Tensor t)
    {
        var d = Data<double>(t);
        for (int i = 0; i < values.Length; i++) d[t.offset + i * t.strides[0]] = values[i];
    }

    private static double[] Load(Tensor t)
    {
        var d = Data<double>(t);
        var values = new double[t.Shape[0]];
        for (int i = 0; i < values.Length; i++) values[i] = d[t.offset + i * t.strides[0]];
        return values;
    }

    /// <inheritdoc/>
    public void ColumnSum(Tensor g, Tensor result)
    {
        if (ReducedPrecision.Any(g, result)) { CompositeKernels.ColumnSum(this, g, result); return; }
        if (!CpuFused.ColumnSum(g, result)) CompositeKernels.ColumnSum(this, g, result);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// P = softmax(q·kᵀ·scale (+ causal −∞)) computed in place in the probabilities buffer, output = P·v. The GEMMs read
    /// q, k, v through their strides (the permuted views of a fused qkv projection need no copies). Causal attention runs
    /// its GEMMs in row blocks that skip the masked keys (<see cref="CpuAttention.CausalBlockRows"/>).
    /// </remarks>
    public void Attention(Tensor q, Tensor k, Tensor v, double scale, bool causal, Tensor probabilities, Tensor output)
    {
        // Float16/BFloat16: the float32 kernel on widened copies, P and the output rounded once (as PyTorch's CPU flash
        // attention keeps its scores and probabilities in float32), instead of the composite rounding every GEMM's result.
        if (ReducedPrecision.Any(q, k, v, probabilities, output))
        {
            ReducedPrecision.ViaFloat32(this, [q, k, v], [probabilities, output],
                (i, o) => Attention(i[0]!, i[1]!, i[2]!, scale, causal, o[0]!, o[1]!), overwritten: true);
            return;
        }
        long l = q.Shape[-2], s = k.Shape[-2], bs = CpuAttention.BlockRowsFor(l, causal);
        int split = AttentionBlocks.SplitDim([q, k, v, probabilities, output]);
        Block3 q3 = AttentionBlocks.Merged(q, split), k3 = AttentionBlocks.Merged(k, split), v3 = AttentionBlocks.Merged(v, split);
        Block3 p3 = AttentionBlocks.Merged(probabilities, split), o3 = AttentionBlocks.Merged(output, split);
        void One(long i, long h)
        {
            Block3 At(in Block3 merged, Tensor t) => AttentionBlocks.Window(merged, t, split, i, h);
            Block3 qi = At(q3, q), ki = At(k3, k), vi = At(v3, v), pi = At(p3, probabilities), oi = At(o3, output);
            // Rows [r0, r0 + rows) attend to keys [0, w) only (unblocked: one block of all rows and keys): the scores past w
            // are left unwritten, and the softmax reads each row up to its own last key (≤ w) and zeroes the rest.
            for (long r0 = 0, rows; r0 < l; r0 += rows)
            {
                rows = CpuAttention.BlockLength(r0, l, bs);
                long w = CpuAttention.KeysSeen(r0, rows, s, bs);
                AttentionBlocks.MatMul(qi.RowRange(r0, rows), ki.RowRange(0, w).T, pi.RowRange(r0, rows).ColRange(0, w));
            }
            CpuAttention.ScaledSoftmaxRows(pi, l, s, scale, causal);
            for (long r0 = 0, rows; r0 < l; r0 += rows)
            {
                rows = CpuAttention.BlockLength(r0, l, bs);
                long w = CpuAttention.KeysSeen(r0, rows, s, bs);
                AttentionBlocks.MatMul(pi.RowRange(r0, rows).ColRange(0, w), vi.RowRange(0, w), oi.RowRange(r0, rows));
            }
        }
        CpuAttention.ForTasks(AttentionBlocks.Batches(q, split), q3.Count, l * s * q.Shape[-1], One);
    }

    /// <inheritdoc/>
    public void AttentionBackward(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale, bool causal,
        Tensor gradQ, Tensor gradK, Tensor gradV)
    {
        if (ReducedPrecision.Any(grad, q, k, v, probabilities, gradQ, gradK, gradV))
        {
            ReducedPrecision.ViaFloat32(this, [grad, q, k, v, probabilities], [gradQ, gradK, gradV],
                (i, o) => AttentionBackward(i[0]!, i[1]!, i[2]!, i[3]!, i[4]!, scale, causal, o[0]!, o[1]!, o[2]!), overwritten: true);
            return;
        }
        // dP is scratch: dispose it here so its pooled array is lent again at once instead of after the next collection.
        using var dp = Tensor.Alloc(probabilities.Shape.ToArray(), probabilities.DType, probabilities.Device);
        int split = AttentionBlocks.SplitDim([q, k, v, probabilities, grad, dp, gradQ, gradK, gradV]);
        Block3 q3 = AttentionBlocks.Merged(q, split), k3 = AttentionBlocks.Merged(k, split), v3 = AttentionBlocks.Merged(v, split);
        Block3 p3 = AttentionBlocks.Merged(probabilities, split), g3 = AttentionBlocks.Merged(grad, split), dp3 = AttentionBlocks.Merged(dp, split);
        Block3 dq3 = AttentionBlocks.Merged(gradQ, split), dk3 = AttentionBlocks.Merged(gradK, split), dv3 = AttentionBlocks.Merged(gradV, split);
        long l = p3.Rows, s = p3.Cols, bs = CpuAttention.BlockRowsFor(l, causal);
        void One(long i, long h)
        {
            Block3 At(in Block3 merged, Tensor t) => AttentionBlocks.Window(merged, t, split, i, h);
            Block3 qi = At(q3, q), ki = At(k3, k), vi = At(v3, v), pi = At(p3, probabilities), gi = At(g3, grad), dpi = At(dp3, dp);
            Block3 dqi = At(dq3, gradQ), dki = At(dk3, gradK), dvi = At(dv3, gradV);
            // dP = g·vᵀ in row blocks (unblocked: one block): rows [r0, r0 + rows) have P (hence dS) zero past key w. dP
            // past w is not computed but zeroed, so the row sums Σ dP ⊙ P add the same terms in the same order as over
            // the full rows.
            for (long r0 = 0, rows; r0 < l; r0 += rows)
            {
                rows = CpuAttention.BlockLength(r0, l, bs);
                long w = CpuAttention.KeysSeen(r0, rows, s, bs);
                AttentionBlocks.MatMul(gi.RowRange(r0, rows), vi.RowRange(0, w).T, dpi.RowRange(r0, rows).ColRange(0, w));
                AttentionBlocks.Fill(dpi.RowRange(r0, rows).ColRange(w, s - w), 0);
            }
            CpuAttention.ScaledSoftmaxGradRows(dpi, pi, scale);         // dS = P ⊙ (dP − Σ dP ⊙ P)·scale, in place
            for (long r0 = 0, rows; r0 < l; r0 += rows)                 // dq = dS·k
            {
                rows = CpuAttention.BlockLength(r0, l, bs);
                long w = CpuAttention.KeysSeen(r0, rows, s, bs);
                AttentionBlocks.MatMul(dpi.RowRange(r0, rows).ColRange(0, w), ki.RowRange(0, w), dqi.RowRange(r0, rows));
            }
            // dk = dSᵀ·q, dv = Pᵀ·g. Keys [c0, c0 + cols) get gradient only from query rows c0.. when blocked (P and dS are
            // zero above the diagonal; unblocked the one block starts at row 0); keys no query row reaches (c0 ≥ l, when
            // s > l) get zero.
            for (long c0 = 0, cols; c0 < s; c0 += cols)
            {
                cols = CpuAttention.BlockLength(c0, s, bs);
                if (c0 >= l)
                {
                    AttentionBlocks.Fill(dki.RowRange(c0, cols), 0);
                    AttentionBlocks.Fill(dvi.RowRange(c0, cols), 0);
                    continue;
                }
                var dsT = dpi.RowRange(c0, l - c0).ColRange(c0, cols).T;
                var pT = pi.RowRange(c0, l - c0).ColRange(c0, cols).T;
                AttentionBlocks.MatMul(dsT, qi.RowRange(c0, l - c0), dki.RowRange(c0, cols));
                AttentionBlocks.MatMul(pT, gi.RowRange(c0, l - c0), dvi.RowRange(c0, cols));
            }
        }
        CpuAttention.ForTasks(AttentionBlocks.Batches(q, split), q3.Count, 4 * p3.Rows * p3.Cols * q.Shape[-1], One);
    }
}
