namespace Ember.NN;

public static partial class Functional
{
    /// <summary>Hard swish (MobileNetV3; torch.nn.functional.hardswish): x·relu6(x + 3)/6 — 0 below −3, x above 3.</summary>
    public static Tensor Hardswish(Tensor x) => x * Hardtanh(x + 3.0, 0, 6) / 6.0;

    /// <summary>Hard sigmoid (torch.nn.functional.hardsigmoid): relu6(x + 3)/6.</summary>
    public static Tensor Hardsigmoid(Tensor x) => Hardtanh(x + 3.0, 0, 6) / 6.0;

    /// <summary>
    /// Parametric ReLU (torch.nn.functional.prelu): x if x &gt; 0 else a·x, with a [C] per channel (dim 1 of x) or [1]
    /// shared. Differentiable in x and a.
    /// </summary>
    /// <exception cref="ArgumentException">weight is not 1-D with 1 or C elements.</exception>
    public static Tensor Prelu(Tensor x, Tensor weight)
    {
        if (weight.Dim != 1 || (weight.Size(0) != 1 && (x.Dim < 2 || weight.Size(0) != x.Size(1))))
            throw new ArgumentException($"Prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = {weight.Numel} and channel size = {(x.Dim >= 2 ? x.Size(1) : 1)} (input {x.Shape}, weight {weight.Shape}).");
        var a = weight;
        if (weight.Size(0) != 1)
        {
            var s = Enumerable.Repeat(1L, x.Dim).ToArray();
            s[1] = weight.Size(0);
            a = weight.Reshape(s);
        }
        return Tensor.Where(x.Gt(0), x, a * x);
    }
}
