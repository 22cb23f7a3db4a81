using System.Text.Json.Nodes;

namespace Ember.AutogradTests;

/// <summary>
/// addmm/baddbmm/addbmm, diag/diagonal/trace and Linalg against PyTorch 1.13 (tests/golden/nn_parity_gen.py writes
/// golden/autograd/linalg_parity.json): forward and input gradients, plus GradCheck. Decompositions are compared through
/// sign-invariant functions (singular vectors and eigenvectors are defined up to sign).
/// </summary>
public class LinalgTests
{
    private static Tensor Spd(Tensor x) => x.MatMul(x.mT) + Tensor.Eye(x.Size(-1), dtype: DType.Float64) * 4.0;

    private static readonly Dictionary<string, Func<Tensor[], Tensor>> Ops = new()
    {
        ["addmm"] = x => x[0].Addmm(x[1], x[2], beta: 0.5, alpha: 2.0),
        ["baddbmm"] = x => x[0].Baddbmm(x[1], x[2], beta: 1.5, alpha: -1.0),
        ["addbmm"] = x => x[0].Addbmm(x[1], x[2]),
        ["diag_vector_offset"] = x => x[0].Diag(1),
        ["diag_matrix_offset"] = x => x[0].Diag(-1),
        ["diagonal_3d"] = x => x[0].Diagonal(1, 0, 2),
        ["trace"] = x => x[0].Trace(),
        ["vector_norm_3_dim1"] = x => Linalg.VectorNorm(x[0], 3, [1]),
        ["vector_norm_inf"] = x => Linalg.VectorNorm(x[0], double.PositiveInfinity),
        ["matrix_norm_fro"] = x => Linalg.MatrixNorm(x[0]),
        ["matrix_norm_nuc"] = x => Linalg.MatrixNorm(x[0], "nuc"),
        ["matrix_norm_2"] = x => Linalg.MatrixNorm(x[0], 2),
        ["matrix_norm_1"] = x => Linalg.MatrixNorm(x[0], 1),
        ["matrix_norm_neg_inf"] = x => Linalg.MatrixNorm(x[0], double.NegativeInfinity),
        ["norm_default"] = x => Linalg.Norm(x[0]),
        ["inv"] = x => Linalg.Inv(x[0]),
        ["det"] = x => Linalg.Det(x[0]),
        ["slogdet"] = x => Linalg.Slogdet(x[0]).LogAbsDet,
        ["solve_matrix"] = x => Linalg.Solve(x[0], x[1]),
        ["solve_vector_batched"] = x => Linalg.Solve(x[0], x[1]),
        ["cholesky"] = x => Linalg.Cholesky(Spd(x[0])),
        ["eigh_values"] = x => Linalg.Eigh(x[0] + x[0].mT).Eigenvalues,
        ["eigh_vectors_squared"] = x => Linalg.Eigh(x[0] + x[0].mT).Eigenvectors.Square(),
        ["svd_values"] = x => Linalg.Svd(x[0]).S,
        ["svd_u_vh"] = x => { var (u, _, vh) = Linalg.Svd(x[0], fullMatrices: false); return u.MatMul(vh); },
        ["svd_u_vh_wide"] = x => { var (u, _, vh) = Linalg.Svd(x[0], fullMatrices: false); return u.MatMul(vh); },
        ["qr_abs_r"] = x => Linalg.Qr(x[0]).R.Abs(),
        ["qr_q_squared"] = x => Linalg.Qr(x[0]).Q.Square(),
        ["pinv"] = x => Linalg.Pinv(x[0]),
        ["qr_wide_abs_r"] = x => Linalg.Qr(x[0]).R.Abs(),
        ["qr_wide_q_squared"] = x => Linalg.Qr(x[0]).Q.Square(),
        ["qr_complete_square"] = x => { var (q, r) = Linalg.Qr(x[0], "complete"); return q.Square().MatMul(r.Abs()); },
        ["qr_complete_wide"] = x => Linalg.Qr(x[0], "complete").Q.Square(),
        ["svd_full_values"] = x => Linalg.Svd(x[0]).S,
        ["svd_full_u_vh_tall"] = x => { var (u, _, vh) = Linalg.Svd(x[0]); return u[TensorIndex.Ellipsis, ..3].MatMul(vh[TensorIndex.Ellipsis, ..3, ..]); },
        ["svd_full_u_vh_wide"] = x => { var (u, _, vh) = Linalg.Svd(x[0]); return u[TensorIndex.Ellipsis, ..3].MatMul(vh[TensorIndex.Ellipsis, ..3, ..]); },
    };

