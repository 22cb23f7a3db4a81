namespace Ember;

public sealed partial class Tensor
{
    /// <summary>β·this + α·(m1·m2) (torch.addmm): this broadcasts to [n, p], m1 [n, k], m2 [k, p]. β = 0 ignores this (NaN in it does not propagate), as PyTorch.</summary>
    /// <exception cref="ArgumentException">m1 or m2 is not 2-D, or the shapes do not match.</exception>
    public Tensor Addmm(Tensor mat1, Tensor mat2, double beta = 1, double alpha = 1)
    {
        if (mat1.Dim != 2 || mat2.Dim != 2) throw new ArgumentException($"Addmm: mat1 and mat2 must be matrices, got {mat1.Shape} and {mat2.Shape}.");
        if (Autocast.Cast(AutocastOp.Addmm, this, mat1, mat2) is { } cast) return cast[0]!.Addmm(cast[1]!, cast[2]!, beta, alpha);
        return AddScaled("Addmm", mat1.MatMul(mat2), beta, alpha);
    }

    /// <summary>β·this + α·(b1 @ b2) per batch (torch.baddbmm): b1 [B, n, k], b2 [B, k, p], this broadcasts to [B, n, p].</summary>
    /// <exception cref="ArgumentException">b1 or b2 is not 3-D, or the shapes do not match.</exception>
    public Tensor Baddbmm(Tensor batch1, Tensor batch2, double beta = 1, double alpha = 1)
    {
        if (batch1.Dim != 3 || batch2.Dim != 3) throw new ArgumentException($"Baddbmm: batch1 and batch2 must be 3D tensors, got {batch1.Shape} and {batch2.Shape}.");
        if (Autocast.Cast(AutocastOp.Baddbmm, this, batch1, batch2) is { } cast) return cast[0]!.Baddbmm(cast[1]!, cast[2]!, beta, alpha);
        return AddScaled("Baddbmm", batch1.Bmm(batch2), beta, alpha);
    }

    /// <summary>β·this + α·Σ_b b1[b] @ b2[b] (torch.addbmm): b1 [B, n, k], b2 [B, k, p], this broadcasts to [n, p].</summary>
    /// <exception cref="ArgumentException">b1 or b2 is not 3-D, or the shapes do not match.</exception>
    public Tensor Addbmm(Tensor batch1, Tensor batch2, double beta = 1, double alpha = 1)
    {
        if (batch1.Dim != 3 || batch2.Dim != 3) throw new ArgumentException($"Addbmm: batch1 and batch2 must be 3D tensors, got {batch1.Shape} and {batch2.Shape}.");
        return AddScaled("Addbmm", batch1.Bmm(batch2).Sum(0), beta, alpha);
    }

    private Tensor AddScaled(string op, Tensor product, double beta, double alpha)
    {
        var p = alpha == 1 ? product : product * alpha;
        if (beta == 0)
        {
            // Still check that this broadcasts, so a wrong shape fails even when it is ignored.
            _ = ShapeUtil.Broadcast(op, shape, product.shape);
            return p;
        }
        return (beta == 1 ? this : this * beta) + p;
    }

    /// <summary>
    /// The diagonal with <paramref name="offset"/> of the matrices in dims (dim1, dim2) (torch.diagonal), moved to the last
    /// dim: [..., n, m] → [..., L]. A copy (an index-select of the flattened matrices), not a view as in PyTorch.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims, or dim1 = dim2.</exception>
    public Tensor Diagonal(long offset = 0, int dim1 = 0, int dim2 = 1)
    {
        if (Dim < 2) throw new ArgumentException($"Diagonal: expected at least 2 dims, got {Shape}.");
        int d1 = ShapeUtil.NormalizeDim(dim1, Dim, "Diagonal"), d2 = ShapeUtil.NormalizeDim(dim2, Dim, "Diagonal");
        if (d1 == d2) throw new ArgumentException($"Diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}");
        var perm = Enumerable.Range(0, Dim).Where(i => i != d1 && i != d2).Concat([d1, d2]).ToArray();
        var t = Permute(perm);
        long n = shape[d1], m = shape[d2];
        long len = Math.Max(0, Math.Min(n + Math.Min(offset, 0), m - Math.Max(offset, 0)));
        var idx = new long[len];
        for (long k = 0; k < len; k++) idx[k] = (k + Math.Max(-offset, 0)) * m + k + Math.Max(offset, 0);
        var batch = t.shape[..^2];
        return t.Reshape([.. batch, n * m]).IndexSelect(batch.Length, FromArray(idx).To(Device));
    }

    /// <summary>
    /// torch.diag: a 1-D input becomes the square matrix with it on diagonal <paramref name="diagonal"/>; a 2-D input
    /// gives that diagonal as a 1-D tensor.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not 1-D or 2-D.</exception>
    public Tensor Diag(long diagonal = 0)
    {
        if (Dim == 2) return Diagonal(diagonal, 0, 1);
        if (Dim != 1) throw new ArgumentException($"Diag: expected a 1D or 2D tensor, got {Shape}.");
        long n = shape[0], size = n + Math.Abs(diagonal);
        var idx = new long[n];
        for (long k = 0; k < n; k++) idx[k] = (k + Math.Max(-diagonal, 0)) * size + k + Math.Max(diagonal, 0);
        return Zeros([size * size], DType, Device).IndexAdd(0, FromArray(idx).To(Device), this).Reshape(size, size);
    }

    /// <summary>The sum of the main diagonal of a matrix (torch.trace).</summary>
    /// <exception cref="ArgumentException">The input is not 2-D.</exception>
    public Tensor Trace()
    {
        if (Dim != 2) throw new ArgumentException($"Trace: expected a matrix, but got tensor with size {Shape}");
        return Diagonal().Sum();
    }
}
