namespace Ember.Cpu;

/// <summary>
/// How many threads CPU kernels use (GEMM, large elementwise ops). Defaults to the processor count,
/// or the EMBER_NUM_THREADS environment variable when set.
/// </summary>
public static class CpuThreads
{
    private static int count = Default();

    /// <summary>The thread count (≥ 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    public static int Count
    {
        get => count;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), $"CpuThreads.Count must be at least 1, got {value}.");
            count = value;
        }
    }

    private static int Default()
    {
        var env = Environment.GetEnvironmentVariable("EMBER_NUM_THREADS");
        return int.TryParse(env, out var n) && n >= 1 ? n : Environment.ProcessorCount;
    }
}
