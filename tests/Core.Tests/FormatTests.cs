using System.Globalization;
using System.Text.Json;

namespace Ember.Core.Tests;

public class FormatTests
{
    public record Golden(string name, string dtype, long[] shape, string[] values, bool requires_grad, string expected);

    public static IEnumerable<TestCaseData> Cases()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "golden", "core", "format.json");
        var cases = JsonSerializer.Deserialize<Golden[]>(File.ReadAllText(path))!;
        foreach (var c in cases) yield return new TestCaseData(c).SetName($"ToString_{c.name}");
    }

    sealed class FakeGradFn(string name) : GradFn
    {
        public override string Name => name;
        public override IReadOnlyList<GradFn?> NextFunctions => [];
    }

    static Tensor Build(Golden g)
    {
        var dt = g.dtype switch
        {
            "float32" => DType.Float32, "float64" => DType.Float64, "int32" => DType.Int32, "int64" => DType.Int64, _ => DType.Bool,
        };
        Tensor t;
        if (dt.IsFloatingPoint())
        {
            var v = g.values.Select(s => s switch
            {
                "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity,
                _ => double.Parse(s, CultureInfo.InvariantCulture),
            }).ToArray();
            t = dt == DType.Float32 ? Tensor.FromArray(v.Select(x => (float)x).ToArray(), g.shape) : Tensor.FromArray(v, g.shape);
        }
        else
        {
            var v = g.values.Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            t = Tensor.FromArray(v, g.shape).To(dt);
        }
        if (g.shape.Length == 0) t = t.Reshape();  // FromArray without a shape makes 1-D
        // Core.Tests has no autograd engine: mark the leaf as PyTorch's requires_grad=True through the engine's setter.
        if (g.requires_grad) t.SetGradFn(null, true);
        return t;
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorchRepr(Golden g) => Assert.That(Build(g).ToString(), Is.EqualTo(g.expected));

    [Test]
    public void GradFnSuffixAndNonContiguousViews()
    {
        var t = Tensor.FromArray(new float[] { 1.5f, 2 });
        t.SetGradFn(new FakeGradFn("AddBackward0"), true);
        Assert.That(t.ToString(), Is.EqualTo("tensor([1.5000, 2.0000], grad_fn=<AddBackward0>)"));
        var m = Tensor.FromArray(new long[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.That(m.T.ToString(), Is.EqualTo("tensor([[1, 4],\n        [2, 5],\n        [3, 6]])"));
    }
}
