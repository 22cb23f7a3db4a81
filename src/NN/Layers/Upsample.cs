namespace Ember.NN;

/// <summary>Resizes the spatial dims (PyTorch's nn.Upsample): <see cref="Functional.Interpolate"/> with fixed arguments.</summary>
/// <param name="size">Output spatial size, or null when scaleFactor is given.</param>
/// <param name="scaleFactor">Spatial multiplier, or null when size is given.</param>
/// <param name="mode">The resampling.</param>
/// <param name="alignCorners">Linear modes only.</param>
public sealed class Upsample(long[]? size = null, double[]? scaleFactor = null, InterpolationMode mode = InterpolationMode.Nearest, bool? alignCorners = null) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Interpolate(input, size, scaleFactor, mode, alignCorners);

    /// <inheritdoc/>
    public override string ExtraRepr() =>
        (size is not null ? $"size=({string.Join(", ", size)})" : $"scale_factor=({string.Join(", ", scaleFactor!.Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)))})") + $", mode='{mode.ToString().ToLowerInvariant()}'";
}

/// <summary>[*, C·r², H, W] → [*, C, H·r, W·r] (PyTorch's nn.PixelShuffle).</summary>
/// <param name="upscaleFactor">r.</param>
public sealed class PixelShuffle(int upscaleFactor) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.PixelShuffle(input, upscaleFactor);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"upscale_factor={upscaleFactor}";
}

/// <summary>[*, C, H·r, W·r] → [*, C·r², H, W] (PyTorch's nn.PixelUnshuffle).</summary>
/// <param name="downscaleFactor">r.</param>
public sealed class PixelUnshuffle(int downscaleFactor) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.PixelUnshuffle(input, downscaleFactor);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"downscale_factor={downscaleFactor}";
}
