using Ember.NN;

namespace Ember.OnnxExport.Tests;

/// <summary>
/// Models exported with a dynamic batch axis and run by ONNX Runtime at another batch size, compared with Ember's
/// forward pass (1e-5); the export's error for an op without conversion; initializer names.
/// </summary>
public class ExportTests
{
    [SetUp]
    public void Seed() => Tensor.ManualSeed(7);

    [Test]
    public void MlpMatchesOnnxRuntime() =>
        OnnxRuntimeCheck.ExportAndCompare(TestModels.Mlp(), [Tensor.Randn(3, 3, 4)], [Tensor.Randn(5, 3, 4)]);

    [Test]
    public void DesignCnnMatchesOnnxRuntime() =>
        OnnxRuntimeCheck.ExportAndCompare(TestModels.DesignCnn(), [Tensor.Randn(2, 3, 32, 32)], [Tensor.Randn(3, 3, 32, 32)]);

    [Test]
    public void MiniGptMatchesOnnxRuntime() =>
        OnnxRuntimeCheck.ExportAndCompare(new Ember.Perf.MiniGpt(vocab: 32, context: 8, dim: 16, heads: 2, layers: 2),
            [Tensor.RandInt(0, 32, [2, 8])], [Tensor.RandInt(0, 32, [3, 8])]);

    [Test]
    public void MiniGptWithDynamicBatchAndSequenceLength() =>
        // Position ids (an arange of T) and the causal mask are computed from the sequence length at run time.
        OnnxRuntimeCheck.ExportAndCompare(new Ember.Perf.MiniGpt(vocab: 32, context: 8, dim: 16, heads: 2, layers: 1),
            [Tensor.RandInt(0, 32, [2, 4])], [Tensor.RandInt(0, 32, [3, 7])], new Dictionary<int, string> { [0] = "batch", [1] = "seq" });

    [Test]
    public void CausalTransformerLayerWithDynamicSequenceLength() =>
        // nn.MultiheadAttention's causal mask is a constant built from the sequence length: a triangle rebuilt at run time.
        OnnxRuntimeCheck.ExportAndCompare(new TestModels.CausalEncoderLayer(8, 2), [Tensor.Randn(3, 2, 8)], [Tensor.Randn(5, 4, 8)],
            new Dictionary<int, string> { [0] = "seq", [1] = "batch" });

    [Test]
    public void TwoLayerLstmMatchesOnnxRuntime()
    {
        // input [T, N, in]: the batch is axis 1; outputs (output, h_n, c_n).
        int outputs = OnnxRuntimeCheck.ExportAndCompare(new LSTM(6, 8, numLayers: 2), [Tensor.Randn(4, 2, 6)], [Tensor.Randn(4, 3, 6)], batchAxis: 1);
        Assert.That(outputs, Is.EqualTo(3));
    }

    [Test]
    public void UnsupportedOpNamesTheOpAndTheModule()
    {
        var target = Tensor.FromArray(new long[] { 1, 0 }, 2);
        var model = new Sequential(new Linear(4, 3), new TestModels.Lambda(x => Functional.CrossEntropy(x, target)));
        var path = Path.Combine(Path.GetTempPath(), $"ember-onnx-{Guid.NewGuid():N}.onnx");
        var e = Assert.Throws<OnnxExportException>(() => Onnx.Export(model, Tensor.Randn(2, 4), path))!;
        Assert.That(e.Message, Does.Contain("CrossEntropy").And.Contain("Lambda"));
        Assert.That(File.Exists(path), Is.False, "nothing written");
    }

    [Test]
    public void TwoDynamicAxesOfTheSameSampleSize()
    {
        // Batch and sequence are both 2 in the sample; the reshapes mix them ([B·T, F] and back), so each size must be
        // traced to the right axis.
        var model = new TestModels.Lambda(x => (x.Reshape(-1, 4).Softmax(-1) * 2).Reshape(x.Shape[0], x.Shape[1], 4).Sum(1));
        OnnxRuntimeCheck.ExportAndCompare(model, [Tensor.Randn(2, 2, 4)], [Tensor.Randn(3, 5, 4)], new Dictionary<int, string> { [0] = "batch", [1] = "seq" });
    }

    [Test]
    public void ValuesComputedFromTheInputOutsideTheTraceAreRefused()
    {
        // Square of a detached input is not recorded: freezing it would make a graph that is wrong for every other input.
        var detached = new TestModels.Lambda(x => x * x.Detach().Square());
        var e = Assert.Throws<OnnxExportException>(() => Onnx.ExportModel(detached, [Tensor.Randn(2, 3)], 17, null, null, null))!;
        Assert.That(e.Message, Does.Contain("depend on the input"));
        // Embedding with padding_idx cuts the padding rows' gradient with a Detach of an input-dependent mask: refused too.
        var padded = new Embedding(6, 3, paddingIdx: 0);
        e = Assert.Throws<OnnxExportException>(() => Onnx.ExportModel(padded, [Tensor.FromArray(new long[] { 0, 2, 3, 0 }, 2, 2)], 17, null, null, null))!;
        Assert.That(e.Message, Does.Contain("depend on the input"));
        // A comparison's Bool result is not recorded either.
        e = Assert.Throws<OnnxExportException>(() => Onnx.ExportModel(new TestModels.Lambda(x => x.MaskedFill(x.Lt(0), 0)), [Tensor.Randn(2, 3)], 17, null, null, null))!;
        Assert.That(e.Message, Does.Contain("depend on the input"));
        // A detached view of the input itself has the input's values: exported as the input.
        OnnxRuntimeCheck.ExportAndCompare(new TestModels.Lambda(x => x * x.Detach()), [Tensor.Randn(2, 3)], [Tensor.Randn(4, 3)]);
    }

