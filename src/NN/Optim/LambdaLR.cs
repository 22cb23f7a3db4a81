namespace Ember.Optim;

/// <summary>lr = base·λ(epoch), one λ for all groups or one per group (PyTorch's LambdaLR).</summary>
public sealed class LambdaLR : LRScheduler
{
    private readonly Func<int, double>[] lambdas;

    /// <summary>Creates the scheduler with one λ for every group.</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> lrLambda) : this(optimizer, [lrLambda]) { }

    /// <summary>Creates the scheduler with one λ per group (a single λ is used for all groups).</summary>
    /// <exception cref="ArgumentException">The number of λ is neither 1 nor the number of groups: "Expected {groups} lr_lambdas, but got {n}".</exception>
    public LambdaLR(Optimizer optimizer, IReadOnlyList<Func<int, double>> lrLambdas) : base(optimizer, applyInitialStep: false)
    {
        lambdas = Scheduling.PerGroup(optimizer, lrLambdas);
        Step();
    }

    /// <inheritdoc/>
    protected override double ComputeLr(int group, double baseLr) => baseLr * lambdas[group](LastEpoch);
}

/// <summary>Helpers shared by the schedulers.</summary>
internal static class Scheduling
{
    /// <summary>One function per group: a single one is repeated (PyTorch's lr_lambda handling).</summary>
    public static Func<int, double>[] PerGroup(Optimizer optimizer, IReadOnlyList<Func<int, double>> fs)
    {
        ArgumentNullException.ThrowIfNull(fs);
        int groups = optimizer.ParamGroups.Count;
        if (fs.Count == 1) return Enumerable.Repeat(fs[0] ?? throw new ArgumentNullException(nameof(fs)), groups).ToArray();
        if (fs.Count != groups) throw new ArgumentException($"Expected {groups} lr_lambdas, but got {fs.Count}");
        return [.. fs];
    }

    /// <summary>One value per group: a single one is repeated; otherwise "expected {groups} values for {name}, got {n}".</summary>
    public static double[] PerGroup(Optimizer optimizer, IReadOnlyList<double> values, string name)
    {
        int groups = optimizer.ParamGroups.Count;
        if (values.Count == 1) return Enumerable.Repeat(values[0], groups).ToArray();
        if (values.Count != groups) throw new ArgumentException($"expected {groups} values for {name}, got {values.Count}");
        return [.. values];
    }
}
