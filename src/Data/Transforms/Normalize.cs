namespace Ember.Data;

/// <summary>
/// Per-channel standardization out[c] = (in[c] − mean[c]) / std[c] over [C, H, W] or [..., C, H, W] floating-point
/// inputs (torchvision.transforms.Normalize). One mean/std value applies to every channel.
/// </summary>
public sealed class Normalize : Transform
{
    private readonly double[] mean, std;

    /// <summary>A normalization with the given per-channel statistics.</summary>
    /// <exception cref="ArgumentException">mean and std differ in length, are empty, or a std is zero.</exception>
    public Normalize(double[] mean, double[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: expected mean and std of the same non-zero length, got {mean.Length} and {std.Length}.");
        if (std.Any(s => s == 0))
            throw new ArgumentException($"Normalize: std evaluated to zero after conversion, leading to division by zero: [{string.Join(", ", std)}].", nameof(std));
        this.mean = (double[])mean.Clone();
        this.std = (double[])std.Clone();
    }

    /// <summary>The per-channel means.</summary>
    public IReadOnlyList<double> Mean => mean;

    /// <summary>The per-channel standard deviations.</summary>
    public IReadOnlyList<double> Std => std;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not floating point, has fewer than 3 dims, or its channel count differs from mean's length (≠ 1).</exception>
    public override Tensor Apply(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.IsFloatingPoint || input.Dim < 3)
            throw new ArgumentException($"Normalize: expected a floating-point [..., C, H, W] tensor, got {input.DType} {input.Shape}.", nameof(input));
        long c = input.Shape[input.Dim - 3];
        if (mean.Length != 1 && mean.Length != c)
            throw new ArgumentException($"Normalize: the input has {c} channels (shape {input.Shape}) but mean/std have {mean.Length} values.", nameof(input));
        var m = Tensor.FromArray(mean, mean.Length, 1, 1).To(input.Device, input.DType);
        var s = Tensor.FromArray(std, std.Length, 1, 1).To(input.Device, input.DType);
        return (input - m) / s;
    }
}
