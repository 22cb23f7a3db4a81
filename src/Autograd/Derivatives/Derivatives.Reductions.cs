namespace Ember;

internal static partial class Derivatives
{
    // Reductions (OpKind.Reduce, the ReduceOp in args.Reduce): gk is the gradient reshaped to the input's rank (size 1
    // at reduced dims), so it broadcasts against the input; yk is the result reshaped the same way.

    // Σ: every input element receives the gradient of its sum.
    private static readonly Derivative SumBackward = new("SumBackward", Saves.Nothing, (c, g) =>
        [KeepReducedDims(g, c.Args).Expand(c.Args.InputShape)]);

    // Π: ∂/∂xᵢ = product of the others. y/xᵢ fails at zeros, so (as PyTorch) handle them apart:
    // no zero in the group → y/x; one zero → the zero gets the product of the non-zeros, others 0; two or more → 0.
    private static readonly Derivative ProdBackward = new("ProdBackward", Saves.Inputs | Saves.Result, (c, g) =>
    {
        var x = c.Input(0);
        int[] dims = ReducedDims(c.Args);
        var gk = KeepReducedDims(g, c.Args);
        var yk = KeepReducedDims(c.Result, c.Args);
        var isZero = x.Eq(0.0);
        var zeros = isZero.To(x.DType).Sum(dims, keepDim: true);            // constant: no gradient
        var safeX = Tensor.Where(isZero, Tensor.Scalar(1, x.DType, x.Device), x);
        var noZero = gk * yk / safeX;
        var productOfNonZeros = ProdKeepDim(safeX, dims);
        var oneZero = Keep(isZero, gk * productOfNonZeros);
        return [Tensor.Where(zeros.Eq(0.0), noZero, Keep(zeros.Eq(1.0), oneZero))];
    });

    // amax/amin: the gradient is shared equally among the elements equal to the extreme (torch.amax).
    private static readonly Derivative AmaxBackward = new("AmaxBackward", Saves.Inputs | Saves.Result, (c, g) => [ShareAmongTies(c, g)]);
    private static readonly Derivative AminBackward = new("AminBackward", Saves.Inputs | Saves.Result, (c, g) => [ShareAmongTies(c, g)]);

    // max/min along a dim with indices: the whole gradient goes to the recorded index (first occurrence).
    private static readonly Derivative MaxBackward = new("MaxBackward", Saves.Nothing, (c, g) => [ToSelectedIndex(c, g)]);
    private static readonly Derivative MinBackward = new("MinBackward", Saves.Nothing, (c, g) => [ToSelectedIndex(c, g)]);

    // logsumexp: ∂/∂xᵢ = e^(xᵢ − y) = softmax(x)ᵢ.
    private static readonly Derivative LogSumExpBackward = new("LogsumexpBackward", Saves.Inputs | Saves.Result, (c, g) =>
        [KeepReducedDims(g, c.Args) * (c.Input(0) - KeepReducedDims(c.Result, c.Args)).Exp()]);

    /// <summary>The entry of a recorded reduction, by its <see cref="ReduceOp"/> (every one named; All/Any are not differentiable).</summary>
    private static Derivative? ReductionFor(OpArgs args) => args.Reduce switch
    {
        ReduceOp.Sum => SumBackward,
        ReduceOp.Prod => ProdBackward,
        ReduceOp.Max => args.Index is null ? AmaxBackward : MaxBackward,
        ReduceOp.Min => args.Index is null ? AminBackward : MinBackward,
        ReduceOp.LogSumExp => LogSumExpBackward,
        _ => null,
    };

    /// <summary>The reductions that have entries (for the coverage test).</summary>
    private static IEnumerable<ReduceOp> DifferentiableReductions =>
        Enum.GetValues<ReduceOp>().Where(op => ReductionFor(new OpArgs { Reduce = op }) is not null);

    private static void AddReductions(Dictionary<OpKind, Derivative> t)
    {
        // softmax: ∂L/∂x = y ⊙ (g − Σ g⊙y) along dim (written with tensor ops so it is twice differentiable).
        t[OpKind.Softmax] = new("SoftmaxBackward", Saves.Result, (c, g) =>
        {
            var y = c.Result;
            return [FusedSoftmaxBackward(g, y, c.Args.Dim, log: false) ?? y * (g - (g * y).Sum(c.Args.Dim, keepDim: true))];
        });

        // log-softmax: ∂L/∂x = g − e^y ⊙ Σ g along dim.
        t[OpKind.LogSoftmax] = new("LogSoftmaxBackward", Saves.Result, (c, g) =>
            [FusedSoftmaxBackward(g, c.Result, c.Args.Dim, log: true) ?? g - c.Result.Exp() * g.Sum(c.Args.Dim, keepDim: true)]);
    }

    // The same formulas as one backend kernel pass, used when nothing records the backward (no createGraph)
    // and softmax ran over the last dim of a contiguous result — the common case (attention, cross-entropy).
    private static Tensor? FusedSoftmaxBackward(Tensor g, Tensor y, int dim, bool log)
    {
        if (Recording(g) || y.Dim == 0 || dim != y.Dim - 1 || !y.IsContiguous || y.Numel == 0 || g.DType != y.DType) return null;
        long cols = y.ShapeSpan[^1], rows = y.Numel / cols;
        var grad = g.Contiguous();
        var result = Tensor.Empty(y.ShapeSpan.ToArray(), y.DType, y.Device);
        y.Backend.SoftmaxBackward(grad.View(rows, cols), y.View(rows, cols), result.View(rows, cols), log);
        return result;
    }

    private static Tensor ShareAmongTies(BackwardContext c, Tensor g)
    {
        var x = c.Input(0);
        var isExtreme = x.Eq(KeepReducedDims(c.Result, c.Args)).To(x.DType);      // constant mask
        var count = isExtreme.Sum(ReducedDims(c.Args), keepDim: true);
        return KeepReducedDims(g, c.Args) / count * isExtreme;
    }

    private static Tensor ToSelectedIndex(BackwardContext c, Tensor g)
    {
        var index = c.Args.Index!;
        int dim = c.Args.Dim;
        if (!c.Args.KeepDim)
        {
            g = g.Unsqueeze(dim);
            index = index.Unsqueeze(dim);
        }
        return Tensor.Zeros(c.Args.InputShape, g.DType, g.Device).Scatter(dim, index, g);
    }

    // Π over several dims, keeping them: one dim at a time (differentiable through Prod's own formula).
    private static Tensor ProdKeepDim(Tensor x, int[] dims)
    {
        foreach (int d in dims) x = x.Prod(d, keepDim: true);
        return x;
    }
}
