using Ember.NN;

namespace Ember.Hardening.Tests.Fuzz;

/// <summary>
/// One model used from several threads at once: random MLPs, thread counts and iteration counts. Concurrent backward
/// passes must add exactly the gradients a serial run adds; concurrent forward passes must give the serial result.
/// </summary>
public class ConcurrencyFuzzTests
{
    private static Sequential RandomMlp(System.Random r, int inputs)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        int width = inputs;
        for (int d = r.Next(1, 4); d > 0; d--)
        {
            int next = r.Next(1, 9);
            layers.Add(new Linear(width, next, bias: r.Next(2) == 0, dtype: DType.Float64));
            layers.Add(r.Next(2) == 0 ? new ReLU() : new Tanh());
            width = next;
        }
        return new Sequential([.. layers]);
    }

    private static void ConcurrencyCase(System.Random r)
    {
        int inputs = r.Next(1, 6), threads = r.Next(2, 5), iterations = r.Next(5, 25);
        var model = RandomMlp(r, inputs);
        var xs = Enumerable.Range(0, threads).Select(i => Tensor.Randn([r.Next(1, 5), inputs], DType.Float64, generator: new Generator((ulong)r.Next()))).ToArray();
        var ps = model.Parameters().ToArray();

        // Serial reference: each thread's input once; the expected sum weights each by the iteration count.
        var expected = ps.Select(p => new double[p.Numel]).ToArray();
        var outputs = new double[threads][];
        for (int t = 0; t < threads; t++)
        {
            foreach (var p in ps) p.Grad = null;
            var y = model.Forward(xs[t]);
            outputs[t] = y.Detach().ToArray<double>();
            y.Sum().Backward();
            for (int k = 0; k < ps.Length; k++)
            {
                var g = ps[k].Grad?.ToArray<double>() ?? new double[ps[k].Numel];
                for (int i = 0; i < g.Length; i++) expected[k][i] += g[i] * iterations;
            }
        }
        foreach (var p in ps) p.Grad = null;

        using var start = new Barrier(threads);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (int i = 0; i < iterations; i++)
                {
                    var y = model.Forward(xs[t]);
                    if (!y.Detach().ToArray<double>().SequenceEqual(outputs[t])) errors.Enqueue($"thread {t}: forward differs from the serial result");
                    y.Sum().Backward();
                }
            }
            catch (Exception e) { errors.Enqueue($"thread {t}: {e}"); }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        Assert.That(errors, Is.Empty);
        for (int k = 0; k < ps.Length; k++)
        {
            var got = ps[k].Grad?.ToArray<double>() ?? new double[ps[k].Numel];
            for (int i = 0; i < got.Length; i++)
                Assert.That(got[i], Is.EqualTo(expected[k][i]).Within(1e-9 * (1 + Math.Abs(expected[k][i]))), $"parameter {k} element {i} ({threads} threads × {iterations})");
        }
    }

    [Test]
    public void SharedModelFuzz() => FuzzRunner.Run("concurrency", 25, ConcurrencyCase);

    [TestCase(278011487)]    // before the fix: 2 threads × 12 backward passes lost accumulations (−14.9 instead of −17.9)
    public void SharedModelRegression(int caseSeed) => FuzzRunner.Replay("concurrency", caseSeed, ConcurrencyCase);
}
