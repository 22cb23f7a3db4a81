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
    /// q, k, v through their strides (the permuted views of a fused qkv projection need no copies).
    /// </remarks>
    public void Attention(Tensor q, Tensor k, Tensor v, double scale, bool causal, Tensor probabilities, Tensor output)
    {
        if (ReducedPrecision.Any(q, k, v)) { CompositeKernels.Attention(this, q, k, v, scale, causal, probabilities, output); return; }
        long l = q.Shape[-2], s = k.Shape[-2];
        foreach (var t in AttentionBatches(q, k, v, probabilities, output))
        {
            MatMul(t[0], t[1].mT, t[3]);
            CpuAttention.ScaledSoftmaxRows(t[3], l, s, scale, causal);
            MatMul(t[3], t[2], t[4]);
        }
    }

    /// <inheritdoc/>
    public void AttentionBackward(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale, bool causal,
        Tensor gradQ, Tensor gradK, Tensor gradV)
    {
        if (ReducedPrecision.Any(grad, q, k, v)) { CompositeKernels.AttentionBackward(this, grad, q, k, v, probabilities, scale, causal, gradQ, gradK, gradV); return; }
        // dP is scratch: dispose it here so its pooled array is lent again at once instead of after the next collection.
        using var dp = Tensor.Alloc(probabilities.Shape.ToArray(), probabilities.DType, probabilities.Device);
        foreach (var t in AttentionBatches(q, k, v, probabilities, grad, dp, gradQ, gradK, gradV))
        {
            MatMul(t[4], t[2].mT, t[5]);                       // dP = g·vᵀ
            CpuAttention.ScaledSoftmaxGradRows(t[5], t[3], scale); // dS = P ⊙ (dP − Σ dP ⊙ P)·scale, in place
            MatMul(t[5], t[1], t[6]);                          // dq = dS·k
            MatMul(t[5].mT, t[0], t[7]);                       // dk = dSᵀ·q
            MatMul(t[3].mT, t[4], t[8]);                       // dv = Pᵀ·g
        }
    }

    // The merged 3-D view [Π lead, rows, cols] of t, or null when its leading dims do not form one stride.
    private static Tensor? MergedLeadingDims(Tensor t)
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
    private static List<Tensor[]> AttentionBatches(params Tensor[] ts)
    {
        var merged = ts.Select(MergedLeadingDims).ToArray();
        if (merged.All(m => m is not null)) return [merged!];
        var r = new List<Tensor[]>();
        for (long i = 0; i < ts[0].Shape[0]; i++)
            r.AddRange(AttentionBatches(ts.Select(t => new Tensor(t.storage, t.offset + i * t.strides[0], t.shape[1..], t.strides[1..])).ToArray()));
        return r;
    }
}
