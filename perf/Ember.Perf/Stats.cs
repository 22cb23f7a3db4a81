using System.Diagnostics;

namespace Ember.Perf;

/// <summary>Timing helpers: warm-up, repeated runs, median and spread.</summary>
public static class Stats
{
    /// <summary>Runs <paramref name="body"/> warmup times, then times it repeat times (sync after each run); returns seconds per run.</summary>
    public static double[] Time(Action body, Action sync, int warmup, int repeat)
    {
        for (int i = 0; i < warmup; i++) { body(); sync(); }
        var times = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            var sw = Stopwatch.StartNew();
            body(); sync();
            times[i] = sw.Elapsed.TotalSeconds;
        }
        return times;
    }

    /// <summary>Median of the values.</summary>
    public static double Median(double[] v)
    {
        var s = v.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>(min, max) of the values.</summary>
    public static (double Min, double Max) Spread(double[] v) => (v.Min(), v.Max());
}
