namespace Ember.NN.Tests;

/// <summary>
/// The parity functional ops against PyTorch 1.13 (tests/golden/nn_parity_gen.py): forward, input gradients for a
/// random grad_output, and GradCheck. All are composites of Core ops (no new kernels), so the backends run them unchanged.
/// </summary>
public class ParityFunctionalTests
{
    private static readonly Dictionary<string, Func<Tensor[], Tensor[], Tensor>> Ops = new()
    {
        ["cosine_similarity"] = (x, _) => Functional.CosineSimilarity(x[0], x[1], 1),
        ["cosine_similarity_broadcast"] = (x, _) => Functional.CosineSimilarity(x[0], x[1], -1, 1e-6),
        ["normalize"] = (x, _) => Functional.Normalize(x[0]),
        ["normalize_p1_dim0"] = (x, _) => Functional.Normalize(x[0], 1.0, 0),
        ["pairwise_distance"] = (x, _) => Functional.PairwiseDistance(x[0], x[1]),
        ["pairwise_distance_p1_keepdim"] = (x, _) => Functional.PairwiseDistance(x[0], x[1], 1.0, keepDim: true),
        ["interp_nearest_size"] = (x, _) => Functional.Interpolate(x[0], size: [5, 7]),
        ["interp_nearest_scale"] = (x, _) => Functional.Interpolate(x[0], scaleFactor: [2.0]),
        ["interp_nearest_down_1d"] = (x, _) => Functional.Interpolate(x[0], size: [3]),
        ["interp_nearest_3d"] = (x, _) => Functional.Interpolate(x[0], size: [3, 4, 2]),
        ["interp_linear_1d"] = (x, _) => Functional.Interpolate(x[0], size: [9], mode: InterpolationMode.Linear, alignCorners: false),
        ["interp_bilinear"] = (x, _) => Functional.Interpolate(x[0], size: [5, 7], mode: InterpolationMode.Bilinear, alignCorners: false),
        ["interp_bilinear_align"] = (x, _) => Functional.Interpolate(x[0], size: [5, 7], mode: InterpolationMode.Bilinear, alignCorners: true),
        ["interp_bilinear_scale"] = (x, _) => Functional.Interpolate(x[0], scaleFactor: [1.5], mode: InterpolationMode.Bilinear),
        ["interp_bilinear_down"] = (x, _) => Functional.Interpolate(x[0], size: [2, 3], mode: InterpolationMode.Bilinear),
        ["interp_bicubic"] = (x, _) => Functional.Interpolate(x[0], size: [6, 7], mode: InterpolationMode.Bicubic, alignCorners: false),
        ["interp_bicubic_align"] = (x, _) => Functional.Interpolate(x[0], size: [6, 7], mode: InterpolationMode.Bicubic, alignCorners: true),
        ["interp_bicubic_down"] = (x, _) => Functional.Interpolate(x[0], size: [3, 4], mode: InterpolationMode.Bicubic),
        ["interp_trilinear"] = (x, _) => Functional.Interpolate(x[0], size: [3, 4, 5], mode: InterpolationMode.Trilinear, alignCorners: false),
        ["unfold"] = (x, _) => Functional.Unfold(x[0], (2, 3), (1, 2), (1, 0), (2, 1)),
        ["fold"] = (x, _) => Functional.Fold(x[0], (5, 6), (2, 3), (1, 2), (1, 0), (2, 1)),
        ["pixel_shuffle"] = (x, _) => Functional.PixelShuffle(x[0], 2),
        ["pixel_unshuffle"] = (x, _) => Functional.PixelUnshuffle(x[0], 2),
        ["hardswish"] = (x, _) => Functional.Hardswish(x[0]),
        ["hardsigmoid"] = (x, _) => Functional.Hardsigmoid(x[0]),
        ["prelu_channels"] = (x, _) => Functional.Prelu(x[0], x[1]),
        ["prelu_shared"] = (x, _) => Functional.Prelu(x[0], x[1]),
        ["instance_norm_1d"] = (x, _) => Functional.InstanceNorm(x[0], weight: x[1], bias: x[2]),
        ["instance_norm_2d"] = (x, _) => Functional.InstanceNorm(x[0]),
        ["conv3d"] = (x, _) => Functional.Conv3d(x[0], x[1], x[2], (2, 1, 2), (1, 0, 1), (1, 2, 1), groups: 2),
        ["conv3d_plain"] = (x, _) => Functional.Conv3d(x[0], x[1]),
        ["embedding_bag_sum_offsets_psw"] = (x, a) => Functional.EmbeddingBag(a[0], x[0], a[1], EmbeddingBagMode.Sum, x[1]),
        ["embedding_bag_mean_2d"] = (x, a) => Functional.EmbeddingBag(a[0], x[0], mode: EmbeddingBagMode.Mean),
        ["embedding_bag_max_offsets"] = (x, a) => Functional.EmbeddingBag(a[0], x[0], a[1], EmbeddingBagMode.Max),
        ["embedding_bag_mean_padding_last"] = (x, a) => Functional.EmbeddingBag(a[0], x[0], a[1], EmbeddingBagMode.Mean, includeLastOffset: true, paddingIdx: 2),
        ["rms_norm_reference"] = (x, _) => Functional.RmsNorm(x[0], [4], x[1], 1e-6),
    };

