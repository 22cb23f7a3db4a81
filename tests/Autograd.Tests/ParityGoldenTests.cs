using System.Globalization;
using System.Text.Json.Nodes;

namespace Ember.AutogradTests;

/// <summary>
/// The PyTorch-parity ops of issue #14 against PyTorch 1.13 (tests/golden/parity_gen.py): every output (values, indices,
/// dtypes, shapes) and, for differentiable cases, the gradient of Σ output₀·cotangent; plus GradCheck of each
/// differentiable op against finite differences.
/// </summary>
public class ParityGoldenTests
{
    private static Tensor[] One(Tensor t) => [t];
    private static Tensor[] Two((Tensor, Tensor) p) => [p.Item1, p.Item2];
    private static Tensor[] Three((Tensor, Tensor?, Tensor?) p) => [p.Item1, p.Item2!, p.Item3!];

    // The same cases as parity_gen.py, under the same names.
    private static readonly Dictionary<string, Func<Tensor[], Tensor[]>> Ops = new()
    {
        ["lerp_scalar"] = x => One(x[0].Lerp(x[1], 0.3)),
        ["lerp_tensor"] = x => One(x[0].Lerp(x[1], x[2])),
        ["addcmul"] = x => One(x[0].Addcmul(x[1], x[2], 0.5)),
        ["addcdiv"] = x => One(x[0].Addcdiv(x[1], x[2], 2.0)),
        ["nan_to_num"] = x => One(x[0].NanToNum()),
        ["nan_to_num_args"] = x => One(x[0].NanToNum(7, 100, -100)),
        ["nan_to_num_f32"] = x => One(x[0].NanToNum()),
        ["trunc"] = x => One(x[0].Trunc()),
        ["frac"] = x => One(x[0].Frac()),
        ["fmod"] = x => One(x[0].Fmod(x[1])),
        ["fmod_neg_divisor"] = x => One(x[0].Fmod(x[1])),
        ["fmod_int"] = x => One(x[0].Fmod(x[1])),
        ["remainder"] = x => One(x[0] % x[1]),
        ["remainder_int"] = x => One(x[0] % x[1]),
        ["floor_divide"] = x => One(x[0].FloorDivide(x[1])),
        ["floor_divide_int"] = x => One(x[0].FloorDivide(x[1])),
        ["isfinite"] = x => One(x[0].IsFinite()),
        ["isclose"] = x => One(x[0].IsClose(x[1], rtol: 1e-3, atol: 1e-2)),
        ["isclose_equal_nan"] = x => One(x[0].IsClose(x[1], equalNan: true)),
        ["bitwise"] = x => [x[0] & x[1], x[0] | x[1], x[0] ^ x[1], ~x[0]],
        ["clip"] = x => One(x[0].Clip(-0.5, 0.5)),
        ["cumsum_dim1"] = x => One(x[0].Cumsum(1)),
        ["cumsum_dim0"] = x => One(x[0].Cumsum(0)),
        ["cumsum_long"] = x => One(x[0].Cumsum(0)),
        ["cumprod_dim1"] = x => One(x[0].Cumprod(1)),
        ["cumprod_zero"] = x => One(x[0].Cumprod(0)),
        ["count_nonzero"] = x => One(x[0].CountNonzero(1)),
        ["nansum"] = x => One(x[0].NanSum([1])),
        ["nanmean"] = x => One(x[0].NanMean([1])),
        ["nanmean_all_nan_row"] = x => One(x[0].NanMean([1])),
        ["median_dim"] = x => Two(x[0].Median(1)),
        ["median_all"] = x => One(x[0].Median()),
        ["median_even_ties"] = x => Two(x[0].Median(1)),
        ["median_nan"] = x => Two(x[0].Median(1)),
        ["nanmedian"] = x => Two(x[0].NanMedian(1)),
        ["mode"] = x => Two(x[0].Mode(1)),
        ["quantile"] = x => One(x[0].Quantile(0.3, 1)),
        ["quantile_keepdim"] = x => One(x[0].Quantile(0.75, 0, keepDim: true)),
        ["quantile_many"] = x => One(x[0].Quantile([0.1, 0.5, 0.9], 1)),
        ["quantile_all"] = x => One(x[0].Quantile(0.5)),
        ["quantile_nan"] = x => One(x[0].Quantile(0.4, 1)),
        ["nanquantile"] = x => One(x[0].NanQuantile(0.4, 1)),
        ["unique"] = x => Three(x[0].Unique(returnInverse: true, returnCounts: true)),
        ["sort"] = x => Two(x[0].Sort(1)),
        ["sort_desc_dim0"] = x => Two(x[0].Sort(0, descending: true)),
        ["sort_stable_ties"] = x => Two(x[0].Sort(1, stable: true)),
        ["sort_stable_ties_desc"] = x => Two(x[0].Sort(1, descending: true, stable: true)),
        ["sort_nan"] = x => Two(x[0].Sort(1)),
        ["sort_nan_desc"] = x => Two(x[0].Sort(1, descending: true)),
        ["argsort"] = x => One(x[0].Argsort(1)),
        ["topk"] = x => Two(x[0].TopK(2, 1)),
        ["topk_smallest_dim0"] = x => Two(x[0].TopK(2, 0, largest: false)),
        ["kthvalue"] = x => Two(x[0].KthValue(2, 1)),
        ["kthvalue_keepdim"] = x => Two(x[0].KthValue(3, 0, keepDim: true)),
        ["msort"] = x => One(x[0].Msort()),
        ["index_mask"] = x => One(x[0][x[0].Detach() > 0]),
        ["index_mask_leading"] = x => One(x[0][Tensor.FromArray(new[] { true, false, true })]),
        ["index_long"] = x => One(x[0][Tensor.FromArray(new long[] { 2, 0, -1, 1 }, 2, 2)]),
        ["index_put"] = x => One(x[0].IndexPut([Tensor.FromArray(new long[] { 0, 2 }), Tensor.FromArray(new long[] { 1, -1 })], x[1])),
        ["index_put_accumulate"] = x => One(x[0].IndexPut([Tensor.FromArray(new long[] { 0, 0, 2 })], x[1], accumulate: true)),
        ["index_put_mask"] = x => One(x[0].IndexPut([x[0].Detach() > 0], x[1])),
        ["masked_select"] = x => One(x[0].MaskedSelect(Tensor.FromArray(new[] { true, false, true, true }))),
        ["nonzero"] = x => One(x[0].Nonzero()),
        ["take"] = x => One(x[0].Take(Tensor.FromArray(new long[] { 0, 5, -1, 7 }, 2, 2))),
        ["movedim"] = x => One(x[0].Movedim(0, 2)),
        ["movedim_many"] = x => One(x[0].Movedim([0, 1], [2, 0])),
        ["repeat"] = x => One(x[0].Repeat(2, 1, 3)),
        ["tile"] = x => One(x[0].Tile(2)),
        ["repeat_interleave"] = x => One(x[0].RepeatInterleave(2, 1)),
        ["repeat_interleave_flat"] = x => One(x[0].RepeatInterleave(2)),
        ["repeat_interleave_tensor"] = x => One(x[0].RepeatInterleave(Tensor.FromArray(new long[] { 1, 0, 2 }), 0)),
        ["flip"] = x => One(x[0].Flip(0, 2)),
        ["fliplr"] = x => One(x[0].Fliplr()),
        ["flipud"] = x => One(x[0].Flipud()),
        ["roll"] = x => One(x[0].Roll([1, -2], [0, 1])),
        ["roll_flat"] = x => One(x[0].Roll([5])),
        ["rot90_1"] = x => One(x[0].Rot90(1, 0, 1)),
        ["rot90_2"] = x => One(x[0].Rot90(2, 0, 1)),
        ["rot90_3"] = x => One(x[0].Rot90(3, 1, 2)),
        ["rot90_neg"] = x => One(x[0].Rot90(-1, 0, 1)),
        ["unbind"] = x => x[0].Unbind(1),
        ["hstack_1d"] = x => One(Tensor.HStack([x[0], x[1]])),
        ["hstack_2d"] = x => One(Tensor.HStack([x[0], x[1]])),
        ["vstack"] = x => One(Tensor.VStack([x[0], x[1]])),
        ["dstack"] = x => One(Tensor.DStack([x[0], x[1]])),
        ["unflatten"] = x => One(x[0].Unflatten(1, 2, 2)),
        ["einsum_bmm"] = x => One(Tensor.Einsum("bij,bjk->bik", x)),
        ["einsum_implicit"] = x => One(Tensor.Einsum("ij,jk", x)),
        ["einsum_dot"] = x => One(Tensor.Einsum("i,i->", x)),
        ["einsum_transpose"] = x => One(Tensor.Einsum("ij->ji", x)),
        ["einsum_attention"] = x => One(Tensor.Einsum("bhqd,bhkd->bhqk", x)),
        ["einsum_chain"] = x => One(Tensor.Einsum("ij,jk,kl->il", x)),
        ["einsum_outer"] = x => One(Tensor.Einsum("i,j->ij", x)),
        ["einsum_sum"] = x => One(Tensor.Einsum("ijk->j", x)),
        ["einsum_lonely"] = x => One(Tensor.Einsum("ij,kl->ik", x)),
        ["einsum_diag"] = x => One(Tensor.Einsum("ii->i", x)),
        ["einsum_trace"] = x => One(Tensor.Einsum("ii->", x)),
        ["einsum_trace_implicit"] = x => One(Tensor.Einsum("ii", x)),
        ["einsum_batch_diag"] = x => One(Tensor.Einsum("bii->bi", x)),
        ["einsum_triple_diag"] = x => One(Tensor.Einsum("iij,jk->ik", x)),
        ["einsum_ellipsis_bmm"] = x => One(Tensor.Einsum("...ij,...jk->...ik", x)),
        ["einsum_ellipsis_implicit"] = x => One(Tensor.Einsum("i...,i", x)),
        ["einsum_ellipsis_summed"] = x => One(Tensor.Einsum("...ij->ij", x)),
        ["einsum_ellipsis_middle"] = x => One(Tensor.Einsum("i...j,jk->k...i", x)),
        ["einsum_ellipsis_diag"] = x => One(Tensor.Einsum("...ii->...i", x)),
        ["unique_dim0"] = x => Three(x[0].Unique(returnInverse: true, returnCounts: true, dim: 0)),
        ["unique_dim1"] = x => Three(x[0].Unique(returnInverse: true, returnCounts: true, dim: 1)),
        ["unique_dim_float"] = x => Three(x[0].Unique(returnInverse: true, returnCounts: true, dim: 1)),
        ["unique_consecutive"] = x => Three(x[0].UniqueConsecutive(returnInverse: true, returnCounts: true)),
        ["unique_consecutive_dim0"] = x => Three(x[0].UniqueConsecutive(returnInverse: true, returnCounts: true, dim: 0)),
        ["unique_consecutive_dim1"] = x => { var (v, _, c) = x[0].UniqueConsecutive(returnCounts: true, dim: 1); return [v, c!]; },
        ["adv_int_slice_tensor"] = x => One(x[0][0, .., I3]),
        ["adv_tensor_slice_int"] = x => One(x[0][I3, .., 0]),
        ["adv_separated_broadcast"] = x => One(x[0][I21, .., J3]),
        ["adv_adjacent_middle"] = x => One(x[0][.., I3, J3]),
        ["adv_ellipsis"] = x => One(x[0][TensorIndex.Ellipsis, I21]),
        ["adv_newaxis_separated"] = x => One(x[0][TensorIndex.NewAxis, I3, TensorIndex.NewAxis, 1..3, J3]),
        ["adv_mask_middle"] = x => One(x[0][.., Tensor.FromArray(new[] { true, false, true, false, true, true })]),
        ["adv_mask2d_int"] = x => One(x[0][x[0].Detach()[.., .., 0] > 0.3, 2]),
        ["adv_mask2d_slice_int"] = x => One(x[0][x[0].Detach()[.., .., 0, 0] > 0.3, .., 1]),
        ["adv_int0d_tensor"] = x => One(x[0][Tensor.FromArray(new long[] { 1 }).Reshape(), .., J3]),
        ["adv_mask_slice_tensor"] = x => One(x[0][M5, 1..4, Tensor.FromArray(new long[] { 0, 6 })]),
        ["adv_duplicates"] = x => One(x[0][Tensor.FromArray(new long[] { 0, 0, 1 }), TensorIndex.Slice(.., 2), Tensor.FromArray(new long[] { 2, 2, 2 })]),
        ["adv_bool_scalar"] = x => One(x[0][Tensor.FromArray(new[] { true }).Reshape(), 1]),
        ["adv_put_scalar_ellipsis"] = x => Put(x[0], c => c[TensorIndex.Ellipsis, 0] = 5),
        ["adv_put_scalar_slice"] = x => Put(x[0], c => c[.., 1..3] = -2.5),
        ["adv_put_adjacent"] = x => Put(x[0], c => c[.., I3, J3] = x[1]),
        ["adv_put_separated"] = x => Put(x[0], c => c[I21, .., J3] = x[1]),
        ["adv_put_int_slice_tensor"] = x => Put(x[0], c => c[0, .., I3] = x[1]),
        ["adv_put_mask_slice"] = x => Put(x[0], c => c[M5, 1..3] = 0.0),
        ["adv_put_long_ellipsis"] = x => Put(x[0], c => c[TensorIndex.Ellipsis, 1] = 7),
    };

