namespace Ember.Data;

/// <summary>
/// Image values 0..255 laid out [H, W, C] → Float32 [C, H, W] divided by 255, so in [0, 1]
/// (torchvision.transforms.ToTensor). A 2-D [H, W] input is treated as one channel.
/// </summary>
public sealed class ToTensor : Transform
{
    /// <summary>Converts an [H, W, C] or [H, W] tensor of any dtype.</summary>
    /// <exception cref="ArgumentException">The input is not 2-D or 3-D.</exception>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim is not (2 or 3))
            throw new ArgumentException($"ToTensor: expected an [H, W, C] or [H, W] image, got shape {input.Shape}.", nameof(input));
        var hwc = input.Dim == 2 ? input.Unsqueeze(2) : input;
        return hwc.Permute(2, 0, 1).To(DType.Float32).Contiguous() / 255.0;
    }

    /// <summary>Converts raw interleaved bytes (row-major [H, W, C], as decoded images come) to Float32 [C, H, W] in [0, 1].</summary>
    /// <exception cref="ArgumentException">pixels.Length ≠ height·width·channels.</exception>
    public static Tensor FromBytes(byte[] pixels, int height, int width, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if ((long)height * width * channels != pixels.Length)
            throw new ArgumentException($"ToTensor.FromBytes: {pixels.Length} bytes do not make an image of {height}×{width}×{channels}.", nameof(pixels));
        var chw = new float[pixels.Length];
        int plane = height * width;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++)
                chw[c * plane + p] = pixels[p * channels + c] / 255f;
        return Tensor.FromArray(chw, channels, height, width);
    }
}
