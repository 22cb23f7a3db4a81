using Ember.NN;
using Ember.Optim;

namespace Ember.Data.Tests;

/// <summary>End to end: the Digits example's MLP, trained briefly on the built-in data, must generalize.</summary>
public class DigitsTrainingTests
{
    [Test]
    public void MlpReachesNinetyFivePercentOnHeldOutDigits()
    {
        Tensor.ManualSeed(0);
        var parts = Dataset.RandomSplit(Datasets.Digits(), [0.8, 0.2], new Generator(0));
        var model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
        var optimizer = new Adam(model.Parameters(), lr: 3e-3);
        var loader = new DataLoader(parts[0], batchSize: 32, shuffle: true, generator: new Generator(1));
        for (int epoch = 0; epoch < 12; epoch++)
            foreach (var (x, y) in loader)
            {
                var loss = Functional.CrossEntropy(model.Forward(x), y);
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
            }
        model.Eval();
        double correct = 0;
        using (Autograd.NoGrad())
            foreach (var (x, y) in new DataLoader(parts[1], batchSize: 400))
                correct += model.Forward(x).ArgMax(1).Eq(y).To(DType.Float32).Sum().Item();
        double accuracy = correct / parts[1].Count;
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.95), $"test accuracy {accuracy:P2}");
    }
}
