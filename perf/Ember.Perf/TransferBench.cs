using System.Diagnostics;
using System.Globalization;
using Ember.Data;
using Ember.Ilgpu;
using Ember.NN;
using Ember.Optim;

namespace Ember.Perf;

/// <summary>
/// Host↔device copies with the ILGPU device's pinned staging ring on and off (<see cref="IlgpuDevice.PinnedStaging"/>):
/// bandwidth of <c>Tensor.To</c> per size, and the step time of a DataLoader-fed training loop (each batch copied to
/// the device, then an MLP step), both settings in one process, alternated so drift hits both.
/// <c>Ember.Perf --device cuda --transfer 1K,64K,1M,16M,256M [--repeat 10]</c>.
/// </summary>
public static class TransferBench
{
    /// <summary>Prints one table row per size and direction, then the DataLoader loop's step times.</summary>
    /// <param name="device">An ILGPU device.</param>
    /// <param name="sizes">Byte counts (float32 elements = bytes / 4).</param>
    /// <param name="repeat">Timed copies per size and setting (medians).</param>
    public static void Run(Device device, long[] sizes, int repeat)
    {
        var dev = IlgpuBackend.Open(device);
        bool initial = dev.PinnedStaging;
        Console.WriteLine($"transfer device={device} repeat={repeat} (medians; GB/s = 1e9 bytes/s)");
        // "into": Copy_ into a tensor allocated once (the copy alone); "To": a new tensor per copy, as `x.To(device)` in
        // a loop does (the allocation, and the collections that return unreachable blocks, included).
        Console.WriteLine("| bytes | H2D into plain | H2D into staged | D2H into plain | D2H into staged | H2D To plain | H2D To staged | D2H To plain | D2H To staged |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (long bytes in sizes)
        {
            long n = Math.Max(1, bytes / 4);
            var host = Tensor.Randn([n]);
            var onDev = host.To(device);
            var devDst = Tensor.Empty([n], device: device);
            var hostDst = Tensor.Empty([n]);
            var gbs = new double[8];
            for (int staged = 0; staged < 2; staged++)
            {
                dev.PinnedStaging = staged == 1;
                gbs[staged] = bytes / Median(repeat, () => { devDst.Copy_(host); dev.Accelerator.Synchronize(); }) / 1e9;
                gbs[2 + staged] = bytes / Median(repeat, () => hostDst.Copy_(onDev)) / 1e9;
                gbs[4 + staged] = bytes / Median(repeat, () => { var t = host.To(device); dev.Accelerator.Synchronize(); GC.KeepAlive(t); }) / 1e9;
                gbs[6 + staged] = bytes / Median(repeat, () => GC.KeepAlive(onDev.To(Device.Cpu))) / 1e9;
            }
            Console.WriteLine($"| {bytes} | {string.Join(" | ", gbs.Select(g => g.ToString("F2", CultureInfo.InvariantCulture)))} |");
        }
        Console.WriteLine();
        Console.WriteLine("| DataLoader-fed mlp step (batch 256 of 784 float32 + labels, 2 workers) | plain ms | staged ms |");
        Console.WriteLine("| --- | ---: | ---: |");
        var times = new List<double>[] { [], [] };
        var x = Tensor.Randn([8192, 784]);
        var y = Tensor.RandInt(0, 10, [8192]);
        var model = new Sequential(new Linear(784, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 10));
        model.To(device);
        var opt = new SGD(model.Parameters(), lr: 0.01, momentum: 0.9);
        var loader = new DataLoader(new TensorDataset(x, y), batchSize: 256, shuffle: true, numWorkers: 2);
        for (int round = 0; round < 6; round++)
            for (int staged = 0; staged < 2; staged++)
            {
                dev.PinnedStaging = staged == 1;
                var sw = Stopwatch.StartNew();
                int steps = 0;
                foreach (var (xb, yb) in loader)
                {
                    var loss = Functional.CrossEntropy(model.Forward(xb.To(device)), yb.To(device));
                    opt.ZeroGrad();
                    loss.Backward();
                    opt.Step();
                    steps++;
                }
                dev.Accelerator.Synchronize();
                if (round > 0) times[staged].Add(sw.Elapsed.TotalMilliseconds / steps);   // round 0 warms up
            }
        Console.WriteLine($"| median of 5 epochs of 32 steps | {Median(times[0]):F3} | {Median(times[1]):F3} |");
        dev.PinnedStaging = initial;
    }

    private static double Median(int repeat, Action copy)
    {
        for (int i = 0; i < 2; i++) copy();
        var s = new List<double>();
        for (int i = 0; i < repeat; i++)
        {
            var sw = Stopwatch.StartNew();
            copy();
            s.Add(sw.Elapsed.TotalSeconds);
        }
        return Median(s);
    }

    private static double Median(List<double> s)
    {
        s.Sort();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>Parses "1K,64K,1M,256M" (powers of 1024).</summary>
    public static long[] ParseSizes(string text) => text.Split(',').Select(p =>
    {
        p = p.Trim().ToUpperInvariant();
        long unit = p.EndsWith('K') ? 1L << 10 : p.EndsWith('M') ? 1L << 20 : p.EndsWith('G') ? 1L << 30 : 1;
        return long.Parse(unit == 1 ? p : p[..^1], CultureInfo.InvariantCulture) * unit;
    }).ToArray();
}
