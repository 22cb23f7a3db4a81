namespace Ember.NN;

/// <summary>y = x·Wᵀ + b (PyTorch's nn.Linear). Weight [out, in] ~ kaiming_uniform(a = √5), bias [out] ~ U(±1/√in).</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with PyTorch's default initialization.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    public Linear(long inFeatures, long outFeatures, bool bias = true, DType dtype = DType.Float32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegative(outFeatures);
        InFeatures = inFeatures; OutFeatures = outFeatures;
        RegisterParameter("weight", Tensor.Empty([outFeatures, inFeatures], dtype, device));
        RegisterParameter("bias", bias ? Tensor.Empty([outFeatures], dtype, device) : null);
        ResetParameters();
    }

    /// <summary>Input features.</summary>
    public long InFeatures { get; }
    /// <summary>Output features.</summary>
    public long OutFeatures { get; }
    /// <summary>Weight [out, in].</summary>
    public Tensor Weight { get => GetParameter("weight")!; set => SetParameter("weight", value); }
    /// <summary>Bias [out] or null.</summary>
    public Tensor? Bias { get => GetParameter("bias"); set => SetParameter("bias", value); }

    /// <summary>Re-draws weight and bias with PyTorch's defaults.</summary>
    public void ResetParameters()
    {
        Init.DefaultWeight(Weight);
        if (Bias is { } b) Init.DefaultBias(b, InFeatures);
    }

    /// <summary>x [*, in] → [*, out].</summary>
    public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Py(Bias is not null)}";
}

/// <summary>yₖ = x1ᵀ·Wₖ·x2 + bₖ (PyTorch's nn.Bilinear); weight [out, in1, in2] and bias ~ U(±1/√in1).</summary>
public sealed class Bilinear : Module<(Tensor, Tensor), Tensor>
{
    /// <summary>Creates the layer with PyTorch's default initialization.</summary>
    public Bilinear(long in1Features, long in2Features, long outFeatures, bool bias = true, DType dtype = DType.Float32, Device? device = null)
    {
        In1Features = in1Features; In2Features = in2Features; OutFeatures = outFeatures;
        RegisterParameter("weight", Tensor.Empty([outFeatures, in1Features, in2Features], dtype, device));
        RegisterParameter("bias", bias ? Tensor.Empty([outFeatures], dtype, device) : null);
        double bound = 1 / Math.Sqrt(in1Features);
        Init.Uniform_(Weight, -bound, bound);
        if (Bias is { } b) Init.Uniform_(b, -bound, bound);
    }

    /// <summary>First input's features.</summary>
    public long In1Features { get; }
    /// <summary>Second input's features.</summary>
    public long In2Features { get; }
    /// <summary>Output features.</summary>
    public long OutFeatures { get; }
    /// <summary>Weight [out, in1, in2].</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>Bias [out] or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <summary>(x1 [*, in1], x2 [*, in2]) → [*, out].</summary>
    public override Tensor Forward((Tensor, Tensor) input) => Functional.Bilinear(input.Item1, input.Item2, Weight, Bias);

    /// <summary>Two-argument form.</summary>
    public Tensor Forward(Tensor input1, Tensor input2) => Functional.Bilinear(input1, input2, Weight, Bias);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in1_features={In1Features}, in2_features={In2Features}, out_features={OutFeatures}, bias={Py(Bias is not null)}";
}

/// <summary>Returns its input (PyTorch's nn.Identity).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    /// <summary>x.</summary>
    public override Tensor Forward(Tensor input) => input;
}

/// <summary>Flattens dims startDim..endDim into one (PyTorch's nn.Flatten; defaults keep the batch dim).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module<Tensor, Tensor>
{
    /// <summary>x.Flatten(startDim, endDim).</summary>
    public override Tensor Forward(Tensor input) => input.Flatten(startDim, endDim);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"start_dim={startDim}, end_dim={endDim}";
}

/// <summary>Splits dim into the given sizes (PyTorch's nn.Unflatten).</summary>
public sealed class Unflatten(int dim, params long[] unflattenedSize) : Module<Tensor, Tensor>
{
    /// <summary>x.Unflatten(dim, sizes).</summary>
    public override Tensor Forward(Tensor input) => input.Unflatten(dim, unflattenedSize);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}, unflattened_size=({string.Join(", ", unflattenedSize)})";
}

/// <summary>Randomly zeroes elements with probability p in training and scales by 1/(1 − p) (PyTorch's nn.Dropout).</summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public Dropout(double p = 0.5)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability has to be between 0 and 1, but got {p}");
        P = p;
    }

    /// <summary>Drop probability.</summary>
    public double P { get; }

    /// <summary>Functional.Dropout(x, p, Training).</summary>
    public override Tensor Forward(Tensor input) => Functional.Dropout(input, P, Training);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"p={P.ToString(System.Globalization.CultureInfo.InvariantCulture)}, inplace=False";
}
