using Ember.NN;

namespace Ember.Perf;

/// <summary>A GPT-style decoder: token + position embeddings, pre-LN blocks with causal self-attention and a GELU MLP.</summary>
public sealed class MiniGpt : Module<Tensor, Tensor>
{
    private readonly Embedding tok, pos;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm lnF;
    private readonly Linear head;

    /// <summary>Builds the model.</summary>
    public MiniGpt(int vocab, int context, int dim, int heads, int layers)
    {
        tok = RegisterModule("tok", new Embedding(vocab, dim));
        pos = RegisterModule("pos", new Embedding(context, dim));
        blocks = RegisterModule("blocks", new ModuleList<Block>());
        for (int i = 0; i < layers; i++) blocks.Add(new Block(dim, heads));
        lnF = RegisterModule("ln_f", new LayerNorm(dim));
        head = RegisterModule("head", new Linear(dim, vocab, bias: false));
    }

    /// <summary>tokens [B, T] (Int64) → logits [B, T, vocab].</summary>
    public override Tensor Forward(Tensor tokens)
    {
        long t = tokens.Shape[1];
        var h = tok.Forward(tokens) + pos.Forward(Tensor.Arange(t, device: tokens.Device));
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
