namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Cross-entropy at Int64/Int32 class indices through the fused kernel: input [N, C, d…] (already 2-D or more),
    /// target [N, d…]. The targets (every one in [0, C) or equal to ignoreIndex) are validated through
    /// <see cref="FusedOps.CheckIndices"/>: on the host before any kernel runs (CPU), or on the device, a bad one
    /// throwing at the device's next synchronisation (GPU; no host read inside a training step).
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
        // The unweighted mean's divisor (targets not ignored) and the validation of the class indices in one backend call
        // (IBackend.CheckIndices): the CPU reads the targets and counts on the host; a GPU backend counts and validates on
        // the device (no host read, which would make the host wait for the device in the middle of a training step), and a
        // bad target then throws at the device's next synchronisation (loss.Item(), a copy to the host, Synchronize).
        bool countedMean = reduction == Reduction.Mean && weight is null;
        var countType = input.DType.IsReducedPrecision() ? DType.Float32 : input.DType;   // a 16-bit count is inexact past 2048
        var count = countedMean ? Tensor.Empty([], countType, input.Device) : null;
        var inputShape = input.Shape;
        var targetShape = target.Shape;
        FusedOps.CheckIndices(t, c, ignoreIndex, count, new IndexCheck(nameof(target), v =>
            $"CrossEntropy: target {v} is out of bounds for {c} classes (input {inputShape}, target {targetShape})."));
        // Classes last: [N, C, d…] → [N·d…, C] rows (a copy only when there are spatial dims).
        var x = input;
        if (x.Dim > 2)
        {
            var perm = new[] { 0 }.Concat(Enumerable.Range(2, x.Dim - 2)).Append(1).ToArray();
            x = x.Permute(perm).Reshape(-1, c);
        }
        var w = weight?.Contiguous();
        var args = new CrossEntropyArgs(ignoreIndex, labelSmoothing);
        // PyTorch's mean: divided by Σ w[t] over the rows that are not ignored. Unweighted, that is their count, which
        // CheckIndices wrote into a 0-dim tensor on the device (the host knows it only on the CPU): one division there, on
        // every backend, so that every device records the same graph. No row counted gives 0/0 = NaN, as PyTorch's.
        var per = FusedOps.CrossEntropy(x, t, w, args);
        switch (reduction)
        {
            case Reduction.Sum: return per.Sum();
            case Reduction.None: return per.Reshape(expect);
            default:
                if (w is null) return count!.DType == per.DType ? per.Sum() / count : (per.Sum().To(count.DType) / count).To(per.DType);
                return per.Sum() / TargetWeights(t, w, ignoreIndex, input.DType).Weight.Sum();
        }
    }
}
