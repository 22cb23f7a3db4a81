namespace Ember;

/// <summary>Cumulative sums and products, and the NaN-ignoring and counting reductions, as composites of recorded ops.</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// yᵢ = Σ_{j≤i} xⱼ along dim (torch.cumsum). Integer and Bool inputs accumulate in Int64, Float16 and BFloat16 in
    /// float32. Differentiable: a
    /// Hillis–Steele scan (⌈log₂ n⌉ shifted adds), so the gradient is the reversed cumulative sum and every backend runs it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Cumsum(int dim) => Scan("Cumsum", dim, BinaryOp.Add, 0);

    /// <summary>
    /// yᵢ = Π_{j≤i} xⱼ along dim (torch.cumprod). Integer and Bool inputs accumulate in Int64. Differentiable, including
    /// at zeros (the scan only multiplies, never divides).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Cumprod(int dim) => Scan("Cumprod", dim, BinaryOp.Mul, 1);

    private Tensor Scan(string op, int dim, BinaryOp combine, double identity)
    {
        CheckNotDisposed(op);
        // Integers accumulate in Int64; Float16/BFloat16 in float32 (PyTorch's accumulate type), rounded once at the end.
        if (DType.IsReducedPrecision()) return To(DType.Float32).Scan(op, dim, combine, identity).To(DType);
        var x = IsFloatingPoint ? this : To(DType.Int64);
        if (Dim == 0) { ShapeUtil.NormalizeDim(dim, 1, op); return x * 1.0; }   // a (recorded) copy, as torch returns
        int d = ShapeUtil.NormalizeDim(dim, Dim, op);
        long n = shape[d];
        for (long s = 1; s < n; s *= 2)
        {
            // y ← y ⊕ (y shifted by s along d, identity-filled): after step k each yᵢ combines the 2ᵏ⁺¹ elements ending at i.
            var padShape = (long[])x.shape.Clone(); padShape[d] = s;
            var shifted = Cat([Full(padShape, identity, x.DType, x.Device), x.Narrow(d, 0, n - s)], d);
            x = Apply(combine, x, shifted);
        }
        return x;
    }

    /// <summary>The number of non-zero elements over dims (torch.count_nonzero; all dims when none are given), Int64.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor CountNonzero(params int[] dims) => Ne(0).Sum(dims);

    /// <summary>Sum treating NaN as zero (torch.nansum) over dims (all when empty).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor NanSum(int[]? dims = null, bool keepDim = false) =>
        (IsFloatingPoint ? Where(IsNan(), ScalarTensor(0), this) : this).Sum(dims ?? [], keepDim);

    /// <summary>Mean of the non-NaN elements (torch.nanmean) over dims (all when empty); NaN where every element is NaN.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor NanMean(int[]? dims = null, bool keepDim = false)
    {
        CheckFloat("NanMean");
        var count = IsNan().LogicalNot().To(DType).Sum(dims ?? [], keepDim);
        return NanSum(dims, keepDim) / count;
    }
}
