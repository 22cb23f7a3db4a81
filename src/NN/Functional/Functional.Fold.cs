namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Extracts sliding blocks (torch.nn.functional.unfold, im2col): x [N, C, H, W] → [N, C·kH·kW, L], L the number of
    /// block positions; row c·kH·kW + i·kW + j holds input channel c at kernel offset (i, j). An index-select on the
    /// padded, flattened input: differentiable (its gradient is <see cref="Fold"/>) and on every backend.
    /// </summary>
    /// <exception cref="ArgumentException">x is not [N, C, H, W] / [C, H, W], or no block fits.</exception>
    public static Tensor Unfold(Tensor x, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null)
    {
        bool unbatched = x.Dim == 3;
        if (x.Dim != 4 && !unbatched) throw new ArgumentException($"Unfold: Input Error: Only 3D or 4D input Tensors are supported (got {x.Dim}D, shape {x.Shape})");
        var x4 = unbatched ? x.Unsqueeze(0) : x;
        long n = x4.Size(0), c = x4.Size(1);
        var g = BlockGeometry("Unfold", x4.Size(2), x4.Size(3), kernelSize, dilation, padding, stride);
        var padded = Pad2d(x4, g.PW, g.PW, g.PH, g.PH).Reshape(n, c, g.Hp * g.Wp);
        var cols = padded.IndexSelect(2, BlockIndex(g, x.Device)).Reshape(n, c * g.K, g.L);
        return unbatched ? cols.Squeeze(0) : cols;
    }

    /// <summary>
    /// Sums sliding blocks into an image (torch.nn.functional.fold, col2im), the adjoint of <see cref="Unfold"/>:
    /// cols [N, C·kH·kW, L] → [N, C, H, W] with overlapping entries added. An index-add into the padded image.
    /// </summary>
    /// <exception cref="ArgumentException">cols is not [N, C·kH·kW, L] / [C·kH·kW, L] with L the block count of outputSize.</exception>
    public static Tensor Fold(Tensor cols, (int H, int W) outputSize, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null)
    {
        bool unbatched = cols.Dim == 2;
        if (cols.Dim != 3 && !unbatched) throw new ArgumentException($"Fold: Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {cols.Dim}D, shape {cols.Shape})");
        var c3 = unbatched ? cols.Unsqueeze(0) : cols;
        var g = BlockGeometry("Fold", outputSize.H, outputSize.W, kernelSize, dilation, padding, stride);
        if (c3.Size(1) % g.K != 0)
            throw new ArgumentException($"Fold: Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={c3.Size(1)} and kernel_size=({kernelSize.H}, {kernelSize.W})");
        if (c3.Size(2) != g.L)
            throw new ArgumentException($"Fold: Given output_size=({outputSize.H}, {outputSize.W}), kernel_size=({kernelSize.H}, {kernelSize.W}), expected size of input's dimension 2 to match the calculated number of sliding blocks {g.L}, but got input.size(2)={c3.Size(2)}.");
        long n = c3.Size(0), c = c3.Size(1) / g.K;
        var img = Tensor.Zeros([n, c, g.Hp * g.Wp], cols.DType, cols.Device)
            .IndexAdd(2, BlockIndex(g, cols.Device), c3.Reshape(n, c, g.K * g.L))
            .Reshape(n, c, g.Hp, g.Wp)
            .Narrow(2, g.PH, outputSize.H).Narrow(3, g.PW, outputSize.W);
        return unbatched ? img.Squeeze(0) : img;
    }

    private readonly record struct Blocks(long Hp, long Wp, int KH, int KW, int DH, int DW, int SH, int SW, int PH, int PW, long OH, long OW)
    {
        public long K => (long)KH * KW;
        public long L => OH * OW;
    }

    private static Blocks BlockGeometry(string op, long h, long w, (int H, int W) kernel, (int H, int W)? dilation, (int H, int W)? padding, (int H, int W)? stride)
    {
        var (dh, dw) = dilation ?? (1, 1); var (ph, pw) = padding ?? (0, 0); var (sh, sw) = stride ?? (1, 1);
        if (kernel.H <= 0 || kernel.W <= 0 || dh <= 0 || dw <= 0 || sh <= 0 || sw <= 0 || ph < 0 || pw < 0)
            throw new ArgumentException($"{op}: kernel size, dilation and stride must be positive and padding non-negative, got kernel ({kernel.H}, {kernel.W}), dilation ({dh}, {dw}), padding ({ph}, {pw}), stride ({sh}, {sw}).");
        long oh = (h + 2 * ph - dh * (kernel.H - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kernel.W - 1) - 1) / sw + 1;
        if (h + 2 * ph - dh * (kernel.H - 1) - 1 < 0 || w + 2 * pw - dw * (kernel.W - 1) - 1 < 0)
            throw new ArgumentException($"{op}: Given input with spatial size ({h}, {w}), kernel_size=({kernel.H}, {kernel.W}), dilation=({dh}, {dw}), padding=({ph}, {pw}), calculated shape of the array of sliding blocks as ({oh}, {ow}), but its components must be at least one.");
        return new Blocks(h + 2 * ph, w + 2 * pw, kernel.H, kernel.W, dh, dw, sh, sw, ph, pw, oh, ow);
    }

    // Flat index into the padded H·W plane of kernel offset k (row-major over kH, kW) at block l (row-major over oh, ow).
    private static Tensor BlockIndex(Blocks g, Device device)
    {
        var idx = new long[g.K * g.L];
        int p = 0;
        for (int i = 0; i < g.KH; i++)
            for (int j = 0; j < g.KW; j++)
                for (long a = 0; a < g.OH; a++)
                    for (long b = 0; b < g.OW; b++)
                        idx[p++] = (a * g.SH + (long)i * g.DH) * g.Wp + b * g.SW + (long)j * g.DW;
        return Tensor.FromArray(idx).To(device);
    }

    /// <summary>
    /// Rearranges [*, C·r², H, W] into [*, C, H·r, W·r] (torch.nn.functional.pixel_shuffle, sub-pixel convolution):
    /// out[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]. A reshape and permute.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 3 dims, or channels not divisible by r².</exception>
    public static Tensor PixelShuffle(Tensor x, int upscaleFactor)
    {
        int r = upscaleFactor;
        if (x.Dim < 3) throw new ArgumentException($"PixelShuffle: pixel_shuffle expects input to have at least 3 dimensions, but got input with {x.Dim} dimension(s)");
        if (r <= 0) throw new ArgumentException($"PixelShuffle: upscale_factor must be greater than 0, but got {r}");
        var s = x.Shape.ToArray();
        long c = s[^3], h = s[^2], w = s[^1];
        if (c % ((long)r * r) != 0)
            throw new ArgumentException($"PixelShuffle: pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)={c} is not divisible by {(long)r * r}");
        var batch = s[..^3];
        int b = batch.Length;
        var y = x.Reshape([.. batch, c / r / r, r, r, h, w]);
        var perm = Enumerable.Range(0, b).Concat([b, b + 3, b + 1, b + 4, b + 2]).ToArray();
        return y.Permute(perm).Reshape([.. batch, c / r / r, h * r, w * r]);
    }

    /// <summary>The inverse of <see cref="PixelShuffle"/> (torch.nn.functional.pixel_unshuffle): [*, C, H·r, W·r] → [*, C·r², H, W].</summary>
    /// <exception cref="ArgumentException">Fewer than 3 dims, or H or W not divisible by r.</exception>
    public static Tensor PixelUnshuffle(Tensor x, int downscaleFactor)
    {
        int r = downscaleFactor;
        if (x.Dim < 3) throw new ArgumentException($"PixelUnshuffle: pixel_unshuffle expects input to have at least 3 dimensions, but got input with {x.Dim} dimension(s)");
        if (r <= 0) throw new ArgumentException($"PixelUnshuffle: downscale_factor must be greater than 0, but got {r}");
        var s = x.Shape.ToArray();
        long c = s[^3], h = s[^2], w = s[^1];
        if (h % r != 0) throw new ArgumentException($"PixelUnshuffle: pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={h} is not divisible by {r}");
        if (w % r != 0) throw new ArgumentException($"PixelUnshuffle: pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={w} is not divisible by {r}");
        var batch = s[..^3];
        int b = batch.Length;
        var y = x.Reshape([.. batch, c, h / r, r, w / r, r]);
        var perm = Enumerable.Range(0, b).Concat([b, b + 2, b + 4, b + 1, b + 3]).ToArray();
        return y.Permute(perm).Reshape([.. batch, c * r * r, h / r, w / r]);
    }
}
