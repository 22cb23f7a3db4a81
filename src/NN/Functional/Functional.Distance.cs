namespace Ember.NN;

public static partial class Functional
{
    /// <summary>
    /// Cosine similarity along <paramref name="dim"/> (torch.nn.functional.cosine_similarity):
    /// x1·x2 / max(‖x1‖₂·‖x2‖₂, ε). x1 and x2 broadcast; the result drops <paramref name="dim"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or dim is out of range.</exception>
    public static Tensor CosineSimilarity(Tensor x1, Tensor x2, int dim = 1, double eps = 1e-8)
    {
        var shape = BroadcastShapes("CosineSimilarity", x1, x2);
        int d = NormalizeDim("CosineSimilarity", dim, shape.Length);
        var a = x1.Expand(shape); var b = x2.Expand(shape);
        var dot = (a * b).Sum(d);
        // Clamp the product of the norms (not each norm): the 1.13 formula, so zero vectors give 0 instead of NaN.
        var norms = (a.Square().Sum(d) * b.Square().Sum(d)).Sqrt().Clamp(min: eps);
        return dot / norms;
    }

    /// <summary>
    /// Lp-normalizes along <paramref name="dim"/> (torch.nn.functional.normalize): x / max(‖x‖_p, ε).
    /// </summary>
    /// <exception cref="ArgumentException">dim is out of range.</exception>
    public static Tensor Normalize(Tensor x, double p = 2.0, int dim = 1, double eps = 1e-12)
    {
        int d = NormalizeDim("Normalize", dim, x.Dim);
        return x / x.Norm(p, [d], keepDim: true).Clamp(min: eps).Expand(x.Shape.ToArray());
    }

    /// <summary>
    /// p-norm distance between the rows of x1 and x2 (torch.nn.functional.pairwise_distance): ‖x1 − x2 + ε‖_p over the
    /// last dim (ε keeps the gradient finite when the rows are equal). x1 and x2 broadcast; keepDim keeps the last dim as 1.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p = 2.0, double eps = 1e-6, bool keepDim = false)
    {
        var shape = BroadcastShapes("PairwiseDistance", x1, x2);
        var diff = x1.Expand(shape) - x2.Expand(shape) + eps;
        return diff.Norm(p, [Math.Max(shape.Length - 1, 0)], keepDim);
    }

    private static long[] BroadcastShapes(string op, Tensor a, Tensor b) => ShapeUtil.Broadcast(op, a.Shape.ToArray(), b.Shape.ToArray());

    private static int NormalizeDim(string op, int dim, int rank) => ShapeUtil.NormalizeDim(dim, rank, op);
}
