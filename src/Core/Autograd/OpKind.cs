namespace Ember;

/// <summary>
/// The closed set of differentiable primitives Core records for autograd. Every other op is a
/// composite of these and gets its gradient for free. Ember.Autograd holds one backward entry per value.
/// </summary>
public enum OpKind
{
    /// <summary>Elementwise <see cref="UnaryOp"/> (args: Unary, Alpha, Beta).</summary>
    Unary,
    /// <summary>Elementwise <see cref="BinaryOp"/> with broadcasting (args: Binary). Inputs are the un-broadcast operands.</summary>
    Binary,
    /// <summary>where(cond, a, b); inputs (a, b), args.Index = cond.</summary>
    Where,
    /// <summary>
    /// A reduction: args.Reduce (a <see cref="ReduceOp"/>: Sum, Prod, Max, Min or LogSumExp) over args.Dims, keepDim in
    /// args.KeepDim, args.InputShape. Max/Min with args.Index (indices along args.Dim, torch.max(dim)) send the
    /// gradient to the index; without it (torch.amax/amin) ties share it equally.
    /// </summary>
    Reduce,
    /// <summary>Batched matrix product [B,M,K]·[B,K,N].</summary>
    Bmm,
    /// <summary>A view with another shape; args.InputShape.</summary>
    Reshape,
    /// <summary>Permuted dims; args.Perm.</summary>
    Permute,
    /// <summary>Broadcast view; args.InputShape.</summary>
    Expand,
    /// <summary>A strided slice along args.Dim: start args.Start, args.Length elements, step args.Step; args.InputShape.</summary>
    Slice,
    /// <summary>A copy with the same values (Contiguous, Clone): identity gradient.</summary>
    Copy,
    /// <summary>A dtype conversion; args.DType is the input's dtype.</summary>
    ToDType,
    /// <summary>A device transfer; args.Device is the input's device.</summary>
    ToDevice,
    /// <summary>Concatenation along args.Dim; args.Sizes are the inputs' sizes along it.</summary>
    Cat,
    /// <summary>torch.gather along args.Dim with args.Index; args.InputShape.</summary>
    Gather,
    /// <summary>torch.scatter along args.Dim with args.Index; inputs (self, src).</summary>
    Scatter,
    /// <summary>torch.scatter_add along args.Dim with args.Index; inputs (self, src).</summary>
    ScatterAdd,
    /// <summary>torch.index_select along args.Dim with args.Index; args.InputShape.</summary>
    IndexSelect,
    /// <summary>torch.index_add along args.Dim with args.Index, alpha args.Alpha; inputs (self, source).</summary>
    IndexAdd,
    /// <summary>tril (args.KeepDim = false) / triu (true) with diagonal args.Start.</summary>
    Triangular,
    /// <summary>Softmax along args.Dim.</summary>
    Softmax,
    /// <summary>Log-softmax along args.Dim.</summary>
    LogSoftmax,
    // Fused primitives (IBackend's optional kernels, entry points in FusedOps); their attributes are in args.Fused.
    /// <summary>y = x·Wᵀ + b over inputs (x, weight, bias).</summary>
    Linear,
    /// <summary>2-D convolution over inputs (x, weight[, bias]); Fused.Conv, Fused.Groups.</summary>
    Conv2d,
    /// <summary>The input gradient of a convolution (= transposed convolution) over inputs (grad, weight); Fused.Conv, Fused.Groups.</summary>
    Conv2dInputGrad,
    /// <summary>The weight gradient of a convolution over inputs (grad, x); Fused.Conv, Fused.Groups.</summary>
    Conv2dWeightGrad,
    /// <summary>Max pooling of input x; Fused.Pool, Fused.Indices.</summary>
    MaxPool2d,
    /// <summary>Average pooling of input x; Fused.Pool, Fused.CountIncludePad.</summary>
    AvgPool2d,
    /// <summary>Layer norm over inputs (x[, weight][, bias]); Fused.Eps, Fused.Mean, Fused.Rstd, Fused.HasWeight, Fused.HasBias.</summary>
    LayerNorm,
    /// <summary>Batch norm with batch statistics over inputs (x[, weight][, bias]); Fused.Eps, Fused.Mean, Fused.Rstd, Fused.HasWeight, Fused.HasBias.</summary>
    BatchNorm,
    /// <summary>Per-row cross-entropy of input x at Fused.Target; Fused.ClassWeight, Fused.CrossEntropy, Fused.LogSumExp.</summary>
    CrossEntropy,
    /// <summary>Scaled dot-product attention over inputs (q, k, v); Fused.Scale, Fused.Causal, Fused.Probabilities.</summary>
    Attention,

