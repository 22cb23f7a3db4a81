using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// One forward and backward pass of DESIGN's CNN (perf's cnn_train_step) on the device against the CPU backend from the
/// same initial weights: the loss and every parameter's gradient. Covers the device's convolution forward with its
/// bias, both convolution gradients, batch norm, ReLU and max pooling as a model chains them (a layout or chunking
/// mistake in one kernel moves some gradient by about its own size).
/// </summary>
public abstract class CnnStepConformanceTests(string device) : DeviceTest(device)
{
    private static Sequential Cnn() =>
        new(new Conv2d(3, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(4096, 256), new ReLU(), new Linear(256, 10));

    // The loss and the parameters' gradients (in Parameters() order) after one backward pass on the device.
    private static (double Loss, double[][] Grads) Step(Tensor x, Tensor y, Device device)
    {
        Tensor.ManualSeed(5);
        var model = Cnn();
        model.To(device);
        var loss = Functional.CrossEntropy(model.Forward(x.To(device)), y.To(device));
        loss.Backward();
        return (Host(loss)[0], [.. model.Parameters().Select(p => Host(p.Grad!))]);
    }

    [Test]
    public void GradientsOfOneStepMatchTheCpu()
    {
        Tensor.ManualSeed(6);
        Tensor x = Tensor.Randn(4, 3, 32, 32), y = Tensor.RandInt(0, 10, [4]);
        var (cpuLoss, cpuGrads) = Step(x, y, Device.Cpu);
        var (loss, grads) = Step(x, y, Dev);
        Assert.That(loss, Is.EqualTo(cpuLoss).Within(1e-5 * (1 + Math.Abs(cpuLoss))), "loss");
        Assert.That(grads, Has.Length.EqualTo(cpuGrads.Length), "parameters");
        // float32 sums over up to 4·32·32 positions in other orders (and batch norm divides by small variances): a
        // tolerance on the scale of each gradient.
        for (int i = 0; i < grads.Length; i++)
        {
            double scale = cpuGrads[i].Max(Math.Abs);
            AssertClose(grads[i], cpuGrads[i], 1e-3, 1e-4 * scale + 1e-7, $"parameter {i} gradient");
        }
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class CnnStepConformance(string device) : CnnStepConformanceTests(device);
