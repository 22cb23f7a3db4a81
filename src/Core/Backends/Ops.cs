namespace Ember;

/// <summary>
/// The reductions: what <see cref="IBackend.Reduce"/> computes along the last dimension of a 2-D [outer, inner] view,
/// and (Sum, Prod, Max, Min, LogSumExp) what autograd records as <see cref="OpKind.Reduce"/>.
/// </summary>
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
/// <paramref name="Scale"/> multiplies every row's loss and gradient (ignored rows stay 0), for a caller that knows a
/// divisor on the host (Functional's mean does not: it divides by the count of <see cref="FusedOps.CheckIndices"/>, which
/// a GPU backend computes on the device, so that no host read waits for the device).
/// </summary>
public readonly record struct CrossEntropyArgs(long IgnoreIndex, double LabelSmoothing, double Scale = 1.0);

/// <summary>
/// What an index check (<see cref="IBackend.CheckIndices"/>) reports for a bad index: the argument's name and the message
/// made from the bad value, which names the op, the value and the valid range (e.g. "CrossEntropy: target 12 is out of
/// bounds for 10 classes …"). Thrown as an <see cref="ArgumentOutOfRangeException"/>.
/// </summary>
/// <param name="ParamName">The argument that held the index (e.g. "target", "index").</param>
/// <param name="Message">The exception's message for a bad value.</param>
public sealed record IndexCheck(string ParamName, Func<long, string> Message)
{
    /// <summary>The exception for <paramref name="value"/>.</summary>
    public ArgumentOutOfRangeException Error(long value) => new(ParamName, Message(value));
}
