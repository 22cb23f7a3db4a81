using System.Globalization;
using System.Text.Json;

namespace Ember.AutogradTests;

/// <summary>Gradients (and some second derivatives) of small compositions against PyTorch 1.13 (tests/golden/autograd_gen.py).</summary>
public class GoldenTests
{
    private static Tensor L(long[] v, params long[] shape) => Tensor.FromArray(v, shape);
    private static Tensor Arange6(params long[] shape) => Tensor.Arange(0, 6, 1, DType.Float64).Reshape(shape);

    // The same compositions as autograd_gen.py, under the same names.
    private static readonly Dictionary<string, Func<Tensor[], Tensor>> Compositions = new()
    {
        ["mlp_logsoftmax"] = x => (x[0].MatMul(x[1]) + x[2]).Tanh().MatMul(x[3]).LogSoftmax(1).Mean(),
        ["cross_entropy_like"] = x => -(x[0].LogSoftmax(1) * Tensor.FromArray(new double[] { 1, 0, 0, 0, 0, 1 }, 2, 3)).Sum() / 2,
        ["softmax_weighted"] = x => (x[0].Softmax(0) * Arange6(3, 2)).Sum(),
        ["maximum_minimum_ties"] = x => (x[0].Maximum(x[1]) * 2 + x[0].Minimum(x[1]) * 3).Sum(),
        ["amax_max_ties"] = x => x[0].Amax([1]).Sum() + x[0].Max() * 2 + x[0].Amin([0]).Sum(),
        ["max_dim_ties"] = x => x[0].Max(1).Values.Sum() + 2 * x[0].Min(0).Values.Sum(),
        ["pow_zero_conventions"] = x => x[0].Pow(x[1]).Sum() + x[0].Pow(0).Sum() + Tensor.Pow(0.0, x[1]).Sum(),
        ["prod_with_zeros"] = x => x[0].Prod(1).Sum() + x[0][0].Prod(),
        ["clamp_relu_abs_at_kinks"] = x => x[0].Clamp(0, 1).Sum() + x[0].Relu().Sum() * 2 + x[0].Abs().Sum() * 3
            + x[0].LeakyRelu(0.1).Sum() * 5 + x[0].Elu(1.3).Sum() * 7,
        ["smooth_activations"] = x => (x[0].Gelu() + x[0].Gelu(GeluApproximate.Tanh) * 2 + x[0].Silu() * 3
            + x[0].Softplus(2, 1) * 5 + x[0].Erf() * 7).Sum(),
        ["indexing_mix"] = x => (Tensor.Where(x[0].Gt(0.0), x[0], x[0] * 3) * Arange6(2, 3)).Sum()
            + x[0].Gather(1, L([0, 0, 2, 1], 2, 2)).Sum() * 2
            + x[0].IndexSelect(1, L([2, 2, 0], 3)).Exp().Sum()
            + Tensor.Cat([x[0].Slice(1, 0, 3, 2), x[0][.., 1..2].Pow(2)], 1).Sum() * 5
            + x[0].MaskedFill(x[0].Lt(0.0), 0.5).Square().Sum(),
        ["broadcast_ops"] = x => ((x[0] + x[1]) * x[2] - x[0] / (x[2] + 2) + (x[0] - x[2]).Pow(2)).Sum() + x[0].Remainder(x[2] + 3).Sum(),
        ["var_std_logsumexp"] = x => x[0].Var([1]).Sum() + x[0].Std() * 2 + x[0].LogSumExp(0).Sum() * 3 + x[0].Norm() * 5 + x[0].Mean(),
        ["tanh_times_x_second"] = x => (x[0].Tanh() * x[0]).Sum(),
        ["bmm_triangular"] = x => (x[0].Bmm(x[1]).Tril() * 2 + x[0].Bmm(x[1]).Triu(1)).Sum() + x[0].MatMul(x[1]).Exp().Sum(),
        ["scatter_index_add"] = x => x[0].Scatter(1, L([2, 0, 1, 0], 2, 2), x[1]).Square().Sum()
            + x[0].ScatterAdd(1, L([0, 0, 2, 2], 2, 2), x[1]).Exp().Sum()
            + x[0].IndexAdd(0, L([1, 1], 2), Tensor.Cat([x[1], x[1]], 1)[.., ..3], 2).Square().Sum(),
    };

    private sealed record GoldenCase(string Name, long[][] Shapes, double[][] Inputs, double Loss, double[]?[] Grads, double[]?[]? Second)
    {
        public override string ToString() => Name;
    }

    private static double P(JsonElement e)
    {
        var s = e.GetString()!;
        return s switch
        {
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            "nan" => double.NaN,
            _ => double.Parse(s, CultureInfo.InvariantCulture),
        };
    }

    private static double[]? Values(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(P).ToArray();

    public static IEnumerable<object> Cases()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "golden", "autograd", "compositions.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var inputs = c.GetProperty("inputs").EnumerateArray().ToArray();
            yield return new GoldenCase(
                c.GetProperty("name").GetString()!,
                inputs.Select(i => i.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray()).ToArray(),
                inputs.Select(i => Values(i.GetProperty("values"))!).ToArray(),
                P(c.GetProperty("loss")),
                c.GetProperty("grads").EnumerateArray().Select(Values).ToArray(),
                c.GetProperty("second").ValueKind == JsonValueKind.Null ? null : c.GetProperty("second").EnumerateArray().Select(Values).ToArray());
        }
    }

    [Test]
    public void EveryGoldenCaseHasAComposition() =>
        Assert.That(Cases().Cast<GoldenCase>().Select(c => c.Name), Is.EquivalentTo(Compositions.Keys));

    [TestCaseSource(nameof(Cases))]
    public void GradientsMatchPyTorch(object boxed)
    {
        var c = (GoldenCase)boxed;
        var xs = c.Inputs.Select((v, i) => Tensor.FromArray(v, [v.Length]).Reshape(c.Shapes[i]).RequiresGrad_()).ToArray();
        var loss = Compositions[c.Name](xs);
        Assert.That(loss.Item(), Is.EqualTo(c.Loss).Within(1e-12).Percent, "loss");
        var grads = Autograd.Grad([loss], xs, createGraph: c.Second != null, allowUnused: true);
        for (int i = 0; i < xs.Length; i++)
        {
            if (c.Grads[i] == null) { Assert.That(grads[i], Is.Null); continue; }
            Assert.That(T.D(grads[i]!), Is.EqualTo(c.Grads[i]).Within(1e-9), $"gradient of input {i}");
        }
        if (c.Second == null) return;
        var second = Autograd.Grad([grads[0]!.Sum()], xs, allowUnused: true);
        for (int i = 0; i < xs.Length; i++)
        {
            if (c.Second[i] is null || c.Second[i]!.All(v => v == 0)) { if (second[i] is not null) Assert.That(T.D(second[i]!), Is.All.EqualTo(0.0)); continue; }
            Assert.That(T.D(second[i]!), Is.EqualTo(c.Second[i]).Within(1e-9), $"second derivative wrt input {i}");
        }
    }
}
