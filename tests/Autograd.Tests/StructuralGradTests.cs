namespace Ember.AutogradTests;

/// <summary>GradCheck for every differentiable non-elementwise primitive and the composites built on them (float64).</summary>
public class StructuralGradTests
{
    private static GradCase Case(string name, Func<Tensor, Tensor> f, long[] shape, bool nonContiguous = true, double lo = -2, double hi = 2) =>
        new(name, x => f(x[0]), () => [T.U(shape, lo, hi, nonContiguous)]);

    private static Tensor Idx(long[] values, params long[] shape) => Tensor.FromArray(values, shape.Length == 0 ? [values.Length] : shape);

    public static IEnumerable<GradCase> ReductionCases()
    {
        yield return Case("Sum all", x => x.Sum(), [2, 3]);
        yield return Case("Sum dim 0", x => x.Sum(0), [2, 3]);
        yield return Case("Sum dims (0,2) keepDim", x => x.Sum([0, 2], keepDim: true), [2, 3, 2]);
        yield return Case("Sum of 0-dim", x => x.Sum(), [], nonContiguous: false);
        yield return Case("Mean dim -1", x => x.Mean(-1), [3, 2]);
        yield return Case("Prod all (no zero)", x => x.Prod(), [2, 3], lo: 0.5, hi: 1.5);
        yield return Case("Prod dim 1 keepDim", x => x.Prod(1, keepDim: true), [2, 3], lo: 0.5, hi: 1.5);
        yield return new("Prod with one zero", x => x[0].Prod(1), () => [T.Of([0, 2, 3, 1.5, 0.5, 2], 2, 3)]);
        yield return new("Prod with two zeros", x => x[0].Prod(1), () => [T.Of([0, 2, 0, 1.5, 0.5, 2], 2, 3)]);
        yield return Case("Max all", x => x.Max(), [2, 3]);
        yield return Case("Min all", x => x.Min(), [2, 3]);
        yield return Case("Amax dims (1)", x => x.Amax([1]), [2, 3]);
        yield return Case("Amin dims (0,1) keepDim", x => x.Amin([0, 1], keepDim: true), [2, 3, 2]);
        yield return Case("Max dim 1 values", x => x.Max(1).Values, [3, 4]);
        yield return Case("Min dim 0 keepDim values", x => x.Min(0, keepDim: true).Values, [3, 4]);
        yield return Case("LogSumExp dim 1", x => x.LogSumExp(1), [2, 3]);
        yield return Case("LogSumExp dims (0,1) keepDim", x => x.LogSumExp([0, 1], keepDim: true), [2, 3]);
        yield return Case("Var dim 1", x => x.Var([1]), [2, 4]);
        yield return Case("Std all", x => x.Std(), [2, 3]);
        yield return Case("Norm 2", x => x.Norm(), [2, 3]);
        yield return Case("Norm 3 dim 1", x => x.Norm(3, [1]), [2, 3], lo: 0.2, hi: 2);
        yield return Case("Softmax dim 1", x => x.Softmax(1), [2, 3]);
        yield return Case("Softmax dim 0", x => x.Softmax(0), [3, 2]);
        yield return Case("LogSoftmax dim -1", x => x.LogSoftmax(-1), [2, 4]);
        yield return Case("LogSoftmax dim 0", x => x.LogSoftmax(0), [3, 2]);
    }