    // Linear-algebra decompositions (Ember.Autograd's Linalg computes them on the host, with no backend kernel); each
    // node saves what its formula needs: the input and/or the result.
    /// <summary>Matrix inverse of input A [..., n, n]; saves the result.</summary>
    LinalgInv,
    /// <summary>Determinant of input A; saves A and the result.</summary>
    LinalgDet,
    /// <summary>(sign, log|det|) of input A packed as [..., 2]; saves A.</summary>
    LinalgSlogdet,
    /// <summary>X = A⁻¹B over inputs (A, B) of matching batch shape, B a matrix; saves A, B and the result.</summary>
    LinalgSolve,
    /// <summary>Lower Cholesky factor of input A; saves the result.</summary>
    LinalgCholesky,
    /// <summary>Symmetric eigendecomposition of input A packed as [..., n, n + 1] (λ, then V); saves the result.</summary>
    LinalgEigh,
    /// <summary>SVD of input A [..., m, n] packed as [..., m·uc + k + vr·n] (U [m, uc], S, Vh [vr, n]; Args.Sizes = [uc, vr]: k, k reduced or m, n full); saves the result.</summary>
    LinalgSvd,
    /// <summary>QR of input A [..., m, n] packed as [..., m·kq + kq·n] (Q [m, kq] then R [kq, n]; Args.Length = kq; Args.Step = 0 for mode 'r', which has no gradient); saves the result.</summary>
    LinalgQr,
}

/// <summary>The attributes an op records for its backward formula. Only the fields its <see cref="OpKind"/> documents are set.</summary>
public sealed class OpArgs
{
    /// <summary>The elementwise op of Unary.</summary>
    public UnaryOp Unary { get; init; }
    /// <summary>The elementwise op of Binary.</summary>
    public BinaryOp Binary { get; init; }
    /// <summary>The reduction of Reduce.</summary>
    public ReduceOp Reduce { get; init; }
    /// <summary>First scalar parameter.</summary>
    public double Alpha { get; init; }
    /// <summary>Second scalar parameter.</summary>
    public double Beta { get; init; }
    /// <summary>Reduced dims (normalized, ascending).</summary>
    public int[] Dims { get; init; } = [];
    /// <summary>Whether reduced dims were kept.</summary>
    public bool KeepDim { get; init; }
    /// <summary>The dim of dim-wise ops.</summary>
    public int Dim { get; init; }
    /// <summary>Slice start / diagonal.</summary>
    public long Start { get; init; }
    /// <summary>Slice length.</summary>
    public long Length { get; init; }
    /// <summary>Slice step.</summary>
    public long Step { get; init; } = 1;
    /// <summary>Shape of the (first) input.</summary>
    public long[] InputShape { get; init; } = [];
    /// <summary>Strides of the (first) input (Slice: its gradient buffer takes the same layout); empty when not recorded.</summary>
    public long[] InputStrides { get; init; } = [];
    /// <summary>Permutation of Permute.</summary>
    public int[] Perm { get; init; } = [];
    /// <summary>Sizes of Cat's inputs along Dim.</summary>
    public long[] Sizes { get; init; } = [];
    /// <summary>Index or condition tensor (not differentiated).</summary>
    public Tensor? Index { get; init; }
    /// <summary>The input's dtype (ToDType).</summary>
    public DType DType { get; init; }
    /// <summary>The input's device (ToDevice).</summary>
    public Device Device { get; init; }

    /// <summary>The attributes and saved outputs of a fused primitive.</summary>
    public FusedArgs? Fused { get; init; }

    /// <summary>Shared instance for ops without attributes.</summary>
    public static readonly OpArgs None = new();
}
