using Ember.NN;

namespace Ember.OnnxExport.Tests;

/// <summary>
/// One row per layer or activation of src/NN: exported with a dynamic batch axis, run by ONNX Runtime at another batch
/// size and compared with Ember (1e-5). The rows are the export coverage table.
/// </summary>
public class LayerCoverageTests
{
    public record Case(string Name, Func<Module> Build, long[] Traced, long[] Run, int BatchAxis = 0)
    {
        public override string ToString() => Name;
    }

    private static Module<Tensor, Tensor> L(Func<Tensor, Tensor> f) => new TestModels.Lambda(f);

    public static IEnumerable<Case> Cases() =>
    [
        new("Linear", () => new Linear(5, 3), [2, 5], [4, 5]),
        new("ReLU", () => new ReLU(), [2, 5], [3, 5]),
        new("GELU", () => new GELU(), [2, 5], [3, 5]),
        new("GELU(tanh)", () => new GELU(GeluApproximate.Tanh), [2, 5], [3, 5]),
        new("SiLU", () => new SiLU(), [2, 5], [3, 5]),
        new("Tanh", () => new Tanh(), [2, 5], [3, 5]),
        new("Sigmoid", () => new Sigmoid(), [2, 5], [3, 5]),
        new("Softmax", () => new Softmax(-1), [2, 5], [3, 5]),
        new("LogSoftmax", () => new LogSoftmax(1), [2, 5], [3, 5]),
        new("LeakyReLU", () => new LeakyReLU(0.2), [2, 5], [3, 5]),
        new("ELU", () => new ELU(0.7), [2, 5], [3, 5]),
        new("Mish", () => new Mish(), [2, 5], [3, 5]),
        new("Softplus", () => new Softplus(2), [2, 5], [3, 5]),
        new("Flatten + permute + transpose + slice", () => L(x => x.Permute(0, 2, 1).Transpose(1, 2)[.., 1..3].Flatten(1)), [2, 4, 3], [3, 4, 3]),
        new("Elementwise arithmetic", () => L(x => ((x * 2 - 1) / (x.Square() + 1) + x.Exp().Sqrt()).Clamp(-1, 3)), [2, 5], [3, 5]),
        new("MatMul", () => L(x => x.MatMul(x.Transpose(1, 2))), [2, 3, 4], [3, 3, 4]),
        new("Conv2d (stride 2, groups 2)", () => new Conv2d(4, 6, 3, stride: 2, padding: 1, groups: 2), [2, 4, 7, 7], [3, 4, 7, 7]),
        new("MaxPool2d", () => new MaxPool2d((2, 2)), [2, 3, 6, 6], [3, 3, 6, 6]),
        new("AvgPool2d", () => new AvgPool2d((3, 3), (2, 2), (1, 1)), [2, 3, 7, 7], [3, 3, 7, 7]),
        new("AdaptiveAvgPool2d", () => new AdaptiveAvgPool2d((2, 3)), [2, 3, 5, 7], [3, 3, 5, 7]),
        new("BatchNorm2d (eval)", () => new BatchNorm2d(3), [2, 3, 4, 4], [3, 3, 4, 4]),
        new("LayerNorm", () => new LayerNorm(5), [2, 4, 5], [3, 4, 5]),
        new("Dropout (eval)", () => new Dropout(0.3), [2, 5], [3, 5]),
        new("GRU", () => new GRU(4, 5), [3, 2, 4], [3, 3, 4], 1),
        new("MultiheadAttention", () => new TestModels.SelfAttention(8, 2), [3, 2, 8], [3, 4, 8], 1),
        new("TransformerEncoderLayer", () => new TransformerEncoderLayer(8, 2, dimFeedforward: 16), [3, 2, 8], [3, 4, 8], 1),
    ];

    [TestCaseSource(nameof(Cases))]
    public void ExportsAndMatchesOnnxRuntime(Case c)
    {
        Random.Seed(11);
        var module = c.Build();
        OnnxRuntimeCheck.ExportAndCompare(module, [Tensor.Randn(c.Traced)], [Tensor.Randn(c.Run)], c.BatchAxis);
    }
}
