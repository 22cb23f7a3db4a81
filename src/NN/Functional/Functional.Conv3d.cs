namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// 3-D cross-correlation (torch.nn.functional.conv3d): x [N, C, D, H, W], weight [O, C/groups, kD, kH, kW], bias [O] →
    /// [N, O, outD, outH, outW], each out size ⌊(in + 2·pad − dil·(k − 1) − 1)/stride⌋ + 1. Composed as Σ over the kD depth
    /// taps of the 2-D convolution primitive on the depth slices that tap reads (depths od·strideD + kd·dilD of the
    /// zero-padded input, batched with N), so it is differentiable to any order and runs on every backend.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks, channel counts or groups do not match, or the output would be empty.</exception>
    public static Tensor Conv3d(Tensor x, Tensor weight, Tensor? bias = null, (int D, int H, int W)? stride = null, (int D, int H, int W)? padding = null,
        (int D, int H, int W)? dilation = null, int groups = 1)
    {
        var (sd, sh, sw) = stride ?? (1, 1, 1); var (pd, ph, pw) = padding ?? (0, 0, 0); var (dd, dh, dw) = dilation ?? (1, 1, 1);
        if (x.Dim != 5 || weight.Dim != 5)
            throw new ArgumentException($"Conv3d: expected input [N, C, D, H, W] and weight [O, C/groups, kD, kH, kW], got {x.Shape} and {weight.Shape}.");
        if (groups < 1 || x.Size(1) != weight.Size(1) * groups || weight.Size(0) % groups != 0)
            throw new ArgumentException($"Conv3d: Given groups={groups}, weight of size {weight.Shape}, expected input {x.Shape} to have {weight.Size(1) * groups} channels, but got {x.Size(1)} channels instead");
        if (bias is not null && (bias.Dim != 1 || bias.Size(0) != weight.Size(0)))
            throw new ArgumentException($"Conv3d: bias must be [{weight.Size(0)}], got {bias.Shape}.");
        if (sd <= 0 || dd <= 0 || pd < 0) throw new ArgumentException($"Conv3d: stride and dilation must be positive and padding non-negative, got stride ({sd}, {sh}, {sw}), padding ({pd}, {ph}, {pw}), dilation ({dd}, {dh}, {dw}).");
        long n = x.Size(0), c = x.Size(1), d = x.Size(2), h = x.Size(3), w = x.Size(4), o = weight.Size(0), kd = weight.Size(2);
        long dp = d + 2 * pd;
        long od = (dp - dd * (kd - 1) - 1) / sd + 1;
        if (dp - dd * (kd - 1) - 1 < 0)
            throw new ArgumentException($"Conv3d: Calculated padded input size per channel: ({dp} x {h + 2 * ph} x {w + 2 * pw}). Kernel size: ({kd} x {weight.Size(3)} x {weight.Size(4)}). Kernel size can't be greater than actual input size");
        var xp = x;
        if (pd > 0)
        {
            var z = Tensor.Zeros([n, c, pd, h, w], x.DType, x.Device);
            xp = Tensor.Cat([z, x, z], 2);
        }
        Tensor? acc = null;
        for (long k = 0; k < kd; k++)
        {
            var depths = new long[od];
            for (long i = 0; i < od; i++) depths[i] = i * sd + k * dd;
            // [N, C, outD, H, W] → [N·outD, C, H, W]: every output depth is one 2-D convolution with the kernel's slice k.
            var slices = xp.IndexSelect(2, Tensor.FromArray(depths).To(x.Device)).Permute(0, 2, 1, 3, 4).Reshape(n * od, c, h, w);
            var wk = weight.Narrow(2, k, 1).Squeeze(2);
            var y = Conv2d(slices, wk, null, (sh, sw), (ph, pw), (dh, dw), groups);
            acc = acc is null ? y : acc + y;
        }
        long oh = acc!.Size(2), ow = acc.Size(3);
        var outp = acc.Reshape(n, od, o, oh, ow).Permute(0, 2, 1, 3, 4);
        return bias is null ? outp : outp + bias.Reshape(1, o, 1, 1, 1);
    }
}
