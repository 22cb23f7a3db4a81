namespace Ember.NN;

/// <summary>Max pooling over [N, C, H, W] (PyTorch's nn.MaxPool2d; dilation and return_indices not supported).</summary>
public sealed class MaxPool2d((int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <summary>Square-window form.</summary>
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false)
        : this((kernelSize, kernelSize), stride is { } s ? (s, s) : null, (padding, padding), ceilMode) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.MaxPool2d(input, kernelSize, stride, padding, ceilMode);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding ?? (0, 0)}, dilation=1, ceil_mode={Py(ceilMode)}";
}

/// <summary>Max pooling over [N, C, L].</summary>
public sealed class MaxPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.MaxPool1d(input, kernelSize, stride, padding, ceilMode);
}

/// <summary>Average pooling over [N, C, H, W] (PyTorch's nn.AvgPool2d; divisor_override not supported).</summary>
public sealed class AvgPool2d((int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null, bool ceilMode = false,
    bool countIncludePad = true) : Module<Tensor, Tensor>
{
    /// <summary>Square-window form.</summary>
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : this((kernelSize, kernelSize), stride is { } s ? (s, s) : null, (padding, padding), ceilMode, countIncludePad) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AvgPool2d(input, kernelSize, stride, padding, ceilMode, countIncludePad);
}

/// <summary>Average pooling over [N, C, L].</summary>
public sealed class AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AvgPool1d(input, kernelSize, stride, padding, ceilMode, countIncludePad);
}

/// <summary>Adaptive average pooling to a fixed output size.</summary>
public sealed class AdaptiveAvgPool2d((int H, int W) outputSize) : Module<Tensor, Tensor>
{
    /// <summary>Square output.</summary>
    public AdaptiveAvgPool2d(int outputSize) : this((outputSize, outputSize)) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AdaptiveAvgPool2d(input, outputSize);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"output_size={outputSize}";
}
