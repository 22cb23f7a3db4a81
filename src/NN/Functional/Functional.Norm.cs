namespace Ember.NN;

public static partial class Functional
{
    private sealed class LayerNormFunction(double eps, bool hasWeight, bool hasBias, long cols) : Function
    {
        public override string Name => "NativeLayerNormBackward";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var x = inputs[0].Contiguous();
            int k = 1;
            var w = hasWeight ? inputs[k++].Contiguous() : null;
            var b = hasBias ? inputs[k].Contiguous() : null;
            long rows = x.Numel / cols;
            var x2 = x.Reshape(rows, cols);
            var y = Tensor.Empty([rows, cols], x.DType, x.Device);
            var mean = Tensor.Empty([rows], x.DType, x.Device);
            var rstd = Tensor.Empty([rows], x.DType, x.Device);
            x.Backend.LayerNorm(x2, w?.Reshape(cols), b?.Reshape(cols), eps, y, mean, rstd);
            ctx.SaveForBackward(w is null ? [x2, mean, rstd] : [x2, mean, rstd, w.Reshape(cols)]);
            ctx.Values["shape"] = x.Shape.ToArray();
            ctx.Values["wshape"] = w?.Shape.ToArray() ?? [];
            return y.Reshape(x.Shape.ToArray());
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var s = ctx.SavedTensors;
            var x2 = s[0];
            var w = hasWeight ? s[3] : null;
            var g = gradOutput.Contiguous().Reshape(x2.Shape.ToArray());
            var gx = Tensor.Empty(x2.Shape, x2.DType, x2.Device);
            var gw = hasWeight ? Tensor.Empty([cols], x2.DType, x2.Device) : null;
            var gb = hasBias ? Tensor.Empty([cols], x2.DType, x2.Device) : null;
            x2.Backend.LayerNormBackward(g, x2, s[1], s[2], w, gx, gw, gb);
            var ws = (long[])ctx.Values["wshape"];
            var res = new List<Tensor?> { gx.Reshape((long[])ctx.Values["shape"]) };
            if (hasWeight) res.Add(gw!.Reshape(ws));
            if (hasBias) res.Add(gb!.Reshape(ws.Length > 0 ? ws : [cols]));
            return [.. res];
        }
    }

    /// <summary>
    /// Layer normalization over the trailing dims <paramref name="normalizedShape"/>: y = (x − μ)/√(σ² + ε)·w + b with the
    /// biased variance (fused CPU kernel with its own backward).
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
        var fn = new LayerNormFunction(eps, weight is not null, bias is not null, cols);
        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return fn.Apply([.. inputs]);
    }

    /// <summary>
    /// Batch normalization over dim 1 of [N, C, *]: in training (or without running stats) uses the batch mean and biased
    /// variance and updates runningMean/runningVar in place with momentum (unbiased variance); in eval uses the running stats.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims, or fewer than 2 values per channel in training.</exception>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5)
    {
        if (x.Dim < 2) throw new ArgumentException($"BatchNorm: expected at least 2 dims [N, C, *], got {x.Shape}.");
        long c = x.Shape[1];
        var bshape = Enumerable.Repeat(1L, x.Dim).ToArray(); bshape[1] = c;
        var dims = Enumerable.Range(0, x.Dim).Where(d => d != 1).ToArray();
        Tensor y;
        if ((training || runningMean is null || runningVar is null) && x.Device.Type == DeviceType.Cpu
            && x.DType is DType.Float32 or DType.Float64
            && (weight is null || weight.DType == x.DType) && (bias is null || bias.DType == x.DType))
        {
            long count = x.Numel / c;
            if (training && count <= 1) throw new ArgumentException($"Expected more than 1 value per channel when training, got input size {x.Shape}");
            // CPU: one fused Function (statistics, normalization and affine in one pass; backward in one pass).
            var fn = new BatchNormFunction(eps, weight is not null, bias is not null);
            var inputs = new List<Tensor> { x };
            if (weight is not null) inputs.Add(weight);
            if (bias is not null) inputs.Add(bias);
            var yf = fn.Apply([.. inputs]);
            if (training && runningMean is not null && runningVar is not null)
                using (NoGradScope.Enter())
                {
                    var m = Tensor.FromArray(fn.Mean, c).To(runningMean.DType).To(runningMean.Device);
                    var unbiased = fn.Variance.Select(v => v * ((double)count / Math.Max(1, count - 1))).ToArray();
                    var uv = Tensor.FromArray(unbiased, c).To(runningVar.DType).To(runningVar.Device);
                    runningMean.Copy_(runningMean * (1 - momentum) + m * momentum);
                    runningVar.Copy_(runningVar * (1 - momentum) + uv * momentum);
                }
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
                {
                    var m = mean.Detach().Reshape(c).To(runningMean.DType);
                    var uv = (v.Detach().Reshape(c) * ((double)count / Math.Max(1, count - 1))).To(runningVar.DType);
                    runningMean.Copy_(runningMean * (1 - momentum) + m * momentum);
                    runningVar.Copy_(runningVar * (1 - momentum) + uv * momentum);
                }
        }
        else y = (x - runningMean.Reshape(bshape)) / (runningVar.Reshape(bshape) + eps).Sqrt();
        if (weight is not null) y = y * weight.Reshape(bshape);
        if (bias is not null) y = y + bias.Reshape(bshape);
        return y;
    }

    private sealed class BatchNormFunction(double eps, bool hasWeight, bool hasBias) : Function
    {
        public double[] Mean = [], Variance = [];
        public override string Name => "NativeBatchNormBackward";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var x = inputs[0].Contiguous();
            int k = 1;
            var w = hasWeight ? inputs[k++].Contiguous() : null;
            var b = hasBias ? inputs[k].Contiguous() : null;
            int c = (int)x.Shape[1];
            var y = Tensor.Empty(x.Shape.ToArray(), x.DType, x.Device);
            Mean = new double[c]; Variance = new double[c];
            var rstd = new double[c];
            Cpu.CpuFusedBatchNorm.Forward(x, w, b, eps, y, Mean, Variance, rstd);
            ctx.SaveForBackward(w is null ? [x] : [x, w]);
            ctx.Values["mean"] = Mean; ctx.Values["rstd"] = rstd;
            return y;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var x = ctx.SavedTensors[0];
            var w = hasWeight ? ctx.SavedTensors[1] : null;
            if (GradMode.IsEnabled) return CompositeBackward(x, w, gradOutput);
            var g = gradOutput.Contiguous();
            var gx = ctx.NeedsInputGrad[0] ? Tensor.Empty(x.Shape.ToArray(), x.DType, x.Device) : null;
            var gw = hasWeight && ctx.NeedsInputGrad[1] ? Tensor.Empty([x.Shape[1]], x.DType, x.Device) : null;
            var gb = hasBias && ctx.NeedsInputGrad[hasWeight ? 2 : 1] ? Tensor.Empty([x.Shape[1]], x.DType, x.Device) : null;
            Cpu.CpuFusedBatchNorm.Backward(g, x, w, (double[])ctx.Values["mean"], (double[])ctx.Values["rstd"], gx, gw, gb);
            var res = new List<Tensor?> { gx };
            if (hasWeight) res.Add(gw);
            if (hasBias) res.Add(gb);
            return [.. res];
        }

        // createGraph: the same gradients from tensor ops (statistics recomputed from x), so they can be differentiated again.
        private Tensor?[] CompositeBackward(Tensor x, Tensor? w, Tensor g)
        {
            long c = x.Shape[1];
            var bshape = Enumerable.Repeat(1L, x.Dim).ToArray(); bshape[1] = c;
            var dims = Enumerable.Range(0, x.Dim).Where(d => d != 1).ToArray();
            var mean = x.Mean(dims, keepDim: true);
            var rstd = ((x - mean).Square().Mean(dims, keepDim: true) + eps).Rsqrt();
            var xhat = (x - mean) * rstd;
            var gxh = g * xhat;
            var scale = w is null ? rstd : rstd * w.Reshape(bshape);
            var gx = scale * (g - g.Mean(dims, keepDim: true) - xhat * gxh.Mean(dims, keepDim: true));
            var res = new List<Tensor?> { gx };
            if (hasWeight) res.Add(gxh.Sum(dims));
            if (hasBias) res.Add(g.Sum(dims));
            return [.. res];
        }
    }

    /// <summary>Group normalization: [N, C, *] split into numGroups groups of channels, each normalized (biased variance), then per-channel affine.</summary>
    /// <exception cref="ArgumentException">C is not divisible by numGroups.</exception>
    public static Tensor GroupNorm(Tensor x, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
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
        if (!input.DType.IsInteger()) throw new ArgumentException($"Embedding: indices must be Int64 or Int32, got {input.DType} (shape {input.Shape}).");
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
