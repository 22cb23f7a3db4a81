using System.Text.Json.Nodes;

namespace Ember.NN.Tests;

/// <summary>Reads the JSON written by tests/golden/nn_gen.py.</summary>
internal static class Golden
{
    private static readonly Dictionary<string, JsonObject> Cache = [];

    public static string Dir => Path.Combine(TestContext.CurrentContext.TestDirectory, "golden", "nn");

    /// <summary>Directory of the source tree's golden folder (for the file PyTorch checks on the next generator run).</summary>
    public static string SourceDir
    {
        get
        {
            var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            while (d != null && !Directory.Exists(Path.Combine(d.FullName, "tests", "golden"))) d = d.Parent;
            return d == null ? Dir : Path.Combine(d.FullName, "tests", "golden", "nn");
        }
    }

    public static JsonObject File(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var o))
                Cache[name] = o = JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(Dir, name + ".json")))!.AsObject();
            return o;
        }
    }

    public static JsonObject Case(string file, string name) => File(file)[name]!.AsObject();

    public static IEnumerable<string> Names(string file) => File(file).Select(kv => kv.Key);

    public static Tensor T(JsonNode? node)
    {
        var o = node!.AsObject();
        var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
        var data = o["data"]!.AsArray();
        Tensor t = o["dtype"]!.GetValue<string>() switch
        {
            "float64" => Tensor.FromArray(data.Select(x => x!.GetValue<double>()).ToArray()),
            "float32" => Tensor.FromArray(data.Select(x => (float)x!.GetValue<double>()).ToArray()),
            "int64" => Tensor.FromArray(data.Select(x => x!.GetValue<long>()).ToArray()),
            "int32" => Tensor.FromArray(data.Select(x => x!.GetValue<int>()).ToArray()),
            _ => Tensor.FromArray(data.Select(x => x!.GetValue<int>() != 0).ToArray()),
        };
        return t.Reshape(shape);
    }

    public static double[] D(Tensor t) => t.Detach().To(DType.Float64).ToArray<double>();

    public static void AssertClose(Tensor actual, Tensor expected, double atol = 1e-8, double rtol = 1e-6, string what = "")
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        var a = D(actual); var e = D(expected);
        for (int i = 0; i < a.Length; i++)
            if (!(Math.Abs(a[i] - e[i]) <= atol + rtol * Math.Abs(e[i])) && !(double.IsNaN(a[i]) && double.IsNaN(e[i])))
                Assert.Fail($"{what}: element {i} is {a[i]}, expected {e[i]} (atol {atol}, rtol {rtol})");
    }
}
