namespace Ember;

/// <summary>The ops <see cref="Autocast"/> knows, one value per entry of <see cref="AutocastPolicies"/>'s table.</summary>
public enum AutocastOp
{
    /// <summary>matmul, mm, bmm (every matrix product goes through it).</summary>
    MatMul,
    /// <summary>addmm: β·input + α·mat1·mat2.</summary>
    Addmm,
    /// <summary>baddbmm: β·input + α·batch1·batch2.</summary>
    Baddbmm,
    /// <summary>linear: x·Wᵀ + b.</summary>
    Linear,
    /// <summary>1-D and 2-D convolutions (conv1d runs as conv2d).</summary>
    Conv,
    /// <summary>Transposed 2-D convolution.</summary>
    ConvTranspose,
    /// <summary>Scaled dot-product attention (and multi-head attention, which is built on it).</summary>
    Attention,
    /// <summary>softmax.</summary>
    Softmax,
    /// <summary>log_softmax.</summary>
    LogSoftmax,
    /// <summary>cross_entropy.</summary>
    CrossEntropy,
    /// <summary>nll_loss.</summary>
    NllLoss,
    /// <summary>mse_loss.</summary>
    MseLoss,
    /// <summary>l1_loss.</summary>
    L1Loss,
    /// <summary>smooth_l1_loss.</summary>
    SmoothL1Loss,
    /// <summary>huber_loss.</summary>
    HuberLoss,
    /// <summary>binary_cross_entropy (on probabilities).</summary>
    BinaryCrossEntropy,
    /// <summary>binary_cross_entropy_with_logits.</summary>
    BinaryCrossEntropyWithLogits,
    /// <summary>kl_div.</summary>
    KLDiv,
    /// <summary>layer_norm.</summary>
    LayerNorm,
    /// <summary>group_norm.</summary>
    GroupNorm,
    /// <summary>batch_norm.</summary>
    BatchNorm,
    /// <summary>exp, expm1.</summary>
    Exp,
    /// <summary>log, log1p.</summary>
    Log,
    /// <summary>pow (tensor ** scalar and tensor ** tensor).</summary>
    Pow,
    /// <summary>reciprocal, rsqrt.</summary>
    Reciprocal,
    /// <summary>softplus.</summary>
    Softplus,
    /// <summary>sum.</summary>
    Sum,
    /// <summary>mean.</summary>
    Mean,
    /// <summary>prod.</summary>
    Prod,
    /// <summary>cumsum.</summary>
    Cumsum,
    /// <summary>logsumexp.</summary>
    LogSumExp,
    /// <summary>Any other elementwise op with several tensor inputs (add, mul, where, maximum, …).</summary>
    Elementwise,
    /// <summary>cat and stack.</summary>
    Cat,
}

/// <summary>What <see cref="Autocast"/> does to an op's floating-point inputs.</summary>
public enum AutocastPolicy
{
    /// <summary>Cast to the scope's low-precision dtype (Float64 inputs are left alone): the op runs on tensor cores.</summary>
    LowerPrecision,
    /// <summary>Cast Float16/BFloat16 inputs to Float32: the op is numerically sensitive.</summary>
    Float32,
    /// <summary>Compute in Float32 and return the first input's dtype (batch norm: float32 statistics and parameters,
    /// the activations stay in their dtype).</summary>
    Float32OutputInputDType,
    /// <summary>Cast float inputs of different dtypes to the widest (PyTorch's type promotion); an op with one float
    /// input runs in its dtype.</summary>
    Promote,
    /// <summary>Refused under autocast (PyTorch's CUDA binary_cross_entropy: use the logits form).</summary>
    Banned,
}

