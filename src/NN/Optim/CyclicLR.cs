namespace Ember.Optim;

/// <summary>The amplitude policy of <see cref="CyclicLR"/>.</summary>
public enum CyclicMode
{
    /// <summary>Constant amplitude (scale 1).</summary>
    Triangular,
    /// <summary>Amplitude halved every cycle (scale 1/2^(cycle − 1)).</summary>
    Triangular2,
    /// <summary>Amplitude γ^iteration.</summary>
    ExpRange,
}

/// <summary>
/// Cyclical learning rate (PyTorch's CyclicLR, stepped once per batch): with cycle = ⌊1 + it/(up + down)⌋ and
/// x = 1 + it/(up + down) − cycle, the phase s = x/r rising (x ≤ r = up/(up + down)) else (x − 1)/(r − 1);
/// lr = base + (max − base)·s·scale, momentum = maxM − (maxM − baseM)·s·scale, where scale is the mode's function of
/// the cycle (Triangular, Triangular2, custom with <see cref="CyclicLR(Optimizer, IReadOnlyList{double}, IReadOnlyList{double}, double, double?, Func{double, double}, bool, bool, double, double)"/>)
/// or of the iteration (ExpRange). The constructor sets each group's lr to base (and momentum, or Adam's β1, to maxM).
/// </summary>
public sealed class CyclicLR : LRScheduler
{
    private readonly double[] maxLrs, baseMomentums, maxMomentums;
    private readonly double totalSize, stepRatio;
    private readonly Func<double, double> scaleFn;
    private readonly bool scaleByCycle, cycleMomentum;

    /// <summary>Creates the scheduler with a built-in mode and the same bounds for every group.</summary>
    /// <exception cref="ArgumentException">Non-positive step sizes, or cycleMomentum with an optimizer without momentum.</exception>
    public CyclicLR(Optimizer optimizer, double baseLr, double maxLr, double stepSizeUp = 2000, double? stepSizeDown = null,
        CyclicMode mode = CyclicMode.Triangular, double gamma = 1.0, bool cycleMomentum = true, double baseMomentum = 0.8, double maxMomentum = 0.9)
        : this(optimizer, [baseLr], [maxLr], stepSizeUp, stepSizeDown, Builtin(mode, gamma), mode != CyclicMode.ExpRange, cycleMomentum, baseMomentum, maxMomentum) { }

    /// <summary>Creates the scheduler with per-group bounds (one value is used for every group) and a custom scale function.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="baseLrs">Lower bounds (one per group, or one for all).</param>
    /// <param name="maxLrs">Upper bounds (one per group, or one for all).</param>
    /// <param name="stepSizeUp">Iterations of the rising half.</param>
    /// <param name="stepSizeDown">Iterations of the falling half (default stepSizeUp).</param>
    /// <param name="scaleFn">Amplitude scale, 0 ≤ scale(x) ≤ 1.</param>
    /// <param name="scaleByCycle">scaleFn takes the cycle number (PyTorch's scale_mode='cycle') or the iteration ('iterations').</param>
    /// <param name="cycleMomentum">Cycle the momentum inversely to the lr.</param>
    /// <param name="baseMomentum">Lower momentum bound.</param>
    /// <param name="maxMomentum">Upper momentum bound.</param>
    /// <exception cref="ArgumentException">Bounds of the wrong count ("expected {groups} values for base_lr, got {n}"), non-positive step sizes, or cycleMomentum with an optimizer without momentum.</exception>
    public CyclicLR(Optimizer optimizer, IReadOnlyList<double> baseLrs, IReadOnlyList<double> maxLrs, double stepSizeUp, double? stepSizeDown,
        Func<double, double> scaleFn, bool scaleByCycle = true, bool cycleMomentum = true, double baseMomentum = 0.8, double maxMomentum = 0.9)
        : base(Prepare(optimizer, baseLrs), applyInitialStep: false)
    {
        ArgumentNullException.ThrowIfNull(scaleFn);
        double down = stepSizeDown ?? stepSizeUp;
        if (!(stepSizeUp > 0)) throw new ArgumentException($"Expected positive step_size_up, but got {stepSizeUp}");
        if (!(down > 0)) throw new ArgumentException($"Expected positive step_size_down, but got {down}");
        BaseLrs = Scheduling.PerGroup(optimizer, baseLrs, "base_lr");
        this.maxLrs = Scheduling.PerGroup(optimizer, maxLrs, "max_lr");
        totalSize = stepSizeUp + down;
        stepRatio = stepSizeUp / totalSize;
        this.scaleFn = scaleFn;
        this.scaleByCycle = scaleByCycle;
        this.cycleMomentum = cycleMomentum;
        int groups = optimizer.ParamGroups.Count;
        baseMomentums = Enumerable.Repeat(baseMomentum, groups).ToArray();
        maxMomentums = Enumerable.Repeat(maxMomentum, groups).ToArray();
        if (cycleMomentum)
            foreach (var g in optimizer.ParamGroups)
            {
                if (g.Options.CycleMomentum is null) throw new ArgumentException("optimizer must support momentum with `cycle_momentum` option enabled");
                g.Options.CycleMomentum = baseMomentum;
            }
        Step();
    }

    private static Func<double, double> Builtin(CyclicMode mode, double gamma) => mode switch
    {
        CyclicMode.Triangular => _ => 1.0,
        CyclicMode.Triangular2 => x => 1 / Math.Pow(2, x - 1),
        CyclicMode.ExpRange => x => Math.Pow(gamma, x),
        _ => throw new ArgumentException($"mode {mode} is invalid and scale_fn is None"),
    };

    private static Optimizer Prepare(Optimizer optimizer, IReadOnlyList<double> baseLrs)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var b = Scheduling.PerGroup(optimizer, baseLrs, "base_lr");
        for (int i = 0; i < b.Length; i++) optimizer.ParamGroups[i].Options.Lr = b[i];
        return optimizer;
    }

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr)
    {
        double cycle = Math.Floor(1 + LastEpoch / totalSize);
        double x = 1 + LastEpoch / totalSize - cycle;
        double phase = x <= stepRatio ? x / stepRatio : (x - 1) / (stepRatio - 1);
        double scale = scaleFn(scaleByCycle ? cycle : LastEpoch);
        if (cycleMomentum)
            Optimizer.ParamGroups[group].Options.CycleMomentum = maxMomentums[group] - (maxMomentums[group] - baseMomentums[group]) * phase * scale;
        return baseLr + (maxLrs[group] - baseLr) * phase * scale;
    }
}
