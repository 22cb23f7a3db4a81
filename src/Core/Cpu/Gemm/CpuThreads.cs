namespace Ember.Cpu;

/// <summary>
/// The number of threads the CPU kernels may use at once, the calling thread included: the same setting as
/// <see cref="Threads.Count"/> (kept for existing callers; <see cref="Threads"/> documents the default and the policy).
/// </summary>
public static class CpuThreads
{
    /// <summary>Name of the environment variable that overrides the default thread count.</summary>
    public const string EnvironmentVariable = Threads.EnvironmentVariable;

    /// <summary>Number of threads CPU kernels may use, at least 1; the same value as <see cref="Threads.Count"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is less than 1.</exception>
    public static int Count
    {
        get => Threads.Count;
        set => Threads.Count = value;
    }
}
