using System.Diagnostics;

namespace Ember.Perf;

/// <summary>Timing helpers: warm-up, repeated runs, median and spread.</summary>
public static class Stats
{
    /// <summary>
    /// Runs <paramref name="body"/> warmup times, then takes repeat samples; a sample runs the body
    /// <paramref name="inner"/> times back to back and syncs once (inner 1: a sync after every run, the latency of one
    /// step; inner above 1: the device's throughput, as queued steps of a training loop see it, with the host's launch
    /// cost hidden behind the device's work). Returns seconds per run.
    /// </summary>
    public static double[] Time(Action body, Action sync, int warmup, int repeat, int inner = 1)
    {
        for (int i = 0; i < warmup; i++) { body(); sync(); }
        var times = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            var sw = Stopwatch.StartNew();
            for (int j = 0; j < inner; j++) body();
            sync();
            times[i] = sw.Elapsed.TotalSeconds / inner;
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
