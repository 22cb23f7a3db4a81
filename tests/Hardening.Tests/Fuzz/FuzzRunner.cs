using System.Diagnostics;

namespace Ember.Hardening.Tests.Fuzz;

/// <summary>
/// Seeded, bounded fuzzing. Every case runs from its own seed, derived from the run seed, the fuzzer's name and the
/// case number, so a failure is replayed by its case seed alone (the failure message prints it; add it to the fuzzer's
/// regression cases). CI runs the default seed and case counts (a few seconds in all); by hand:
/// <c>EMBER_FUZZ_SEED=123 EMBER_FUZZ_SCALE=50 dotnet run --project tests/Hardening.Tests -c Release -- --filter "FullyQualifiedName~Fuzz"</c>.
/// </summary>
internal static class FuzzRunner
{
    /// <summary>The run seed: EMBER_FUZZ_SEED, else a fixed default so CI is reproducible.</summary>
    public static int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("EMBER_FUZZ_SEED"), out var s) ? s : 20261206;

    /// <summary>Multiplies every fuzzer's case count: EMBER_FUZZ_SCALE, else 1.</summary>
    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("EMBER_FUZZ_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out var x) && x > 0 ? x : 1;

    /// <summary>The seed of case <paramref name="index"/> of fuzzer <paramref name="name"/> (FNV-1a over the run seed, the name and the index).</summary>
    public static int CaseSeed(string name, int index)
    {
        uint h = 2166136261;
        void Mix(int v) { for (int i = 0; i < 4; i++) { h ^= (byte)(v >> (8 * i)); h *= 16777619; } }
        Mix(Seed);
        foreach (var c in name) Mix(c);
        Mix(index);
        return (int)(h & 0x7FFFFFFF);
    }

    /// <summary>Runs <paramref name="cases"/>·Scale cases of <paramref name="body"/>, each with its own seeded generator; fails with the case seed on the first failure.</summary>
    public static void Run(string name, int cases, Action<System.Random> body)
    {
        int n = Math.Max(1, (int)(cases * Scale));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) Replay(name, CaseSeed(name, i), body);
        TestContext.Out.WriteLine($"{name}: {n} cases, run seed {Seed}, {sw.Elapsed.TotalSeconds:F2} s");
    }

    /// <summary>Runs one case from its seed (the regression cases call this directly).</summary>
    public static void Replay(string name, int caseSeed, Action<System.Random> body)
    {
        try { body(new System.Random(caseSeed)); }
        catch (Exception e) when (e is not AssertionException)
        {
            Assert.Fail($"{name}: case seed {caseSeed} (run seed {Seed}) threw {e.GetType().Name}: {e.Message}\n{e}");
        }
        catch (AssertionException e)
        {
            Assert.Fail($"{name}: case seed {caseSeed} (run seed {Seed}) failed: {e.Message}");
        }
    }

    /// <summary>Runs <paramref name="action"/>; an exception of one of the <paramref name="allowed"/> types is the validation working, any other escapes.</summary>
    /// <returns>The allowed exception, or null when the action succeeded.</returns>
    public static Exception? Expect(Action action, params Type[] allowed)
    {
        try { action(); return null; }
        catch (Exception e) when (allowed.Any(t => t.IsInstanceOfType(e))) { return e; }
    }

    /// <summary>One element of <paramref name="items"/>.</summary>
    public static T Pick<T>(this System.Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];
}
