namespace Ember.NN;

/// <summary>How a convolution pads its input.</summary>
public enum PaddingMode
{
    /// <summary>No padding ("valid").</summary>
    Valid,
    /// <summary>Pad so the output has the input's size (stride 1 only); odd totals put the extra zero on the right, like PyTorch.</summary>
    Same,
}

public static partial class Functional
{
    // ---- Conv2d: im2col + batched matmul forward, col2im backward ------------------------------------------

    private sealed class Conv2dFunction(ConvGeometry g, int groups, bool hasBias) : Function
    {
        public override string Name => "ConvolutionBackward";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var x = inputs[0].Contiguous(); var w = inputs[1];
            long n = x.Shape[0], o = w.Shape[0], kk = (long)g.KernelH * g.KernelW, cg = g.Channels / groups, l = (long)g.OutH * g.OutW;
            if (PerSample(x, w) && Cpu.CpuConv.SupportsForward(x, w, g, groups) && (!hasBias || inputs[2].DType == x.DType))
            {
                // Direct kernel (float32, stride 1, no dilation, one group): no columns at all.
                var yd = Tensor.Empty([n, o, g.OutH, g.OutW], x.DType, x.Device);
                Cpu.CpuConv.Forward(x, w.Contiguous(), hasBias ? inputs[2].Contiguous() : null, g, yd);
                ctx.SaveForBackward(x, w);
                ctx.Values["perSample"] = true;
                return yd;
            }
            if (PerSample(x, w))
            {
                // One sample at a time through a reused [C·kH·kW, L] column buffer (cache-sized, no batch-sized
                // allocation): y[i] = bias + W·im2col(x[i]) as one accumulating GEMM per sample. Backward recomputes
                // the columns instead of keeping them.
                var wc = w.Contiguous().Reshape(groups, o / groups, cg * kk);
                var ys = Tensor.Empty([n, o, g.OutH, g.OutW], x.DType, x.Device);
                if (hasBias) x.Backend.Copy(inputs[2].Reshape(1, o, 1).Expand(n, o, l), ys.Reshape(n, o, l));
                long nc = Chunk(n, g.Channels * kk * l);
                var buf = Tensor.Empty([nc, g.Channels * kk, l], x.DType, x.Device);
                for (long i = 0; i < n; i += nc)
                {
                    long m = Math.Min(nc, n - i);
                    var b = buf.Narrow(0, 0, m);
                    x.Backend.Im2Col(x.Narrow(0, i, m), g, b);
                    // groups = 1: one batched GEMM over the chunk with the weight broadcast (batch stride 0).
                    var wb = groups == 1 ? wc.Expand(m, o, cg * kk) : wc;
                    if (groups == 1)
                        x.Backend.MatMul(wb, b, ys.Narrow(0, i, m).Reshape(m, o, l), accumulate: hasBias);
                    else
                        x.Backend.MatMul(wc, b.Reshape(groups, cg * kk, l), ys.Select(0, i).Reshape(groups, o / groups, l), accumulate: hasBias);
                }
                ctx.SaveForBackward(x, w);
                ctx.Values["perSample"] = true;
                return ys;
            }
            var cols = Tensor.Empty([n, g.Channels * kk, l], x.DType, x.Device);
            x.Backend.Im2Col(x, g, cols);
            var y = w.Reshape(1, groups, o / groups, cg * kk).MatMul(cols.Reshape(n, groups, cg * kk, l)).Reshape(n, o, g.OutH, g.OutW);
            if (hasBias) y = y + inputs[2].Reshape(1, o, 1, 1);
            ctx.SaveForBackward(cols, w);
            return y;
        }

        // Samples per chunk: about 1M elements of columns (a few MB, cache-friendly); one sample when groups > 1.
        private long Chunk(long n, long colsPerSample) => groups == 1 ? Math.Clamp((1L << 20) / Math.Max(1, colsPerSample), 1, Math.Max(1, n)) : 1;