    public static IEnumerable<GradCase> ViewCases()
    {
        yield return Case("Reshape", x => x.Reshape(3, 2), [2, 3]);
        yield return Case("View (contiguous)", x => x.View(6), [2, 3], nonContiguous: false);
        yield return Case("Flatten/Unflatten", x => x.Flatten().Unflatten(0, 3, 2) * 2, [2, 3]);
        yield return Case("Permute", x => x.Permute(2, 0, 1), [2, 3, 2]);
        yield return Case("Transpose", x => x.Transpose(0, 1) * 3, [2, 3]);
        yield return Case("mT", x => x.mT, [2, 2, 3]);
        yield return Case("Expand", x => x.Expand(2, 4, 3), [4, 1], nonContiguous: false);
        yield return Case("BroadcastTo new dims", x => x.BroadcastTo(2, 3), [3], nonContiguous: false);
        yield return Case("Squeeze/Unsqueeze", x => x.Unsqueeze(1).Squeeze(1).Unsqueeze(0), [2, 3]);
        yield return Case("Narrow", x => x.Narrow(1, 1, 2), [2, 4]);
        yield return Case("Slice step 2", x => x.Slice(1, 0, 5, 2), [2, 5]);
        yield return Case("Select", x => x.Select(0, 1), [3, 2]);
        yield return Case("Indexer x[.., 1..3]", x => x[.., 1..3], [2, 4]);
        yield return Case("Indexer x[^1]", x => x[^1], [3, 2]);
        yield return Case("Contiguous", x => x.Contiguous(), [2, 3]);
        yield return Case("Clone", x => x.Clone() * x, [2, 3]);
        yield return Case("Split/Chunk pieces", x => x.Split(2, 1)[1] * x.Chunk(2, 1)[0][.., ..1], [2, 4]);
    }

    public static IEnumerable<GradCase> IndexingCases()
    {
        yield return new("Cat dim 1", x => Tensor.Cat([x[0], x[1] * 2, x[0]], 1), () => [T.U([2, 2], nonContiguous: true), T.U([2, 3])]);
        yield return new("Cat dim 0", x => Tensor.Cat([x[0], x[1]], 0), () => [T.U([1, 3]), T.U([2, 3], nonContiguous: true)]);
        yield return new("Stack dim 1", x => Tensor.Stack([x[0], x[1]], 1), () => [T.U([2, 3]), T.U([2, 3], nonContiguous: true)]);
        yield return Case("Gather dim 1 (repeats)", x => x.Gather(1, Idx([0, 0, 2, 1, 1, 0], 2, 3)), [2, 3]);
        yield return Case("Gather smaller index", x => x.Gather(0, Idx([1, 0], 1, 2)), [2, 3]);
        yield return new("Scatter self and src", x => x[0].Scatter(1, Idx([2, 0, 1, 0], 2, 2), x[1]),
            () => [T.U([2, 3], nonContiguous: true), T.U([2, 3])]);
        yield return Case("Scatter scalar", x => x.Scatter(0, Idx([1, 0, 1], 1, 3), 5.0), [2, 3]);
        yield return new("ScatterAdd (repeats)", x => x[0].ScatterAdd(1, Idx([0, 0, 2, 1, 1, 1], 2, 3), x[1]),
            () => [T.U([2, 3]), T.U([2, 3], nonContiguous: true)]);
        yield return Case("IndexSelect (repeats)", x => x.IndexSelect(0, Idx([2, 0, 2])), [3, 2]);
        yield return Case("IndexSelect Int32 dim 1", x => x.IndexSelect(1, Tensor.FromArray(new int[] { 1, 1 }, 2)), [2, 3]);
        yield return new("IndexAdd alpha 2", x => x[0].IndexAdd(1, Idx([0, 2, 0]), x[1], 2),
            () => [T.U([2, 3], nonContiguous: true), T.U([2, 3])]);
        yield return Case("Tril", x => x.Tril(), [3, 3]);
        yield return Case("Triu diagonal 1", x => x.Triu(1), [2, 3, 3]);
        yield return Case("Tril diagonal -1", x => x.Tril(-1), [3, 4]);
        yield return Case("MaskedFill", x => x.MaskedFill(Tensor.FromArray(new[] { true, false, true }, 3), -1), [2, 3]);
        // Float32 in the middle: finite differences need a larger step and tolerance.
        yield return new("To(Float32) and back", x => (x[0].To(DType.Float32) * 3).To(DType.Float64), () => [T.U([2, 3], nonContiguous: true)], Atol: 1e-3, Rtol: 1e-3, Eps: 1e-2);
    }

