namespace Ember.NN;

/// <summary>Root-mean-square normalization over the trailing dims (PyTorch 2.4's nn.RMSNorm); weight ones when elementwiseAffine.</summary>
public sealed class RMSNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; eps null means the machine epsilon of the input's dtype.</summary>
    public RMSNorm(long[] normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32, Device? device = null)
    {
        NormalizedShape = (long[])normalizedShape.Clone(); Eps = eps;
        RegisterParameter("weight", elementwiseAffine ? Tensor.Ones(normalizedShape, dtype, device) : null);
    }

    /// <summary>One trailing dim.</summary>
    public RMSNorm(long normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32, Device? device = null)
        : this([normalizedShape], eps, elementwiseAffine, dtype, device) { }

    /// <summary>The normalized trailing dims.</summary>
    public long[] NormalizedShape { get; }
    /// <summary>Added to the mean square (null: the dtype's machine epsilon).</summary>
    public double? Eps { get; }
    /// <summary>Weight or null.</summary>
    public Tensor? Weight => GetParameter("weight");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.RmsNorm(input, NormalizedShape, Weight, Eps);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"({string.Join(", ", NormalizedShape)},), eps={(Eps is { } e ? e.ToString(System.Globalization.CultureInfo.InvariantCulture) : "None")}, elementwise_affine={Py(Weight is not null)}";
}
