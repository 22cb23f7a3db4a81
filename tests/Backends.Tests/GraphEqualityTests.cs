using Ember.NN;

namespace Ember.Conformance;

/// <summary>
/// The same model records the same autograd graph on every device: <see cref="Autograd.ToDot"/> of DESIGN's CNN and of a
/// MiniGpt (the perf workloads' models) after a forward pass and loss is identical on cpu, on the device under test and on
/// the required-core-only backend (nothing above Core branches on a device).
/// </summary>
public abstract class GraphEqualityTests(string device) : DeviceTest(device)
{
    // DESIGN's CNN (perf/Ember.Perf's cnn_train_step).
    private static Module<Tensor, Tensor> Cnn() =>
        new Sequential(
            new Conv2d(3, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(4096, 256), new ReLU(), new Linear(256, 10));

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
        AssertSameGraph(Cnn, Tensor.Randn(1, 3, 32, 32), Tensor.RandInt(0, 10, [1]));
    }

    [Test]
    public void MiniGptRecordsTheSameGraph()
    {
        Tensor.ManualSeed(2);
        AssertSameGraph(() => new MiniGpt(vocab: 32, context: 8, dim: 16, heads: 2, layers: 2),
            Tensor.RandInt(0, 32, [2, 8]), Tensor.RandInt(0, 32, [2, 8]));
    }

    /// <summary>perf/Ember.Perf's MiniGpt: token + position embeddings, pre-LN blocks with causal attention and a GELU MLP.</summary>
    private sealed class MiniGpt : Module<Tensor, Tensor>
    {
        private readonly Embedding tok, pos;
        private readonly ModuleList<Block> blocks;
        private readonly LayerNorm lnF;
        private readonly Linear head;

        public MiniGpt(int vocab, int context, int dim, int heads, int layers)
        {
            tok = RegisterModule("tok", new Embedding(vocab, dim));
            pos = RegisterModule("pos", new Embedding(context, dim));
            blocks = RegisterModule("blocks", new ModuleList<Block>());
            for (int i = 0; i < layers; i++) blocks.Add(new Block(dim, heads));
            lnF = RegisterModule("ln_f", new LayerNorm(dim));
            head = RegisterModule("head", new Linear(dim, vocab, bias: false));
        }

        public override Tensor Forward(Tensor tokens)
        {
            var h = tok.Forward(tokens) + pos.Forward(Tensor.Arange(tokens.Shape[1], device: tokens.Device));
            foreach (var b in blocks) h = b.Forward(h);
            return head.Forward(lnF.Forward(h));
        }

        private sealed class Block : Module<Tensor, Tensor>
        {
            private readonly LayerNorm ln1, ln2;
            private readonly Linear qkv, proj, fc, fc2;
            private readonly int heads;

            public Block(int dim, int heads)
            {
                this.heads = heads;
                ln1 = RegisterModule("ln1", new LayerNorm(dim));
                qkv = RegisterModule("qkv", new Linear(dim, 3 * dim));
                proj = RegisterModule("proj", new Linear(dim, dim));
                ln2 = RegisterModule("ln2", new LayerNorm(dim));
                fc = RegisterModule("fc", new Linear(dim, 4 * dim));
                fc2 = RegisterModule("fc2", new Linear(4 * dim, dim));
            }

            public override Tensor Forward(Tensor x)
            {
                long b = x.Shape[0], t = x.Shape[1], d = x.Shape[2], hd = d / heads;
                var parts = qkv.Forward(ln1.Forward(x)).Reshape(b, t, 3, heads, hd).Permute(2, 0, 3, 1, 4);
                var att = Functional.ScaledDotProductAttention(parts[0], parts[1], parts[2], isCausal: true);
                x = x + proj.Forward(att.Transpose(1, 2).Reshape(b, t, d));
                return x + fc2.Forward(fc.Forward(ln2.Forward(x)).Gelu());
            }
        }
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class GraphEquality(string device) : GraphEqualityTests(device);
