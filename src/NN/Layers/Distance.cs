namespace Ember.NN;

/// <summary>Cosine similarity of two inputs along a dim (PyTorch's nn.CosineSimilarity); see <see cref="Functional.CosineSimilarity"/>.</summary>
/// <param name="dim">The dim reduced.</param>
/// <param name="eps">Floor of the product of the norms.</param>
public sealed class CosineSimilarity(int dim = 1, double eps = 1e-8) : Module<(Tensor X1, Tensor X2), Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward((Tensor X1, Tensor X2) input) => Functional.CosineSimilarity(input.X1, input.X2, dim, eps);
}

/// <summary>p-norm distance between rows of two inputs (PyTorch's nn.PairwiseDistance); see <see cref="Functional.PairwiseDistance"/>.</summary>
/// <param name="p">The norm degree.</param>
/// <param name="eps">Added to the difference.</param>
/// <param name="keepDim">Keep the last dim as 1.</param>
public sealed class PairwiseDistance(double p = 2.0, double eps = 1e-6, bool keepDim = false) : Module<(Tensor X1, Tensor X2), Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward((Tensor X1, Tensor X2) input) => Functional.PairwiseDistance(input.X1, input.X2, p, eps, keepDim);
}
