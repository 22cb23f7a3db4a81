namespace Ember.NN;

/// <summary>x·relu6(x + 3)/6 (PyTorch's nn.Hardswish).</summary>
public sealed class Hardswish : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Hardswish(input);
}

/// <summary>relu6(x + 3)/6 (PyTorch's nn.Hardsigmoid).</summary>
public sealed class Hardsigmoid : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Hardsigmoid(input);
}

/// <summary>Parametric ReLU (PyTorch's nn.PReLU): x if x &gt; 0 else a·x, with numParameters slopes (1, or one per channel) initialised to init.</summary>
public sealed class PReLU : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">numParameters &lt; 1.</exception>
    public PReLU(long numParameters = 1, double init = 0.25, DType dtype = DType.Float32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numParameters, 1);
        RegisterParameter("weight", Tensor.Full([numParameters], init, dtype, device));
    }

    /// <summary>The slopes [numParameters].</summary>
    public Tensor Weight => GetParameter("weight")!;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Prelu(input, Weight);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"num_parameters={Weight.Numel}";
}
