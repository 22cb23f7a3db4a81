using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// The same model records the same autograd graph on every device: <see cref="Autograd.ToDot"/> of DESIGN's CNN and of a
/// MiniGpt (the perf workloads' models) after a forward pass and loss is identical on cpu, on the device under test and on
/// the required-core-only backend (nothing above Core branches on a device).
/// </summary>
public abstract class GraphEqualityTests(string device) : DeviceTest(device)
{
    // DESIGN's CNN (perf/Ember.Perf's cnn_train_step): the same layers in the same order at an eighth of the widths, on
    // 8x8 images (the graph's nodes do not depend on the widths; the full widths took over a minute on ilgpu-cpu).
    private static Module<Tensor, Tensor> Cnn() =>
        new Sequential(
            new Conv2d(3, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
            new Conv2d(4, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(32, 32), new ReLU(), new Linear(32, 10));

    // The ToDot text of model's graph for loss = cross-entropy(model(input), target) on the device.
    private static string Dot(Func<Module<Tensor, Tensor>> build, Tensor input, Tensor target, Device device)
    {
        Tensor.ManualSeed(3);
        var model = build();
        model.To(device);
        var logits = model.Forward(input.To(device));
        var loss = Functional.CrossEntropy(logits.Reshape(-1, logits.Shape[-1]), target.To(device).Reshape(-1));
        return Autograd.ToDot(loss);
    }

    private void AssertSameGraph(Func<Module<Tensor, Tensor>> build, Tensor input, Tensor target)
    {
        RequiredCoreBackend.Register();
        var cpu = Dot(build, input, target, Device.Cpu);
        Assert.That(cpu, Does.Contain("ConvolutionBackward").Or.Contain("ScaledDotProductAttentionBackward"), "the fused primitives are recorded");
        Assert.That(Dot(build, input, target, Dev), Is.EqualTo(cpu), $"{Dev} vs cpu");
        Assert.That(Dot(build, input, target, RequiredCoreBackend.Device), Is.EqualTo(cpu), "required-core backend vs cpu");
    }

    [Test]
    public void DesignCnnRecordsTheSameGraph()
    {
        Tensor.ManualSeed(1);
        AssertSameGraph(Cnn, Tensor.Randn(1, 3, 8, 8), Tensor.RandInt(0, 10, [1]));
    }

    [Test]
    public void MiniGptRecordsTheSameGraph()
    {
        Tensor.ManualSeed(2);
        AssertSameGraph(() => new Ember.Perf.MiniGpt(vocab: 32, context: 8, dim: 16, heads: 2, layers: 2),
            Tensor.RandInt(0, 32, [2, 8]), Tensor.RandInt(0, 32, [2, 8]));
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class GraphEquality(string device) : GraphEqualityTests(device);