    // The index tensors of the advanced-indexing cases (parity_gen.py's i3, i21, j3, m5).
    private static Tensor I3 => Tensor.FromArray(new long[] { 0, 2, -1 });
    private static Tensor I21 => Tensor.FromArray(new long[] { 0, 4 }, 2, 1);
    private static Tensor J3 => Tensor.FromArray(new long[] { 1, 3, 6 });
    private static Tensor M5 => Tensor.FromArray(new[] { false, true, false, false, true });

    /// <summary>A clone of x written by the indexer's setter (PyTorch: c = x.clone(); c[idx] = v).</summary>
    private static Tensor[] Put(Tensor x, Action<Tensor> write)
    {
        var c = x.Detach().Clone();
        write(c);
        return [c];
    }

    private static JsonObject? file;
    private static JsonObject File => file ??= JsonNode.Parse(System.IO.File.ReadAllText(
        Path.Combine(TestContext.CurrentContext.TestDirectory, "golden", "autograd", "parity.json")))!.AsObject();

    public static IEnumerable<string> Names() => Ops.Keys;

    private static double Parse(string s) => s switch
    {
        "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity,
        _ => double.Parse(s, CultureInfo.InvariantCulture),
    };

    private static DType DTypeOf(string s) => s switch
    {
        "float32" => DType.Float32, "float64" => DType.Float64, "int32" => DType.Int32, "int64" => DType.Int64, "bool" => DType.Bool,
        _ => throw new ArgumentException(s),
    };

