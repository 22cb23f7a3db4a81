namespace Ember.Cpu;

/// <summary>
/// The number of threads the CPU kernels (GEMM first of all) may use at once, the calling thread included.
/// </summary>
/// <remarks>
/// The default is <see cref="Environment.ProcessorCount"/>, unless the environment variable
/// <c>EMBER_NUM_THREADS</c> holds a positive integer when the class is first used, in which case that
/// value is the default. Kernels read the value at the start of every call, so a change applies to the
/// next call.
/// </remarks>
public static class CpuThreads
{
    /// <summary>Name of the environment variable that overrides the default thread count.</summary>
    public const string EnvironmentVariable = "EMBER_NUM_THREADS";

    private static int count = DefaultCount();

    /// <summary>
    /// Number of threads CPU kernels may use, at least 1. Setting it affects every later kernel call
    /// in the process.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is less than 1.</exception>
    public static int Count
    {
        get => Volatile.Read(ref count);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Count));
            Volatile.Write(ref count, value);
        }
    }

    private static int DefaultCount()
    {
        string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (text is not null
            && int.TryParse(text.Trim(), System.Globalization.NumberStyles.Integer,
                System.Globalization.CultureInfo.InvariantCulture, out int value)
            && value >= 1)
        {
            return value;
        }
        return Math.Max(1, Environment.ProcessorCount);
    }
}
