using System.Text.Json.Nodes;

namespace Ember.Optim;

/// <summary>
/// Base of the epoch-based learning-rate schedulers (PyTorch's torch.optim.lr_scheduler.LRScheduler). The constructor
/// records each group's initial learning rate (PyTorch's initial_lr) and applies epoch 0; every <see cref="Step"/>
/// advances one epoch and sets each group's lr to the closed-form value <see cref="ComputeLr"/>.
/// </summary>
public abstract class LRScheduler
{
    /// <summary>Attaches to an optimizer and applies the first learning rate.</summary>
    protected LRScheduler(Optimizer optimizer, bool applyInitialStep = true)
    {
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        foreach (var g in optimizer.ParamGroups) g.InitialLr ??= g.Options.Lr;
        BaseLrs = optimizer.ParamGroups.Select(g => g.InitialLr!.Value).ToArray();
        LastLr = optimizer.ParamGroups.Select(g => g.Options.Lr).ToArray();
        if (applyInitialStep) Step();
    }

    /// <summary>The optimizer whose groups are scheduled.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Each group's initial learning rate.</summary>
    public double[] BaseLrs { get; protected set; }

    /// <summary>The number of steps taken (−1 before the constructor's initial step).</summary>
    public int LastEpoch { get; set; } = -1;

    /// <summary>The learning rates last set.</summary>
    protected double[] LastLr { get; set; }

    /// <summary>The learning rates of each group after the last step.</summary>
    public IReadOnlyList<double> GetLastLr() => LastLr;

    /// <summary>The learning rate of group <paramref name="group"/> at epoch <see cref="LastEpoch"/>.</summary>
    protected abstract double ComputeLr(int group, double baseLr);

    /// <summary>Advances one epoch and updates the optimizer's learning rates.</summary>
    public virtual void Step()
    {
        LastEpoch++;
        Apply();
    }

    /// <summary>Jumps to <paramref name="epoch"/> (closed form) and updates the learning rates.</summary>
    public void StepTo(int epoch)
    {
        LastEpoch = epoch;
        Apply();
    }

    private void Apply()
    {
        var groups = Optimizer.ParamGroups;
        LastLr = new double[groups.Count];
        for (int i = 0; i < groups.Count; i++)
        {
            groups[i].Options.Lr = ComputeLr(i, BaseLrs[i]);
            LastLr[i] = groups[i].Options.Lr;
        }
    }

    /// <summary>The scheduler's state (last epoch, base and last learning rates).</summary>
    public virtual JsonObject StateDict() => new()
    {
        ["last_epoch"] = LastEpoch,
        ["base_lrs"] = new JsonArray(BaseLrs.Select(x => (JsonNode?)x).ToArray()),
        ["_last_lr"] = new JsonArray(LastLr.Select(x => (JsonNode?)x).ToArray()),
    };

    /// <summary>Restores <see cref="StateDict"/> (the optimizer's learning rates are restored by its own state dict).</summary>
    /// <exception cref="ArgumentException">A key is missing or of the wrong type, or a list's length differs from the
    /// optimizer's group count (nothing is changed).</exception>
    public virtual void LoadStateDict(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        int groups = Optimizer.ParamGroups.Count;
        int lastEpoch = ReadInt(state, "last_epoch");
        var baseLrs = ReadDoubles(state, "base_lrs", groups);
        var lastLr = ReadDoubles(state, "_last_lr", groups);
        (LastEpoch, BaseLrs, LastLr) = (lastEpoch, baseLrs, lastLr);
    }

    /// <summary>Reads an integer entry of a scheduler state.</summary>
    /// <exception cref="ArgumentException">Missing or not an Int32.</exception>
    protected static int ReadInt(JsonObject state, string key) =>
        state[key] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue(out int i)
            ? i : throw new ArgumentException($"scheduler state: \"{key}\" must be an integer.");

    /// <summary>Reads a list of <paramref name="count"/> numbers of a scheduler state.</summary>
    /// <exception cref="ArgumentException">Missing, not numbers, or of another length.</exception>
    protected static double[] ReadDoubles(JsonObject state, string key, int count)
    {
        if (state[key] is not JsonArray a || a.Count != count)
            throw new ArgumentException($"scheduler state: \"{key}\" must be an array of {count} numbers (one per parameter group).");
        var r = new double[count];
        for (int i = 0; i < count; i++)
            r[i] = a[i] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue(out double d)
                ? d : throw new ArgumentException($"scheduler state: \"{key}\"[{i}] must be a number.");
        return r;
    }
}

/// <summary>lr = base·γ^⌊epoch/stepSize⌋.</summary>
public sealed class StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : LRScheduler(optimizer)
{
    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) => baseLr * Math.Pow(gamma, LastEpoch / stepSize);
}

