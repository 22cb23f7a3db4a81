namespace Ember;

/// <summary>
/// The composite implementations of <see cref="IBackend"/>'s optional fused kernels, written once with Core's tensor ops,
/// which run on the required members (elementwise, reduce, matmul, indexing) of the tensors' own backend. They are the
/// default bodies of the optional members and the meaning a fast kernel must match; a backend whose fast kernel covers
/// only some cases calls the method here for the others. Arguments are as documented on the <see cref="IBackend"/>
/// member of the same name (Core has validated and allocated them); every method runs with gradient recording off.
/// Float16/BFloat16 arguments are widened to float32, the backend's own member runs on them (its fast kernel where it
/// has one) and the outputs are rounded back (<see cref="ReducedPrecision.ViaFloat32"/>): a fused op computes in
/// float32 from end to end, as PyTorch's reduced-precision kernels do.
/// </summary>
public static partial class CompositeKernels
{
    // Writes a computed value into a kernel's output view.
    private static void Write(Tensor destination, Tensor value) => destination.Copy_(value);

    /// <summary>See <see cref="IBackend.Softmax"/>.</summary>
    public static void Softmax(IBackend backend, Tensor x, Tensor result, bool log)
    {
        if (ReducedPrecision.Any(x, result)) { ReducedPrecision.ViaFloat32(backend, [x], [result], (i, o) => backend.Softmax(i[0]!, o[0]!, log)); return; }
        using var _ = RecordingOff.Enter();
        // Shift by the row maximum so e^x cannot overflow.
        var shifted = x - x.Amax([1], keepDim: true);
        var logProbs = shifted - shifted.Exp().Sum(1, keepDim: true).Log();
        Write(result, log ? logProbs : logProbs.Exp());
    }

    /// <summary>See <see cref="IBackend.SoftmaxBackward"/>.</summary>
    public static void SoftmaxBackward(IBackend backend, Tensor grad, Tensor output, Tensor result, bool log)
    {
        if (ReducedPrecision.Any(grad, output, result)) { ReducedPrecision.ViaFloat32(backend, [grad, output], [result], (i, o) => backend.SoftmaxBackward(i[0]!, i[1]!, o[0]!, log)); return; }
        using var _ = RecordingOff.Enter();
        Write(result, log
            ? grad - output.Exp() * grad.Sum(1, keepDim: true)
            : output * (grad - (grad * output).Sum(1, keepDim: true)));
    }

    /// <summary>See <see cref="IBackend.LayerNorm"/>.</summary>
    public static void LayerNorm(IBackend backend, Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd)
    {
        if (ReducedPrecision.Any(x, weight, bias, y, mean, rstd)) { ReducedPrecision.ViaFloat32(backend, [x, weight, bias], [y, mean, rstd], (i, o) => backend.LayerNorm(i[0]!, i[1], i[2], eps, o[0]!, o[1]!, o[2]!)); return; }
        using var _ = RecordingOff.Enter();
        long rows = x.Shape[0];
        var mu = x.Mean(1, keepDim: true);
        var centered = x - mu;
        var r = ((centered * centered).Mean(1, keepDim: true) + eps).Rsqrt();
        var result = centered * r;
        if (weight is not null) result = result * weight;
        if (bias is not null) result = result + bias;
        Write(y, result);
        Write(mean, mu.Reshape(rows));
        Write(rstd, r.Reshape(rows));
    }

