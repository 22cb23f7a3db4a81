using Ember.NN;

namespace Ember.OnnxExport.Tests;

/// <summary>The models the export tests run: the MLP and CNN of DESIGN, MiniGpt (perf/Ember.Perf) and small wrappers.</summary>
internal static class TestModels
{
    public static Module<Tensor, Tensor> Mlp() =>
        new Sequential(new Flatten(), new Linear(12, 32), new ReLU(), new Dropout(0.5), new Linear(32, 16), new Tanh(), new Linear(16, 4));

    /// <summary>DESIGN's CNN, with non-trivial running statistics so eval-mode BatchNorm is tested.</summary>
    public static Module<Tensor, Tensor> DesignCnn()
    {
        var cnn = new Sequential(
            new Conv2d(3, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(4096, 256), new ReLU(), new Linear(256, 10));
        using (Autograd.NoGrad())
            foreach (var (name, buffer) in cnn.NamedBuffers())
                if (name.EndsWith("running_mean")) buffer.Copy_(Tensor.Randn(buffer.Shape) * 0.1);
                else if (name.EndsWith("running_var")) buffer.Copy_(Tensor.Rand(buffer.Shape) + 0.5);
        return cnn;
    }

    /// <summary>Applies a function of one tensor (for activations without a layer, and for wrapping multi-input layers).</summary>
    public sealed class Lambda(Func<Tensor, Tensor> f) : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input) => f(input);
    }

    /// <summary>Self-attention through nn.MultiheadAttention: x [L, N, E] → [L, N, E].</summary>
    public sealed class SelfAttention : Module<Tensor, Tensor>
    {
        private readonly MultiheadAttention mha;
        public SelfAttention(long dim, int heads) => mha = RegisterModule("mha", new MultiheadAttention(dim, heads));
        public override Tensor Forward(Tensor input) => mha.Forward(input, input, input, needWeights: false).Output;
    }

    /// <summary>A TransformerEncoderLayer called with isCausal: x [S, N, E] → [S, N, E].</summary>
    public sealed class CausalEncoderLayer : Module<Tensor, Tensor>
    {
        private readonly TransformerEncoderLayer layer;
        public CausalEncoderLayer(long dim, int heads) => layer = RegisterModule("layer", new TransformerEncoderLayer(dim, heads, dimFeedforward: 16));
        public override Tensor Forward(Tensor input) => layer.Forward(input, null, null, isCausal: true);
    }

    /// <summary>perf/Ember.Perf's MiniGpt: token + position embeddings, pre-LN blocks with causal attention and a GELU MLP.</summary>
    public sealed class MiniGpt : Module<Tensor, Tensor>
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
            long t = tokens.Shape[1];
            var h = tok.Forward(tokens) + pos.Forward(Tensor.Arange(t, device: tokens.Device));
            foreach (var b in blocks) h = b.Forward(h);
            return head.Forward(lnF.Forward(h));
        }

        public sealed class Block : Module<Tensor, Tensor>
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
