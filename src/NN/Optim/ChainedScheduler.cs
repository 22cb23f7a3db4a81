using System.Text.Json.Nodes;

namespace Ember.Optim;

/// <summary>
/// Steps several schedulers of one optimizer together (PyTorch's ChainedScheduler): each group's lr is the initial lr
/// times the product of every scheduler's factor lrᵢ/baseᵢ. This equals PyTorch's result for its chainable
/// (multiplicative) schedulers — StepLR, MultiStepLR, ExponentialLR, LinearLR, MultiplicativeLR, PolynomialLR, LambdaLR
/// first in the chain — where each multiplies the lr the previous one set.
/// </summary>
/// <remarks>
/// Ember's schedulers compute closed forms, so chaining multiplies their factors instead of replaying PyTorch's recursive
/// updates. For non-multiplicative schedulers (cosine annealing with η_min ≠ 0, CyclicLR, OneCycleLR) PyTorch's chained
/// result depends on the order of the calls; here it is the product of the factors.
/// </remarks>
public sealed class ChainedScheduler : LRScheduler
{
    private readonly LRScheduler[] schedulers;

    /// <summary>Chains schedulers built on the same optimizer (in the order given) and applies the combined lr.</summary>
    /// <exception cref="ArgumentException">No schedulers, or schedulers of different optimizers (PyTorch's message).</exception>
    public ChainedScheduler(IReadOnlyList<LRScheduler> schedulers) : base(First(schedulers).Optimizer, applyInitialStep: false)
    {
        for (int i = 1; i < schedulers.Count; i++)
            if (!ReferenceEquals(schedulers[i].Optimizer, schedulers[0].Optimizer))
                throw new ArgumentException($"ChainedScheduler expects all schedulers to belong to the same optimizer, but got schedulers at index 0 and {i} to be different");
        this.schedulers = [.. schedulers];
        LastEpoch = 0;
        Combine();
    }

    private static LRScheduler First(IReadOnlyList<LRScheduler> schedulers)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        if (schedulers.Count == 0) throw new ArgumentException("ChainedScheduler expects at least one scheduler");
        return schedulers[0];
    }

    /// <summary>The chained schedulers.</summary>
    public IReadOnlyList<LRScheduler> Schedulers => schedulers;

    /// <summary>Not available: the chain has no closed form of its own.</summary>
    protected override double ComputeLr(int group, double baseLr) => throw new NotSupportedException("ChainedScheduler has no closed form; call Step().");

    /// <summary>Steps every scheduler, then sets each group's lr to base·Π factors.</summary>
    public override void Step()
    {
        LastEpoch++;
        foreach (var s in schedulers) s.Step();
        Combine();
    }

    private void Combine()
    {
        var groups = Optimizer.ParamGroups;
        var lrs = new double[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            double lr = BaseLrs[g];
            // A zero base lr has no factor to take: the group's lr stays 0 (what multiplying schedulers give too).
            foreach (var s in schedulers) lr *= s.BaseLrs[g] == 0 ? 0 : s.GetLastLr()[g] / s.BaseLrs[g];
            groups[g].Options.Lr = lrs[g] = lr;
        }
        LastLr = lrs;
    }

    /// <inheritdoc/>
    public override JsonObject StateDict()
    {
        var o = base.StateDict();
        o["_schedulers"] = new JsonArray(schedulers.Select(s => (JsonNode?)s.StateDict()).ToArray());
        return o;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(JsonObject state)
    {
        base.LoadStateDict(state);
        var arr = state["_schedulers"]!.AsArray();
        if (arr.Count != schedulers.Length) throw new ArgumentException($"loaded ChainedScheduler state has {arr.Count} schedulers, this one has {schedulers.Length}");
        for (int i = 0; i < schedulers.Length; i++) schedulers[i].LoadStateDict(arr[i]!.AsObject());
    }
}
