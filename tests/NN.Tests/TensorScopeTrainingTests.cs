using Ember.Optim;

namespace Ember.NN.Tests;

/// <summary>Training with a Tensor.Scope per step gives exactly the results of training without one.</summary>
[NonParallelizable]
public class TensorScopeTrainingTests
{
    private static (float[] Weights, double Loss) Train(bool scoped, Func<IEnumerable<Tensor>, Optimizer> makeOpt)
    {
        Tensor.ManualSeed(5);
        var model = new Sequential(new Linear(20, 64), new BatchNorm1d(64), new ReLU(), new Linear(64, 3));
        var opt = makeOpt(model.Parameters());
        var x = Tensor.Randn(32, 20);
        var y = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (long)(i % 3)).ToArray());
        double last = 0;
        for (int step = 0; step < 15; step++)
        {
            using var scope = scoped ? Tensor.Scope() : null;
            var loss = Functional.CrossEntropy(model.Forward(x), y);
            opt.ZeroGrad(); loss.Backward(); opt.Step();
            last = loss.Item();
        }
        var w = model.Parameters().SelectMany(p => p.ToArray<float>())
            .Concat(model.Buffers().Where(b => b.IsFloatingPoint).SelectMany(b => b.ToArray<float>())).ToArray();
        return (w, last);
    }

    [Test]
    public void SgdMomentumAndAdamTrainIdenticallyInsideScopes()
    {
        foreach (Func<IEnumerable<Tensor>, Optimizer> make in new Func<IEnumerable<Tensor>, Optimizer>[]
                 { p => new SGD(p, lr: 0.1, momentum: 0.9), p => new Adam(p, lr: 1e-2) })
        {
            var plain = Train(false, make);
            var scoped = Train(true, make);
            Assert.That(scoped.Loss, Is.EqualTo(plain.Loss));
            Assert.That(scoped.Weights, Is.EqualTo(plain.Weights));
        }
    }

    [Test]
    public void BackwardAfterTheScopeEndedFailsClearly()
    {
        var w = Tensor.Randn(8, 8).RequiresGrad_();
        Tensor loss;
        using (var scope = Tensor.Scope())
            loss = scope.Keep(w.MatMul(w).Relu().Sum());   // the graph's saved tensors stay in the scope
        Assert.That(() => loss.Backward(), Throws.InstanceOf<ObjectDisposedException>().With.Message.Contains("Tensor.Scope"));
    }
}
