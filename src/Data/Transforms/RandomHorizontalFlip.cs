namespace Ember.Data;

/// <summary>Reverses the last dim (left ↔ right) with probability <see cref="P"/> (torchvision.transforms.RandomHorizontalFlip). Input [..., H, W].</summary>
public sealed class RandomHorizontalFlip : Transform
{
    private readonly Generator? generator;

    /// <summary>A flip with probability <paramref name="p"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public RandomHorizontalFlip(double p = 0.5, Generator? generator = null)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), $"RandomHorizontalFlip: p must lie in [0, 1], got {p}.");
        P = p;
        this.generator = generator;
    }

    /// <summary>The probability of flipping.</summary>
    public double P { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is 0-dim.</exception>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim < 1) throw new ArgumentException("RandomHorizontalFlip: expected a [..., H, W] tensor, got a 0-dim tensor.", nameof(input));
        return Stream(generator).NextDouble() < P ? Flip(input) : input;
    }

    /// <summary>The input with its last dim reversed (a copy).</summary>
    public static Tensor Flip(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int d = input.Dim - 1;
        long w = input.Shape[d];
        var output = Tensor.Empty(input.Shape, input.DType, input.Device);
        for (long j = 0; j < w; j++) output.Narrow(d, j, 1).Copy_(input.Narrow(d, w - 1 - j, 1));
        return output;
    }
}
