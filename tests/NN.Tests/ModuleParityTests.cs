namespace Ember.NN.Tests;

/// <summary>Module and Functional calls with PyTorch's meaning (issue #14).</summary>
public class ModuleParityTests
{
    private sealed class FieldNet : Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = new(4, 3);
        public Linear Fc2 { get; } = new(3, 2);
        private readonly Tensor scale = Tensor.Ones(2).RequiresGrad_();
        private readonly Tensor notAParameter = Tensor.Ones(2);   // plain tensors are not registered (as in PyTorch)
        public Tensor Scale => scale;
        public Tensor Plain => notAParameter;
        public override Tensor Forward(Tensor x) => Fc2.Forward(fc1.Forward(x).Relu()) * scale;
    }

    private sealed class MixedNet : Module<Tensor, Tensor>
    {
        public readonly Linear Explicit;
        public readonly Linear Tied;
        public readonly Linear Auto = new(2, 2);
        public MixedNet()
        {
            Explicit = RegisterModule("first", new Linear(2, 2));
            Tied = Explicit;   // the same module under a second field is not registered twice
        }
        public override Tensor Forward(Tensor x) => Auto.Forward(Explicit.Forward(x));
    }

    [Test]
    public void FieldsHoldingModulesAndParametersAreRegistered()
    {
        var net = new FieldNet();
        var names = net.NamedParameters().Select(p => p.Name).ToList();
        // As PyTorch: a module's own parameters come before its children's.
        Assert.That(names, Is.EqualTo(new[] { "scale", "fc1.weight", "fc1.bias", "Fc2.weight", "Fc2.bias" }));
        Assert.That(net.StateDict().Keys, Is.EqualTo(names));
        Assert.That(net.Parameters().Any(p => ReferenceEquals(p, net.Plain)), Is.False);
        Assert.That(net.NumParameters(), Is.EqualTo(4 * 3 + 3 + 3 * 2 + 2 + 2));

        var mixed = new MixedNet();
        Assert.That(mixed.NamedChildren().Select(c => c.Name), Is.EqualTo(new[] { "first", "Auto" }));
    }

    [Test]
    public void ConvertingUpdatesFieldsThatHeldParameters()
    {
        var net = new FieldNet().To(DType.Float64);
        Assert.That(net.Scale.DType, Is.EqualTo(DType.Float64));
        Assert.That(ReferenceEquals(net.Scale, net.GetParameter("scale")), Is.True);
        Assert.That(net.Parameters().Count(), Is.EqualTo(5), "the converted field is not registered a second time");
    }

    [Test]
    public void ChainingReturnsTheCallersType()
    {
        // These lines compile only because To/Train/Eval/Apply return FieldNet, not Module.
        FieldNet a = new FieldNet().To(Device.Cpu).Eval();
        Assert.That(a.Training, Is.False);
        FieldNet b = a.Train();
        Assert.That(b.Training && ReferenceEquals(a, b), Is.True);
        int visited = 0;
        FieldNet c = b.Apply(_ => visited++).To(DType.Float32);
        Assert.That(visited, Is.EqualTo(3), "fc1, Fc2 and the net");
        Linear l = new Linear(2, 2).To(Device.Cpu, DType.Float64);
        Assert.That(l.Weight.DType, Is.EqualTo(DType.Float64));
        Assert.That(ReferenceEquals(c, a), Is.True);
    }

    [Test]
    public void FunctionalConvAndPoolAcceptAnInt()
    {
        var x = Tensor.Randn(1, 2, 7, 7);
        var w = Tensor.Randn(3, 2, 3, 3);
        var byInt = Functional.Conv2d(x, w, stride: 2, padding: 1, dilation: 1).ToArray<float>();
        var byPair = Functional.Conv2d(x, w, stride: (2, 2), padding: (1, 1), dilation: (1, 1)).ToArray<float>();
        Assert.That(byInt, Is.EqualTo(byPair));
        Assert.That(Functional.MaxPool2d(x, 2).ToArray<float>(), Is.EqualTo(Functional.MaxPool2d(x, (2, 2)).ToArray<float>()));
        Assert.That(Functional.MaxPool2d(x, 3, stride: 2, padding: 1).Shape.ToArray(), Is.EqualTo(new long[] { 1, 2, 4, 4 }));
        Assert.That(Functional.AvgPool2d(x, 2, 1).ToArray<float>(), Is.EqualTo(Functional.AvgPool2d(x, (2, 2), (1, 1)).ToArray<float>()));
        Assert.That(Functional.AdaptiveAvgPool2d(x, 1).ToArray<float>(), Is.EqualTo(Functional.AdaptiveAvgPool2d(x, (1, 1)).ToArray<float>()));
        var wt = Tensor.Randn(2, 3, 3, 3);
        Assert.That(Functional.ConvTranspose2d(x, wt, stride: 2).ToArray<float>(), Is.EqualTo(Functional.ConvTranspose2d(x, wt, stride: (2, 2)).ToArray<float>()));
    }
}
