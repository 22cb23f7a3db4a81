namespace Ember.NN;

/// <summary>How a loss reduces its per-element values.</summary>
public enum Reduction
{
    /// <summary>The mean (weighted mean where the loss has weights).</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>No reduction: one value per element (or per sample).</summary>
    None,
}

/// <summary>Reductions of <see cref="Functional.KLDiv"/>.</summary>
public enum KLDivReduction
{
    /// <summary>Mean over every element (PyTorch's default 'mean', which is not the true KL divergence).</summary>
    Mean,
    /// <summary>Sum over all elements.</summary>
    Sum,
    /// <summary>No reduction.</summary>
    None,
    /// <summary>Sum divided by the batch size (the mathematically correct KL divergence).</summary>
    BatchMean,
}

public static partial class Functional
{
    private static Tensor Reduce(Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.Mean => loss.Mean(),
        Reduction.Sum => loss.Sum(),
        _ => loss,
    };

    // PyTorch's BCE range check; NaN fails it too (the comparisons are false).
    private static void CheckProbabilities(Tensor t, string what)
    {
        if (t.Numel == 0) return;
        var x = t.Detach();
        if (x.Ge(0).LogicalAnd(x.Le(1)).All().Item() == 0)
            throw new ArgumentException($"BinaryCrossEntropy: all elements of {what} should be between 0 and 1 ({what} of shape {t.Shape}).");
    }

    private static void CheckSameShape(string op, Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{op}: input shape {a.Shape} and target shape {b.Shape} must be equal.");
    }

