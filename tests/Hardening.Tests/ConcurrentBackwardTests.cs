using Ember.NN;

namespace Ember.Hardening.Tests;

/// <summary>Backward from several threads into one model's shared parameters adds every gradient (PyTorch's thread-safe AccumulateGrad).</summary>
public class ConcurrentBackwardTests
{
    [Test]
    public void FourThreadsBackwardIntoSharedParametersLoseNoAccumulation()
    {
        // A small model, so that accumulation into .Grad is a large part of each backward pass and races often.
        const int threads = 4, iterations = 1000;
        var model = new Sequential(new Linear(2, 1, dtype: DType.Float64));
        var x = Tensor.Randn([1, 2], DType.Float64, generator: new Generator(1));

        // Reference: one backward, alone.
        model.Forward(x).Sum().Backward();
        var single = model.Parameters().Select(p => p.Grad!.ToArray<double>()).ToArray();
        foreach (var p in model.Parameters()) p.Grad = null;

        using var start = new Barrier(threads);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (int i = 0; i < iterations; i++) model.Forward(x).Sum().Backward();
            }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToArray();
        foreach (var t in workers) t.Start();
        foreach (var t in workers) t.Join();
        Assert.That(errors, Is.Empty);

        var ps = model.Parameters().ToArray();
        for (int k = 0; k < ps.Length; k++)
        {
            var got = ps[k].Grad!.ToArray<double>();
            for (int i = 0; i < got.Length; i++)
                Assert.That(got[i], Is.EqualTo(single[k][i] * threads * iterations).Within(1e-9 * (1 + Math.Abs(single[k][i]) * threads * iterations)),
                    $"parameter {k} element {i}");
        }
    }
}
