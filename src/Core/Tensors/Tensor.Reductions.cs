namespace Ember;

public sealed partial class Tensor
{
    // Reductions: Core reduces over `dims` by permuting them last, viewing [outer, inner] and calling
    // IBackend.Reduce, then restoring the kept/removed dims. Recorded as OpKind.Sum/Prod/Amax/Amin/MaxDim/MinDim/LogSumExp.

    /// <summary>Sum of all elements (0-dim result).</summary>
    public Tensor Sum() => throw new NotImplementedException();
    /// <summary>Sum over <paramref name="dims"/> (negative dims count from the end).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Sum(int[] dims, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Sum over one dim.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);
    /// <summary>Mean of all elements (floating-point only).</summary>
    public Tensor Mean() => throw new NotImplementedException();
    /// <summary>Mean over dims.</summary>
    public Tensor Mean(int[] dims, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Mean over one dim.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);
    /// <summary>Product of all elements.</summary>
    public Tensor Prod() => throw new NotImplementedException();
    /// <summary>Product over one dim.</summary>
    public Tensor Prod(int dim, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Maximum of all elements (0-dim; NaN propagates; gradient shared among ties).</summary>
    public Tensor Max() => throw new NotImplementedException();
    /// <summary>Maximum along dim with the index of its first occurrence (torch.max(dim)).</summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Minimum of all elements.</summary>
    public Tensor Min() => throw new NotImplementedException();
    /// <summary>Minimum along dim with indices.</summary>
    public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Maximum over dims without indices (torch.amax).</summary>
    public Tensor Amax(int[] dims, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Minimum over dims without indices (torch.amin).</summary>
    public Tensor Amin(int[] dims, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Flat index of the maximum (Int64, 0-dim).</summary>
    public Tensor ArgMax() => throw new NotImplementedException();
    /// <summary>Index of the maximum along dim (Int64).</summary>
    public Tensor ArgMax(int dim, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Flat index of the minimum.</summary>
    public Tensor ArgMin() => throw new NotImplementedException();
    /// <summary>Index of the minimum along dim.</summary>
    public Tensor ArgMin(int dim, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Variance Σ(x − mean)² / (N − correction) over all elements.</summary>
    public Tensor Var(double correction = 1) => throw new NotImplementedException();
    /// <summary>Variance over dims.</summary>
    public Tensor Var(int[] dims, double correction = 1, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>Standard deviation √Var over all elements.</summary>
    public Tensor Std(double correction = 1) => throw new NotImplementedException();
    /// <summary>Standard deviation over dims.</summary>
    public Tensor Std(int[] dims, double correction = 1, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>ln Σ eˣ over dims, stable.</summary>
    public Tensor LogSumExp(int[] dims, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>ln Σ eˣ over one dim.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExp([dim], keepDim);
    /// <summary>p-norm (Σ|x|ᵖ)^(1/p) of all elements; p = ∞ gives max |x|.</summary>
    public Tensor Norm(double p = 2) => throw new NotImplementedException();
    /// <summary>p-norm over dims.</summary>
    public Tensor Norm(double p, int[] dims, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>True when every element is non-zero (Bool, 0-dim).</summary>
    public Tensor All() => throw new NotImplementedException();
    /// <summary>All along dim.</summary>
    public Tensor All(int dim, bool keepDim = false) => throw new NotImplementedException();
    /// <summary>True when any element is non-zero.</summary>
    public Tensor Any() => throw new NotImplementedException();
    /// <summary>Any along dim.</summary>
    public Tensor Any(int dim, bool keepDim = false) => throw new NotImplementedException();
}
