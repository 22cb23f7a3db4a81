namespace Ember.NN;

/// <summary>
/// Stateless neural-network operations (PyTorch's torch.nn.functional). Layers delegate here. Every op composes Core's
/// differentiable ops; the fused ones (linear, convolution, pooling, normalization, cross-entropy, attention) call the
/// primitives of <see cref="FusedOps"/>, whose backward formulas are entries of Ember.Autograd's one table.
/// </summary>
public static partial class Functional
{
    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x) => x.Relu();

    /// <summary>min(max(x, 0), 6).</summary>
    public static Tensor Relu6(Tensor x) => Hardtanh(x, 0, 6);

    /// <summary>x if x &gt; 0 else negativeSlope·x.</summary>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) => x.Apply(UnaryOp.LeakyRelu, negativeSlope);

    /// <summary>x if x &gt; 0 else alpha·(eˣ − 1).</summary>
    public static Tensor Elu(Tensor x, double alpha = 1.0) => x.Apply(UnaryOp.Elu, alpha);

    /// <summary>SELU: scale·(x if x &gt; 0 else alpha·(eˣ − 1)) with alpha = 1.6732632423543772, scale = 1.0507009873554805.</summary>
    public static Tensor Selu(Tensor x) => x.Apply(UnaryOp.Elu, SeluAlpha) * SeluScale;

    internal const double SeluAlpha = 1.6732632423543772848170429916717;
    internal const double SeluScale = 1.0507009873554804934193349852946;

    /// <summary>GELU: x·Φ(x) exactly (erf), or with the tanh approximation.</summary>
    public static Tensor Gelu(Tensor x, GeluApproximate approximate = GeluApproximate.None) => x.Gelu(approximate);

    /// <summary>SiLU (swish): x·σ(x).</summary>
    public static Tensor Silu(Tensor x) => x.Apply(UnaryOp.Silu);

    /// <summary>Mish: x·tanh(softplus(x)).</summary>
    public static Tensor Mish(Tensor x) => x.Mish();

    /// <summary>σ(x) = 1/(1 + e⁻ˣ).</summary>
    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();

    /// <summary>tanh x.</summary>
    public static Tensor Tanh(Tensor x) => x.Tanh();

    /// <summary>(1/β)·ln(1 + e^(βx)), and x where βx &gt; threshold (PyTorch's softplus).</summary>
    public static Tensor Softplus(Tensor x, double beta = 1, double threshold = 20) => x.Apply(UnaryOp.Softplus, beta, threshold);

    /// <summary>clamp(x, minVal, maxVal) (gradient 0 outside the interval).</summary>
    /// <exception cref="ArgumentException">maxVal &lt; minVal.</exception>
    public static Tensor Hardtanh(Tensor x, double minVal = -1, double maxVal = 1)
    {
        if (maxVal < minVal) throw new ArgumentException($"Hardtanh: maxVal ({maxVal}) must be ≥ minVal ({minVal}).");
        return x.Apply(UnaryOp.Clamp, minVal, maxVal);
    }

    /// <summary>Softmax along <paramref name="dim"/>: e^xᵢ / Σⱼ e^xⱼ (fused kernel).</summary>
    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);

    /// <summary>Log-softmax along <paramref name="dim"/>: xᵢ − ln Σⱼ e^xⱼ (fused kernel).</summary>
    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);

    /// <summary>
    /// Dropout: in training, zeroes each element with probability <paramref name="p"/> (Bernoulli mask from the Philox
    /// generator) and scales the kept ones by 1/(1 − p); identity when not training or p = 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public static Tensor Dropout(Tensor x, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: probability has to be between 0 and 1, but got {p}.");
        if (!training || p == 0) return x;
        if (p == 1) return x * Tensor.ZerosLike(x);
        Tensor mask;
        using (NoGradScope.Enter())
            mask = Tensor.EmptyLike(x).Bernoulli_(1 - p, generator).Mul_(1.0 / (1 - p));
        return x * mask;
    }

    /// <summary>y = x·Wᵀ + b; x [*, in], weight [out, in], bias [out] → [*, out].</summary>
    /// <exception cref="ArgumentException">x's last dim differs from weight's in-features.</exception>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Dim != 2 || x.Dim == 0 || x.Shape[-1] != weight.Shape[1])
            throw new ArgumentException($"Linear: input {x.Shape} does not match weight {weight.Shape} (expected input [*, {(weight.Dim == 2 ? weight.Shape[1] : -1)}]).");
        // A 1-D bias of matching dtype and device: one fused primitive (bias written, product accumulated onto it).
        if (bias is not null && bias.Dim == 1 && bias.Shape[0] == weight.Shape[0]
            && x.IsFloatingPoint && weight.DType == x.DType && bias.DType == x.DType
            && weight.Device == x.Device && bias.Device == x.Device)
            return FusedOps.Linear(x, weight, bias);
        var y = x.MatMul(weight.T);
        return bias is null ? y : y + bias;
    }

    /// <summary>yₖ = x1ᵀ·Wₖ·x2 + bₖ; x1 [N, in1], x2 [N, in2], weight [out, in1, in2], bias [out] → [N, out].</summary>
    /// <exception cref="ArgumentException">Shapes do not match.</exception>
    public static Tensor Bilinear(Tensor x1, Tensor x2, Tensor weight, Tensor? bias = null)
    {
        if (weight.Dim != 3 || x1.Shape[-1] != weight.Shape[1] || x2.Shape[-1] != weight.Shape[2] || x1.Dim != x2.Dim)
            throw new ArgumentException($"Bilinear: inputs {x1.Shape} and {x2.Shape} do not match weight {weight.Shape} (expected [*, {weight.Shape[1]}] and [*, {weight.Shape[2]}]).");
        long o = weight.Shape[0], i1 = weight.Shape[1], i2 = weight.Shape[2];
        var lead = x1.Shape.ToArray()[..^1];
        var a = x1.Reshape(-1, i1);
        var b = x2.Reshape(-1, i2);
        // (x1 · W[k]) for all k at once: [M, in1] · [in1, out·in2] → [M, out, in2], then contract with x2.
        var t = a.MatMul(weight.Permute(1, 0, 2).Reshape(i1, o * i2)).Reshape(-1, o, i2);
        var y = (t * b.Unsqueeze(1)).Sum(-1);
        if (bias is not null) y = y + bias;
        return y.Reshape([.. lead, o]);
    }
}
