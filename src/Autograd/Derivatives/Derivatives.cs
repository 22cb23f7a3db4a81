namespace Ember;

/// <summary>
/// The formula table (PyTorch's derivatives.yaml, as C#): one entry per primitive <see cref="OpKind"/>
/// and per <see cref="UnaryOp"/>/<see cref="BinaryOp"/>, split by family into
/// Derivatives.Elementwise.cs, .Reductions.cs, .Views.cs, .Indexing.cs, .LinearAlgebra.cs, and for the fused
/// primitives of <see cref="FusedOps"/> .NN.cs (linear, cross-entropy, attention), .Conv.cs (convolution, pooling) and
/// .Norm.cs (layer and batch norm); .Linalg.cs holds the host decompositions of <see cref="Linalg"/>.
/// </summary>
/// <remarks>
/// Each formula receives <c>c</c> (the <see cref="BackwardContext"/>: saved inputs, result, attributes)
/// and <c>g</c> (the gradient of the result) and returns one gradient per input, or null where the input
/// needs none. Formulas use only differentiable tensor ops, so with <c>createGraph: true</c> the backward
/// pass is itself recorded and can be differentiated again.
/// </remarks>
internal static partial class Derivatives
{
    // Built on first use, after every family's static tables exist (static initializers of a partial class
    // spread over several files run in an unspecified order).
    private static class Ops
    {
        public static readonly Dictionary<OpKind, Derivative> Table = BuildOpTable();
    }

    private static Dictionary<OpKind, Derivative> BuildOpTable()
    {
        var table = new Dictionary<OpKind, Derivative>();
        AddReductions(table);
        AddViews(table);
        AddIndexing(table);
        AddLinearAlgebra(table);
        AddNN(table);
        AddConv(table);
        AddNorm(table);
        AddLinalg(table);
        table[OpKind.Where] = WhereBackward;
        return table;
    }

    /// <summary>The entry for a recorded op.</summary>
    /// <exception cref="NotSupportedException">The op has no formula (a bug: every OpKind has one).</exception>
    public static Derivative For(OpKind op, OpArgs args) => op switch
    {
        OpKind.Unary => UnaryTable.TryGetValue(args.Unary, out var u) ? u
            : throw new NotSupportedException($"Autograd: {args.Unary} is not differentiable."),
        OpKind.Binary => BinaryTable.TryGetValue(args.Binary, out var b) ? b
            : throw new NotSupportedException($"Autograd: {args.Binary} is not differentiable."),
        OpKind.Reduce => ReductionFor(args) ?? throw new NotSupportedException($"Autograd: the reduction {args.Reduce} is not differentiable."),
        _ => Ops.Table.TryGetValue(op, out var d) ? d : throw new NotSupportedException($"Autograd: no backward formula for {op}."),
    };

    /// <summary>All ops that have an entry (for tests that check coverage).</summary>
    internal static IEnumerable<string> Covered =>
        Ops.Table.Keys.Select(k => k.ToString()).Concat(UnaryTable.Keys.Select(k => k.ToString())).Concat(BinaryTable.Keys.Select(k => k.ToString()))
            .Concat(DifferentiableReductions.Select(k => k.ToString()));

    // ---- helpers used by the formulas --------------------------------------------------------------

    /// <summary>
    /// Undoes broadcasting: sums <paramref name="grad"/> over the leading dims it has in excess and over the
    /// dims where <paramref name="shape"/> has size 1, so the result has exactly <paramref name="shape"/>.
    /// </summary>
    public static Tensor SumToShape(Tensor grad, ReadOnlySpan<long> shape)
    {
        if (grad.ShapeSpan.SequenceEqual(shape)) return grad;
        int lead = grad.Dim - shape.Length;
        var dims = new List<int>();
        for (int i = 0; i < grad.Dim; i++)
            if (i < lead || (shape[i - lead] == 1 && grad.ShapeSpan[i] != 1)) dims.Add(i);
        var summed = dims.Count > 0 ? grad.Sum([.. dims], keepDim: true) : grad;
        return summed.Reshape(shape.ToArray());
    }

    /// <summary>A 0-dim zero of g's dtype and device (broadcasts in Where).</summary>
    public static Tensor Zero(Tensor like) => Tensor.Scalar(0, like.DType, like.Device);

    /// <summary>g where mask is true, else 0.</summary>
    public static Tensor Keep(Tensor mask, Tensor g) => Tensor.Where(mask, g, Zero(g));

    /// <summary>The reduced dims of a reduction (an empty list means every dim).</summary>
    public static int[] ReducedDims(OpArgs args) =>
        args.Dims.Length > 0 ? args.Dims : [.. Enumerable.Range(0, args.InputShape.Length)];

    /// <summary>Reshapes a reduction's gradient (or result) to the input's rank with size 1 at the reduced dims.</summary>
    public static Tensor KeepReducedDims(Tensor t, OpArgs args)
    {
        if (args.KeepDim) return t;
        var kept = (long[])args.InputShape.Clone();
        foreach (int d in ReducedDims(args)) kept[d] = 1;
        return t.Reshape(kept);
    }

    /// <summary>True when the backward of a formula must itself be recorded (createGraph with a gradient that requires grad).</summary>
    public static bool Recording(Tensor g) => GradMode.IsEnabled && g.RequiresGrad;
}