    private static JsonObject File => JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "golden", "autograd", "linalg_parity.json")))!.AsObject();

    private static Tensor T(JsonNode? n)
    {
        var o = n!.AsObject();
        var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
        return Tensor.FromArray(o["data"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray()).Reshape(shape);
    }

    private static void Close(Tensor actual, Tensor expected, double tol, string what)
    {
        Assert.That(actual.Shape.ToArray(), Is.EqualTo(expected.Shape.ToArray()), what + ": shape");
        var a = T_(actual); var e = T_(expected);
        for (int i = 0; i < a.Length; i++)
            Assert.That(a[i], Is.EqualTo(e[i]).Within(tol + tol * Math.Abs(e[i])), $"{what}: element {i}");
    }

    private static double[] T_(Tensor t) => t.Detach().To(DType.Float64).Contiguous().ToArray<double>();

    public static IEnumerable<string> Cases => File.Select(kv => kv.Key).Where(k => k != "slogdet_signs");

    [Test]
    public void EveryGoldenCaseHasAnOp() => Assert.That(Cases, Is.EquivalentTo(Ops.Keys));

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndGradientsMatchPyTorch(string name)
    {
        var c = File[name]!.AsObject();
        var x = c["inputs"]!.AsArray().Select(n => T(n).RequiresGrad_()).ToArray();
        var y = Ops[name](x);
        Close(y, T(c["output"]), 1e-9, "output");
        (y * T(c["grad_output"])).Sum().Backward();
        var g = c["input_grads"]!.AsArray();
        for (int i = 0; i < x.Length; i++) Close(x[i].Grad!, T(g[i]), 1e-8, $"grad {i}");
    }

    [TestCaseSource(nameof(Cases))]
    public void GradCheckPasses(string name)
    {
        var x = File[name]!.AsObject()["inputs"]!.AsArray().Select(n => T(n).RequiresGrad_()).ToArray();
        Assert.That(GradCheck.Check(Ops[name], x, atol: 1e-6, rtol: 1e-4), Is.True);
    }

    [Test]
    public void DecompositionsRecordOneFormulaTableNodeEach()
    {
        // Each decomposition is one OpKind primitive (its formula in Derivatives.Linalg.cs), not a Function node, and
        // its saved tensors are released after backward like every other primitive's.
        var a = (Spd(Tensor.Randn([2, 3, 3], DType.Float64)) + 0).Detach().RequiresGrad_();
        var cases = new (OpKind Kind, Func<Tensor> Op)[]
        {
            (OpKind.LinalgInv, () => Linalg.Inv(a)), (OpKind.LinalgDet, () => Linalg.Det(a)),
            (OpKind.LinalgSlogdet, () => Linalg.Slogdet(a).LogAbsDet), (OpKind.LinalgSolve, () => Linalg.Solve(a, a)),
            (OpKind.LinalgCholesky, () => Linalg.Cholesky(a)), (OpKind.LinalgEigh, () => Linalg.Eigh(a).Eigenvalues),
            (OpKind.LinalgSvd, () => Linalg.Svd(a).S), (OpKind.LinalgQr, () => Linalg.Qr(a).R),
        };
        foreach (var (kind, op) in cases)
        {
            var node = FindLinalgNode((Node)op().GradFn!);
            Assert.That(node.Kind, Is.EqualTo(kind), $"{kind}: the recorded primitive");
            Assert.That(node.Name, Is.EqualTo(kind.ToString()), $"{kind}: the node's name");
            var z = op().Sum();
            z.Backward();
            Assert.That(a.Grad, Is.Not.Null, $"{kind}: a gradient reached A");
            a.Grad = null;
            Assert.That(() => z.Backward(), Throws.InstanceOf<Exception>().With.Message.Contains("second time"), $"{kind}: the graph was freed");
        }
    }

    // The Linalg node under a result (the public methods may add a view node such as Select above it).
    private static OpNode FindLinalgNode(Node n)
    {
        for (var cur = n; cur is not null; cur = cur.Next.Length > 0 ? cur.Next[0] : null)
            if (cur is OpNode o && o.Kind >= OpKind.LinalgInv) return o;
        throw new AssertionException("no Linalg node in the graph");
    }

    [Test]
    public void SlogdetSignsAndSingularMatrices()
    {
        var c = File["slogdet_signs"]!.AsObject();
        var a = Tensor.FromArray([0.0, 2.0, 3.0, 1.0, 1e-200, 0.0, 0.0, 1e-200]).Reshape(2, 2, 2);
        var (sign, logAbs) = Linalg.Slogdet(a);
        Assert.That(T_(sign), Is.EqualTo(c["sign"]!.AsArray().Select(v => v!.GetValue<double>())));
        Assert.That(T_(logAbs), Is.EqualTo(c["logabsdet"]!.AsArray().Select(v => v!.GetValue<double>())).Within(1e-9), "log|det| without underflow");
        var (s0, l0) = Linalg.Slogdet(Tensor.FromArray([1.0, 2.0, 2.0, 4.0]).Reshape(2, 2));
        Assert.That(s0.Item(), Is.EqualTo(0));
        Assert.That(double.IsNegativeInfinity(l0.Item()));
    }

    [Test]
    public void DecompositionsReconstructTheirInput()
    {
        var a = Tensor.Randn([2, 5, 3], DType.Float64, generator: new Generator(4));
        var (u, s, vh) = Linalg.Svd(a, fullMatrices: false);
        Close(u.MatMul(s.Unsqueeze(-1) * vh), a, 1e-12, "U·S·Vh");
        var (q, r) = Linalg.Qr(a);
        Close(q.MatMul(r), a, 1e-12, "Q·R");
        Close(q.mT.MatMul(q), Tensor.Eye(3, dtype: DType.Float64).Expand(2, 3, 3), 1e-12, "QᵀQ = I");
        Close(r.Tril(-1), Tensor.Zeros([2, 3, 3], DType.Float64), 0, "R upper triangular");
        var sym = a.mT.MatMul(a);
        var (l, v) = Linalg.Eigh(sym);
        Close(v.MatMul(l.Unsqueeze(-1) * v.mT), sym, 1e-12, "V·Λ·Vᵀ");
        var ch = Linalg.Cholesky(sym);
        Close(ch.MatMul(ch.mT), sym, 1e-12, "L·Lᵀ");
        Close(Linalg.Pinv(a).MatMul(a), Tensor.Eye(3, dtype: DType.Float64).Expand(2, 3, 3), 1e-12, "pinv(A)·A = I (full column rank)");
        var f = a.To(DType.Float32);
        Assert.That(Linalg.Svd(f).S.DType, Is.EqualTo(DType.Float32), "float32 in, float32 out");
    }

    [Test]
    public void QrModesAndFullSvdHaveTheirShapesAndReconstruct()
    {
        foreach (var (m, n) in new[] { (5, 3), (3, 5), (4, 4) })
        {
            var a = Tensor.Randn([2, m, n], DType.Float64, generator: new Generator((ulong)(m * 10 + n)));
            long k = Math.Min(m, n);
            var (q, r) = Linalg.Qr(a);
            Assert.That((q.Shape.ToArray(), r.Shape.ToArray()), Is.EqualTo((new long[] { 2, m, k }, new long[] { 2, k, n })), $"reduced {m}x{n}");
            Close(q.MatMul(r), a, 1e-12, $"reduced Q·R {m}x{n}");
            Close(r.Tril(-1), Tensor.Zeros([2, k, n], DType.Float64), 0, "R upper triangular");
            var (qc, rc) = Linalg.Qr(a, "complete");
            Assert.That((qc.Shape.ToArray(), rc.Shape.ToArray()), Is.EqualTo((new long[] { 2, m, m }, new long[] { 2, m, n })), $"complete {m}x{n}");
            Close(qc.MatMul(rc), a, 1e-12, $"complete Q·R {m}x{n}");
            Close(qc.mT.MatMul(qc), Tensor.Eye(m, dtype: DType.Float64).Expand(2, m, m), 1e-12, "complete Q orthogonal");
            var (qe, rr) = Linalg.Qr(a, "r");
            Assert.That(qe.Numel, Is.EqualTo(0), "mode r returns an empty Q");
            Close(rr, r, 0, "mode r's R is the reduced R");
            var (u, s, vh) = Linalg.Svd(a);
            Assert.That((u.Shape.ToArray(), vh.Shape.ToArray()), Is.EqualTo((new long[] { 2, m, m }, new long[] { 2, n, n })), $"full SVD {m}x{n}");
            Close(u.mT.MatMul(u), Tensor.Eye(m, dtype: DType.Float64).Expand(2, m, m), 1e-12, "full U orthogonal");
            Close(vh.MatMul(vh.mT), Tensor.Eye(n, dtype: DType.Float64).Expand(2, n, n), 1e-12, "full Vh orthogonal");
            Close(u[TensorIndex.Ellipsis, ..(int)k].MatMul(s.Unsqueeze(-1) * vh[TensorIndex.Ellipsis, ..(int)k, ..]), a, 1e-12, "U·S·Vh");
        }
        // PyTorch defines no gradient for mode 'r' or for 'complete' with m > n: backward says so.
        var tall = Tensor.Randn([4, 2], DType.Float64, generator: new Generator(3)).RequiresGrad_();
        Assert.That(() => Linalg.Qr(tall, "complete").R.Sum().Backward(), Throws.InvalidOperationException.With.Message.Contains("not differentiable when mode='complete' and nrows > ncols"));
        Assert.That(() => Linalg.Qr(tall, "r").R.Sum().Backward(), Throws.InvalidOperationException.With.Message.Contains("mode='r'"));
        Assert.That(() => Linalg.Qr(tall, "full"), Throws.ArgumentException.With.Message.Contains("unrecognized mode 'full'"));
    }

    [Test]
    public void BadInputsAreReportedWithPyTorchsWording()
    {
        Assert.That(() => Linalg.Inv(Tensor.Zeros([2, 3], DType.Float64)), Throws.ArgumentException.With.Message.Contains("must be batches of square matrices, but they are 2 by 3 matrices"));
        Assert.That(() => Linalg.Inv(Tensor.Zeros([2, 2], DType.Float64)), Throws.ArgumentException.With.Message.Contains("the input matrix is singular"));
        Assert.That(() => Linalg.Inv(Tensor.Zeros([2, 2], DType.Int64)), Throws.ArgumentException.With.Message.Contains("Expected a floating point or complex tensor as input. Got Int64"));
        Assert.That(() => Linalg.Cholesky(Tensor.FromArray([1.0, 2.0, 2.0, 1.0]).Reshape(2, 2)), Throws.ArgumentException.With.Message.Contains("the leading minor of order 2 is not positive-definite"));
        Assert.That(() => Linalg.Solve(Tensor.Eye(3, dtype: DType.Float64), Tensor.Zeros([2, 2], DType.Float64)), Throws.ArgumentException.With.Message.Contains("Incompatible shapes of A and B"));
        Assert.That(() => Linalg.MatrixNorm(Tensor.Zeros([2, 2], DType.Float64), 3), Throws.ArgumentException.With.Message.Contains("Order 3 not supported"));
        Assert.That(() => Tensor.Zeros([2, 3]).Trace().Item(), Throws.Nothing);
        Assert.That(() => Tensor.Zeros([2, 3, 4]).Trace(), Throws.ArgumentException.With.Message.Contains("expected a matrix"));
        Assert.That(() => Tensor.Zeros([3]).Addmm(Tensor.Zeros([3]), Tensor.Zeros([3, 3])), Throws.ArgumentException.With.Message.Contains("Addmm: mat1 and mat2 must be matrices"));
    }
}
