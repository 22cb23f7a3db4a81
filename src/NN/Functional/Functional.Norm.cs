namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Layer normalization over the trailing dims <paramref name="normalizedShape"/>: y = (x − μ)/√(σ² + ε)·w + b with the
    /// biased variance (the fused primitive <see cref="FusedOps.LayerNorm"/>).
    /// </summary>
    /// <exception cref="ArgumentException">x's trailing dims differ from normalizedShape, or weight/bias have another shape.</exception>
    public static Tensor LayerNorm(Tensor x, long[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        int k = normalizedShape.Length;
        if (k == 0 || x.Dim < k || !x.Shape.ToArray()[^k..].AsSpan().SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: input {x.Shape} does not end with normalized shape [{string.Join(", ", normalizedShape)}].");
        if (weight is not null && !weight.Shape.ToArray().AsSpan().SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: weight must have shape [{string.Join(", ", normalizedShape)}], got {weight.Shape}.");
        if (bias is not null && !bias.Shape.ToArray().AsSpan().SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: bias must have shape [{string.Join(", ", normalizedShape)}], got {bias.Shape}.");
        long cols = 1; foreach (var d in normalizedShape) cols *= d;
        return FusedOps.LayerNorm(x, cols, weight, bias, eps);
    }

    /// <summary>
    /// Batch normalization over dim 1 of [N, C, *]: in training (or without running stats) uses the batch mean and biased
    /// variance and updates runningMean/runningVar in place with momentum (unbiased variance); in eval uses the running stats.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims, or fewer than 2 values per channel in training.</exception>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        BatchNorm(x, runningMean, runningVar, weight, bias, training, (double?)momentum, eps, null);

    /// <summary>
    /// <see cref="BatchNorm(Tensor, Tensor?, Tensor?, Tensor?, Tensor?, bool, double, double)"/> as the layers call it: in
    /// training with running statistics, numBatchesTracked (when not null) is incremented and momentum null means the
    /// cumulative average 1/numBatchesTracked, all in the one fused update (<see cref="FusedOps.BatchNormUpdateStats"/>).
    /// </summary>
    internal static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double? momentum, double eps, Tensor? numBatchesTracked)
    {
        bool batchStats = training || runningMean is null || runningVar is null;
        // A 16-bit x with Float32 weight/bias and batch statistics: the fused mixed batch norm reads x as it is (float32
        // statistics and affine, y in x's dtype), as PyTorch's native batch norm; under autocast too, with no casts.
        bool mixed = batchStats && x.DType.IsReducedPrecision() && (weight is not null || bias is not null)
            && (weight is null || weight.DType == DType.Float32 && weight.Device == x.Device)
            && (bias is null || bias.DType == DType.Float32 && bias.Device == x.Device);
        // Otherwise under autocast: statistics and affine in float32, the result in x's dtype (PyTorch's mixed batch norm).
        if (!mixed && Autocast.Cast(AutocastOp.BatchNorm, x, weight, bias) is { } cast)
            return BatchNorm(cast[0]!, runningMean, runningVar, cast[1], cast[2], training, momentum, eps, numBatchesTracked).To(x.DType);
        if (x.Dim < 2) throw new ArgumentException($"BatchNorm: expected at least 2 dims [N, C, *], got {x.Shape}.");
        long c = x.Shape[1];
        var bshape = Enumerable.Repeat(1L, x.Dim).ToArray(); bshape[1] = c;
        var dims = Enumerable.Range(0, x.Dim).Where(d => d != 1).ToArray();
        Tensor y;
        if (mixed || batchStats && x.IsFloatingPoint
            && (weight is null || weight.DType == x.DType && weight.Device == x.Device) && (bias is null || bias.DType == x.DType && bias.Device == x.Device))
        {
            long count = x.Numel / c;
            if (training && count <= 1) throw new ArgumentException($"Expected more than 1 value per channel when training, got input size {x.Shape}");
            // Batch statistics: one fused primitive (statistics, normalization and affine; backward in one kernel).
            var (yf, mean, variance) = FusedOps.BatchNorm(x, weight, bias, eps);
            if (training && runningMean is not null && runningVar is not null)
                using (NoGradScope.Enter()) FusedOps.BatchNormUpdateStats(mean, variance, count, momentum, runningMean, runningVar, numBatchesTracked);
            return yf;
        }
        if (training || runningMean is null || runningVar is null)
        {
            long count = x.Numel / c;
            if (training && count <= 1) throw new ArgumentException($"Expected more than 1 value per channel when training, got input size {x.Shape}");
            var mean = x.Mean(dims, keepDim: true);
            var v = (x - mean).Square().Mean(dims, keepDim: true);
            y = (x - mean) / (v + eps).Sqrt();
            if (training && runningMean is not null && runningVar is not null)
                using (NoGradScope.Enter())
                    FusedOps.BatchNormUpdateStats(mean.Detach().Reshape(c), v.Detach().Reshape(c), count, momentum, runningMean, runningVar, numBatchesTracked);
        }
        else y = (x - runningMean.Reshape(bshape)) / (runningVar.Reshape(bshape) + eps).Sqrt();
        if (weight is not null) y = y * weight.Reshape(bshape);
        if (bias is not null) y = y + bias.Reshape(bshape);
        return y;
    }

    /// <summary>Group normalization: [N, C, *] split into numGroups groups of channels, each normalized (biased variance), then per-channel affine.</summary>
    /// <exception cref="ArgumentException">C is not divisible by numGroups.</exception>
    public static Tensor GroupNorm(Tensor x, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        if (Autocast.Cast(AutocastOp.GroupNorm, x, weight, bias) is { } cast) return GroupNorm(cast[0]!, numGroups, cast[1], cast[2], eps);
        if (x.Dim < 2 || x.Shape[1] % numGroups != 0)
            throw new ArgumentException($"GroupNorm: expected input [N, C, *] with C divisible by num_groups={numGroups}, got {x.Shape}.");
        long n = x.Shape[0], c = x.Shape[1];
        var g = x.Reshape(n, numGroups, -1);
        var mean = g.Mean(2, keepDim: true);
        var v = (g - mean).Square().Mean(2, keepDim: true);
        var y = ((g - mean) / (v + eps).Sqrt()).Reshape(x.Shape.ToArray());
        var bshape = Enumerable.Repeat(1L, x.Dim).ToArray(); bshape[1] = c;
        if (weight is not null) y = y * weight.Reshape(bshape);
        if (bias is not null) y = y + bias.Reshape(bshape);
        return y;
    }

    /// <summary>
    /// Embedding lookup: rows of weight [num, dim] at Int64/Int32 indices → indices.shape + [dim]. Rows looked up at
    /// paddingIdx receive no gradient.
    /// </summary>
    /// <exception cref="ArgumentException">Indices are not integers, or weight is not 2-D.</exception>
    public static Tensor Embedding(Tensor input, Tensor weight, long? paddingIdx = null)
    {
        if (!input.DType.IsIndex()) throw new ArgumentException($"Embedding: indices must be Int64 or Int32, got {input.DType} (shape {input.Shape}).");
        if (weight.Dim != 2) throw new ArgumentException($"Embedding: 'weight' must be 2-D [num_embeddings, embedding_dim], got shape {weight.Shape}.");
        var idx = input.To(DType.Int64);
        var rows = weight.IndexSelect(0, idx.Flatten());
        if (paddingIdx is { } pad && weight.RequiresGrad)
        {
            if (pad < 0) pad += weight.Shape[0];
            // Same values, but the gradient of the padding rows is cut: keep·rows + detach((1 − keep)·rows).
            var keep = idx.Flatten().Ne(pad).To(weight.DType).Unsqueeze(1);
            rows = rows * keep + (rows * (1 - keep)).Detach();
        }
        return rows.Reshape([.. input.Shape.ToArray(), weight.Shape[1]]);
    }
}
