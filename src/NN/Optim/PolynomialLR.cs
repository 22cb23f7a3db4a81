namespace Ember.Optim;

/// <summary>lr = base·(1 − min(epoch, totalIters)/totalIters)^power (PyTorch 1.13's PolynomialLR): reaches 0 at totalIters.</summary>
public sealed class PolynomialLR : LRScheduler
{
    private readonly int totalIters;
    private readonly double power;

    /// <summary>Creates the scheduler.</summary>
    /// <exception cref="ArgumentException">totalIters ≤ 0.</exception>
    public PolynomialLR(Optimizer optimizer, int totalIters = 5, double power = 1.0) : base(optimizer, applyInitialStep: false)
    {
        if (totalIters <= 0) throw new ArgumentException($"Expected positive integer total_iters, but got {totalIters}");
        this.totalIters = totalIters;
        this.power = power;
        Step();
    }

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) =>
        baseLr * Math.Pow(1.0 - (double)Math.Min(totalIters, LastEpoch) / totalIters, power);
}