        private static bool PerSample(Tensor x, Tensor w) =>
            x.Device.Type == DeviceType.Cpu && x.DType is DType.Float32 or DType.Float64 && w.DType == x.DType;

        private Tensor?[] BackwardPerSample(FunctionContext ctx, Tensor gradOutput)
        {
            var x = ctx.SavedTensors[0]; var w = ctx.SavedTensors[1];
            long n = x.Shape[0], o = w.Shape[0], kk = (long)g.KernelH * g.KernelW, cg = g.Channels / groups, l = (long)g.OutH * g.OutW;
            // The direct kernels read gradOutput through its strides (the gradient of a Sum is an expanded view); the
            // column path below needs it contiguous.
            Tensor? goC = null;
            Tensor Go() => goC ??= gradOutput.Contiguous().Reshape(n, groups, o / groups, l);
            var wc = w.Contiguous().Reshape(groups, o / groups, cg * kk);
            Tensor? gx = ctx.NeedsInputGrad[0] ? Tensor.Empty(x.Shape.ToArray(), x.DType, x.Device) : null;
            Tensor? gw = ctx.NeedsInputGrad[1] ? Tensor.Empty([groups, o / groups, cg * kk], x.DType, x.Device) : null;
            Tensor? gb = null;
            // Direct kernels where they apply (float32, stride 1, no dilation, one group); the rest goes through columns.
            bool gxLeft = gx is not null, gwLeft = gw is not null;
            if (gx is not null && Cpu.CpuConv.SupportsInputGrad(x, w, g, groups))
            {
                Cpu.CpuConv.BackwardInput(gradOutput, w.Contiguous(), g, gx);
                gxLeft = false;
            }
            if (gw is not null && Cpu.CpuConv.SupportsForward(x, w, g, groups))
            {
                if (hasBias && ctx.NeedsInputGrad[2]) gb = Tensor.Empty([o], x.DType, x.Device);
                Cpu.CpuConv.BackwardWeight(gradOutput, x, g, gw.Reshape(o, g.Channels, g.KernelH, g.KernelW), gb);
                gwLeft = false;
            }
            if (gxLeft || gwLeft)
            {
                long nc = Chunk(n, g.Channels * kk * l);
                var buf = Tensor.Empty([nc, g.Channels * kk, l], x.DType, x.Device);
                for (long i = 0; i < n; i += nc)
                {
                    long m = Math.Min(nc, n - i);
                    var b = buf.Narrow(0, 0, m);
                    if (gwLeft)
                    {
                        x.Backend.Im2Col(x.Narrow(0, i, m), g, b);
                        for (long j = 0; j < m; j++)
                            x.Backend.MatMul(Go().Select(0, i + j), b.Select(0, j).Reshape(groups, cg * kk, l).mT, gw!, accumulate: i + j > 0);
                    }
                    if (gxLeft)
                    {
                        if (groups == 1)
                            x.Backend.MatMul(wc.mT.Expand(m, cg * kk, o), Go().Narrow(0, i, m).Reshape(m, o, l), b);
                        else
                            x.Backend.MatMul(wc.mT, Go().Select(0, i), b.Reshape(groups, cg * kk, l));
                        x.Backend.Col2Im(b, g, gx!.Narrow(0, i, m));
                    }
                }
            }
            if (hasBias && ctx.NeedsInputGrad[2]) gb ??= gradOutput.Sum([0, 2, 3]);
            var gwr = gw?.Reshape(o, cg, g.KernelH, g.KernelW);
            return hasBias ? [gx, gwr, gb] : [gx, gwr];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            if (ctx.Values.ContainsKey("perSample") && !GradMode.IsEnabled) return BackwardPerSample(ctx, gradOutput);
            var cols = ctx.SavedTensors[0]; var w = ctx.SavedTensors[1];
            if (ctx.Values.ContainsKey("perSample"))
            {
                // createGraph after a per-sample forward: rebuild the batch's columns (constants, as in the batched path).
                var x = cols;
                cols = Tensor.Empty([x.Shape[0], g.Channels * (long)g.KernelH * g.KernelW, (long)g.OutH * g.OutW], x.DType, x.Device);
                using (NoGradScope.Enter()) x.Backend.Im2Col(x.Detach(), g, cols);
            }
            long n = cols.Shape[0], o = w.Shape[0], kk = (long)g.KernelH * g.KernelW, cg = g.Channels / groups, l = (long)g.OutH * g.OutW;
            var go = gradOutput.Contiguous().Reshape(n, groups, o / groups, l);
            var colsG = cols.Reshape(n, groups, cg * kk, l);
            Tensor? gx = null, gw = null, gb = null;
            if (ctx.NeedsInputGrad[0])
            {
                var gcols = w.Reshape(1, groups, o / groups, cg * kk).mT.MatMul(go).Reshape(n, g.Channels * kk, l).Contiguous();
                gx = Tensor.Empty([n, g.Channels, g.Height, g.Width], w.DType, w.Device);
                w.Backend.Col2Im(gcols, g, gx);
            }
            if (ctx.NeedsInputGrad[1]) gw = go.MatMul(colsG.mT).Sum(0).Reshape(w.Shape.ToArray());
            if (hasBias && ctx.NeedsInputGrad[2]) gb = gradOutput.Sum([0, 2, 3]);
            return hasBias ? [gx, gw, gb] : [gx, gw];
        }
    }

    /// <summary>Pads the last two dims with zeros: (left, right) on W and (top, bottom) on H (differentiable).</summary>
    public static Tensor Pad2d(Tensor x, int left, int right, int top, int bottom)
    {
        Tensor Side(Tensor t, int dim, int before, int after)
        {
            if (before == 0 && after == 0) return t;
            var parts = new List<Tensor>();
            var s = t.Shape.ToArray();
            if (before > 0) { s[dim] = before; parts.Add(Tensor.Zeros(s, t.DType, t.Device)); }
            parts.Add(t);
            if (after > 0) { s[dim] = after; parts.Add(Tensor.Zeros(s, t.DType, t.Device)); }
            return Tensor.Cat(parts, dim);
        }
        return Side(Side(x, x.Dim - 1, left, right), x.Dim - 2, top, bottom);
    }

    /// <summary>
    /// 2-D cross-correlation: x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] → [N, O, outH, outW],
    /// outH = ⌊(H + 2·padH − dilH·(kH − 1) − 1)/strideH⌋ + 1. im2col + matmul, with its own backward (col2im).
    /// </summary>
    /// <exception cref="ArgumentException">Ranks, channel counts or groups do not match, or the output would be empty.</exception>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? dilation = null, int groups = 1, PaddingMode? paddingMode = null)
    {
        var (sh, sw) = stride ?? (1, 1); var (dh, dw) = dilation ?? (1, 1); var (ph, pw) = padding ?? (0, 0);
        if (x.Dim != 4 || weight.Dim != 4)
            throw new ArgumentException($"Conv2d: expected input [N, C, H, W] and weight [O, C/groups, kH, kW], got {x.Shape} and {weight.Shape}.");
        long c = x.Shape[1], o = weight.Shape[0];
        if (groups < 1 || c % groups != 0 || o % groups != 0 || weight.Shape[1] * groups != c)
            throw new ArgumentException($"Conv2d: input {x.Shape} with {c} channels does not match weight {weight.Shape} and groups={groups} (expected weight [O, {c}/{groups}, kH, kW], O divisible by groups).");
        if (bias is not null && (bias.Dim != 1 || bias.Shape[0] != o))
            throw new ArgumentException($"Conv2d: bias must be [{o}], got {bias.Shape}.");
        int kh = (int)weight.Shape[2], kw = (int)weight.Shape[3];
        if (paddingMode == PaddingMode.Same)
        {
            if (sh != 1 || sw != 1) throw new ArgumentException("Conv2d: padding='same' is not supported for strided convolutions");
            int th = dh * (kh - 1), tw = dw * (kw - 1);
            if (th % 2 == 1 || tw % 2 == 1) x = Pad2d(x, 0, tw % 2, 0, th % 2);
            ph = th / 2; pw = tw / 2;
        }
        else if (paddingMode == PaddingMode.Valid) { ph = 0; pw = 0; }
        var g = new ConvGeometry((int)c, (int)x.Shape[2], (int)x.Shape[3], kh, kw, sh, sw, ph, pw, dh, dw);
        if (g.OutH <= 0 || g.OutW <= 0)
            throw new ArgumentException($"Conv2d: input {x.Shape} (padded {ph}, {pw}) is smaller than the dilated kernel {kh}×{kw}; output would be {g.OutH}×{g.OutW}.");
        var fn = new Conv2dFunction(g, groups, bias is not null);
        return bias is null ? fn.Apply(x, weight) : fn.Apply(x, weight, bias);
    }

    /// <summary>1-D cross-correlation: x [N, C, L], weight [O, C/groups, k] → [N, O, outL] (Conv2d with H = 1).</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        PaddingMode? paddingMode = null)
    {
        if (x.Dim != 3 || weight.Dim != 3)
            throw new ArgumentException($"Conv1d: expected input [N, C, L] and weight [O, C/groups, k], got {x.Shape} and {weight.Shape}.");
        return Conv2d(x.Unsqueeze(2), weight.Unsqueeze(2), bias, (1, stride), (0, padding), (1, dilation), groups, paddingMode).Squeeze(2);
    }

    // ---- ConvTranspose2d: the adjoint of Conv2d (matmul + col2im forward, im2col backward) -------------------

    private sealed class ConvTranspose2dFunction(ConvGeometry g, int groups, bool hasBias) : Function
    {
        // g describes the equivalent forward convolution: Channels = outChannels, Height/Width = output size, OutH/OutW = input size.
        public override string Name => "ConvolutionBackward";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var x = inputs[0]; var w = inputs[1];
            long n = x.Shape[0], cin = x.Shape[1], kk = (long)g.KernelH * g.KernelW, coutG = g.Channels / groups, l = (long)g.OutH * g.OutW;
            var cols = w.Reshape(1, groups, cin / groups, coutG * kk).mT.MatMul(x.Reshape(n, groups, cin / groups, l))
                .Reshape(n, g.Channels * kk, l).Contiguous();
            var y = Tensor.Empty([n, g.Channels, g.Height, g.Width], x.DType, x.Device);
            x.Backend.Col2Im(cols, g, y);
            if (hasBias) y = y + inputs[2].Reshape(1, g.Channels, 1, 1);
            ctx.SaveForBackward(x, w);
            return y;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var x = ctx.SavedTensors[0]; var w = ctx.SavedTensors[1];
            long n = x.Shape[0], cin = x.Shape[1], kk = (long)g.KernelH * g.KernelW, coutG = g.Channels / groups, l = (long)g.OutH * g.OutW;
            var go = gradOutput.Contiguous();
            var cols = Tensor.Empty([n, g.Channels * kk, l], go.DType, go.Device);
            go.Backend.Im2Col(go, g, cols);
            var colsG = cols.Reshape(n, groups, coutG * kk, l);
            Tensor? gx = null, gw = null, gb = null;
            if (ctx.NeedsInputGrad[0]) gx = w.Reshape(1, groups, cin / groups, coutG * kk).MatMul(colsG).Reshape(x.Shape.ToArray());
            if (ctx.NeedsInputGrad[1]) gw = x.Reshape(n, groups, cin / groups, l).MatMul(colsG.mT).Sum(0).Reshape(w.Shape.ToArray());
            if (hasBias && ctx.NeedsInputGrad[2]) gb = gradOutput.Sum([0, 2, 3]);
            return hasBias ? [gx, gw, gb] : [gx, gw];
        }
    }

    /// <summary>
    /// Transposed 2-D convolution: x [N, Cin, H, W], weight [Cin, Cout/groups, kH, kW] → [N, Cout, outH, outW],
    /// outH = (H − 1)·strideH − 2·padH + dilH·(kH − 1) + outputPadH + 1.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or groups do not match, or outputPadding ≥ stride and ≥ dilation.</exception>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? outputPadding = null, int groups = 1, (int H, int W)? dilation = null)
    {
        var (sh, sw) = stride ?? (1, 1); var (ph, pw) = padding ?? (0, 0); var (oph, opw) = outputPadding ?? (0, 0); var (dh, dw) = dilation ?? (1, 1);
        if (x.Dim != 4 || weight.Dim != 4 || x.Shape[1] != weight.Shape[0] || groups < 1 || x.Shape[1] % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: expected input [N, Cin, H, W] and weight [Cin, Cout/groups, kH, kW] with Cin divisible by groups={groups}, got {x.Shape} and {weight.Shape}.");
        if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw))
            throw new ArgumentException("ConvTranspose2d: output padding must be smaller than either stride or dilation.");
        int kh = (int)weight.Shape[2], kw = (int)weight.Shape[3];
        long cout = weight.Shape[1] * groups;
        int h = (int)x.Shape[2], w = (int)x.Shape[3];
        int oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1, ow = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
        var g = new ConvGeometry((int)cout, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw);
        if (g.OutH != h || g.OutW != w) throw new ArgumentException($"ConvTranspose2d: inconsistent geometry for input {x.Shape}.");
        var fn = new ConvTranspose2dFunction(g, groups, bias is not null);
        return bias is null ? fn.Apply(x, weight) : fn.Apply(x, weight, bias);
    }

    // ---- pooling ----------------------------------------------------------------------------------------------

    private static int PoolOut(int size, int k, int s, int p, bool ceil)
    {
        int num = size + 2 * p - k;
        int o = (ceil ? (num + s - 1) / s : num / s) + 1;
        if (ceil && (o - 1) * s >= size + p) o--;
        return o;
    }

    private static PoolGeometry Pool(string op, Tensor x, (int, int) k, (int, int)? s, (int, int) p, bool ceil)
    {
        if (x.Dim != 4) throw new ArgumentException($"{op}: expected input [N, C, H, W], got {x.Shape}.");
        var (kh, kw) = k; var (sh, sw) = s ?? k; var (ph, pw) = p;
        if (ph * 2 > kh || pw * 2 > kw) throw new ArgumentException($"{op}: pad should be at most half of kernel size, but got pad=({ph}, {pw}) and kernel_size=({kh}, {kw}).");
        int h = (int)x.Shape[2], w = (int)x.Shape[3];
        int oh = PoolOut(h, kh, sh, ph, ceil), ow = PoolOut(w, kw, sw, pw, ceil);
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"{op}: input {x.Shape} is too small for kernel ({kh}, {kw}); output would be {oh}×{ow}.");
        return new PoolGeometry(h, w, kh, kw, sh, sw, ph, pw, oh, ow);
    }

    private sealed class MaxPool2dFunction(PoolGeometry g) : Function
    {
        public override string Name => "MaxPool2DBackward";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var x = inputs[0].Contiguous();
            long n = x.Shape[0], c = x.Shape[1];
            var y = Tensor.Empty([n, c, g.OutH, g.OutW], x.DType, x.Device);
            if (Cpu.CpuMaxPool2x2.Applies(x, g))
            {
                // 2×2/stride-2 float32 on the CPU: no index tensor; the backward recomputes the argmax from x.
                Cpu.CpuMaxPool2x2.Forward(x, g, y);
                ctx.SaveForBackward(x);
                ctx.Values["recompute"] = true;
                return y;
            }
            var idx = Tensor.Empty([n, c, g.OutH, g.OutW], DType.Int64, x.Device);
            x.Backend.MaxPool2d(x, g, y, idx);
            ctx.SaveForBackward(idx);
            ctx.Values["shape"] = x.Shape.ToArray();
            return y;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            if (ctx.Values.ContainsKey("recompute"))
            {
                var x = ctx.SavedTensors[0];
                var gxr = Tensor.Empty(x.Shape.ToArray(), x.DType, x.Device);
                Cpu.CpuMaxPool2x2.Backward(gradOutput.Contiguous(), x, g, gxr);
                return [gxr];
            }
            var gx = Tensor.Empty((long[])ctx.Values["shape"], gradOutput.DType, gradOutput.Device);
            gradOutput.Backend.MaxPool2dBackward(gradOutput.Contiguous(), ctx.SavedTensors[0], g, gx);
            return [gx];
        }
    }

    /// <summary>Max pooling over [N, C, H, W] windows (padding counts as −∞); stride defaults to the kernel size.</summary>
    /// <exception cref="ArgumentException">Bad rank, padding above half the kernel, or an empty output.</exception>
    public static Tensor MaxPool2d(Tensor x, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null, bool ceilMode = false) =>
        new MaxPool2dFunction(Pool("MaxPool2d", x, kernelSize, stride, padding ?? (0, 0), ceilMode)).Apply(x);

    /// <summary>Max pooling over [N, C, L].</summary>
    public static Tensor MaxPool1d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false) =>
        MaxPool2d(x.Unsqueeze(2), (1, kernelSize), (1, stride ?? kernelSize), (0, padding), ceilMode).Squeeze(2);

    private sealed class AvgPool2dFunction(PoolGeometry g, bool countIncludePad) : Function
    {
        public override string Name => "AvgPool2DBackward";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var x = inputs[0].Contiguous();
            var y = Tensor.Empty([x.Shape[0], x.Shape[1], g.OutH, g.OutW], x.DType, x.Device);
            x.Backend.AvgPool2d(x, g, countIncludePad, y);
            ctx.Values["shape"] = x.Shape.ToArray();
            return y;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var gx = Tensor.Empty((long[])ctx.Values["shape"], gradOutput.DType, gradOutput.Device);
            gradOutput.Backend.AvgPool2dBackward(gradOutput.Contiguous(), g, countIncludePad, gx);
            return [gx];
        }
    }

    /// <summary>Average pooling over [N, C, H, W]; the divisor counts padded positions when countIncludePad.</summary>
    public static Tensor AvgPool2d(Tensor x, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        bool ceilMode = false, bool countIncludePad = true) =>
        new AvgPool2dFunction(Pool("AvgPool2d", x, kernelSize, stride, padding ?? (0, 0), ceilMode), countIncludePad).Apply(x);

    /// <summary>Average pooling over [N, C, L].</summary>
    public static Tensor AvgPool1d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        AvgPool2d(x.Unsqueeze(2), (1, kernelSize), (1, stride ?? kernelSize), (0, padding), ceilMode, countIncludePad).Squeeze(2);

    /// <summary>
    /// Adaptive average pooling of [N, C, H, W] to [N, C, outH, outW]: cell i averages rows ⌊i·H/outH⌋ … ⌈(i+1)·H/outH⌉ − 1
    /// (as PyTorch), computed as P_H · x · P_Wᵀ with averaging matrices.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, (int H, int W) outputSize)
    {
        if (x.Dim != 4) throw new ArgumentException($"AdaptiveAvgPool2d: expected input [N, C, H, W], got {x.Shape}.");
        Tensor M(int inSize, int outSize)
        {
            var m = new double[outSize * inSize];
            for (int i = 0; i < outSize; i++)
            {
                int s = i * inSize / outSize, e = ((i + 1) * inSize + outSize - 1) / outSize;
                for (int j = s; j < e; j++) m[i * inSize + j] = 1.0 / (e - s);
            }
            return Tensor.FromArray(m, outSize, inSize).To(x.DType).To(x.Device);
        }
        var ph = M((int)x.Shape[2], outputSize.H);
        var pw = M((int)x.Shape[3], outputSize.W);
        return ph.MatMul(x).MatMul(pw.T);
    }
}