/// <summary>lr = base·γ^(number of milestones ≤ epoch).</summary>
public sealed class MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1) : LRScheduler(optimizer)
{
    private readonly int[] ms = milestones.Order().ToArray();
    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) => baseLr * Math.Pow(gamma, ms.Count(m => m <= LastEpoch));
}

/// <summary>lr = base·γ^epoch.</summary>
public sealed class ExponentialLR(Optimizer optimizer, double gamma) : LRScheduler(optimizer)
{
    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) => baseLr * Math.Pow(gamma, LastEpoch);
}

/// <summary>lr = η_min + (base − η_min)·(1 + cos(π·epoch/T_max))/2 (SGDR without restarts).</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : LRScheduler(optimizer)
{
    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) =>
        etaMin + (baseLr - etaMin) * (1 + Math.Cos(Math.PI * LastEpoch / tMax)) / 2;
}

/// <summary>lr = base·(s + (e − s)·min(epoch, total)/total): linear warm-up (or decay) of the factor from s to e.</summary>
public sealed class LinearLR : LRScheduler
{
    private readonly double start, end;
    private readonly int total;

    /// <summary>Creates the scheduler.</summary>
    /// <exception cref="ArgumentException">startFactor outside (0, 1] or endFactor outside [0, 1].</exception>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5)
        : base(optimizer, applyInitialStep: false)
    {
        if (startFactor > 1.0 || startFactor <= 0)
            throw new ArgumentException("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
        if (endFactor > 1.0 || endFactor < 0)
            throw new ArgumentException("Ending multiplicative factor expected to be between 0 and 1.");
        start = startFactor; end = endFactor; total = totalIters;
        Step();
    }

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) => baseLr * (start + (end - start) * Math.Min(LastEpoch, total) / total);
}

/// <summary>
/// Runs schedulers one after another, switching at the milestones (PyTorch's SequentialLR): at a milestone the next
/// scheduler restarts from its epoch 0.
/// </summary>
public sealed class SequentialLR : LRScheduler
{
    private readonly LRScheduler[] schedulers;
    private readonly int[] milestones;

    /// <summary>Creates the chain; schedulers must be built on the same optimizer.</summary>
    /// <exception cref="ArgumentException">milestones.Length ≠ schedulers.Length − 1, or a scheduler has another optimizer.</exception>
    public SequentialLR(Optimizer optimizer, IReadOnlyList<LRScheduler> schedulers, IReadOnlyList<int> milestones)
        : base(optimizer, applyInitialStep: false)
    {
        if (schedulers.Any(s => !ReferenceEquals(s.Optimizer, optimizer)))
            throw new ArgumentException("Sequential Schedulers expects all schedulers to belong to the same optimizer.");
        if (milestones.Count != schedulers.Count - 1)
            throw new ArgumentException($"Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers {schedulers.Count} and the number of milestones to be equal to {milestones.Count}");
        this.schedulers = [.. schedulers];
        this.milestones = [.. milestones];
        LastEpoch = 0;
        // Undo the constructors' initial steps, then let the first scheduler take its epoch 0.
        foreach (var g in optimizer.ParamGroups) g.Options.Lr = g.InitialLr!.Value;
        foreach (var s in this.schedulers) s.LastEpoch -= 1;
        this.schedulers[0].Step();
        LastLr = [.. this.schedulers[0].GetLastLr()];
    }

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Step()
    {
        LastEpoch++;
        int idx = milestones.Count(m => m <= LastEpoch);
        var s = schedulers[idx];
        if (idx > 0 && milestones[idx - 1] == LastEpoch) s.StepTo(0);
        else s.Step();
        LastLr = [.. s.GetLastLr()];
    }

    /// <inheritdoc/>
    public override JsonObject StateDict()
    {
        var o = base.StateDict();
        o["_schedulers"] = new JsonArray(schedulers.Select(s => (JsonNode?)s.StateDict()).ToArray());
        return o;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The state is malformed (this scheduler and its children are left as they were).</exception>
    public override void LoadStateDict(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state["_schedulers"] is not JsonArray arr || arr.Count != schedulers.Length || arr.Any(s => s is not JsonObject))
            throw new ArgumentException($"scheduler state: \"_schedulers\" must be an array of {schedulers.Length} objects.");
        var previous = schedulers.Select(s => s.StateDict()).ToArray();
        var own = StateDict();
        try
        {
            base.LoadStateDict(state);
            for (int i = 0; i < schedulers.Length; i++) schedulers[i].LoadStateDict(arr[i]!.AsObject());
        }
        catch (ArgumentException)
        {
            base.LoadStateDict(own);
            for (int i = 0; i < schedulers.Length; i++) schedulers[i].LoadStateDict(previous[i]);
            throw;
        }
    }
}
