namespace Ember.Data;

/// <summary>
/// Pads the last two dims by <see cref="Padding"/> zeros on each side, then crops a random
/// <see cref="Height"/>×<see cref="Width"/> window, every position equally likely (torchvision.transforms.RandomCrop
/// with constant zero padding). Input [..., H, W]; output [..., Height, Width].
/// </summary>
public sealed class RandomCrop : Transform
{
    private readonly Generator? generator;

    /// <summary>A square crop of <paramref name="size"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">size is not positive or padding is negative.</exception>
    public RandomCrop(int size, int padding = 0, Generator? generator = null) : this(size, size, padding, generator) { }

    /// <summary>A crop of <paramref name="height"/>×<paramref name="width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or padding is negative.</exception>
    public RandomCrop(int height, int width, int padding = 0, Generator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Height = height; Width = width; Padding = padding;
        this.generator = generator;
    }

    /// <summary>The output height.</summary>
    public int Height { get; }

    /// <summary>The output width.</summary>
    public int Width { get; }

    /// <summary>Zeros added on each side before cropping.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input has fewer than 2 dims or is smaller than the crop after padding.</exception>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim < 2) throw new ArgumentException($"RandomCrop: expected a [..., H, W] tensor, got shape {input.Shape}.", nameof(input));
        long h = input.Shape[input.Dim - 2], w = input.Shape[input.Dim - 1];
        long ph = h + 2 * Padding, pw = w + 2 * Padding;
        if (ph < Height || pw < Width)
            throw new ArgumentException($"RandomCrop: required crop size {Height}×{Width} is larger than the padded input {ph}×{pw} (shape {input.Shape}).", nameof(input));
        var g = Stream(generator);
        long top = Math.Min((long)(g.NextDouble() * (ph - Height + 1)), ph - Height);
        long left = Math.Min((long)(g.NextDouble() * (pw - Width + 1)), pw - Width);
        int hd = input.Dim - 2, wd = input.Dim - 1;
        var padded = input;
        if (Padding > 0)
        {
            var shape = input.Shape.ToArray();
            shape[hd] = ph; shape[wd] = pw;
            padded = Tensor.Zeros(shape, input.DType, input.Device);
            padded.Narrow(hd, Padding, h).Narrow(wd, Padding, w).Copy_(input);
        }
        return padded.Narrow(hd, top, Height).Narrow(wd, left, Width).Contiguous();
    }
}
