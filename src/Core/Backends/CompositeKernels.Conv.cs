namespace Ember;

public static partial class CompositeKernels
{
    // ---- window tables: every window position as a flat index into a plane with one extra "outside" slot ----------

    // For each (channel, kernel row, kernel column, output position) of im2col, the flat c·H·W + h·W + w it reads, or
    // C·H·W (the appended padding slot) where the window lies in the zero padding. Shape [C·kH·kW · outH·outW].
    private static Tensor ColumnTable(ConvGeometry g, Device device)
    {
        int l = g.OutH * g.OutW, hw = g.Height * g.Width, outside = g.Channels * hw;
        var table = new long[(long)g.Channels * g.KernelH * g.KernelW * l];
        long i = 0;
        for (int c = 0; c < g.Channels; c++)
            for (int ky = 0; ky < g.KernelH; ky++)
                for (int kx = 0; kx < g.KernelW; kx++)
                    for (int oy = 0; oy < g.OutH; oy++)
                        for (int ox = 0; ox < g.OutW; ox++)
                        {
                            int y = oy * g.StrideH - g.PadH + ky * g.DilationH, x = ox * g.StrideW - g.PadW + kx * g.DilationW;
                            table[i++] = y >= 0 && y < g.Height && x >= 0 && x < g.Width ? c * hw + y * g.Width + x : outside;
                        }
        return Tensor.FromArray(table).To(device);
    }

    // For each output position and window element of pooling, the flat h·W + w it reads, or H·W (the appended
    // padding slot). Shape [outH·outW, kH·kW].
    private static Tensor PoolTable(PoolGeometry g, Device device)
    {
        int kk = g.KernelH * g.KernelW, hw = g.Height * g.Width;
        var table = new long[(long)g.OutH * g.OutW * kk];
        long i = 0;
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
                for (int ky = 0; ky < g.KernelH; ky++)
                    for (int kx = 0; kx < g.KernelW; kx++)
                    {
                        int y = oy * g.StrideH - g.PadH + ky, x = ox * g.StrideW - g.PadW + kx;
                        table[i++] = y >= 0 && y < g.Height && x >= 0 && x < g.Width ? y * g.Width + x : hw;
                    }
        return Tensor.FromArray(table).Reshape((long)g.OutH * g.OutW, kk).To(device);
    }

    // [rows, n] → [rows, n + 1] with the extra column filled with value (the padding slot the tables point at).
    private static Tensor WithOutsideSlot(Tensor rows, double value) =>
        Tensor.Cat([rows, Tensor.Full([rows.Shape[0], 1], value, rows.DType, rows.Device)], 1);

    /// <summary>See <see cref="IBackend.Im2Col"/>.</summary>
    public static void Im2Col(IBackend backend, Tensor x, ConvGeometry geometry, Tensor columns)
    {
        if (ReducedPrecision.Any(x, columns)) { ReducedPrecision.ViaFloat32(backend, [x], [columns], (i, o) => backend.Im2Col(i[0]!, geometry, o[0]!), overwritten: true); return; }
        using var _ = RecordingOff.Enter();
        long n = x.Shape[0];
        var planes = WithOutsideSlot(x.Reshape(n, -1), 0);
        Write(columns, planes.IndexSelect(1, ColumnTable(geometry, x.Device)).Reshape(columns.Shape.ToArray()));
    }

    /// <summary>See <see cref="IBackend.Col2Im"/>.</summary>
    public static void Col2Im(IBackend backend, Tensor columns, ConvGeometry geometry, Tensor x)
    {
        if (ReducedPrecision.Any(columns, x)) { ReducedPrecision.ViaFloat32(backend, [columns], [x], (i, o) => backend.Col2Im(i[0]!, geometry, o[0]!), overwritten: true); return; }
        using var _ = RecordingOff.Enter();
        long n = x.Shape[0], size = x.Numel / Math.Max(1, n);
        var sums = Tensor.Zeros([n, size + 1], x.DType, x.Device)
            .IndexAdd(1, ColumnTable(geometry, x.Device), columns.Reshape(n, -1));
        Write(x, sums.Narrow(1, 0, size).Reshape(x.Shape.ToArray()));
    }