    private static (double[] Values, long[] Shape, DType DType) Read(JsonNode n) =>
        (n["values"]!.AsArray().Select(v => Parse(v!.GetValue<string>())).ToArray(),
         n["shape"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray(),
         DTypeOf(n["dtype"]!.GetValue<string>()));

    private static Tensor Make(JsonNode n)
    {
        var (v, s, dt) = Read(n);
        var t = Tensor.FromArray(v, s).To(dt);
        return s.Length == 0 ? t.Reshape() : t;   // FromArray without a shape makes a 1-D tensor
    }

    private static void Compare(Tensor actual, JsonNode expected, string what)
    {
        var (v, s, dt) = Read(expected);
        Assert.That(actual.DType, Is.EqualTo(dt), $"{what}: dtype");
        Assert.That(actual.Shape.ToArray(), Is.EqualTo(s), $"{what}: shape");
        var a = actual.To(DType.Float64).ToArray<double>();
        double tol = dt == DType.Float32 ? 1e-6 : 1e-12;
        for (int i = 0; i < v.Length; i++)
        {
            if (double.IsNaN(v[i])) Assert.That(double.IsNaN(a[i]), $"{what}[{i}]: expected NaN, got {a[i]}");
            else if (double.IsInfinity(v[i]) || Math.Abs(v[i]) > 1e300) Assert.That(a[i], Is.EqualTo(v[i]), $"{what}[{i}]");
            else Assert.That(a[i], Is.EqualTo(v[i]).Within(tol * (1 + Math.Abs(v[i]))), $"{what}[{i}]");
        }
    }

    [TestCaseSource(nameof(Names))]
    public void MatchesPyTorch(string name)
    {
        var c = File[name]!.AsObject();
        var inputs = c["inputs"]!.AsArray().Select(n => Make(n!)).ToArray();
        bool differentiable = c["grads"] is not null;
        var leaves = inputs.Select(t => differentiable && t.IsFloatingPoint ? t.RequiresGrad_() : t).ToArray();
        var outs = Ops[name](leaves);
        var expected = c["outputs"]!.AsArray();
        Assert.That(outs.Length, Is.EqualTo(expected.Count), "number of outputs");
        for (int i = 0; i < outs.Length; i++) Compare(outs[i], expected[i]!, $"{name} output {i}");
        if (!differentiable) return;
        var grads = Autograd.Grad([(outs[0] * Make(c["cotangent"]!)).Sum()], leaves.Where(t => t.RequiresGrad).ToArray(), allowUnused: true);
        var eg = c["grads"]!.AsArray();
        int k = 0;
        for (int i = 0; i < leaves.Length; i++)
        {
            if (!leaves[i].RequiresGrad) continue;
            var g = grads[k++] ?? Tensor.ZerosLike(leaves[i]);
            Compare(g, eg[i]!, $"{name} grad of input {i}");
        }
    }

    private static Tensor R(params long[] shape) => Tensor.Randn(shape, DType.Float64);

    public static IEnumerable<TestCaseData> GradCases()
    {
        Tensor.ManualSeed(7);
        TestCaseData C(string n, Func<Tensor[], Tensor> f, params Tensor[] xs) => new TestCaseData(f, xs).SetName("GradCheck_" + n);
        yield return C("Lerp", x => x[0].Lerp(x[1], x[2]), R(3, 4), R(3, 4), R(4));
        yield return C("Addcmul", x => x[0].Addcmul(x[1], x[2], 0.7), R(3, 4), R(3, 4), R(3, 4));
        yield return C("Addcdiv", x => x[0].Addcdiv(x[1], x[2].Abs() + 0.5, 0.7), R(3, 4), R(3, 4), R(3, 4));
        yield return C("Frac", x => x[0].Frac() * x[0], R(3, 4) * 3 + 0.01);
        yield return C("Fmod", x => x[0].Fmod(x[1].Abs() + 0.5), R(3, 4) * 3 + 0.01, R(3, 4));
        yield return C("NanToNum", x => x[0].NanToNum(), R(5));
        yield return C("Cumsum", x => x[0].Cumsum(1), R(3, 7));
        yield return C("Cumprod", x => x[0].Cumprod(0), R(5, 2));
        yield return C("Sort", x => x[0].Sort(1).Values * Tensor.Arange(1.0, 5.0, dtype: DType.Float64), R(3, 4));
        yield return C("TopK", x => x[0].TopK(2, 0).Values, R(4, 3));
        yield return C("KthValue", x => x[0].KthValue(2, 1).Values, R(3, 4));
        yield return C("Median", x => x[0].Median(1).Values, R(3, 5));
        yield return C("Mode", x => x[0].Mode(1).Values, R(3, 5));
        yield return C("Quantile", x => x[0].Quantile(0.3, 1), R(3, 5));
        yield return C("NanMean", x => x[0].NanMean([0]), R(3, 5));
        yield return C("MaskIndex", x => x[0][x[0].Detach() > 0], R(3, 5));
        yield return C("IndexPut", x => x[0].IndexPut([Tensor.FromArray(new long[] { 0, 2, 0 })], x[1], accumulate: true), R(3, 5), R(3, 5));
        yield return C("MaskedSelect", x => x[0].MaskedSelect(Tensor.FromArray(new[] { true, false, true, true, false })), R(3, 5));
        yield return C("Take", x => x[0].Take(Tensor.FromArray(new long[] { 0, 5, -1, 5 })), R(3, 5));
        yield return C("RepeatTile", x => x[0].Repeat(2, 1, 3) + x[0].Tile(2, 1, 3), R(3, 2));
        yield return C("RepeatInterleave", x => x[0].RepeatInterleave(3, 1), R(3, 2));
        yield return C("RollRot90Flip", x => x[0].Roll([1, -1], [0, 1]) * x[0].Rot90(2) + x[0].Flip(1), R(3, 3));
        yield return C("Stack", x => Tensor.DStack([x[0], x[1]]).Sum(2) + Tensor.VStack([x[0], x[1]]).Narrow(0, 0, 3), R(3, 4), R(3, 4));
        yield return C("Einsum", x => Tensor.Einsum("bij,bkj,k->bi", x[0], x[1], x[2]), R(2, 3, 4), R(2, 5, 4), R(5));
        yield return C("EinsumDiagonalEllipsis", x => Tensor.Einsum("...ii,i...->...", x[0], x[1]), R(2, 3, 3), R(3, 2));
        yield return C("EinsumTrace", x => Tensor.Einsum("ii", x[0]) * Tensor.Einsum("iij->j", x[1]), R(3, 3), R(2, 2, 3));
        yield return C("AdvancedIndexSeparated", x => x[0][I21, .., Tensor.FromArray(new long[] { 1, 1, 6 })], R(5, 2, 7));
        yield return C("AdvancedIndexMixed", x => x[0][TensorIndex.NewAxis, 1, Tensor.FromArray(new long[] { 0, -1 }, 2, 1), TensorIndex.Ellipsis, Tensor.FromArray(new[] { true, false, true })], R(2, 3, 4, 3));
    }

    [TestCaseSource(nameof(GradCases))]
    public void DifferentiableOpsPassGradCheck(Func<Tensor[], Tensor> f, Tensor[] inputs) =>
        Assert.That(GradCheck.Check(f, inputs.Select(t => t.Detach().RequiresGrad_()).ToArray()), Is.True);
}
