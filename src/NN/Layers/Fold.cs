namespace Ember.NN;

/// <summary>Extracts sliding blocks, [N, C, H, W] → [N, C·kH·kW, L] (PyTorch's nn.Unfold); see <see cref="Functional.Unfold"/>.</summary>
/// <param name="kernelSize">Block size.</param>
/// <param name="dilation">Spacing of the block's elements.</param>
/// <param name="padding">Zero padding on both sides.</param>
/// <param name="stride">Step between blocks.</param>
public sealed class Unfold((int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Unfold(input, kernelSize, dilation, padding, stride);
}

/// <summary>Sums sliding blocks into an image, [N, C·kH·kW, L] → [N, C, H, W] (PyTorch's nn.Fold); see <see cref="Functional.Fold"/>.</summary>
/// <param name="outputSize">The image size (H, W).</param>
/// <param name="kernelSize">Block size.</param>
/// <param name="dilation">Spacing of the block's elements.</param>
/// <param name="padding">Zero padding on both sides.</param>
/// <param name="stride">Step between blocks.</param>
public sealed class Fold((int H, int W) outputSize, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Fold(input, outputSize, kernelSize, dilation, padding, stride);
}