    // Elements of the per-sample weight-gradient products Conv2dWeightGrad sums at once (16 MB of float32).
    private const long ProductBudget = 1L << 22;

    /// <summary>
    /// Column elements per im2col chunk where the caller names no budget: 1M (a few MB, cache-friendly). Internal and
    /// settable so that tests run a small batch as several chunks instead of hundreds of MB of input.
    /// </summary>
    internal static long DefaultColumnBudget = 1L << 20;

    // Samples per im2col chunk: about `budget` column elements (DefaultColumnBudget where null); one sample when groups > 1.
    private static long Chunk(long n, long columnsPerSample, int groups, long? budget = null) =>
        groups == 1 ? Math.Clamp((budget ?? DefaultColumnBudget) / Math.Max(1, columnsPerSample), 1, Math.Max(1, n)) : 1;

    /// <summary>
    /// See <see cref="IBackend.Conv2d"/>: a chunk of samples at a time through a reused [chunk, C·kH·kW, L] column
    /// buffer, y = bias + W·im2col(x) as one accumulating batched GEMM per chunk (the weight broadcast over the chunk).
    /// </summary>
    public static void Conv2d(IBackend backend, Tensor x, Tensor weight, Tensor? bias, ConvGeometry g, int groups, Tensor y)
    {
        if (ReducedPrecision.Any(x, weight, bias, y)) { ReducedPrecision.ViaFloat32(backend, [x, weight, bias], [y], (i, o) => backend.Conv2d(i[0]!, i[1]!, i[2], g, groups, o[0]!), overwritten: true); return; }
        Conv2dInDType(backend, x, weight, bias, g, groups, y);
    }

    /// <summary>
    /// <see cref="Conv2d(IBackend, Tensor, Tensor, Tensor?, ConvGeometry, int, Tensor)"/> in the tensors' own dtype, Float16
    /// and BFloat16 included (no float32 copies): for a backend whose <see cref="IBackend.Im2Col"/> and
    /// <see cref="IBackend.MatMul"/> take 16-bit storage (the GEMM accumulates in float32 and rounds y once; a bias
    /// enters the GEMM's accumulation already in y's dtype). <paramref name="columnBudget"/>: column elements per chunk of
    /// samples (a GPU takes larger chunks: fewer launches; null: <see cref="DefaultColumnBudget"/>).
    /// </summary>
    public static void Conv2dInDType(IBackend backend, Tensor x, Tensor weight, Tensor? bias, ConvGeometry g, int groups, Tensor y,
        long? columnBudget = null)
    {
        using var _ = RecordingOff.Enter();
        long n = x.Shape[0], o = weight.Shape[0], kk = (long)g.KernelH * g.KernelW, cg = g.Channels / groups, l = (long)g.OutH * g.OutW;
        var wc = weight.Contiguous().Reshape(groups, o / groups, cg * kk);
        if (bias is not null) Write(y.Reshape(n, o, l), bias.Reshape(1, o, 1).Expand(n, o, l));
        long nc = Chunk(n, g.Channels * kk * l, groups, columnBudget);
        var buf = Tensor.Empty([nc, g.Channels * kk, l], x.DType, x.Device);
        for (long i = 0; i < n; i += nc)
        {
            long m = Math.Min(nc, n - i);
            var b = buf.Narrow(0, 0, m);
            backend.Im2Col(x.Narrow(0, i, m), g, b);
            if (groups == 1)
                backend.MatMul(wc.Expand(m, o, cg * kk), b, y.Narrow(0, i, m).Reshape(m, o, l), accumulate: bias is not null);
            else
                backend.MatMul(wc, b.Reshape(groups, cg * kk, l), y.Select(0, i).Reshape(groups, o / groups, l), accumulate: bias is not null);
        }
    }

