namespace Ember.Optim;

/// <summary>
/// lr(epoch) = lr(epoch − 1)·λ(epoch) for epoch &gt; 0, lr(0) = base (PyTorch's MultiplicativeLR). Each λ is called once
/// per epoch, in order; <see cref="LRScheduler.StepTo"/> replays the products from epoch 1 (calling λ again).
/// </summary>
public sealed class MultiplicativeLR : LRScheduler
{
    private readonly Func<int, double>[] lambdas;
    private readonly List<double>[] products;   // per group: Π_{k=1..e} λ(k) for e = 0, 1, …

    /// <summary>Creates the scheduler with one λ for every group.</summary>
    public MultiplicativeLR(Optimizer optimizer, Func<int, double> lrLambda) : this(optimizer, [lrLambda]) { }

    /// <summary>Creates the scheduler with one λ per group.</summary>
    /// <exception cref="ArgumentException">The number of λ is neither 1 nor the number of groups: "Expected {groups} lr_lambdas, but got {n}".</exception>
    public MultiplicativeLR(Optimizer optimizer, IReadOnlyList<Func<int, double>> lrLambdas) : base(optimizer, applyInitialStep: false)
    {
        lambdas = Scheduling.PerGroup(optimizer, lrLambdas);
        products = [.. lambdas.Select(_ => new List<double> { 1.0 })];
        Step();
    }

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr)
    {
        var p = products[group];
        if (LastEpoch < p.Count - 1) p.RemoveRange(Math.Max(LastEpoch, 0) + 1, p.Count - Math.Max(LastEpoch, 0) - 1);
        while (p.Count <= LastEpoch) p.Add(p[^1] * lambdas[group](p.Count));
        return baseLr * p[Math.Max(LastEpoch, 0)];
    }
}
