namespace Ember;

/// <summary>
/// Elementwise one-input operations. Scalar-parameter forms read <c>alpha</c>/<c>beta</c> as documented per value.
/// Each value has one operator struct in the CPU backend and one kernel in the ILGPU backend.
/// </summary>
public enum UnaryOp
{
    /// <summary>-x</summary>
    Neg,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>e^x</summary>
    Exp,
    /// <summary>ln x</summary>
    Log,
    /// <summary>ln(1 + x), accurate near 0</summary>
    Log1p,
    /// <summary>e^x − 1, accurate near 0</summary>
    Expm1,
    /// <summary>√x</summary>
    Sqrt,
    /// <summary>1/√x</summary>
    Rsqrt,
    /// <summary>x²</summary>
    Square,
    /// <summary>sin x</summary>
    Sin,
    /// <summary>cos x</summary>
    Cos,
    /// <summary>tanh x</summary>
    Tanh,
    /// <summary>1 / (1 + e^−x)</summary>
    Sigmoid,
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>x·Φ(x) (exact GELU, with erf)</summary>
    Gelu,
    /// <summary>0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))</summary>
    GeluTanh,
    /// <summary>x·sigmoid(x)</summary>
    Silu,
    /// <summary>(1/β)·ln(1 + e^(βx)), linear above threshold: alpha = β, beta = threshold</summary>
    Softplus,
    /// <summary>erf x</summary>
    Erf,
    /// <summary>⌊x⌋</summary>
    Floor,
    /// <summary>⌈x⌉</summary>
    Ceil,
    /// <summary>round half to even (PyTorch's torch.round)</summary>
    Round,
    /// <summary>sign(x) ∈ {−1, 0, 1}</summary>
    Sign,
    /// <summary>1/x</summary>
    Reciprocal,
    /// <summary>x + alpha</summary>
    AddScalar,
    /// <summary>x · alpha</summary>
    MulScalar,
    /// <summary>alpha − x</summary>
    RSubScalar,
    /// <summary>alpha / x</summary>
    RDivScalar,
    /// <summary>x ^ alpha</summary>
    PowScalar,
    /// <summary>alpha ^ x</summary>
    RPowScalar,
    /// <summary>min(max(x, alpha), beta); NaN bounds mean unbounded on that side</summary>
    Clamp,
    /// <summary>x if x &gt; 0 else alpha·x</summary>
    LeakyRelu,
    /// <summary>x if x &gt; 0 else alpha·(e^x − 1)</summary>
    Elu,
    /// <summary>x is NaN (Bool result)</summary>
    IsNan,
    /// <summary>x is ±∞ (Bool result)</summary>
    IsInf,
    /// <summary>logical not (Bool input and result)</summary>
    LogicalNot,
}

/// <summary>Elementwise two-input operations over operands already broadcast to the result's shape.</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a − b</summary>
    Sub,
    /// <summary>a · b</summary>
    Mul,
    /// <summary>a / b (true division for floats, truncation toward −∞ is NOT used: integer division truncates like C#)</summary>
    Div,
    /// <summary>a ^ b</summary>
    Pow,
    /// <summary>max(a, b), NaN-propagating</summary>
    Maximum,
    /// <summary>min(a, b), NaN-propagating</summary>
    Minimum,
    /// <summary>a mod b with the sign of b (Python's %, torch.remainder)</summary>
    Remainder,
    /// <summary>a == b (Bool result)</summary>
    Eq,
    /// <summary>a != b (Bool result)</summary>
    Ne,
    /// <summary>a &lt; b (Bool result)</summary>
    Lt,
    /// <summary>a &lt;= b (Bool result)</summary>
    Le,
    /// <summary>a &gt; b (Bool result)</summary>
    Gt,
    /// <summary>a &gt;= b (Bool result)</summary>
    Ge,
    /// <summary>a ∧ b (Bool operands and result)</summary>
    LogicalAnd,
    /// <summary>a ∨ b (Bool operands and result)</summary>
    LogicalOr,
    /// <summary>a ⊕ b (Bool operands and result)</summary>
    LogicalXor,
}

/// <summary>Reductions along the last dimension of a 2-D [outer, inner] view.</summary>
public enum ReduceOp
{
    /// <summary>Σ x</summary>
    Sum,
    /// <summary>Π x</summary>
    Prod,
    /// <summary>max x (NaN propagates); indices receive the first position of the maximum</summary>
    Max,
    /// <summary>min x (NaN propagates); indices receive the first position of the minimum</summary>
    Min,
    /// <summary>ln Σ e^x, computed as m + ln Σ e^(x−m) with m = max x for stability</summary>
    LogSumExp,
    /// <summary>all elements non-zero (Bool result)</summary>
    All,
    /// <summary>any element non-zero (Bool result)</summary>
    Any,
}

/// <summary>Distributions of <see cref="IBackend.Random"/>.</summary>
public enum RandomDistribution
{
    /// <summary>Uniform on [a, b).</summary>
    Uniform,
    /// <summary>Normal with mean a and standard deviation b.</summary>
    Normal,
    /// <summary>1 with probability a, else 0.</summary>
    Bernoulli,
}

/// <summary>Geometry of a 2-D convolution or im2col/col2im (1-D convolutions use H = 1).</summary>
public readonly record struct ConvGeometry(
    int Channels, int Height, int Width, int KernelH, int KernelW,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    /// <summary>Output height: ⌊(H + 2·padH − dilH·(kH − 1) − 1) / strideH⌋ + 1.</summary>
    public int OutH => (Height + 2 * PadH - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    /// <summary>Output width: ⌊(W + 2·padW − dilW·(kW − 1) − 1) / strideW⌋ + 1.</summary>
    public int OutW => (Width + 2 * PadW - DilationW * (KernelW - 1) - 1) / StrideW + 1;
}

/// <summary>Geometry of a 2-D pooling window over [N, C, H, W] inputs.</summary>
public readonly record struct PoolGeometry(
    int Height, int Width, int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW,
    int OutH, int OutW);

/// <summary>Hyper-parameters of one fused SGD step (PyTorch's torch.optim.SGD semantics).</summary>
public readonly record struct SgdStepArgs(
    double Lr, double Momentum, double Dampening, double WeightDecay, bool Nesterov, bool Maximize, bool FirstStep);

/// <summary>Hyper-parameters of one fused Adam/AdamW step (PyTorch semantics; step counts from 1).</summary>
public readonly record struct AdamStepArgs(
    double Lr, double Beta1, double Beta2, double Eps, double WeightDecay, bool DecoupledWeightDecay,
    bool Amsgrad, bool Maximize, long Step);

/// <summary>
/// Options of the fused cross-entropy kernels (PyTorch's F.cross_entropy with class indices): rows whose target equals
/// <paramref name="IgnoreIndex"/> give loss 0 and gradient 0; <paramref name="LabelSmoothing"/> ε mixes the one-hot
/// target with the uniform distribution: loss = (1 − ε)·w[t]·(lse − x[t]) + (ε/C)·Σ_c w[c]·(lse − x[c]).
/// </summary>
public readonly record struct CrossEntropyArgs(long IgnoreIndex, double LabelSmoothing);
