namespace Ember.NN;

/// <summary>1-D convolution (PyTorch's nn.Conv1d; padding_mode 'zeros' only). Weight [O, C/groups, k] and bias ~ PyTorch's defaults.</summary>
public sealed class Conv1d : Module<Tensor, Tensor>
{
    private readonly int stride, padding, dilation, groups;
    private readonly PaddingMode? mode;

    /// <summary>Creates the layer; <paramref name="paddingMode"/> (Same/Valid) overrides <paramref name="padding"/>.</summary>
    /// <exception cref="ArgumentException">Channels not divisible by groups.</exception>
    public Conv1d(long inChannels, long outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        bool bias = true, PaddingMode? paddingMode = null, DType dtype = DType.Float32, Device? device = null)
    {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv1d: in_channels={inChannels} and out_channels={outChannels} must be divisible by groups={groups}.");
        if (paddingMode == PaddingMode.Same && stride != 1) throw new ArgumentException("padding='same' is not supported for strided convolutions");
        (InChannels, OutChannels, KernelSize) = (inChannels, outChannels, kernelSize);
        (this.stride, this.padding, this.dilation, this.groups, mode) = (stride, padding, dilation, groups, paddingMode);
        RegisterParameter("weight", Tensor.Empty([outChannels, inChannels / groups, kernelSize], dtype, device));
        RegisterParameter("bias", bias ? Tensor.Empty([outChannels], dtype, device) : null);
        Init.DefaultWeight(Weight);
        if (Bias is { } b) Init.DefaultBias(b, inChannels / groups * kernelSize);
    }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel length.</summary>
    public int KernelSize { get; }
    /// <summary>Weight [O, C/groups, k].</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>Bias [O] or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <summary>[N, C, L] → [N, O, outL].</summary>
    public override Tensor Forward(Tensor input) => Functional.Conv1d(input, Weight, Bias, stride, padding, dilation, groups, mode);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size=({KernelSize},), stride=({stride},)"
        + (mode == PaddingMode.Same ? ", padding=same" : padding != 0 ? $", padding=({padding},)" : "")
        + (dilation != 1 ? $", dilation=({dilation},)" : "") + (groups != 1 ? $", groups={groups}" : "") + (Bias is null ? ", bias=False" : "");
}

/// <summary>2-D convolution (PyTorch's nn.Conv2d; padding_mode 'zeros' only).</summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    private readonly (int, int) stride, padding, dilation;
    private readonly int groups;
    private readonly PaddingMode? mode;

    /// <summary>Creates the layer with PyTorch's default initialization; <paramref name="paddingMode"/> overrides <paramref name="padding"/>.</summary>
    /// <exception cref="ArgumentException">Channels not divisible by groups, or Same with stride ≠ 1.</exception>
    public Conv2d(long inChannels, long outChannels, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? dilation = null, int groups = 1, bool bias = true, PaddingMode? paddingMode = null, DType dtype = DType.Float32, Device? device = null)
    {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: in_channels={inChannels} and out_channels={outChannels} must be divisible by groups={groups}.");
        this.stride = stride ?? (1, 1); this.padding = padding ?? (0, 0); this.dilation = dilation ?? (1, 1);
        this.groups = groups; mode = paddingMode;
        if (paddingMode == PaddingMode.Same && this.stride != (1, 1)) throw new ArgumentException("padding='same' is not supported for strided convolutions");
        (InChannels, OutChannels, KernelSize) = (inChannels, outChannels, kernelSize);
        RegisterParameter("weight", Tensor.Empty([outChannels, inChannels / groups, kernelSize.H, kernelSize.W], dtype, device));
        RegisterParameter("bias", bias ? Tensor.Empty([outChannels], dtype, device) : null);
        Init.DefaultWeight(Weight);
        if (Bias is { } b) Init.DefaultBias(b, inChannels / groups * kernelSize.H * kernelSize.W);
    }

    /// <summary>Square-kernel form.</summary>
    public Conv2d(long inChannels, long outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        bool bias = true, PaddingMode? paddingMode = null, DType dtype = DType.Float32, Device? device = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), groups, bias, paddingMode, dtype, device) { }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel size.</summary>
    public (int H, int W) KernelSize { get; }
    /// <summary>Weight [O, C/groups, kH, kW].</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>Bias [O] or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <summary>[N, C, H, W] → [N, O, outH, outW].</summary>
    public override Tensor Forward(Tensor input) => Functional.Conv2d(input, Weight, Bias, stride, padding, dilation, groups, mode);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={stride}"
        + (mode == PaddingMode.Same ? ", padding=same" : padding != (0, 0) ? $", padding={padding}" : "")
        + (dilation != (1, 1) ? $", dilation={dilation}" : "") + (groups != 1 ? $", groups={groups}" : "") + (Bias is null ? ", bias=False" : "");
}

/// <summary>Transposed 2-D convolution (PyTorch's nn.ConvTranspose2d). Weight [Cin, Cout/groups, kH, kW].</summary>
public sealed class ConvTranspose2d : Module<Tensor, Tensor>
{
    private readonly (int, int) stride, padding, outputPadding, dilation;
    private readonly int groups;

    /// <summary>Creates the layer with PyTorch's default initialization (fan-in from weight dim 1).</summary>
    public ConvTranspose2d(long inChannels, long outChannels, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? outputPadding = null, int groups = 1, bool bias = true, (int H, int W)? dilation = null, DType dtype = DType.Float32, Device? device = null)
    {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: in_channels={inChannels} and out_channels={outChannels} must be divisible by groups={groups}.");
        this.stride = stride ?? (1, 1); this.padding = padding ?? (0, 0); this.outputPadding = outputPadding ?? (0, 0); this.dilation = dilation ?? (1, 1);
        this.groups = groups;
        (InChannels, OutChannels) = (inChannels, outChannels);
        RegisterParameter("weight", Tensor.Empty([inChannels, outChannels / groups, kernelSize.H, kernelSize.W], dtype, device));
        RegisterParameter("bias", bias ? Tensor.Empty([outChannels], dtype, device) : null);
        Init.DefaultWeight(Weight);
        if (Bias is { } b) Init.DefaultBias(b, outChannels / groups * kernelSize.H * kernelSize.W);
    }

    /// <summary>Square-kernel form.</summary>
    public ConvTranspose2d(long inChannels, long outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1,
        bool bias = true, int dilation = 1, DType dtype = DType.Float32, Device? device = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (outputPadding, outputPadding), groups, bias, (dilation, dilation), dtype, device) { }

    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Weight [Cin, Cout/groups, kH, kW].</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>Bias [Cout] or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <summary>[N, Cin, H, W] → [N, Cout, outH, outW].</summary>
    public override Tensor Forward(Tensor input) => Functional.ConvTranspose2d(input, Weight, Bias, stride, padding, outputPadding, groups, dilation);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{InChannels}, {OutChannels}, stride={stride}";
}
