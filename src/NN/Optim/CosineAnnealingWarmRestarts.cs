namespace Ember.Optim;

/// <summary>
/// SGDR (PyTorch's CosineAnnealingWarmRestarts): lr = η_min + (base − η_min)·(1 + cos(π·T_cur/T_i))/2, where the period
/// T_i starts at T_0 and is multiplied by T_mult at each restart, and T_cur counts epochs since the last restart.
/// <see cref="Step(double)"/> takes a fractional epoch (e.g. epoch + batch/batches) as PyTorch's step(epoch) does.
/// </summary>
public sealed class CosineAnnealingWarmRestarts : LRScheduler
{
    private readonly int t0, tMult;
    private readonly double etaMin;
    private bool fractional;   // inside Step(double): TCur and TI were set from the fractional epoch

    /// <summary>Creates the scheduler.</summary>
    /// <exception cref="ArgumentException">T_0 ≤ 0 or T_mult &lt; 1 (PyTorch's messages).</exception>
    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult = 1, double etaMin = 0) : base(optimizer, applyInitialStep: false)
    {
        if (t0 <= 0) throw new ArgumentException($"Expected positive integer T_0, but got {t0}");
        if (tMult < 1) throw new ArgumentException($"Expected integer T_mult >= 1, but got {tMult}");
        this.t0 = t0; this.tMult = tMult; this.etaMin = etaMin;
        TI = t0;
        Step();
    }

    /// <summary>Epochs since the last restart (fractional after <see cref="Step(double)"/>).</summary>
    public double TCur { get; private set; }

    /// <summary>The length of the current period.</summary>
    public double TI { get; private set; }

    private void Locate(double epoch)
    {
        if (epoch < 0) throw new ArgumentException($"Expected non-negative epoch, but got {epoch}");
        if (epoch < t0) { TI = t0; TCur = epoch; return; }
        if (tMult == 1) { TI = t0; TCur = epoch % t0; return; }
        // Walk the periods T_0, T_0·T_mult, … (exact for integer epochs, where PyTorch's closed-form log can round down at a restart).
        double start = 0, len = t0;
        while (epoch >= start + len) { start += len; len *= tMult; }
        TCur = epoch - start;
        TI = len;
    }

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr)
    {
        if (LastEpoch >= 0 && !fractional) Locate(LastEpoch);
        return etaMin + (baseLr - etaMin) * (1 + Math.Cos(Math.PI * TCur / TI)) / 2;
    }

    /// <summary>Jumps to a fractional epoch (PyTorch's step(epoch)); <see cref="LRScheduler.LastEpoch"/> becomes ⌊epoch⌋.</summary>
    /// <exception cref="ArgumentException">epoch &lt; 0: "Expected non-negative epoch, but got {epoch}".</exception>
    public void Step(double epoch)
    {
        Locate(epoch);
        fractional = true;
        try { StepTo((int)Math.Floor(epoch)); }
        finally { fractional = false; }
    }
}