    /// <summary>See <see cref="IBackend.Conv2dInputGrad"/>: per chunk, columns = Wᵀ·grad, then col2im.</summary>
    public static void Conv2dInputGrad(IBackend backend, Tensor grad, Tensor weight, ConvGeometry g, int groups, Tensor gradInput)
    {
        if (ReducedPrecision.Any(grad, weight, gradInput)) { ReducedPrecision.ViaFloat32(backend, [grad, weight], [gradInput], (i, o) => backend.Conv2dInputGrad(i[0]!, i[1]!, g, groups, o[0]!), overwritten: true); return; }
        Conv2dInputGradInDType(backend, grad, weight, g, groups, gradInput);
    }

    /// <summary>
    /// <see cref="Conv2dInputGrad(IBackend, Tensor, Tensor, ConvGeometry, int, Tensor)"/> in the tensors' own dtype, as
    /// <see cref="Conv2dInDType"/>. For 16-bit tensors the GEMM's columns are rounded to the dtype before col2im sums the
    /// (at most kH·kW) entries of each input element in float32 and rounds again. <paramref name="columnBudget"/> as there.
    /// </summary>
    public static void Conv2dInputGradInDType(IBackend backend, Tensor grad, Tensor weight, ConvGeometry g, int groups, Tensor gradInput,
        long? columnBudget = null)
    {
        using var _ = RecordingOff.Enter();
        long n = gradInput.Shape[0], o = weight.Shape[0], kk = (long)g.KernelH * g.KernelW, cg = g.Channels / groups, l = (long)g.OutH * g.OutW;
        var wc = weight.Contiguous().Reshape(groups, o / groups, cg * kk);
        // A view where grad's strides allow (MatMul reads any strides): the gradient of a Sum is an expanded view, and
        // the weight gradient would copy the same 12.8 MB again for a 64×64×28×28 convolution.
        var go = grad.Reshape(n, groups, o / groups, l);
        long nc = Chunk(n, g.Channels * kk * l, groups, columnBudget);
        var buf = Tensor.Empty([nc, g.Channels * kk, l], gradInput.DType, gradInput.Device);
        for (long i = 0; i < n; i += nc)
        {
            long m = Math.Min(nc, n - i);
            var b = buf.Narrow(0, 0, m);
            if (groups == 1)
                backend.MatMul(wc.mT.Expand(m, cg * kk, o), go.Narrow(0, i, m).Reshape(m, o, l), b);
            else
                backend.MatMul(wc.mT, go.Select(0, i), b.Reshape(groups, cg * kk, l));
            backend.Col2Im(b, g, gradInput.Narrow(0, i, m));
        }
    }

