namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Fused cross-entropy at class indices over rows of [rows, C] logits: per-row losses from one kernel pass
    /// (<see cref="IBackend.CrossEntropy"/>), no log-probabilities materialized; backward in one pass from the saved
    /// log-sum-exp. Under createGraph the backward is built from differentiable ops instead (same formula).
    /// </summary>
    private sealed class CrossEntropyFunction(Tensor target, Tensor? weight, CrossEntropyArgs args) : Function
    {
        public override string Name => "CrossEntropyLossBackward";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var x = inputs[0].Contiguous();
            long rows = x.Shape[0];
            var loss = Tensor.Empty([rows], x.DType, x.Device);
            var lse = Tensor.Empty([rows], x.DType, x.Device);
            x.Backend.CrossEntropy(x, target, weight, args, loss, lse);
            ctx.SaveForBackward(x, lse);
            return loss;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var x = ctx.SavedTensors[0]; var lse = ctx.SavedTensors[1];
            if (GradMode.IsEnabled) return [DifferentiableGrad(gradOutput, x)];
            var gx = Tensor.Empty(x.Shape, x.DType, x.Device);
            x.Backend.CrossEntropyBackward(gradOutput.Contiguous(), x, target, weight, args, lse, gx);
            return [gx];
        }

        // gx = g·(a·p − (1 − ε)·w[t]·onehot(t) − (ε/C)·w), a = (1 − ε)·w[t] + (ε/C)·W, rows with t = ignoreIndex zeroed;
        // p = softmax(x) recomputed with differentiable ops so that higher-order gradients flow through it.
        private Tensor DifferentiableGrad(Tensor g, Tensor x)
        {
            long c = x.Shape[1];
            var (safe, keep, wt) = TargetWeights(target, weight, args.IgnoreIndex, x.DType);
            double eps = args.LabelSmoothing;
            var wsum = weight is null ? Tensor.Scalar(c, x.DType, x.Device) : weight.Sum();
            var a = (wt * (1 - eps) + wsum * (eps / c)).Unsqueeze(1);
            var coef = (g * keep).Unsqueeze(1);
            var grad = a * x.Softmax(1) - safe.OneHot(c).To(x.DType) * (wt * (1 - eps)).Unsqueeze(1);
            if (eps > 0) grad = grad - (weight is null ? Tensor.Scalar(eps / c, x.DType, x.Device) : weight.Reshape(1, c) * (eps / c));
            return grad * coef;
        }
    }

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
        foreach (var v in t.ToArray<long>())
            if (v != ignoreIndex && (v < 0 || v >= c))
                throw new ArgumentOutOfRangeException(nameof(target), $"CrossEntropy: target {v} is out of bounds for {c} classes (input {input.Shape}, target {target.Shape}).");
        // Classes last: [N, C, d…] → [N·d…, C] rows (a copy only when there are spatial dims).
        var x = input;
        if (x.Dim > 2)
        {
            var perm = new[] { 0 }.Concat(Enumerable.Range(2, x.Dim - 2)).Append(1).ToArray();
            x = x.Permute(perm).Reshape(-1, c);
        }
        var w = weight?.Contiguous();
        var per = new CrossEntropyFunction(t, w, new CrossEntropyArgs(ignoreIndex, labelSmoothing)).Apply(x);
        switch (reduction)
        {
            case Reduction.Sum: return per.Sum();
            case Reduction.None: return per.Reshape(expect);
            default:
                // PyTorch's mean: divided by Σ w[t] over the rows that are not ignored (their count when unweighted).
                return per.Sum() / TargetWeights(t, w, ignoreIndex, input.DType).Weight.Sum();
        }
    }
}