    public static IEnumerable<string> Cases => Golden.Names("functional_parity").Where(n => n != "instance_norm_running_stats");

    [Test]
    public void EveryGoldenCaseHasAnOp() => Assert.That(Cases, Is.EquivalentTo(Ops.Keys));

    private static (Tensor[] X, Tensor[] Aux) Inputs(string name)
    {
        var c = Golden.Case("functional_parity", name);
        var x = c["inputs"]!.AsArray().Select(n => Golden.T(n).RequiresGrad_()).ToArray();
        var aux = c["aux"]!.AsArray().Select(n => Golden.T(n)).ToArray();
        return (x, aux);
    }

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndGradientsMatchPyTorch(string name)
    {
        var c = Golden.Case("functional_parity", name);
        var (x, aux) = Inputs(name);
        var y = Ops[name](x, aux);
        Golden.AssertClose(y, Golden.T(c["output"]), 1e-10, 1e-8, "output");
        (y * Golden.T(c["grad_output"])).Sum().Backward();
        var grads = c["input_grads"]!.AsArray();
        // PyTorch's hardsigmoid backward multiplies by the float32 constant 1.0f/6.0f even for float64 (relative error 3e-8).
        double rtol = name == "hardsigmoid" ? 1e-7 : 1e-8;
        for (int i = 0; i < x.Length; i++)
            if (grads[i] is { } g) Golden.AssertClose(x[i].Grad!, Golden.T(g), 1e-10, rtol, $"grad {i}");
    }

    [TestCaseSource(nameof(Cases))]
    public void GradCheck(string name)
    {
        var (x, aux) = Inputs(name);
        // Finite differences need a smooth neighbourhood: the max bag and the nearest modes are piecewise linear, fine at these points.
        Assert.That(Ember.GradCheck.Check(t => Ops[name](t, aux), x, atol: 1e-6, rtol: 1e-4), Is.True);
    }

    [Test]
    public void InstanceNormRunningStatsMatchPyTorch()
    {
        var c = Golden.Case("functional_parity", "instance_norm_running_stats");
        var x = Golden.T(c["input"]);
        var rm = Tensor.Zeros([3], DType.Float64); var rv = Tensor.Ones([3], DType.Float64);
        Functional.InstanceNorm(x, rm, rv, momentum: 0.2);
        Golden.AssertClose(rm, Golden.T(c["running_mean"]), 1e-12, 1e-10, "running_mean");
        Golden.AssertClose(rv, Golden.T(c["running_var"]), 1e-12, 1e-10, "running_var");
        Golden.AssertClose(Functional.InstanceNorm(x, rm, rv, useInputStats: false), Golden.T(c["eval_output"]), 1e-12, 1e-10, "eval output");
    }
}