    /// <summary>Mean squared error (x − y)², reduced.</summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        if (Autocast.Cast(AutocastOp.MseLoss, input, target) is { } cast) return MseLoss(cast[0]!, cast[1]!, reduction);
        CheckSameShape("MseLoss", input, target);
        return Reduce((input - target).Square(), reduction);
    }

    /// <summary>Mean absolute error |x − y|, reduced.</summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        if (Autocast.Cast(AutocastOp.L1Loss, input, target) is { } cast) return L1Loss(cast[0]!, cast[1]!, reduction);
        CheckSameShape("L1Loss", input, target);
        return Reduce((input - target).Abs(), reduction);
    }

    /// <summary>Smooth L1: 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β (d = x − y); β = 0 gives L1.</summary>
    /// <exception cref="ArgumentException">Shapes differ or beta &lt; 0.</exception>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        if (Autocast.Cast(AutocastOp.SmoothL1Loss, input, target) is { } cast) return SmoothL1Loss(cast[0]!, cast[1]!, reduction, beta);
        CheckSameShape("SmoothL1Loss", input, target);
        if (beta < 0) throw new ArgumentException($"SmoothL1Loss: beta must be ≥ 0, got {beta}.");
        if (beta == 0) return L1Loss(input, target, reduction);
        var d = (input - target).Abs();
        return Reduce(Tensor.Where(d.Lt(beta), d.Square() * (0.5 / beta), d - 0.5 * beta), reduction);
    }

    /// <summary>Huber: 0.5·d² where |d| &lt; δ, else δ·(|d| − 0.5·δ).</summary>
    /// <exception cref="ArgumentException">Shapes differ or delta ≤ 0.</exception>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        if (Autocast.Cast(AutocastOp.HuberLoss, input, target) is { } cast) return HuberLoss(cast[0]!, cast[1]!, reduction, delta);
        CheckSameShape("HuberLoss", input, target);
        if (delta <= 0) throw new ArgumentException($"HuberLoss: delta must be > 0, got {delta}.");
        var d = (input - target).Abs();
        return Reduce(Tensor.Where(d.Lt(delta), d.Square() * 0.5, (d - 0.5 * delta) * delta), reduction);
    }

    /// <summary>Binary cross-entropy −w·(y·ln x + (1 − y)·ln(1 − x)) of probabilities x; logs are clamped at −100 like PyTorch.</summary>
    /// <exception cref="ArgumentException">Shapes differ, or an element of input or target is outside [0, 1] (or NaN).</exception>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        if (Autocast.Cast(AutocastOp.BinaryCrossEntropy, input, target, weight) is { } cast) return BinaryCrossEntropy(cast[0]!, cast[1]!, cast[2], reduction);
        CheckSameShape("BinaryCrossEntropy", input, target);
        CheckProbabilities(input, "input");
        CheckProbabilities(target, "target");
        var logx = input.Log().Clamp(-100, null);
        var log1mx = (1 - input).Log().Clamp(-100, null);
        var loss = -(target * logx + (1 - target) * log1mx);
        if (weight is not null) loss = loss * weight;
        return Reduce(loss, reduction);
    }

    /// <summary>
    /// BCE on logits, stable: (1 − y)·x + (1 + (pw − 1)·y)·(m + ln(e⁻ᵐ + e^(−x−m))), m = max(−x, 0); pw = posWeight
    /// (broadcast over the class dim), then times weight.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null)
    {
        if (Autocast.Cast(AutocastOp.BinaryCrossEntropyWithLogits, input, target, weight, posWeight) is { } cast)
            return BinaryCrossEntropyWithLogits(cast[0]!, cast[1]!, cast[2], reduction, cast[3]);
        CheckSameShape("BinaryCrossEntropyWithLogits", input, target);
        var m = (-input).Clamp(0, null);
        var sp = m + ((-m).Exp() + (-input - m).Exp()).Log();
        var lw = posWeight is null ? null : (posWeight - 1) * target + 1;
        var loss = (1 - target) * input + (lw is null ? sp : lw * sp);
        if (weight is not null) loss = loss * weight;
        return Reduce(loss, reduction);
    }

    /// <summary>
    /// What class-index losses need of Int64 targets t: Safe = t with ignored entries replaced by class 0 (a valid index),
    /// Keep = [t ≠ ignoreIndex] and Weight = w[t]·Keep (Keep when unweighted), both in <paramref name="dtype"/>, shaped like t.
    /// </summary>
    private static (Tensor Safe, Tensor Keep, Tensor Weight) TargetWeights(Tensor t, Tensor? weight, long ignoreIndex, DType dtype)
    {
        var ignored = t.Eq(ignoreIndex);
        var safe = Tensor.Where(ignored, Tensor.Scalar(0, DType.Int64, t.Device), t);
        var keep = ignored.LogicalNot().To(dtype);
        return (safe, keep, weight is null ? keep : weight.IndexSelect(0, safe.Flatten()).Reshape(safe.Shape.ToArray()) * keep);
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities input [N, C, d…] (or [C]) at Int64 class indices target [N, d…]:
    /// −w[t]·input[t], 0 where target = ignoreIndex; Mean divides by Σ w[t] over non-ignored elements.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or dtypes do not match.</exception>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        if (Autocast.Cast(AutocastOp.NllLoss, input, weight) is { } cast) return NllLoss(cast[0]!, target, cast[1], ignoreIndex, reduction);
        if (input.Dim == 1) { input = input.Unsqueeze(0); target = target.Unsqueeze(0); }
        if (target.DType != DType.Int64 && target.DType != DType.Int32)
            throw new ArgumentException($"NllLoss: target must hold Int64 class indices, got {target.DType} (shape {target.Shape}).");
        var expect = input.Shape.ToArray().Where((_, i) => i != 1).ToArray();
        if (!target.Shape.ToArray().AsSpan().SequenceEqual(expect))
            throw new ArgumentException($"NllLoss: input {input.Shape} expects target of shape {new Shape(expect)}, got {target.Shape}.");
        if (weight is not null && (weight.Dim != 1 || weight.Shape[0] != input.Shape[1]))
            throw new ArgumentException($"NllLoss: weight must be [C] = [{input.Shape[1]}], got {weight.Shape}.");
        target = target.To(DType.Int64);
        var (safe, _, w) = TargetWeights(target, weight, ignoreIndex, input.DType);
        var picked = input.Gather(1, safe.Unsqueeze(1)).Squeeze(1);
        var loss = -picked * w;
        return reduction switch
        {
            Reduction.Mean => loss.Sum() / w.Sum(),
            Reduction.Sum => loss.Sum(),
            _ => loss,
        };
    }

    /// <summary>
    /// Cross-entropy of logits input [N, C, d…] (or [C]) against Int64 class indices [N, d…] or class probabilities
    /// (same shape as input): log-softmax over dim 1 then NLL, with class weights, ignoreIndex (indices only) and label
    /// smoothing ε: (1 − ε)·NLL + ε/C·Σ_c −w_c·log p_c, reduced as PyTorch does. Class indices go through one fused kernel
    /// per direction (<see cref="IBackend.CrossEntropy"/>: no log-probabilities are materialized).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or dtypes do not match, or labelSmoothing is outside [0, 1].</exception>
    /// <exception cref="ArgumentOutOfRangeException">A class index is outside [0, C) and is not ignoreIndex. The message names
    /// CrossEntropy, the bad value and C. On the CPU it is thrown by this call; on a GPU the indices are checked on the
    /// device (reading them would make the host wait for the device in every training step), and the exception is
    /// thrown by the device's next synchronisation (<c>loss.Item()</c>, any copy to the host, <c>Device.Synchronize</c>),
    /// as PyTorch's CUDA kernels report a device-side assertion; the loss and gradient rows of a bad target are NaN.</exception>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0)
    {
        if (Autocast.Cast(AutocastOp.CrossEntropy, input, target, weight) is { } cast)
            return CrossEntropy(cast[0]!, cast[1]!, cast[2], ignoreIndex, reduction, labelSmoothing);
        if (labelSmoothing < 0 || labelSmoothing > 1)
            throw new ArgumentException($"CrossEntropy: labelSmoothing must be between 0.0 and 1.0, got {labelSmoothing}.");
        if (input.Dim == 0)
            throw new ArgumentException($"CrossEntropy: expected input of shape [C] or [N, C, d1, ...], got a 0-dim tensor (target shape {target.Shape}).");
        bool oneD = input.Dim == 1;
        if (oneD) { input = input.Unsqueeze(0); target = target.Unsqueeze(0); }
        long c = input.Shape[1];
        Tensor result;
        if (target.IsFloatingPoint)
        {
            CheckSameShape("CrossEntropy", input, target);
            var logp = input.LogSoftmax(1);
            var wshape = Enumerable.Repeat(1L, input.Dim).ToArray(); wshape[1] = c;
            if (labelSmoothing > 0) target = target * (1 - labelSmoothing) + labelSmoothing / c;
            var lw = weight is null ? logp : logp * weight.Reshape(wshape);
            var per = -(lw * target).Sum(1);
            result = reduction switch
            {
                Reduction.Mean => per.Sum() / (input.Numel / c),
                Reduction.Sum => per.Sum(),
                _ => per,
            };
        }
        else
        {
            if (target.DType != DType.Int64 && target.DType != DType.Int32)
                throw new ArgumentException($"CrossEntropy: target must hold Int64 class indices or {input.DType} probabilities, got {target.DType} (shape {target.Shape}).");
            if (!input.IsFloatingPoint)
                throw new ArgumentException($"CrossEntropy: expected floating-point logits, got {input.DType} (shape {input.Shape}).");
            result = FusedCrossEntropy(input, target, weight, ignoreIndex, reduction, labelSmoothing);
        }
        return oneD && reduction == Reduction.None ? result.Squeeze(0) : result;
    }

    /// <summary>
    /// KL divergence with input = log q and target p (or log p when logTarget): p·(ln p − input), 0 where p = 0.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor KLDiv(Tensor input, Tensor target, KLDivReduction reduction = KLDivReduction.Mean, bool logTarget = false)
    {
        if (Autocast.Cast(AutocastOp.KLDiv, input, target) is { } cast) return KLDiv(cast[0]!, cast[1]!, reduction, logTarget);
        CheckSameShape("KLDiv", input, target);
        Tensor loss;
        if (logTarget) loss = target.Exp() * (target - input);
        else
        {
            var pos = target.Gt(0);
            var safe = Tensor.Where(pos, target, Tensor.OnesLike(target));
            loss = Tensor.Where(pos, target * safe.Log(), Tensor.ZerosLike(target)) - target * input;
        }
        return reduction switch
        {
            KLDivReduction.Mean => loss.Mean(),
            KLDivReduction.Sum => loss.Sum(),
            KLDivReduction.BatchMean => loss.Sum() / (input.Dim == 0 ? 1 : input.Shape[0]),
            _ => loss,
        };
    }

    /// <summary>
    /// Cosine embedding loss: 1 − cos(x1, x2) where y = 1, max(0, cos − margin) where y = −1; cos over the last dim with
    /// ε = 1e-12 added to each squared magnitude (PyTorch's formula).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not match.</exception>
    public static Tensor CosineEmbeddingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("CosineEmbeddingLoss", input1, input2);
        int d = input1.Dim - 1;
        var prod = (input1 * input2).Sum(d);
        var m1 = input1.Square().Sum(d) + 1e-12;
        var m2 = input2.Square().Sum(d) + 1e-12;
        var cos = prod / (m1 * m2).Sqrt();
        var zeros = Tensor.ZerosLike(cos);
        var t = target.To(cos.DType);
        var loss = Tensor.Where(t.Eq(1), 1 - cos, zeros) + Tensor.Where(t.Eq(-1), (cos - margin).Clamp(0, null), zeros);
        return Reduce(loss, reduction);
    }

    /// <summary>Margin ranking loss max(0, −y·(x1 − x2) + margin).</summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor MarginRankingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("MarginRankingLoss", input1, input2);
        return Reduce((-target * (input1 - input2) + margin).Clamp(0, null), reduction);
    }
}
