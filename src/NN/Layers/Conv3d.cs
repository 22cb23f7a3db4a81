namespace Ember.NN;

/// <summary>3-D convolution (PyTorch's nn.Conv3d) over [N, C, D, H, W]; weight [O, C/groups, kD, kH, kW] and bias [O] with PyTorch's default initialization.</summary>
public sealed class Conv3d : Module<Tensor, Tensor>
{
    private readonly (int, int, int) stride, padding, dilation;
    private readonly int groups;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">Channels not divisible by groups.</exception>
    public Conv3d(long inChannels, long outChannels, (int D, int H, int W) kernelSize, (int D, int H, int W)? stride = null, (int D, int H, int W)? padding = null,
        (int D, int H, int W)? dilation = null, int groups = 1, bool bias = true, DType dtype = DType.Float32, Device? device = null)
    {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv3d: in_channels={inChannels} and out_channels={outChannels} must be divisible by groups={groups}.");
        this.stride = stride ?? (1, 1, 1); this.padding = padding ?? (0, 0, 0); this.dilation = dilation ?? (1, 1, 1); this.groups = groups;
        (InChannels, OutChannels, KernelSize) = (inChannels, outChannels, kernelSize);
        RegisterParameter("weight", Tensor.Empty([outChannels, inChannels / groups, kernelSize.D, kernelSize.H, kernelSize.W], dtype, device));
        RegisterParameter("bias", bias ? Tensor.Empty([outChannels], dtype, device) : null);
        Init.DefaultWeight(Weight);
        if (Bias is { } b) Init.DefaultBias(b, inChannels / groups * kernelSize.D * kernelSize.H * kernelSize.W);
    }

    /// <summary>Cubic-kernel form.</summary>
    public Conv3d(long inChannels, long outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        bool bias = true, DType dtype = DType.Float32, Device? device = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize, kernelSize), (stride, stride, stride), (padding, padding, padding), (dilation, dilation, dilation), groups, bias, dtype, device) { }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel size.</summary>
    public (int D, int H, int W) KernelSize { get; }
    /// <summary>Weight [O, C/groups, kD, kH, kW].</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>Bias [O] or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <summary>[N, C, D, H, W] → [N, O, outD, outH, outW].</summary>
    public override Tensor Forward(Tensor input) => Functional.Conv3d(input, Weight, Bias, stride, padding, dilation, groups);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={stride}" + (groups != 1 ? $", groups={groups}" : "") + (Bias is null ? ", bias=False" : "");
}
