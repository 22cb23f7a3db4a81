using Ember.NN;
using Ember.Optim;

namespace Ember.Conformance;

// Every optional kernel's composite default, on a backend that has nothing but the required core, against the CPU.

/// <summary>Softmax, cross-entropy, layer norm, im2col/col2im and pooling composites.</summary>
[TestFixture]
public sealed class NNKernelsOnRequiredCore() : NNKernelTests(RequiredCoreBackend.Device.ToString());

/// <summary>SGD and Adam step composites.</summary>
[TestFixture]
public sealed class OptimizerStepsOnRequiredCore() : OptimizerTests(RequiredCoreBackend.Device.ToString());

/// <summary>
/// A backend that implements only IBackend's required core trains DESIGN's MLP and CNN: three steps give the CPU's
/// losses and parameters (the CPU runs its fast kernels, the required-core backend every composite default).
/// </summary>
[TestFixture]
public sealed class RequiredCoreTrainingTests
{
    private static readonly Device Minimal = RequiredCoreBackend.Device;

    [OneTimeSetUp]
    public void Register() => RequiredCoreBackend.Register();

    private static Module<Tensor, Tensor> Mlp() =>
        new Sequential(new Linear(64, 48), new ReLU(), new Linear(48, 48), new ReLU(), new Linear(48, 10));

    // DESIGN's CNN at a smaller width: conv-BN-ReLU-pool twice (3×3, padding 1; 32×32 inputs so the CPU takes its direct
    // convolution and 2×2 pooling kernels), then two linear layers.
    internal static Module<Tensor, Tensor> Cnn() =>
        new Sequential(
            new Conv2d(3, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(16 * 8 * 8, 32), new ReLU(), new Linear(32, 10));

    // Three training steps from the same seed on the device; returns the losses and the final parameters.
    private static (double[] Losses, double[][] Parameters) Train(Func<Module<Tensor, Tensor>> build, long[] inputShape,
        Func<IEnumerable<Tensor>, Optimizer> optimizer, Device device)
    {
        Tensor.ManualSeed(7);
        var model = build();
        model.To(device);
        var opt = optimizer(model.Parameters());
        var x = Tensor.Randn(inputShape).To(device);
        var y = Tensor.RandInt(0, 10, [inputShape[0]]).To(device);
        var losses = new double[3];
        for (int step = 0; step < 3; step++)
        {
            var loss = Functional.CrossEntropy(model.Forward(x), y);
            opt.ZeroGrad();
            loss.Backward();
            opt.Step();
            losses[step] = loss.Item<float>();
        }
        return (losses, model.Parameters().Select(p => p.ToArray<float>().Select(v => (double)v).ToArray()).ToArray());
    }

    private static void AssertSameTraining((double[] Losses, double[][] Parameters) device, (double[] Losses, double[][] Parameters) cpu)
    {
        for (int i = 0; i < cpu.Losses.Length; i++)
            Assert.That(device.Losses[i], Is.EqualTo(cpu.Losses[i]).Within(1e-3).Percent, $"loss at step {i}");
        Assert.That(device.Parameters, Has.Length.EqualTo(cpu.Parameters.Length));
        for (int p = 0; p < cpu.Parameters.Length; p++)
            for (int i = 0; i < cpu.Parameters[p].Length; i++)
                Assert.That(Math.Abs(device.Parameters[p][i] - cpu.Parameters[p][i]), Is.LessThanOrEqualTo(1e-4 + 1e-3 * Math.Abs(cpu.Parameters[p][i])),
                    $"parameter {p}[{i}]");
    }

    [Test]
    public void MlpTrainsAsOnTheCpu()
    {
        Optimizer Sgd(IEnumerable<Tensor> ps) => new SGD(ps, lr: 0.1, momentum: 0.9);
        AssertSameTraining(Train(Mlp, [16, 64], Sgd, Minimal), Train(Mlp, [16, 64], Sgd, Device.Cpu));
    }

    [Test]
    public void CnnTrainsAsOnTheCpu()
    {
        // SGD, not Adam: a convolution bias before batch norm has a gradient of exactly 0 up to rounding, which Adam's
        // normalization would turn into ±lr steps whose sign depends on the rounding of each implementation.
        Optimizer Sgd(IEnumerable<Tensor> ps) => new SGD(ps, lr: 0.05, momentum: 0.9);
        AssertSameTraining(Train(Cnn, [4, 3, 32, 32], Sgd, Minimal), Train(Cnn, [4, 3, 32, 32], Sgd, Device.Cpu));
    }
}
