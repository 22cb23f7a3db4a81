namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Cross-entropy at Int64/Int32 class indices through the fused kernel: input [N, C, d…] (already 2-D or more),
    /// target [N, d…]. Validates the targets (every one in [0, C) or equal to ignoreIndex) before any kernel runs.
    /// </summary>
    private static Tensor FusedCrossEntropy(Tensor input, Tensor target, Tensor? weight, long ignoreIndex, Reduction reduction, double labelSmoothing)
    {
        long c = input.Shape[1];
        var expect = input.Shape.ToArray().Where((_, i) => i != 1).ToArray();
        if (!target.Shape.ToArray().AsSpan().SequenceEqual(expect))
            throw new ArgumentException($"CrossEntropy: input {input.Shape} expects target of shape {new Shape(expect)}, got {target.Shape}.");
        if (weight is not null && (weight.Dim != 1 || weight.Shape[0] != c || weight.DType != input.DType || weight.Device != input.Device))
            throw new ArgumentException($"CrossEntropy: weight must be [C] = [{c}] of {input.DType} on {input.Device}, got {weight.Shape} {weight.DType} on {weight.Device}.");
        if (target.Device != input.Device)
            throw new ArgumentException($"CrossEntropy: input is on {input.Device} but target on {target.Device}.");
        var t = target.To(DType.Int64).Contiguous().Reshape(-1);
        long counted = 0;   // targets not ignored: the unweighted mean's divisor, known here without a kernel
        foreach (var v in t.ToArray<long>())
        {
            if (v == ignoreIndex) continue;
            if (v < 0 || v >= c)
                throw new ArgumentOutOfRangeException(nameof(target), $"CrossEntropy: target {v} is out of bounds for {c} classes (input {input.Shape}, target {target.Shape}).");
            counted++;
        }
        // Classes last: [N, C, d…] → [N·d…, C] rows (a copy only when there are spatial dims).
        var x = input;
        if (x.Dim > 2)
        {
            var perm = new[] { 0 }.Concat(Enumerable.Range(2, x.Dim - 2)).Append(1).ToArray();
            x = x.Permute(perm).Reshape(-1, c);
        }
        var w = weight?.Contiguous();
        var args = new CrossEntropyArgs(ignoreIndex, labelSmoothing);
        // PyTorch's mean: divided by Σ w[t] over the rows that are not ignored. Unweighted, that is their count, a host
        // scalar from the validation above: the kernels scale each row's loss and gradient by 1/count, so the mean is
        // one sum (no division launched forward or backward). No row counted gives 0·∞ = NaN, as PyTorch's 0/0.
        if (reduction == Reduction.Mean && w is null && counted > 0)
            return FusedOps.CrossEntropy(x, t, null, args with { Scale = 1.0 / counted }).Sum();
        var per = FusedOps.CrossEntropy(x, t, w, args);
        switch (reduction)
        {
            case Reduction.Sum: return per.Sum();
            case Reduction.None: return per.Reshape(expect);
            default:
                if (w is null) return per.Sum() / counted;
                return per.Sum() / TargetWeights(t, w, ignoreIndex, input.DType).Weight.Sum();
        }
    }
}
