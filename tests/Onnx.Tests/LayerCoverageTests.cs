using Ember.NN;

namespace Ember.OnnxExport.Tests;

/// <summary>
/// One row per layer or activation of src/NN: exported with a dynamic batch axis (traced at batch 2), run by ONNX Runtime
/// at batch 3 and compared with Ember (1e-5). The rows are the export coverage table.
/// </summary>
public class LayerCoverageTests
{
    /// <summary>A row: the module, its inputs for a batch size, and which axis is the batch.</summary>
    public record Case(string Name, Func<Module> Build, Func<long, Tensor[]> Inputs, int BatchAxis = 0)
    {
        public override string ToString() => Name;
    }

    private static Module<Tensor, Tensor> L(Func<Tensor, Tensor> f) => new TestModels.Lambda(f);

    // n × rest, batch first.
    private static Func<long, Tensor[]> X(params long[] rest) => n => [Tensor.Randn([n, .. rest])];

    // seq × n × rest (RNNs and attention without batchFirst).
    private static Func<long, Tensor[]> Seq(long seq, long features, int count = 1) =>
        n => [.. Enumerable.Range(0, count).Select(_ => Tensor.Randn(seq, n, features))];

    public static IEnumerable<Case> Cases() =>
    [
        new("Linear", () => new Linear(5, 3), X(5)),
        new("Linear (3-D input, no bias)", () => new Linear(5, 3, bias: false), X(4, 5)),
        new("Bilinear", () => new Bilinear(3, 4, 2), n => [Tensor.Randn(n, 3), Tensor.Randn(n, 4)]),
        new("Identity", () => new Identity(), X(5)),
        new("ReLU", () => new ReLU(), X(5)),
        new("ReLU6", () => new ReLU6(), n => [Tensor.Randn(n, 5) * 5]),
        new("GELU", () => new GELU(), X(5)),
        new("GELU (tanh)", () => new GELU(GeluApproximate.Tanh), X(5)),
        new("SiLU", () => new SiLU(), X(5)),
        new("Tanh", () => new Tanh(), X(5)),
        new("Sigmoid", () => new Sigmoid(), X(5)),
        new("Softmax", () => new Softmax(-1), X(5)),
        new("LogSoftmax", () => new LogSoftmax(1), X(5)),
        new("LeakyReLU", () => new LeakyReLU(0.2), X(5)),
        new("ELU", () => new ELU(0.7), X(5)),
        new("SELU", () => new SELU(), X(5)),
        new("Mish", () => new Mish(), X(5)),
        new("Softplus", () => new Softplus(2), X(5)),
        new("Hardtanh", () => new Hardtanh(-0.5, 0.5), X(5)),
        new("Flatten, permute, transpose, slice", () => L(x => x.Permute(0, 2, 1).Transpose(1, 2)[.., 1..3].Flatten(1)), X(4, 3)),
        new("Unflatten", () => new Unflatten(1, 2, 3), X(6)),
        new("Elementwise arithmetic", () => L(x => ((x * 2 - 1) / (x.Square() + 1) + x.Exp().Sqrt() - x.Abs().Log1p()).Clamp(-1, 3)), X(5)),
        new("Reductions", () => L(x => x.Sum(1, keepDim: true) + x.Amax([1], keepDim: true) + x.Mean(1, keepDim: true)), X(5)),
        new("Full reductions", () => L(x => x * x.Sum() + x.Amax([]) + x.Mean()), X(5)),
        new("Tril, GatherElements, Cat", () => L(x => Tensor.Cat([x.Tril(1), x.Gather(0, Tensor.FromArray(new long[] { 1, 0, 1, 1, 0, 0, 1, 0, 1, 0 }, 2, 5))], 0)), X(5)),
        new("MatMul", () => L(x => x.MatMul(x.Transpose(1, 2))), X(3, 4)),
        new("Conv1d", () => new Conv1d(3, 4, 3, padding: 1), X(3, 8)),
        new("Conv2d (stride 2, groups 2)", () => new Conv2d(4, 6, 3, stride: 2, padding: 1, groups: 2), X(4, 7, 7)),
        new("ConvTranspose2d", () => new ConvTranspose2d(4, 3, 3, stride: 2, padding: 1, outputPadding: 1), X(4, 5, 5)),
        new("MaxPool2d", () => new MaxPool2d((2, 2)), X(3, 6, 6)),
        new("MaxPool1d", () => new MaxPool1d(2), X(3, 8)),
        new("AvgPool2d", () => new AvgPool2d((3, 3), (2, 2), (1, 1)), X(3, 7, 7)),
        new("AdaptiveAvgPool2d", () => new AdaptiveAvgPool2d((2, 3)), X(3, 5, 7)),
        new("BatchNorm1d (eval)", () => new BatchNorm1d(5), X(5)),
        new("BatchNorm2d (eval)", () => new BatchNorm2d(3), X(3, 4, 4)),
        new("BatchNorm2d without running statistics (eval)", () => new BatchNorm2d(3, trackRunningStats: false), X(3, 4, 4)),
        new("LayerNorm", () => new LayerNorm(5), X(4, 5)),
        new("GroupNorm", () => new GroupNorm(2, 4), X(4, 3, 3)),
        new("Dropout (eval)", () => new Dropout(0.3), X(5)),
        new("Embedding", () => new Embedding(10, 4), n => [Tensor.RandInt(0, 10, [n, 3])]),
        new("RNN", () => new RNN(4, 5), Seq(3, 4), 1),
        new("LSTM (bidirectional, batch first)", () => new LSTM(4, 5, bidirectional: true, batchFirst: true), X(3, 4)),
        new("GRU", () => new GRU(4, 5, numLayers: 2), Seq(3, 4), 1),
        new("MultiheadAttention", () => new MultiheadAttention(8, 2), Seq(3, 8, count: 3), 1),
        new("TransformerEncoderLayer", () => new TransformerEncoderLayer(8, 2, dimFeedforward: 16), Seq(3, 8), 1),
        new("TransformerEncoder (2 layers, norm_first, GELU)", () => new TransformerEncoder(
            () => new TransformerEncoderLayer(8, 2, dimFeedforward: 16, activation: TransformerActivation.Gelu, normFirst: true), 2, new LayerNorm(8)), Seq(3, 8), 1),
        new("TransformerDecoderLayer", () => new TransformerDecoderLayer(8, 2, dimFeedforward: 16), Seq(3, 8, count: 2), 1),
        new("Transformer", () => new Transformer(8, 2, 1, 1, 16), Seq(3, 8, count: 2), 1),
    ];

    [TestCaseSource(nameof(Cases))]
    public void ExportsAndMatchesOnnxRuntime(Case c)
    {
        Tensor.ManualSeed(11);
        var module = c.Build();
        Tensor.ManualSeed(12);
        var traced = c.Inputs(2);
        OnnxRuntimeCheck.ExportAndCompare(module, traced, c.Inputs(3), c.BatchAxis);
    }
}