    [Test]
    public void ScalarsOfADynamicSize()
    {
        var axes = new Dictionary<string, IReadOnlyDictionary<int, string>> { ["input"] = new Dictionary<int, string> { [0] = "batch" } };
        // x · (1/N): the mean's scale over the batch becomes a division by the run-time batch size.
        OnnxRuntimeCheck.ExportAndCompare(new TestModels.Lambda(x => x * (1.0 / x.Shape[0]) + x.Mean(0)), [Tensor.Randn(2, 3)], [Tensor.Randn(5, 3)]);
        // x + N has no such form: refused rather than frozen at the sample's N.
        var e = Assert.Throws<OnnxExportException>(() => Onnx.ExportModel(new TestModels.Lambda(x => x + x.Shape[0]), [Tensor.Randn(2, 3)], 17, axes, null, null))!;
        Assert.That(e.Message, Does.Contain("AddScalar").And.Contain("depends on a dynamic size"));
    }

    [Test]
    public void ALoopOverADynamicAxisIsRefused()
    {
        // The LSTM unrolls over time: with the time axis dynamic the second trace runs more steps than the first.
        var axes = new Dictionary<string, IReadOnlyDictionary<int, string>> { ["input"] = new Dictionary<int, string> { [0] = "time" } };
        var e = Assert.Throws<OnnxExportException>(() => Onnx.ExportModel(new LSTM(3, 4), [Tensor.Randn(4, 2, 3)], 17, axes, null, null))!;
        Assert.That(e.Message, Does.Contain("runs different ops when the input changes").And.Contain("LSTM"));
    }

    [Test]
    public void UnknownDynamicAxisNamesAreRefused()
    {
        var axes = new Dictionary<string, IReadOnlyDictionary<int, string>> { ["x"] = new Dictionary<int, string> { [0] = "batch" } };
        var e = Assert.Throws<ArgumentException>(() => Onnx.ExportModel(TestModels.Mlp(), [Tensor.Randn(2, 3, 4)], 17, axes, null, null))!;
        Assert.That(e.Message, Does.Contain("'x'"));
    }

    [Test]
    public void ExportRestoresTrainingModeAndRequiresGrad()
    {
        var cnn = TestModels.DesignCnn();
        cnn.Train();
        Onnx.ExportModel(cnn, [Tensor.Randn(1, 3, 32, 32)], 17, null, null, null);
        Assert.That(cnn.Modules().All(m => m.Training), Is.True, "training mode restored");
        Assert.That(cnn.Buffers().Any(b => b.RequiresGrad), Is.False, "buffers do not require grad afterwards");
        Assert.That(cnn.Parameters().All(p => p.RequiresGrad), Is.True);
    }

    [Test]
    public void InitializersAreNamedByTheStateDictKeys()
    {
        var cnn = TestModels.DesignCnn();
        var model = Onnx.ExportModel(cnn, [Tensor.Randn(1, 3, 32, 32)], 17, null, null, null);
        var named = model.Graph.Initializer.Select(i => i.Name).Where(n => !n.StartsWith('/')).ToHashSet();
        // Every parameter and float buffer the forward pass reads; the Int64 step counters are not used in eval mode.
        var expected = cnn.StateDict().Keys.Where(k => !k.EndsWith("num_batches_tracked")).ToHashSet();
        Assert.That(named, Is.EquivalentTo(expected));
        var weight = model.Graph.Initializer.Single(i => i.Name == "0.weight");
        Assert.That(weight.Dims, Is.EqualTo(new long[] { 32, 3, 3, 3 }));
        Assert.That(model.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimValue, Is.EqualTo(1), "no dynamic axes asked: static batch");
    }

    [Test]
    public void DynamicAxisNamesTheInputAndOutputDims()
    {
        var axes = new Dictionary<string, IReadOnlyDictionary<int, string>> { ["input"] = new Dictionary<int, string> { [0] = "batch" } };
        var model = Onnx.ExportModel(TestModels.Mlp(), [Tensor.Randn(3, 3, 4)], 17, axes, null, null);
        Assert.That(model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("batch"));
        Assert.That(model.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("batch"));
        Assert.That(model.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue, Is.EqualTo(4));
    }

    [Test]
    public void NamedOutputsAndTheReadmeCallShape()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ember-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            Onnx.Export(new LSTM(5, 6, numLayers: 2), [Tensor.Randn(3, 2, 5)], path, outputNames: ["output", "h_n", "c_n"],
                dynamicAxes: new Dictionary<string, IReadOnlyDictionary<int, string>> { ["input"] = new Dictionary<int, string> { [1] = "batch" } });
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            Assert.That(session.OutputNames, Is.EqualTo(new[] { "output", "h_n", "c_n" }));
            Assert.That(session.InputMetadata["input"].Dimensions, Is.EqualTo(new[] { 3, -1, 5 }), "the batch axis is symbolic");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void OtherOpsetsAreRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Onnx.Export(TestModels.Mlp(), Tensor.Randn(1, 3, 4), "unused.onnx", opset: 13));
}
