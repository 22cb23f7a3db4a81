namespace Ember.NN;

/// <summary>
/// A 2-D size argument (kernel size, stride, padding, dilation) given as one int for both dims or as an (H, W) pair,
/// as PyTorch's functional convolution and pooling accept: <c>Functional.Conv2d(x, w, stride: 2, padding: 1)</c>.
/// </summary>
/// <param name="H">The size along the height.</param>
/// <param name="W">The size along the width.</param>
public readonly record struct Size2(int H, int W)
{
    /// <summary>The same size along both dims.</summary>
    public static implicit operator Size2(int both) => new(both, both);

    /// <summary>An (H, W) pair.</summary>
    public static implicit operator Size2((int H, int W) pair) => new(pair.H, pair.W);

    /// <summary>The (H, W) pair.</summary>
    public static implicit operator (int H, int W)(Size2 size) => (size.H, size.W);
}