    /// <summary>See <see cref="IBackend.LayerNormBackward"/>.</summary>
    public static void LayerNormBackward(IBackend backend, Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight,
        Tensor gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, mean, rstd, weight, gradX, gradWeight, gradBias)) { ReducedPrecision.ViaFloat32(backend, [grad, x, mean, rstd, weight], [gradX, gradWeight, gradBias], (i, o) => backend.LayerNormBackward(i[0]!, i[1]!, i[2]!, i[3]!, i[4], o[0]!, o[1], o[2])); return; }
        using var _ = RecordingOff.Enter();
        long rows = x.Shape[0];
        var r = rstd.Reshape(rows, 1);
        var xhat = (x - mean.Reshape(rows, 1)) * r;
        var gxhat = weight is null ? grad : grad * weight;
        // dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w, over each row.
        Write(gradX, r * (gxhat - gxhat.Mean(1, keepDim: true) - xhat * (gxhat * xhat).Mean(1, keepDim: true)));
        if (gradWeight is not null) Write(gradWeight, (grad * xhat).Sum(0));
        if (gradBias is not null) Write(gradBias, grad.Sum(0));
    }

    // The dims batch norm reduces over (all but the channel dim 1) and the [1, C, 1, …] shape of per-channel values.
    private static (int[] Dims, long[] ChannelShape) ChannelLayout(Tensor x)
    {
        var dims = Enumerable.Range(0, x.Dim).Where(d => d != 1).ToArray();
        var shape = Enumerable.Repeat(1L, x.Dim).ToArray();
        shape[1] = x.Shape[1];
        return (dims, shape);
    }

    /// <summary>See <see cref="IBackend.BatchNorm"/>.</summary>
    public static void BatchNorm(IBackend backend, Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y,
        Tensor mean, Tensor variance, Tensor rstd)
    {
        if (ReducedPrecision.Any(x, weight, bias, y, mean, variance, rstd)) { ReducedPrecision.ViaFloat32(backend, [x, weight, bias], [y, mean, variance, rstd], (i, o) => backend.BatchNorm(i[0]!, i[1], i[2], eps, o[0]!, o[1]!, o[2]!, o[3]!)); return; }
        using var _ = RecordingOff.Enter();
        var (dims, cs) = ChannelLayout(x);
        // Statistics in x's dtype (two passes: the mean, then the mean squared deviation), stored as Float64.
        var mu = x.Mean(dims, keepDim: true);
        var centered = x - mu;
        var v = (centered * centered).Mean(dims, keepDim: true);
        var r = (v + eps).Rsqrt();
        long c = x.Shape[1];
        var result = centered * r;
        if (weight is not null) result = result * weight.Reshape(cs);
        if (bias is not null) result = result + bias.Reshape(cs);
        Write(y, result);
        Write(mean, mu.Reshape(c));
        Write(variance, v.Reshape(c));
        Write(rstd, r.Reshape(c));
    }

    /// <summary>See <see cref="IBackend.BatchNormBackward"/>.</summary>
    public static void BatchNormBackward(IBackend backend, Tensor grad, Tensor x, Tensor? weight, Tensor mean, Tensor rstd,
        Tensor? gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, weight, mean, rstd, gradX, gradWeight, gradBias)) { ReducedPrecision.ViaFloat32(backend, [grad, x, weight, mean, rstd], [gradX, gradWeight, gradBias], (i, o) => backend.BatchNormBackward(i[0]!, i[1]!, i[2], i[3]!, i[4]!, o[0], o[1], o[2])); return; }
        using var _ = RecordingOff.Enter();
        var (dims, cs) = ChannelLayout(x);
        double m = x.Numel / x.Shape[1];
        var r = rstd.To(x.DType).Reshape(cs);
        var xhat = (x - mean.To(x.DType).Reshape(cs)) * r;
        var gb = grad.Sum(dims);
        var gw = (grad * xhat).Sum(dims);
        if (gradX is not null)
        {
            var scale = weight is null ? r : r * weight.Reshape(cs);
            Write(gradX, scale * (grad - gb.Reshape(cs) * (1 / m) - xhat * gw.Reshape(cs) * (1 / m)));
        }
        if (gradWeight is not null) Write(gradWeight, gw);
        if (gradBias is not null) Write(gradBias, gb);
    }

    /// <summary>See <see cref="IBackend.BatchNormUpdateStats"/>.</summary>
    public static void BatchNormUpdateStats(IBackend backend, Tensor mean, Tensor variance, long count, double? momentum,
        Tensor runningMean, Tensor runningVar, Tensor? numBatchesTracked)
    {
        using var _ = RecordingOff.Enter();
        if (numBatchesTracked is not null) Write(numBatchesTracked, numBatchesTracked + 1);
        var m = mean.To(runningMean.DType);
        var unbiased = (variance.To(DType.Float64) * ((double)count / Math.Max(1, count - 1))).To(runningVar.DType);
        if (momentum is null && numBatchesTracked is not null)
        {
            // The cumulative average's factors 1/n and 1 − 1/n in float64 on the device (no host read of the counter),
            // each rounded once to the statistics' dtype as a host scalar would be.
            var take = numBatchesTracked.To(DType.Float64).Reciprocal();
            var keep = -take + 1;
            Write(runningMean, runningMean * keep.To(runningMean.DType) + m * take.To(runningMean.DType));
            Write(runningVar, runningVar * keep.To(runningVar.DType) + unbiased * take.To(runningVar.DType));
            return;
        }
        double f = momentum ?? 0;
        Write(runningMean, runningMean * (1 - f) + m * f);
        Write(runningVar, runningVar * (1 - f) + unbiased * f);
    }

    // Per row: the target made safe to index with (ignored rows point at class 0), a 0/1 keep mask and w[t] (1 unweighted).
    private static (Tensor Safe, Tensor Keep, Tensor WeightAtTarget) Targets(Tensor target, Tensor? weight, long ignoreIndex, Tensor x)
    {
        var keepMask = target.Ne(ignoreIndex);
        var safe = target.Where(keepMask, 0);
        var keep = keepMask.To(x.DType);
        var wt = weight is null ? keep : weight.Gather(0, safe) * keep;
        return (safe, keep, wt);
    }

    /// <summary>
    /// See <see cref="IBackend.CheckIndices"/>: reads the indices on the host, throws for the first one outside [0, size)
    /// that is not <paramref name="skip"/>, and returns how many are not skipped.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range (<paramref name="check"/>'s error).</exception>
    public static long CheckIndices(Tensor index, long size, long? skip, IndexCheck check)
    {
        if (index.Numel == 0) return 0;
        long counted = 0;
        foreach (var v in index.ToArray<long>())
        {
            if (v == skip) continue;
            if (v < 0 || v >= size) throw check.Error(v);
            counted++;
        }
        return counted;
    }

    /// <summary>See <see cref="IBackend.CrossEntropy"/>.</summary>
    public static void CrossEntropy(IBackend backend, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor logSumExp)
    {
        if (ReducedPrecision.Any(x, weight, loss, logSumExp)) { ReducedPrecision.ViaFloat32(backend, [x, target, weight], [loss, logSumExp], (i, o) => backend.CrossEntropy(i[0]!, i[1]!, i[2], args, o[0]!, o[1]!)); return; }
        using var _ = RecordingOff.Enter();
        long c = x.Shape[1];
        double eps = args.LabelSmoothing;
        var (safe, keep, wt) = Targets(target, weight, args.IgnoreIndex, x);
        var lse = x.LogSumExp(1);
        var atTarget = x.Gather(1, safe.Unsqueeze(1)).Squeeze(1);
        var result = wt * (lse - atTarget) * (1 - eps);
        if (eps > 0)
        {
            // Σ_c w[c]·(lse − x[c]) = W·lse − Σ_c w[c]·x[c].
            var smooth = weight is null ? lse * (double)c - x.Sum(1) : lse * weight.Sum() - (x * weight).Sum(1);
            result = result + smooth * keep * (eps / c);
        }
        if (args.Scale != 1) result = result * args.Scale;
        Write(loss, result);
        Write(logSumExp, lse);
    }

    /// <summary>See <see cref="IBackend.CrossEntropyBackward"/>.</summary>
    public static void CrossEntropyBackward(IBackend backend, Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args,
        Tensor logSumExp, Tensor gradX)
    {
        if (ReducedPrecision.Any(grad, x, weight, logSumExp, gradX)) { ReducedPrecision.ViaFloat32(backend, [grad, x, target, weight, logSumExp], [gradX], (i, o) => backend.CrossEntropyBackward(i[0]!, i[1]!, i[2]!, i[3], args, i[4]!, o[0]!)); return; }
        using var _ = RecordingOff.Enter();
        Write(gradX, CrossEntropyGradient(grad, x, target, weight, args, (x - logSumExp.Unsqueeze(1)).Exp()));
    }

    /// <summary>
    /// The gradient of <see cref="IBackend.CrossEntropy"/> in tensor ops: s·grad[r]·((1 − ε)·w[t]·(p − onehot(t)) + (ε/C)·(W·p − w)),
    /// 0 for ignored rows, with p = softmax(x) recomputed unless <paramref name="probabilities"/> is given. Recorded when
    /// grad mode is on (Ember.Autograd's createGraph formula for cross-entropy uses it, with p recomputed).
    /// </summary>
    public static Tensor CrossEntropyGradient(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor? probabilities = null)
    {
        long c = x.Shape[1];
        double eps = args.LabelSmoothing;
        var (safe, keep, wt) = Targets(target, weight, args.IgnoreIndex, x);
        var p = probabilities ?? x.Softmax(1);
        var result = (p - safe.OneHot(c).To(x.DType)) * (wt * (1 - eps)).Unsqueeze(1);
        if (eps > 0)
        {
            var wsum = weight is null ? Tensor.Scalar(c, x.DType, x.Device) : weight.Sum();
            var w = weight is null ? Tensor.Scalar(1, x.DType, x.Device) : weight.Reshape(1, c);
            result = result + (p * wsum - w) * keep.Unsqueeze(1) * (eps / c);
        }
        return result * (args.Scale != 1 ? grad * args.Scale : grad).Unsqueeze(1);
    }

    /// <summary>See <see cref="IBackend.MixedBinary"/>: the 16-bit operand widened to a Float32 copy, then <see cref="IBackend.Binary"/>.</summary>
    public static void MixedBinary(IBackend backend, BinaryOp op, Tensor a, Tensor b, Tensor result)
    {
        Tensor Wide(Tensor t)
        {
            if (t.DType == result.DType) return t;
            var w = Tensor.Alloc(t.Shape.ToArray(), result.DType, t.Device);
            backend.Copy(t, w);
            return w;
        }
        backend.Binary(op, Wide(a), Wide(b), result);
    }

    /// <summary>See <see cref="IBackend.Linear"/>: the bias broadcast into y, then the product accumulated onto it.</summary>
    public static void Linear(IBackend backend, Tensor x, Tensor weight, Tensor bias, Tensor y)
    {
        long m = y.Shape[0], o = y.Shape[1];
        backend.Copy(bias.Reshape(1, o).Expand(m, o), y);
        backend.MatMul(x.Unsqueeze(0), weight.T.Unsqueeze(0), y.Unsqueeze(0), accumulate: true);
    }

    /// <summary>See <see cref="IBackend.ColumnSum"/>.</summary>
    public static void ColumnSum(IBackend backend, Tensor g, Tensor result)
    {
        if (ReducedPrecision.Any(g, result)) { ReducedPrecision.ViaFloat32(backend, [g], [result], (i, o) => backend.ColumnSum(i[0]!, o[0]!)); return; }
        using var _ = RecordingOff.Enter();
        Write(result, g.Sum(0));
    }

    /// <summary>See <see cref="IBackend.SgdStep"/>: PyTorch's SGD, d = ±g + λ·p, m = μ·m + (1 − τ)·d, p −= lr·(d + μ·m or m).</summary>
    public static void SgdStep(IBackend backend, Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args)
    {
        if (ReducedPrecision.Any(param, grad, momentumBuffer)) { ReducedPrecision.ViaFloat32(backend, [grad], [param, momentumBuffer], (i, o) => backend.SgdStep(o[0]!, i[0]!, o[1], args)); return; }
        using var _ = RecordingOff.Enter();
        var d = args.Maximize ? -grad : grad;
        if (args.WeightDecay != 0) d = d + param * args.WeightDecay;
        if (args.Momentum != 0 && momentumBuffer is not null)
        {
            var m = args.FirstStep ? d : momentumBuffer * args.Momentum + d * (1 - args.Dampening);
            Write(momentumBuffer, m);
            d = args.Nesterov ? d + m * args.Momentum : m;
        }
        Write(param, param - d * args.Lr);
    }

    /// <summary>
    /// See <see cref="IBackend.AdamStep"/>: PyTorch's Adam/AdamW, m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g²,
    /// p −= lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε) with v̂ = v (or its running max with amsgrad).
    /// </summary>
    public static void AdamStep(IBackend backend, Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamStepArgs args)
    {
        if (ReducedPrecision.Any(param, grad, expAvg, expAvgSq, maxExpAvgSq)) { ReducedPrecision.ViaFloat32(backend, [grad], [param, expAvg, expAvgSq, maxExpAvgSq], (i, o) => backend.AdamStep(o[0]!, i[0]!, o[1]!, o[2]!, o[3], args)); return; }
        using var _ = RecordingOff.Enter();
        var g = args.Maximize ? -grad : grad;
        var p = param;
        if (args.WeightDecay != 0)
        {
            if (args.DecoupledWeightDecay) p = p * (1 - args.Lr * args.WeightDecay);
            else g = g + p * args.WeightDecay;
        }
        var m = expAvg * args.Beta1 + g * (1 - args.Beta1);
        var v = expAvgSq * args.Beta2 + g * g * (1 - args.Beta2);
        Write(expAvg, m);
        Write(expAvgSq, v);
        if (args.Amsgrad && maxExpAvgSq is not null)
        {
            v = maxExpAvgSq.Maximum(v);
            Write(maxExpAvgSq, v);
        }
        double bc1 = 1 - Math.Pow(args.Beta1, args.Step), bc2 = 1 - Math.Pow(args.Beta2, args.Step);
        var denom = v.Sqrt() * (1 / Math.Sqrt(bc2)) + args.Eps;
        Write(param, p - m / denom * (args.Lr / bc1));
    }

    /// <summary>
    /// See <see cref="IBackend.NonFiniteCheckAndUnscale"/>: per tensor, foundInf = max(foundInf, any(¬isfinite(g))) and
    /// g = g·invScale, all in tensor ops on the device (no host read).
    /// </summary>
    public static void NonFiniteCheckAndUnscale(IBackend backend, IReadOnlyList<Tensor> grads, Tensor foundInf, double invScale)
    {
        using var _ = RecordingOff.Enter();
        foreach (var g in grads)
        {
            Write(foundInf, foundInf.Maximum(g.IsFinite().LogicalNot().Any().To(DType.Float32).Reshape(1)));
            Write(g, g * invScale);
        }
    }
}
