using Ember.NN;
using Microsoft.ML.OnnxRuntime;

namespace Ember.OnnxExport.Tests;

/// <summary>Exports a module, runs the file with ONNX Runtime at another batch size and compares with Ember's forward.</summary>
internal static class OnnxRuntimeCheck
{
    public const double Tolerance = 1e-5;

    /// <summary>
    /// Exports <paramref name="module"/> traced on <paramref name="traced"/> with axis <paramref name="batchAxis"/> of every
    /// input dynamic, then runs it on <paramref name="run"/> (another batch size) in ONNX Runtime and in Ember (eval,
    /// no grad) and asserts every output agrees within <see cref="Tolerance"/>. Returns the number of outputs compared.
    /// </summary>
    public static int ExportAndCompare(Module module, Tensor[] traced, Tensor[] run, int batchAxis = 0) =>
        ExportAndCompare(module, traced, run, new Dictionary<int, string> { [batchAxis] = "batch" });

    /// <summary>As above with these dynamic axes on every input.</summary>
    public static int ExportAndCompare(Module module, Tensor[] traced, Tensor[] run, IReadOnlyDictionary<int, string> dynamic)
    {
        var names = traced.Length == 1 ? new[] { "input" } : Enumerable.Range(0, traced.Length).Select(i => "input" + i).ToArray();
        var axes = names.ToDictionary(n => n, _ => dynamic);
        var path = Path.Combine(Path.GetTempPath(), $"ember-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            Onnx.Export(module, traced, path, dynamicAxes: axes);
            module.Eval();
            Tensor[] expected;
            using (Autograd.NoGrad())
                expected = Outputs(Onnx.CallForward(module, run)).ToArray();
            using var session = new InferenceSession(path);
            var feeds = new Dictionary<string, OrtValue>();
            for (int i = 0; i < run.Length; i++) feeds[names[i]] = ToOrt(run[i]);
            try
            {
                using var options = new RunOptions();
                using var results = session.Run(options, feeds, session.OutputNames);
                Assert.That(results, Has.Count.EqualTo(expected.Length), "output count");
                for (int i = 0; i < expected.Length; i++)
                {
                    var shape = results[i].GetTensorTypeAndShape().Shape;
                    Assert.That(shape, Is.EqualTo(expected[i].Shape.ToArray()), $"output {i} shape");
                    var actual = results[i].GetTensorDataAsSpan<float>().ToArray();
                    var want = expected[i].ToArray<float>();
                    double worst = 0;
                    for (int j = 0; j < want.Length; j++)
                        worst = Math.Max(worst, Math.Abs(actual[j] - want[j]) / Math.Max(1, Math.Abs(want[j])));
                    Assert.That(worst, Is.LessThanOrEqualTo(Tolerance), $"output {i}: max |ONNX Runtime − Ember| (relative above 1)");
                }
            }
            finally
            {
                foreach (var v in feeds.Values) v.Dispose();
            }
            return expected.Length;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static OrtValue ToOrt(Tensor t) => t.DType switch
    {
        DType.Float32 => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Shape.ToArray()),
        DType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), t.Shape.ToArray()),
        _ => throw new ArgumentException($"no ORT feed for {t.DType}"),
    };

    private static IEnumerable<Tensor> Outputs(object? result) => result switch
    {
        Tensor t => [t],
        null => [],
        System.Runtime.CompilerServices.ITuple tuple => Enumerable.Range(0, tuple.Length).SelectMany(i => Outputs(tuple[i])),
        _ => throw new ArgumentException($"unexpected forward result {result}"),
    };
}
