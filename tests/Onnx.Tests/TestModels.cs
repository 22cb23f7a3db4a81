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
}
