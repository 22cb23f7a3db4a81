namespace Ember;

/// <summary>
/// A Philox random stream: a seed and a counter offset. Each fill of n elements reserves ⌈n/4⌉
/// counters, so the same seed gives the same numbers on every run and every backend. Thread-safe.
/// </summary>
public sealed class Generator
{
    private readonly object gate = new();
    private ulong offset;

    /// <summary>A generator with the given seed (offset 0).</summary>
    public Generator(ulong seed = 67280421310721UL) { Seed = seed; }

    /// <summary>The key of the stream.</summary>
    public ulong Seed { get; private set; }

    /// <summary>The next unused counter.</summary>
    public ulong Offset { get { lock (gate) return offset; } }

    /// <summary>Restarts the stream with a new seed; returns this.</summary>
    public Generator ManualSeed(ulong seed)
    {
        lock (gate) { Seed = seed; offset = 0; }
        return this;
    }

    /// <summary>Captures (seed, offset) for checkpoints.</summary>
    public (ulong Seed, ulong Offset) GetState() { lock (gate) return (Seed, offset); }

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState((ulong Seed, ulong Offset) state) { lock (gate) { Seed = state.Seed; offset = state.Offset; } }

    /// <summary>Reserves the counters for <paramref name="count"/> elements; returns (seed, first counter).</summary>
    public (ulong Seed, ulong Offset) Reserve(long count)
    {
        lock (gate)
        {
            var start = offset;
            offset += (ulong)((count + 3) / 4);
            return (Seed, start);
        }
    }

    /// <summary>The next Float64 uniform in [0, 1) (for host-side decisions such as shuffles).</summary>
    public double NextDouble()
    {
        var (s, o) = Reserve(4);
        Philox.Block(s, o, out var r, out _, out _, out _);
        return Philox.ToUniformDouble(r);
    }
}

/// <summary>The default random stream. Seed it with <see cref="Tensor.ManualSeed(long)"/> (<c>Tensor.ManualSeed(42)</c>).</summary>
public static class Random
{
    /// <summary>The generator used when none is passed.</summary>
    public static Generator Default { get; } = new();

    /// <summary>Seeds the default generator (torch.manual_seed). Obsolete: the name <c>Random</c> collides with System.Random under implicit usings.</summary>
    [Obsolete("Use Tensor.ManualSeed(seed): Ember.Random collides with System.Random under implicit usings.")]
    public static void Seed(ulong seed) => Default.ManualSeed(seed);

    /// <summary>Seeds the default generator (torch.manual_seed). Obsolete: the name <c>Random</c> collides with System.Random under implicit usings.</summary>
    [Obsolete("Use Tensor.ManualSeed(seed): Ember.Random collides with System.Random under implicit usings.")]
    public static void Seed(long seed) => Default.ManualSeed(unchecked((ulong)seed));
}