    /// <summary>
    /// See <see cref="IBackend.Conv2dWeightGrad"/>: gradWeight = Σ over samples of grad·im2col(x)ᵀ. Per chunk of samples
    /// one batched GEMM of the per-sample products into a [chunk, O, C·kH·kW] buffer and one sum over the chunk (a
    /// GPU runs two launches per chunk instead of one GEMM per sample: 128 of a small CNN's 457 launches per step);
    /// per sample, accumulating into gradWeight, where the buffer would exceed <see cref="ProductBudget"/> elements or
    /// the convolution is grouped.
    /// </summary>
    public static void Conv2dWeightGrad(IBackend backend, Tensor grad, Tensor x, ConvGeometry g, int groups, Tensor gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, gradWeight, gradBias)) { ReducedPrecision.ViaFloat32(backend, [grad, x], [gradWeight, gradBias], (i, o) => backend.Conv2dWeightGrad(i[0]!, i[1]!, g, groups, o[0]!, o[1]), overwritten: true); return; }
        using var _ = RecordingOff.Enter();
        long n = x.Shape[0], o = gradWeight.Shape[0], kk = (long)g.KernelH * g.KernelW, cg = g.Channels / groups, l = (long)g.OutH * g.OutW;
        var go = grad.Reshape(n, groups, o / groups, l);   // a view where the strides allow (see Conv2dInputGrad)
        var gw = gradWeight.Reshape(groups, o / groups, cg * kk);
        long nc = Chunk(n, g.Channels * kk * l, groups);
        var buf = Tensor.Empty([nc, g.Channels * kk, l], x.DType, x.Device);
        // One products buffer for every chunk (the last, shorter chunk uses its front).
        var products = groups == 1 && nc > 1 && nc * o * kk * cg <= ProductBudget ? Tensor.Empty([nc, o, cg * kk], x.DType, x.Device) : null;
        if (n == 0) gw.Zero_();
        for (long i = 0; i < n; i += nc)
        {
            long m = Math.Min(nc, n - i);
            var b = buf.Narrow(0, 0, m);
            backend.Im2Col(x.Narrow(0, i, m), g, b);
            if (products is not null && m > 1)
            {
                var pm = products.Narrow(0, 0, m);
                backend.MatMul(go.Narrow(0, i, m).Reshape(m, o, l), b.mT, pm);
                // The first chunk's sum over its samples goes straight into gradWeight (the [o·cg·kk, m] view of the
                // products, as Sum(0) reduces it), with no copy after.
                if (i == 0 && gradWeight.IsContiguous) backend.Reduce(ReduceOp.Sum, pm.Reshape(m, o * cg * kk).mT, gradWeight.Reshape(o * cg * kk), null);
                else
                {
                    var sum = pm.Sum(0).Reshape(gw.Shape.ToArray());
                    if (i == 0) Write(gw, sum);
                    else backend.Binary(BinaryOp.Add, gw, sum, gw);
                }
            }
            else
                for (long j = 0; j < m; j++)
                    backend.MatMul(go.Select(0, i + j), b.Select(0, j).Reshape(groups, cg * kk, l).mT, gw, accumulate: i + j > 0);
        }
        if (gradBias is not null) BiasGradient(backend, grad, gradBias);
    }

    // Σ grad over N, OH, OW into gradBias [O]: two reductions (over each sample's positions, then over the samples) that
    // write gradBias themselves where it is contiguous, instead of a sum and its copy.
    private static void BiasGradient(IBackend backend, Tensor grad, Tensor gradBias)
    {
        long n = grad.Shape[0], o = grad.Shape[1], l = grad.Numel / Math.Max(1, n * o);
        if (n * o * l == 0 || !gradBias.IsContiguous || !grad.IsContiguous)
        {
            Write(gradBias, grad.Sum([0, 2, 3]));
            return;
        }
        var perSample = Tensor.Empty([n, o], grad.DType, grad.Device);
        backend.Reduce(ReduceOp.Sum, grad.Reshape(n * o, l), perSample.Reshape(n * o), null);
        backend.Reduce(ReduceOp.Sum, perSample.mT, gradBias, null);
    }

    /// <summary>See <see cref="IBackend.MaxPool2d"/>: every window gathered through the window table, then a max with index.</summary>
    public static void MaxPool2d(IBackend backend, Tensor x, PoolGeometry g, Tensor result, Tensor? indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        // Narrow: this composite in float32 (not the backend's member, whose fast kernel may write no indices).
        if (ReducedPrecision.Any(x, result)) { ReducedPrecision.ViaFloat32(backend, [x], [result, indices], (i, o) => MaxPool2d(backend, i[0]!, g, o[0]!, o[1]), overwritten: true); return; }
        using var _ = RecordingOff.Enter();
        long planes = x.Numel / ((long)g.Height * g.Width), l = (long)g.OutH * g.OutW;
        var table = PoolTable(g, x.Device);
        var windows = WithOutsideSlot(x.Reshape(planes, -1), double.NegativeInfinity)
            .IndexSelect(1, table.Reshape(-1)).Reshape(planes, l, table.Shape[1]);
        var (values, at) = windows.Max(2, keepDim: true);
        Write(result, values.Reshape(result.Shape.ToArray()));
        Write(indices, table.Expand(planes, l, table.Shape[1]).Gather(2, at).Reshape(indices.Shape.ToArray()));
    }

    /// <summary>See <see cref="IBackend.MaxPool2dBackward"/>: grad scattered (added) at the saved indices.</summary>
    public static void MaxPool2dBackward(IBackend backend, Tensor grad, Tensor? indices, PoolGeometry g, Tensor gradInput)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (ReducedPrecision.Any(grad, gradInput)) { ReducedPrecision.ViaFloat32(backend, [grad, indices], [gradInput], (i, o) => MaxPool2dBackward(backend, i[0]!, i[1]!, g, o[0]!)); return; }
        using var _ = RecordingOff.Enter();
        long hw = (long)g.Height * g.Width, planes = gradInput.Numel / hw, l = (long)g.OutH * g.OutW;
        var sums = Tensor.Zeros([planes, hw], gradInput.DType, gradInput.Device)
            .ScatterAdd(1, indices.Reshape(planes, l), grad.Contiguous().Reshape(planes, l));
        Write(gradInput, sums.Reshape(gradInput.Shape.ToArray()));
    }

    // 1/divisor per output position of average pooling (PyTorch's rule: the window clipped to the padded input, or to the
    // input itself without countIncludePad), shape [outH·outW, 1].
    private static Tensor PoolScale(PoolGeometry g, bool countIncludePad, DType dtype, Device device)
    {
        var scale = new double[g.OutH * g.OutW];
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                int ys = oy * g.StrideH - g.PadH, xs = ox * g.StrideW - g.PadW;
                int ye = Math.Min(ys + g.KernelH, g.Height + g.PadH), xe = Math.Min(xs + g.KernelW, g.Width + g.PadW);
                int padded = (ye - ys) * (xe - xs);
                int inside = (Math.Min(ye, g.Height) - Math.Max(ys, 0)) * (Math.Min(xe, g.Width) - Math.Max(xs, 0));
                int div = countIncludePad ? padded : inside;
                scale[oy * g.OutW + ox] = div > 0 ? 1.0 / div : 0;
            }
        return Tensor.FromArray(scale).Reshape(-1, 1).To(dtype).To(device);
    }

    /// <summary>See <see cref="IBackend.AvgPool2d"/>.</summary>
    public static void AvgPool2d(IBackend backend, Tensor x, PoolGeometry g, bool countIncludePad, Tensor result)
    {
        if (ReducedPrecision.Any(x, result)) { ReducedPrecision.ViaFloat32(backend, [x], [result], (i, o) => backend.AvgPool2d(i[0]!, g, countIncludePad, o[0]!)); return; }
        using var _ = RecordingOff.Enter();
        long planes = x.Numel / ((long)g.Height * g.Width), l = (long)g.OutH * g.OutW;
        var table = PoolTable(g, x.Device);
        var windows = WithOutsideSlot(x.Reshape(planes, -1), 0)
            .IndexSelect(1, table.Reshape(-1)).Reshape(planes, l, table.Shape[1]);
        var mean = windows.Sum(2) * PoolScale(g, countIncludePad, x.DType, x.Device).Reshape(1, l);
        Write(result, mean.Reshape(result.Shape.ToArray()));
    }

    /// <summary>See <see cref="IBackend.AvgPool2dBackward"/>.</summary>
    public static void AvgPool2dBackward(IBackend backend, Tensor grad, PoolGeometry g, bool countIncludePad, Tensor gradInput)
    {
        if (ReducedPrecision.Any(grad, gradInput)) { ReducedPrecision.ViaFloat32(backend, [grad], [gradInput], (i, o) => backend.AvgPool2dBackward(i[0]!, g, countIncludePad, o[0]!)); return; }
        using var _ = RecordingOff.Enter();
        long hw = (long)g.Height * g.Width, planes = gradInput.Numel / hw, l = (long)g.OutH * g.OutW;
        var table = PoolTable(g, gradInput.Device);
        long kk = table.Shape[1];
        var share = (grad.Contiguous().Reshape(planes, l, 1) * PoolScale(g, countIncludePad, grad.DType, grad.Device).Unsqueeze(0))
            .Expand(planes, l, kk).Reshape(planes, l * kk);
        var sums = Tensor.Zeros([planes, hw + 1], gradInput.DType, gradInput.Device).IndexAdd(1, table.Reshape(-1), share);
        Write(gradInput, sums.Narrow(1, 0, hw).Reshape(gradInput.Shape.ToArray()));
    }

    /// <summary>
    /// Attention's probabilities P = softmax(q·kᵀ·scale) over the last dim, −∞ above the diagonal when causal, in tensor
    /// ops: recorded when grad mode is on (Ember.Autograd's createGraph formula for attention uses it).
    /// </summary>
    public static Tensor AttentionProbabilities(Tensor q, Tensor k, double scale, bool causal)
    {
        var scores = q.MatMul(k.mT) * scale;
        if (causal)
            scores = scores.MaskedFill(Tensor.Ones([q.Shape[-2], k.Shape[-2]], DType.Bool, q.Device).Tril().LogicalNot(), double.NegativeInfinity);
        return scores.Softmax(-1);
    }

    /// <summary>
    /// Attention's gradients from grad and P in tensor ops: dP = g·vᵀ, dS = P ⊙ (dP − Σ dP ⊙ P)·scale, then
    /// (dS·k, dSᵀ·q, Pᵀ·g). Recorded when grad mode is on (Ember.Autograd's createGraph formula uses it).
    /// </summary>
    public static (Tensor GradQ, Tensor GradK, Tensor GradV) AttentionGradients(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale)
    {
        var p = probabilities;
        var dp = grad.MatMul(v.mT);
        var ds = p * (dp - (dp * p).Sum(-1, keepDim: true)) * scale;
        return (ds.MatMul(k), ds.mT.MatMul(q), p.mT.MatMul(grad));
    }

    /// <summary>See <see cref="IBackend.Attention"/>.</summary>
    public static void Attention(IBackend backend, Tensor q, Tensor k, Tensor v, double scale, bool causal, Tensor probabilities, Tensor output)
    {
        if (ReducedPrecision.Any(q, k, v, probabilities, output)) { ReducedPrecision.ViaFloat32(backend, [q, k, v], [probabilities, output], (i, o) => backend.Attention(i[0]!, i[1]!, i[2]!, scale, causal, o[0]!, o[1]!), overwritten: true); return; }
        using var _ = RecordingOff.Enter();
        var p = AttentionProbabilities(q, k, scale, causal);
        Write(probabilities, p);
        Write(output, p.MatMul(v));
    }

    /// <summary>
    /// See <see cref="IBackend.AttentionBackward"/>. The composite reads the mask from the zeros of P, so
    /// <paramref name="causal"/> changes nothing here but is passed on to the float32 member for narrow dtypes.
    /// </summary>
    public static void AttentionBackward(IBackend backend, Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale,
        bool causal, Tensor gradQ, Tensor gradK, Tensor gradV)
    {
        if (ReducedPrecision.Any(grad, q, k, v, probabilities, gradQ, gradK, gradV)) { ReducedPrecision.ViaFloat32(backend, [grad, q, k, v, probabilities], [gradQ, gradK, gradV], (i, o) => backend.AttentionBackward(i[0]!, i[1]!, i[2]!, i[3]!, i[4]!, scale, causal, o[0]!, o[1]!, o[2]!), overwritten: true); return; }
        using var _ = RecordingOff.Enter();
        var (gq, gk, gv) = AttentionGradients(grad, q, k, v, probabilities, scale);
        Write(gradQ, gq);
        Write(gradK, gk);
        Write(gradV, gv);
    }
}
