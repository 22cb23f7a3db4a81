using System.Globalization;
using Ember.Cpu;

namespace Ember;

/// <summary>
/// How many threads the CPU backend's kernels use (torch.get_num_threads / torch.set_num_threads): GEMM, convolution,
/// attention, normalization, softmax, cross-entropy, reductions, elementwise passes and optimizer steps all split their
/// work over at most <see cref="Count"/> threads, the calling thread included, from one shared set of worker threads.
/// </summary>
/// <remarks>
/// <para>The default is the number of physical cores this process may use (hardware threads of one core share its
/// vector units, so a second thread per core only adds contention to these kernels), read from
/// <c>/sys/devices/system/cpu</c> on Linux and <see cref="Environment.ProcessorCount"/> elsewhere. The environment
/// variable <c>EMBER_NUM_THREADS</c>, when set to a positive integer before the first use, replaces that default.</para>
/// <para>Results do not depend on the thread count: every kernel sums each output element in the same order
/// whatever the split.</para>
/// <para>Policy for concurrent callers: one operation at a time uses the worker threads. An operation started
/// while they are busy (from another thread) runs on its own thread only, instead of oversubscribing the cores.
/// <c>DataLoader</c> background workers run their fetches under <see cref="LimitCurrentThread"/>(1), as PyTorch's
/// DataLoader worker processes run with one thread, so loading never competes with the training step for the pool.</para>
/// </remarks>
public static class Threads
{
    /// <summary>Name of the environment variable that replaces the default thread count (a positive integer).</summary>
    public const string EnvironmentVariable = "EMBER_NUM_THREADS";

    // 0 until first read or set; read lazily so that a malformed EMBER_NUM_THREADS surfaces as a clear exception at
    // the first kernel call (not as a TypeInitializationException), and so that setting Count never reads it.
    private static int count;

    [ThreadStatic]
    private static int threadLimit;

    /// <summary>
    /// Number of threads the CPU kernels may use, at least 1 (torch.get_num_threads / torch.set_num_threads).
    /// Setting it applies to every later kernel call in the process. On a thread inside <see cref="LimitCurrentThread"/>
    /// the getter returns the smaller of the two.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is less than 1.</exception>
    /// <exception cref="InvalidOperationException">Read before any set while <c>EMBER_NUM_THREADS</c> is not a positive integer.</exception>
    public static int Count
    {
        get
        {
            int global = Volatile.Read(ref count);
            if (global == 0)
            {
                Interlocked.CompareExchange(ref count,
                    DefaultCount(Environment.GetEnvironmentVariable(EnvironmentVariable), CpuTopology.PhysicalCores), 0);
                global = Volatile.Read(ref count);
            }
            int local = threadLimit;
            return local > 0 && local < global ? local : global;
        }
        set
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"Threads.Count must be at least 1 (the number of threads CPU kernels may use), got {value}.");
            }
            Volatile.Write(ref count, value);
        }
    }

    /// <summary>The default <see cref="Count"/> on this machine without <c>EMBER_NUM_THREADS</c>: physical cores available to the process.</summary>
    public static int PhysicalCores => CpuTopology.PhysicalCores;

    /// <summary>
    /// Limits CPU kernels called from the current thread to at most <paramref name="limit"/> threads until the returned
    /// scope is disposed (scopes nest; disposing restores the previous limit). Other threads are not affected.
    /// </summary>
    /// <param name="limit">Most threads a kernel started on this thread may use, at least 1.</param>
    /// <returns>A scope that restores the previous limit when disposed, on the same thread.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    public static IDisposable LimitCurrentThread(int limit)
    {
        if (limit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit,
                $"Threads.LimitCurrentThread: the limit must be at least 1, got {limit}.");
        }
        var scope = new LimitScope(threadLimit);
        threadLimit = limit;
        return scope;
    }

    /// <summary>
    /// The default count: <paramref name="environment"/> (the variable's text) when set, else <paramref name="physicalCores"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The variable is set but is not a positive integer.</exception>
    internal static int DefaultCount(string? environment, int physicalCores)
    {
        if (string.IsNullOrWhiteSpace(environment))
            return Math.Max(1, physicalCores);
        if (int.TryParse(environment.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 1)
            return value;
        throw new InvalidOperationException(
            $"{EnvironmentVariable}='{environment}' is not a positive integer; set it to the number of threads CPU kernels may use, or unset it for the default (physical cores: {physicalCores}).");
    }

    private sealed class LimitScope(int previous) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            threadLimit = previous;
        }
    }
}
