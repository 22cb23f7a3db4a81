using System.Globalization;

namespace Ember.NN;

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Relu(input);
}

/// <summary>min(max(x, 0), 6).</summary>
public sealed class ReLU6 : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Relu6(input);
}

/// <summary>x if x &gt; 0 else negativeSlope·x.</summary>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.LeakyRelu(input, negativeSlope);
    /// <inheritdoc/>
    public override string ExtraRepr() => "negative_slope=" + negativeSlope.ToString(CultureInfo.InvariantCulture);
}

/// <summary>x if x &gt; 0 else alpha·(eˣ − 1).</summary>
public sealed class ELU(double alpha = 1.0) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Elu(input, alpha);
    /// <inheritdoc/>
    public override string ExtraRepr() => "alpha=" + alpha.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Scaled ELU with PyTorch's constants.</summary>
public sealed class SELU : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Selu(input);
}

/// <summary>GELU, exact or tanh-approximated.</summary>
public sealed class GELU(GeluApproximate approximate = GeluApproximate.None) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Gelu(input, approximate);
    /// <inheritdoc/>
    public override string ExtraRepr() => approximate == GeluApproximate.None ? "approximate='none'" : "approximate='tanh'";
}

/// <summary>x·σ(x).</summary>
public sealed class SiLU : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Silu(input);
}

/// <summary>x·tanh(softplus(x)).</summary>
public sealed class Mish : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Mish(input);
}

/// <summary>σ(x).</summary>
public sealed class Sigmoid : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Sigmoid(input);
}

/// <summary>tanh x.</summary>
public sealed class Tanh : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Tanh(input);
}

/// <summary>(1/β)·ln(1 + e^(βx)), linear above the threshold.</summary>
public sealed class Softplus(double beta = 1, double threshold = 20) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Softplus(input, beta, threshold);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"beta={beta.ToString(CultureInfo.InvariantCulture)}, threshold={threshold.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>clamp(x, minVal, maxVal).</summary>
public sealed class Hardtanh(double minVal = -1, double maxVal = 1) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Hardtanh(input, minVal, maxVal);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"min_val={minVal.ToString(CultureInfo.InvariantCulture)}, max_val={maxVal.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>Softmax along dim.</summary>
public sealed class Softmax(int dim) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Softmax(input, dim);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}";
}

/// <summary>Log-softmax along dim.</summary>
public sealed class LogSoftmax(int dim) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.LogSoftmax(input, dim);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}";
}
