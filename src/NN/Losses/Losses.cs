namespace Ember.NN;

/// <summary>A loss module: Forward((input, target)) or Forward(input, target).</summary>
public abstract class Loss : Module<(Tensor Input, Tensor Target), Tensor>
{
    /// <summary>Creates the loss with a reduction.</summary>
    protected Loss(Reduction reduction) { Reduction = reduction; }

    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>The loss of input against target.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);

    /// <inheritdoc/>
    public override Tensor Forward((Tensor Input, Tensor Target) input) => Forward(input.Input, input.Target);
}

/// <summary>Cross-entropy of logits (see <see cref="Functional.CrossEntropy"/>).</summary>
public sealed class CrossEntropyLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.CrossEntropy(input, target, weight, ignoreIndex, Reduction, labelSmoothing);
}

/// <summary>Negative log-likelihood (see <see cref="Functional.NllLoss"/>).</summary>
public sealed class NLLLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.NllLoss(input, target, weight, ignoreIndex, Reduction);
}

/// <summary>Mean squared error.</summary>
public sealed class MSELoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.MseLoss(input, target, Reduction);
}

/// <summary>Mean absolute error.</summary>
public sealed class L1Loss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.L1Loss(input, target, Reduction);
}

/// <summary>Smooth L1 with threshold beta.</summary>
public sealed class SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.SmoothL1Loss(input, target, Reduction, beta);
}

/// <summary>Huber loss with threshold delta.</summary>
public sealed class HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.HuberLoss(input, target, Reduction, delta);
}

/// <summary>Binary cross-entropy of probabilities.</summary>
public sealed class BCELoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.BinaryCrossEntropy(input, target, weight, Reduction);
}

/// <summary>Binary cross-entropy of logits with optional posWeight.</summary>
public sealed class BCEWithLogitsLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.BinaryCrossEntropyWithLogits(input, target, weight, Reduction, posWeight);
}

/// <summary>KL divergence (see <see cref="Functional.KLDiv"/>).</summary>
public sealed class KLDivLoss(KLDivReduction reduction = KLDivReduction.Mean, bool logTarget = false) : Module<(Tensor Input, Tensor Target), Tensor>
{
    /// <summary>The loss of input (log-probabilities) against target.</summary>
    public Tensor Forward(Tensor input, Tensor target) => Functional.KLDiv(input, target, reduction, logTarget);
    /// <inheritdoc/>
    public override Tensor Forward((Tensor Input, Tensor Target) input) => Forward(input.Input, input.Target);
}

/// <summary>Cosine embedding loss; Forward(x1, x2, y).</summary>
public sealed class CosineEmbeddingLoss(double margin = 0, Reduction reduction = Reduction.Mean) : Module<(Tensor, Tensor, Tensor), Tensor>
{
    /// <summary>The loss.</summary>
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => Functional.CosineEmbeddingLoss(input1, input2, target, margin, reduction);
    /// <inheritdoc/>
    public override Tensor Forward((Tensor, Tensor, Tensor) input) => Forward(input.Item1, input.Item2, input.Item3);
}

/// <summary>Margin ranking loss; Forward(x1, x2, y).</summary>
public sealed class MarginRankingLoss(double margin = 0, Reduction reduction = Reduction.Mean) : Module<(Tensor, Tensor, Tensor), Tensor>
{
    /// <summary>The loss.</summary>
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => Functional.MarginRankingLoss(input1, input2, target, margin, reduction);
    /// <inheritdoc/>
    public override Tensor Forward((Tensor, Tensor, Tensor) input) => Forward(input.Item1, input.Item2, input.Item3);
}