/// <summary>
/// The one table of autocast: for each <see cref="AutocastOp"/> the policy on the CPU (PyTorch 1.13's
/// <c>torch.autocast("cpu", dtype=torch.bfloat16)</c>, checked against it by tests/golden/amp_gen.py) and on GPUs
/// (PyTorch's documented CUDA lists; also used for OpenCL and ILGPU's CPU accelerator). The ops read it at their
/// dispatch points through <see cref="Autocast.Cast(AutocastOp, Tensor?[])"/>.
/// </summary>
/// <remarks>
/// PyTorch's CPU lists are shorter than its CUDA lists: on the CPU, softmax, log-softmax, the norms, exp/log/pow and
/// the reductions are on no list and run in their input's dtype (a bfloat16 input stays bfloat16), while losses,
/// prod and transposed convolutions run in float32. On CUDA, softmax, the norms, exp/log/pow, sum, cumsum, prod and
/// logsumexp run in float32; mean is on no CUDA list. Batch norm keeps its input's dtype on both (its statistics and
/// parameters are float32).
/// </remarks>
public static class AutocastPolicies
{
    /// <summary>The policy of <paramref name="op"/> for tensors on <paramref name="deviceType"/>.</summary>
    public static AutocastPolicy For(AutocastOp op, DeviceType deviceType) =>
        deviceType == DeviceType.Cpu ? Table(op).Cpu : Table(op).Gpu;

    private static (AutocastPolicy Cpu, AutocastPolicy Gpu) Table(AutocastOp op) => op switch
    {
        AutocastOp.MatMul or AutocastOp.Addmm or AutocastOp.Baddbmm or AutocastOp.Linear or AutocastOp.Conv
            or AutocastOp.Attention => (AutocastPolicy.LowerPrecision, AutocastPolicy.LowerPrecision),
        AutocastOp.ConvTranspose => (AutocastPolicy.Float32, AutocastPolicy.LowerPrecision),
        AutocastOp.CrossEntropy or AutocastOp.NllLoss or AutocastOp.MseLoss or AutocastOp.L1Loss or AutocastOp.SmoothL1Loss
            or AutocastOp.HuberLoss or AutocastOp.BinaryCrossEntropyWithLogits or AutocastOp.KLDiv or AutocastOp.Prod
            => (AutocastPolicy.Float32, AutocastPolicy.Float32),
        AutocastOp.BinaryCrossEntropy => (AutocastPolicy.Float32, AutocastPolicy.Banned),
        AutocastOp.Softmax or AutocastOp.LogSoftmax or AutocastOp.LayerNorm or AutocastOp.GroupNorm or AutocastOp.Exp
            or AutocastOp.Log or AutocastOp.Pow or AutocastOp.Reciprocal or AutocastOp.Softplus or AutocastOp.Sum
            or AutocastOp.Cumsum or AutocastOp.LogSumExp => (AutocastPolicy.Promote, AutocastPolicy.Float32),
        AutocastOp.BatchNorm => (AutocastPolicy.Float32OutputInputDType, AutocastPolicy.Float32OutputInputDType),
        AutocastOp.Mean or AutocastOp.Elementwise or AutocastOp.Cat => (AutocastPolicy.Promote, AutocastPolicy.Promote),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "no autocast policy"),
    };

    /// <summary>The autocast op of an elementwise unary op, or null for ops on no list (they run in their input's dtype).</summary>
    public static AutocastOp? Of(UnaryOp op) => op switch
    {
        UnaryOp.Exp or UnaryOp.Expm1 => AutocastOp.Exp,
        UnaryOp.Log or UnaryOp.Log1p => AutocastOp.Log,
        UnaryOp.PowScalar => AutocastOp.Pow,
        UnaryOp.Reciprocal or UnaryOp.Rsqrt => AutocastOp.Reciprocal,
        UnaryOp.Softplus => AutocastOp.Softplus,
        _ => null,
    };

    /// <summary>The autocast op of an elementwise binary op: Pow, or Elementwise for every other op.</summary>
    public static AutocastOp Of(BinaryOp op) => op == BinaryOp.Pow ? AutocastOp.Pow : AutocastOp.Elementwise;

    /// <summary>The message of a <see cref="AutocastPolicy.Banned"/> op (PyTorch's).</summary>
    internal static string BannedMessage(AutocastOp op) => op == AutocastOp.BinaryCrossEntropy
        ? "BinaryCrossEntropy and the BCELoss module are unsafe to autocast on GPUs (float16 probabilities lose the values near 0 and 1). "
          + "Use BinaryCrossEntropyWithLogits (it combines the sigmoid and the loss, and is safe to autocast), or turn autocast off for this op "
          + "with Autocast.Enable(deviceType, enabled: false) and cast its inputs to Float32."
        : $"{op} is not allowed under autocast on this device.";
}
