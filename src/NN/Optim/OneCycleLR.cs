using System.Text.Json.Nodes;

namespace Ember.Optim;

/// <summary>How <see cref="OneCycleLR"/> interpolates within a phase.</summary>
public enum AnnealStrategy
{
    /// <summary>end + (start − end)/2·(1 + cos(π·pct)).</summary>
    Cos,
    /// <summary>start + (end − start)·pct.</summary>
    Linear,
}

/// <summary>
/// The 1cycle policy (PyTorch's OneCycleLR, stepped once per batch): lr rises from maxLr/divFactor to maxLr over
/// pctStart of the steps, then anneals to initial/finalDivFactor (threePhase: back to the initial lr first, then down);
/// momentum (or Adam's β1) cycles inversely between maxMomentum and baseMomentum.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly int totalSteps;
    private readonly AnnealStrategy anneal;
    private readonly bool cycleMomentum;
    private readonly (double EndStep, int StartLr, int EndLr, int StartM, int EndM)[] phases;
    private readonly double[][] lrs;   // per group: initial, max, min
    private readonly double[][] moms;  // per group: max momentum, base momentum

    /// <summary>Creates the scheduler; give totalSteps, or epochs and stepsPerEpoch.</summary>
    /// <exception cref="ArgumentException">Invalid step counts, pctStart outside [0, 1], or cycleMomentum with an optimizer without momentum.</exception>
    public OneCycleLR(Optimizer optimizer, double maxLr, int? totalSteps = null, int? epochs = null, int? stepsPerEpoch = null,
        double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true,
        double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false)
        : base(Prepare(optimizer, maxLr, divFactor), applyInitialStep: false)
    {
        if (totalSteps is { } t)
        {
            if (t <= 0) throw new ArgumentException($"Expected positive integer total_steps, but got {t}");
            this.totalSteps = t;
        }
        else if (epochs is { } e && stepsPerEpoch is { } s)
        {
            if (e <= 0) throw new ArgumentException($"Expected positive integer epochs, but got {e}");
            if (s <= 0) throw new ArgumentException($"Expected positive integer steps_per_epoch, but got {s}");
            this.totalSteps = e * s;
        }
        else throw new ArgumentException("You must define either total_steps OR (epochs AND steps_per_epoch)");
        if (pctStart < 0 || pctStart > 1) throw new ArgumentException($"Expected float between 0 and 1 pct_start, but got {pctStart}");
        anneal = annealStrategy;
        this.cycleMomentum = cycleMomentum;
        double n = this.totalSteps;
        phases = threePhase
            ? [(pctStart * n - 1, 0, 1, 0, 1), (2 * pctStart * n - 2, 1, 0, 1, 0), (n - 1, 0, 2, 0, 0)]
            : [(pctStart * n - 1, 0, 1, 0, 1), (n - 1, 1, 2, 1, 0)];
        var groups = optimizer.ParamGroups;
        lrs = groups.Select(g => new[] { maxLr / divFactor, maxLr, maxLr / divFactor / finalDivFactor }).ToArray();
        moms = groups.Select(_ => new[] { maxMomentum, baseMomentum }).ToArray();
        if (cycleMomentum)
            foreach (var g in groups)
            {
                if (g.Options.CycleMomentum is null) throw new ArgumentException("optimizer must support momentum with `cycle_momentum` option enabled");
                g.Options.CycleMomentum = maxMomentum;
            }
        Step();
    }

    private static Optimizer Prepare(Optimizer optimizer, double maxLr, double divFactor)
    {
        foreach (var g in optimizer.ParamGroups) { g.Options.Lr = maxLr / divFactor; g.InitialLr = maxLr / divFactor; }
        return optimizer;
    }

    private double Anneal(double start, double end, double pct) => anneal == AnnealStrategy.Cos
        ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1)
        : (end - start) * pct + start;

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) => Compute(group).Lr;

    private (double Lr, double Momentum) Compute(int group)
    {
        int step = LastEpoch;
        if (step > totalSteps)
            throw new InvalidOperationException($"Tried to step {step} times. The specified number of total steps is {totalSteps}");
        double startStep = 0;
        for (int i = 0; i < phases.Length; i++)
        {
            var ph = phases[i];
            if (step <= ph.EndStep || i == phases.Length - 1)
            {
                double pct = (step - startStep) / (ph.EndStep - startStep);
                return (Anneal(lrs[group][ph.StartLr], lrs[group][ph.EndLr], pct), Anneal(moms[group][ph.StartM], moms[group][ph.EndM], pct));
            }
            startStep = ph.EndStep;
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <inheritdoc/>
    public override void Step()
    {
        base.Step();
        if (!cycleMomentum) return;
        var groups = Optimizer.ParamGroups;
        for (int i = 0; i < groups.Count; i++) groups[i].Options.CycleMomentum = Compute(i).Momentum;
    }

    /// <summary>The momentum (or β1) of each group after the last step.</summary>
    public IReadOnlyList<double> GetLastMomentum() => Optimizer.ParamGroups.Select(g => g.Options.CycleMomentum ?? double.NaN).ToArray();
}

/// <summary>Whether <see cref="ReduceLROnPlateau"/> watches a metric that should go down or up.</summary>
public enum PlateauMode
{
    /// <summary>Lower is better (a loss).</summary>
    Min,
    /// <summary>Higher is better (an accuracy).</summary>
    Max,
}

/// <summary>How <see cref="ReduceLROnPlateau"/> decides that a value improved on the best.</summary>
public enum ThresholdMode
{
    /// <summary>Relative: better than best·(1 ∓ threshold).</summary>
    Rel,
    /// <summary>Absolute: better than best ∓ threshold.</summary>
    Abs,
}

/// <summary>
/// Multiplies the learning rate by <c>factor</c> when a metric has not improved for <c>patience</c> steps (PyTorch's
/// ReduceLROnPlateau), then waits <c>cooldown</c> steps; never below minLr; changes smaller than eps are skipped.
/// </summary>
public sealed class ReduceLROnPlateau
{
    private readonly PlateauMode mode;
    private readonly double factor, threshold, eps;
    private readonly int patience, cooldown;
    private readonly ThresholdMode thresholdMode;
    private readonly double[] minLrs;

    /// <summary>Creates the scheduler.</summary>
    /// <exception cref="ArgumentException">factor ≥ 1.</exception>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
        double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0, double minLr = 0, double eps = 1e-8)
    {
        if (factor >= 1.0) throw new ArgumentException("Factor should be < 1.0.");
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        this.mode = mode; this.factor = factor; this.patience = patience; this.threshold = threshold;
        this.thresholdMode = thresholdMode; this.cooldown = cooldown; this.eps = eps;
        minLrs = optimizer.ParamGroups.Select(_ => minLr).ToArray();
        Best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
        LastLr = optimizer.ParamGroups.Select(g => g.Options.Lr).ToArray();
    }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }
    /// <summary>The best metric so far.</summary>
    public double Best { get; private set; }
    /// <summary>Steps since the last improvement.</summary>
    public int NumBadEpochs { get; private set; }
    /// <summary>Remaining cooldown steps.</summary>
    public int CooldownCounter { get; private set; }
    /// <summary>Steps taken.</summary>
    public int LastEpoch { get; private set; }
    private double[] LastLr { get; set; }

    /// <summary>The learning rates after the last step.</summary>
    public IReadOnlyList<double> GetLastLr() => LastLr;

    private bool IsBetter(double a, double best) => (mode, thresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => a < best * (1 - threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => a < best - threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => a > best * (threshold + 1),
        _ => a > best + threshold,
    };

    /// <summary>Records one value of the metric and reduces the learning rates when it has plateaued.</summary>
    public void Step(double metric)
    {
        LastEpoch++;
        if (IsBetter(metric, Best)) { Best = metric; NumBadEpochs = 0; }
        else NumBadEpochs++;
        if (CooldownCounter > 0) { CooldownCounter--; NumBadEpochs = 0; }
        if (NumBadEpochs > patience)
        {
            var groups = Optimizer.ParamGroups;
            for (int i = 0; i < groups.Count; i++)
            {
                double old = groups[i].Options.Lr, nw = Math.Max(old * factor, minLrs[i]);
                if (old - nw > eps) groups[i].Options.Lr = nw;
            }
            CooldownCounter = cooldown;
            NumBadEpochs = 0;
        }
        LastLr = Optimizer.ParamGroups.Select(g => g.Options.Lr).ToArray();
    }

    /// <summary>The scheduler's state.</summary>
    public JsonObject StateDict() => new()
    {
        ["best"] = Best, ["num_bad_epochs"] = NumBadEpochs, ["cooldown_counter"] = CooldownCounter, ["last_epoch"] = LastEpoch,
        ["_last_lr"] = new JsonArray(LastLr.Select(x => (JsonNode?)x).ToArray()),
    };

    /// <summary>Restores <see cref="StateDict"/>.</summary>
    public void LoadStateDict(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Best = state["best"]!.GetValue<double>(); NumBadEpochs = state["num_bad_epochs"]!.GetValue<int>();
        CooldownCounter = state["cooldown_counter"]!.GetValue<int>(); LastEpoch = state["last_epoch"]!.GetValue<int>();
        LastLr = state["_last_lr"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
    }
}
