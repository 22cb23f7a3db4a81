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
    /// outH = ⌊(H + 2·padH − dilH·(kH − 1) − 1)/strideH⌋ + 1 (the fused primitive <see cref="FusedOps.Conv2d"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Ranks, channel counts or groups do not match, or the output would be empty.</exception>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, Size2? stride = null, Size2? padding = null,
        Size2? dilation = null, int groups = 1, PaddingMode? paddingMode = null)
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
        return FusedOps.Conv2d(x, weight, bias, g, groups);
    }

    /// <summary>1-D cross-correlation: x [N, C, L], weight [O, C/groups, k] → [N, O, outL] (Conv2d with H = 1).</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        PaddingMode? paddingMode = null)
    {
        if (x.Dim != 3 || weight.Dim != 3)
            throw new ArgumentException($"Conv1d: expected input [N, C, L] and weight [O, C/groups, k], got {x.Shape} and {weight.Shape}.");
        return Conv2d(x.Unsqueeze(2), weight.Unsqueeze(2), bias, (1, stride), (0, padding), (1, dilation), groups, paddingMode).Squeeze(2);
    }

    // ---- ConvTranspose2d: the adjoint of Conv2d, i.e. Conv2d's input gradient of x ---------------------------

    /// <summary>
    /// Transposed 2-D convolution: x [N, Cin, H, W], weight [Cin, Cout/groups, kH, kW] → [N, Cout, outH, outW],
    /// outH = (H − 1)·strideH − 2·padH + dilH·(kH − 1) + outputPadH + 1.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or groups do not match, or outputPadding ≥ stride and ≥ dilation.</exception>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, Size2? stride = null, Size2? padding = null,
        Size2? outputPadding = null, int groups = 1, Size2? dilation = null)
    {
        if (Autocast.Cast(AutocastOp.ConvTranspose, x, weight, bias) is { } cast)
            return ConvTranspose2d(cast[0]!, cast[1]!, cast[2], stride, padding, outputPadding, groups, dilation);
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
        // g describes the equivalent forward convolution: Channels = Cout, Height/Width = the output size, OutH/OutW = x's size.
        var y = FusedOps.Conv2dInputGrad(x, weight, g, groups);
        return bias is null ? y : y + bias.Reshape(1, cout, 1, 1);
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

    /// <summary>Max pooling over [N, C, H, W] windows (padding counts as −∞); stride defaults to the kernel size.</summary>
    /// <exception cref="ArgumentException">Bad rank, padding above half the kernel, or an empty output.</exception>
    public static Tensor MaxPool2d(Tensor x, Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false) =>
        FusedOps.MaxPool2d(x, Pool("MaxPool2d", x, kernelSize, stride is { } st ? st : null, padding ?? (0, 0), ceilMode));

    /// <summary>Max pooling over [N, C, L].</summary>
    public static Tensor MaxPool1d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false) =>
        MaxPool2d(x.Unsqueeze(2), (1, kernelSize), (1, stride ?? kernelSize), (0, padding), ceilMode).Squeeze(2);

    /// <summary>Average pooling over [N, C, H, W]; the divisor counts padded positions when countIncludePad.</summary>
    public static Tensor AvgPool2d(Tensor x, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        bool ceilMode = false, bool countIncludePad = true) =>
        FusedOps.AvgPool2d(x, Pool("AvgPool2d", x, kernelSize, stride is { } st ? st : null, padding ?? (0, 0), ceilMode), countIncludePad);

    /// <summary>Average pooling over [N, C, L].</summary>
    public static Tensor AvgPool1d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        AvgPool2d(x.Unsqueeze(2), (1, kernelSize), (1, stride ?? kernelSize), (0, padding), ceilMode, countIncludePad).Squeeze(2);

    /// <summary>
    /// Adaptive average pooling of [N, C, H, W] to [N, C, outH, outW]: cell i averages rows ⌊i·H/outH⌋ … ⌈(i+1)·H/outH⌉ − 1
    /// (as PyTorch), computed as P_H · x · P_Wᵀ with averaging matrices.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, Size2 outputSize)
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