    public static IEnumerable<GradCase> LinearAlgebraCases()
    {
        yield return new("MatMul 2D", x => x[0].MatMul(x[1]), () => [T.U([2, 3], nonContiguous: true), T.U([3, 4])]);
        yield return new("Mm", x => x[0].Mm(x[1]), () => [T.U([3, 2]), T.U([2, 2], nonContiguous: true)]);
        yield return new("Bmm", x => x[0].Bmm(x[1]), () => [T.U([2, 2, 3], nonContiguous: true), T.U([2, 3, 2])]);
        yield return new("MatMul batched broadcast", x => x[0].MatMul(x[1]), () => [T.U([2, 1, 2, 3]), T.U([3, 3, 2], nonContiguous: true)]);
        yield return new("MatMul vector·matrix", x => x[0].MatMul(x[1]), () => [T.U([3]), T.U([3, 2])]);
        yield return new("MatMul matrix·vector", x => x[0].MatMul(x[1]), () => [T.U([2, 3], nonContiguous: true), T.U([3])]);
        yield return new("Dot", x => x[0].Dot(x[1]), () => [T.U([4]), T.U([4])]);
        yield return new("Outer", x => x[0].Outer(x[1]), () => [T.U([3]), T.U([2])]);
    }

    [TestCaseSource(nameof(ReductionCases))]
    public void Reduction_GradCheck(GradCase c) => Assert.That(GradCheck.Check(c.F, c.Inputs(), c.Eps, c.Atol, c.Rtol), Is.True);

    [TestCaseSource(nameof(ViewCases))]
    public void View_GradCheck(GradCase c) => Assert.That(GradCheck.Check(c.F, c.Inputs(), c.Eps, c.Atol, c.Rtol), Is.True);

    [TestCaseSource(nameof(IndexingCases))]
    public void Indexing_GradCheck(GradCase c) => Assert.That(GradCheck.Check(c.F, c.Inputs(), c.Eps, c.Atol, c.Rtol), Is.True);

    [TestCaseSource(nameof(LinearAlgebraCases))]
    public void LinearAlgebra_GradCheck(GradCase c) => Assert.That(GradCheck.Check(c.F, c.Inputs(), c.Eps, c.Atol, c.Rtol), Is.True);

    [Test]
    public void AmaxTiesShareTheGradientEqually()
    {
        var x = T.Of([1, 3, 3, 2, 3, 0], 2, 3);
        x.Max().Backward();
        T.Close(x.Grad, [0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3, 0]);
        var y = T.Of([1, 3, 3, 2, 2, 0], 2, 3);
        y.Amax([1]).Backward(Tensor.Ones([2], DType.Float64));
        T.Close(y.Grad, [0, 0.5, 0.5, 0.5, 0.5, 0]);
    }

    [Test]
    public void MaxDimRoutesToTheFirstIndex()
    {
        var x = T.Of([1, 3, 3, 2, 2, 0], 2, 3);
        x.Max(1).Values.Backward(Tensor.Ones([2], DType.Float64));
        T.Close(x.Grad, [0, 1, 0, 1, 0, 0]);
    }

    [Test]
    public void ProdWithZerosIsExact()
    {
        var x = T.Of([0, 2, 3]);
        x.Prod().Backward();
        T.Close(x.Grad, [6, 0, 0]);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void FusedSoftmaxBackwardMatchesTheTensorFormula(bool log)
    {
        var x = Tensor.Randn([4, 7], generator: new Generator(3)).RequiresGrad_();
        var g = Tensor.Randn([4, 7], generator: new Generator(4));
        var y = log ? x.LogSoftmax(-1) : x.Softmax(-1);
        var fused = Autograd.Grad([y], [x], [g], retainGraph: true)[0]!;
        var yd = y.Detach();
        var expected = log ? g - yd.Exp() * g.Sum(1, keepDim: true) : yd * (g - (g * yd).Sum(1, keepDim: true));
        Assert.That(fused.ToArray<float>(), Is.EqualTo(expected.ToArray<float>()).Within(1e-5));
        var recorded = Autograd.Grad([y], [x], [g.RequiresGrad_()], createGraph: true)[0]!;   // the tensor-op path
        Assert.That(recorded.Detach().ToArray<float>(), Is.EqualTo(expected.ToArray<float>()).Within(1e-5));
    }
}
