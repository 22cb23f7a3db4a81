using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// The fused primitives: each runs one optional <see cref="IBackend"/> kernel (whose composite default every backend has)
/// and records one autograd node whose backward entry is in Ember.Autograd's formula table, with its attributes and saved
/// outputs in typed <see cref="FusedArgs"/>. Ember.NN's Functional builds its layers from these; the same call records
/// the same graph on every device. Arguments are checked by the caller's public API (Functional) for user-facing
/// messages; these methods check what the kernels rely on.
/// </summary>
public static partial class FusedOps
{
    private static void Require(bool ok, string op, string message)
    {
        if (!ok) throw new ArgumentException($"{op}: {message}");
    }

    // The same with an interpolated message, formatted only when the check fails (FailureMessage).
    private static void Require(bool ok, string op, [InterpolatedStringHandlerArgument("ok")] ref FailureMessage message)
    {
        if (!ok) throw new ArgumentException($"{op}: {message.ToStringAndClear()}");
    }

    // Up to three more tensors as fixed parameters, not a params array: this runs on every call of the op.
    private static void RequireFloatLike(string op, Tensor x, Tensor? a = null, Tensor? b = null, Tensor? c = null)
    {
        Require(x.IsFloatingPoint, op, $"expected a floating-point input (Float32, Float64, Float16, BFloat16), got {x.DType} {x.Shape}.");
        RequireLike(op, x, a);
        RequireLike(op, x, b);
        RequireLike(op, x, c);
    }

    private static void RequireLike(string op, Tensor x, Tensor? t)
    {
        if (t is not null)
            Require(t.DType == x.DType && t.Device == x.Device, op,
                $"expected every tensor as {x.DType} on {x.Device} like the input, got {t.DType} {t.Shape} on {t.Device}.");
    }

    // Whether the op must be recorded, decided on entry: the kernel call then runs with recording off (its reshapes and
    // copies of inputs are not graph nodes) and the op is recorded once, as one node, by Record.
    private static bool Recording(Tensor[] inputs, out RecordingOff scope)
    {
        bool record = AutogradHook.ShouldRecord(inputs);
        scope = RecordingOff.Enter();
        return record;
    }

    private static void Record(bool record, OpKind kind, Tensor result, FusedArgs fused, Tensor[] inputs, long[]? inputShape = null)
    {
        if (record) AutogradHook.Recorder!.Record(kind, result, new OpArgs { Fused = fused, InputShape = inputShape ?? [] }, inputs);
        // Nothing will read what the kernel saved for a backward pass (inference, or inputs that need no gradient): its
        // memory goes back to the backend now instead of at the next collection (attention's probabilities are [*, L, S]).
        else fused.ReleaseSaved(disposeScratch: true);
    }

    /// <summary>y = x·Wᵀ + b: x [*, in], weight [out, in], bias [out] → [*, out] (<see cref="IBackend.Linear"/>: the bias written first and the product accumulated onto it, or the bias added in the GEMM's epilogue).</summary>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices do not match.</exception>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor bias)
    {
        if (Autocast.Cast(AutocastOp.Linear, x, weight, bias) is { } cast) return Linear(cast[0]!, cast[1]!, cast[2]!);
        RequireFloatLike("Linear", x, weight, bias);
        Require(weight.Dim == 2 && x.Dim >= 1 && x.Shape[-1] == weight.Shape[1] && bias.Dim == 1 && bias.Shape[0] == weight.Shape[0],
            "Linear", $"expected x [*, in], weight [out, in], bias [out], got {x.Shape}, {weight.Shape}, {bias.Shape}.");
        Tensor[] inputs = [x, weight, bias];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        long i = weight.Shape[1], o = weight.Shape[0];
        var x2 = x.Reshape(-1, i);
        long m = x2.Shape[0];
        var y = Tensor.Alloc([m, o], x.DType, x.Device);
        x.Backend.Linear(x2, weight, bias.Contiguous(), y);
        var result = y.Reshape([.. x.Shape.ToArray()[..^1], o]);
        Record(record, OpKind.Linear, result, new FusedArgs(), inputs);
        return result;
    }

    /// <summary>2-D convolution (cross-correlation): x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] → [N, O, outH, outW].</summary>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices do not match the geometry.</exception>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry geometry, int groups)
    {
        if (Autocast.Cast(AutocastOp.Conv, x, weight, bias) is { } cast) return Conv2d(cast[0]!, cast[1]!, cast[2], geometry, groups);
        RequireFloatLike("Conv2d", x, weight, bias);
        Require(x.Dim == 4 && x.Shape[1] == geometry.Channels && weight.Dim == 4 && weight.Shape[1] * groups == geometry.Channels,
            "Conv2d", $"input {x.Shape} and weight {weight.Shape} do not match {geometry} with groups={groups}.");
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        var xc = x.Contiguous();
        var y = Tensor.Alloc([x.Shape[0], weight.Shape[0], geometry.OutH, geometry.OutW], x.DType, x.Device);
        x.Backend.Conv2d(xc, weight, bias?.Contiguous(), geometry, groups, y);
        Record(record, OpKind.Conv2d, y, new FusedArgs { Conv = geometry, Groups = groups, HasBias = bias is not null }, inputs);
        return y;
    }

    /// <summary>
    /// The gradient of <see cref="Conv2d"/> with respect to its input, as a differentiable op (it is also the transposed
    /// convolution): grad [N, O, outH, outW], weight [O, C/groups, kH, kW] → [N, C, H, W] of <paramref name="geometry"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices do not match the geometry.</exception>
    public static Tensor Conv2dInputGrad(Tensor grad, Tensor weight, ConvGeometry geometry, int groups)
    {
        RequireFloatLike("Conv2dInputGrad", grad, weight);
        Require(grad.Dim == 4 && weight.Dim == 4 && grad.Shape[1] == weight.Shape[0] && grad.Shape[2] == geometry.OutH && grad.Shape[3] == geometry.OutW
            && weight.Shape[1] * groups == geometry.Channels, "Conv2dInputGrad", $"grad {grad.Shape} and weight {weight.Shape} do not match {geometry} with groups={groups}.");
        Tensor[] inputs = [grad, weight];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        var gx = Tensor.Alloc([grad.Shape[0], geometry.Channels, geometry.Height, geometry.Width], grad.DType, grad.Device);
        grad.Backend.Conv2dInputGrad(grad, weight, geometry, groups, gx);
        Record(record, OpKind.Conv2dInputGrad, gx, new FusedArgs { Conv = geometry, Groups = groups }, inputs);
        return gx;
    }

    /// <summary>
    /// The gradient of <see cref="Conv2d"/> with respect to its weight, as a differentiable op: grad [N, O, outH, outW],
    /// x [N, C, H, W] → [O, C/groups, kH, kW].
    /// </summary>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices do not match the geometry.</exception>
    public static Tensor Conv2dWeightGrad(Tensor grad, Tensor x, ConvGeometry geometry, int groups)
    {
        RequireFloatLike("Conv2dWeightGrad", grad, x);
        Require(grad.Dim == 4 && x.Dim == 4 && x.Shape[0] == grad.Shape[0] && x.Shape[1] == geometry.Channels && grad.Shape[1] % groups == 0,
            "Conv2dWeightGrad", $"grad {grad.Shape} and input {x.Shape} do not match {geometry} with groups={groups}.");
        Tensor[] inputs = [grad, x];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        var gw = Tensor.Alloc([grad.Shape[1], geometry.Channels / groups, geometry.KernelH, geometry.KernelW], grad.DType, grad.Device);
        grad.Backend.Conv2dWeightGrad(grad, x.Contiguous(), geometry, groups, gw, null);
        Record(record, OpKind.Conv2dWeightGrad, gw, new FusedArgs { Conv = geometry, Groups = groups }, inputs);
        return gw;
    }

    /// <summary>Max pooling of x [N, C, H, W] → [N, C, outH, outW] over the windows of <paramref name="geometry"/> (padding is −∞).</summary>
    /// <exception cref="ArgumentException">x is not a 4-D float tensor of the geometry's size.</exception>
    public static Tensor MaxPool2d(Tensor x, PoolGeometry geometry)
    {
        RequireFloatLike("MaxPool2d", x);
        Require(x.Dim == 4 && x.Shape[2] == geometry.Height && x.Shape[3] == geometry.Width, "MaxPool2d", $"input {x.Shape} does not match {geometry}.");
        Tensor[] inputs = [x];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        var xc = x.Contiguous();
        long[] shape = [x.Shape[0], x.Shape[1], geometry.OutH, geometry.OutW];
        var y = Tensor.Alloc(shape, x.DType, x.Device);
        // Int64 argmax bookkeeping only where the backend's backward reads it (the CPU's 2×2 kernel recomputes the argmax).
        var indices = x.Backend.MaxPool2dUsesIndices(xc, geometry) ? Tensor.Alloc(shape, DType.Int64, x.Device) : null;
        x.Backend.MaxPool2d(xc, geometry, y, indices);
        Record(record, OpKind.MaxPool2d, y, new FusedArgs { Pool = geometry, Indices = indices, Scratch = [indices] }, inputs);
        return y;
    }

    /// <summary>Average pooling of x [N, C, H, W] → [N, C, outH, outW]; the divisor counts padding when <paramref name="countIncludePad"/>.</summary>
    /// <exception cref="ArgumentException">x is not a 4-D float tensor of the geometry's size.</exception>
    public static Tensor AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad)
    {
        RequireFloatLike("AvgPool2d", x);
        Require(x.Dim == 4 && x.Shape[2] == geometry.Height && x.Shape[3] == geometry.Width, "AvgPool2d", $"input {x.Shape} does not match {geometry}.");
        Tensor[] inputs = [x];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        var y = Tensor.Alloc([x.Shape[0], x.Shape[1], geometry.OutH, geometry.OutW], x.DType, x.Device);
        x.Backend.AvgPool2d(x.Contiguous(), geometry, countIncludePad, y);
        Record(record, OpKind.AvgPool2d, y, new FusedArgs { Pool = geometry, CountIncludePad = countIncludePad }, inputs, x.Shape.ToArray());
        return y;
    }

    /// <summary>
    /// Layer norm over the trailing <paramref name="normalizedSize"/> elements of x: y = (x − μ)·rstd·w + b, rstd = 1/√(σ² + ε)
    /// with the biased variance; weight/bias hold normalizedSize elements (any shape) or are null.
    /// </summary>
    /// <exception cref="ArgumentException">x's element count is not a multiple of normalizedSize, or weight/bias sizes differ.</exception>
    public static Tensor LayerNorm(Tensor x, long normalizedSize, Tensor? weight, Tensor? bias, double eps)
    {
        if (Autocast.Cast(AutocastOp.LayerNorm, x, weight, bias) is { } cast) return LayerNorm(cast[0]!, normalizedSize, cast[1], cast[2], eps);
        RequireFloatLike("LayerNorm", x, weight, bias);
        Require(normalizedSize > 0 && x.Numel % normalizedSize == 0 && (weight is null || weight.Numel == normalizedSize)
            && (bias is null || bias.Numel == normalizedSize), "LayerNorm", $"input {x.Shape} cannot be normalized over {normalizedSize} trailing elements with weight {weight?.Shape} and bias {bias?.Shape}.");
        Tensor[] inputs = Inputs(x, weight, bias);
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        long rows = x.Numel / normalizedSize;
        var y = Tensor.Alloc([rows, normalizedSize], x.DType, x.Device);
        var mean = Tensor.Alloc([rows], x.DType, x.Device);
        var rstd = Tensor.Alloc([rows], x.DType, x.Device);
        x.Backend.LayerNorm(x.Contiguous().Reshape(rows, normalizedSize), weight?.Contiguous().Reshape(normalizedSize),
            bias?.Contiguous().Reshape(normalizedSize), eps, y, mean, rstd);
        var result = y.Reshape(x.Shape.ToArray());
        Record(record, OpKind.LayerNorm, result, new FusedArgs { Eps = eps, Mean = mean, Rstd = rstd, HasWeight = weight is not null, HasBias = bias is not null, Scratch = [mean, rstd] },
            inputs);
        return result;
    }

    /// <summary>
    /// Batch norm with the batch's statistics over every dim but 1 of x [N, C, *]: y = (x − μ)/√(σ² + ε)·w + b with the biased
    /// variance σ². Returns y and the per-channel Float64 mean and biased variance [C] (for running statistics). weight and
    /// bias are of x's dtype, or Float32 beside a Float16/BFloat16 x (PyTorch's mixed batch norm, autocast's: computed in
    /// float32, y in x's dtype, the parameters' gradients in Float32).
    /// </summary>
    /// <exception cref="ArgumentException">x has fewer than 2 dims, or weight/bias are not [C] or of another dtype.</exception>
    public static (Tensor Output, Tensor Mean, Tensor Variance) BatchNorm(Tensor x, Tensor? weight, Tensor? bias, double eps)
    {
        if (!IsMixedNorm(x, weight, bias)) RequireFloatLike("BatchNorm", x, weight, bias);
        Require(x.Dim >= 2, "BatchNorm", $"expected at least 2 dims [N, C, *], got {x.Shape}.");
        long c = x.Shape[1];
        Require((weight is null || weight.Numel == c) && (bias is null || bias.Numel == c), "BatchNorm", $"weight and bias must have {c} elements, got {weight?.Shape} and {bias?.Shape}.");
        Tensor[] inputs = Inputs(x, weight, bias);
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        var y = Tensor.Alloc(x.Shape.ToArray(), x.DType, x.Device);
        var mean = Tensor.Alloc([c], DType.Float64, x.Device);
        var variance = Tensor.Alloc([c], DType.Float64, x.Device);
        var rstd = Tensor.Alloc([c], DType.Float64, x.Device);
        x.Backend.BatchNorm(x.Contiguous(), weight?.Contiguous().Reshape(c), bias?.Contiguous().Reshape(c), eps, y, mean, variance, rstd);
        Record(record, OpKind.BatchNorm, y, new FusedArgs { Eps = eps, Mean = mean, Rstd = rstd, HasWeight = weight is not null, HasBias = bias is not null, Scratch = [rstd] },
            inputs);
        return (y, mean, variance);
    }

    /// <summary>
    /// Updates batch norm's running statistics in place from a training batch's statistics (one launch where the backend
    /// fuses it): numBatchesTracked += 1 when given; f = momentum, or with momentum null 1/numBatchesTracked (after the
    /// increment, read on the device; 0 without a counter); runningMean = (1 − f)·runningMean + f·mean and
    /// runningVar = (1 − f)·runningVar + f·variance·count/(count − 1). mean and the biased variance [C] are the batch's
    /// statistics over count values per channel (as <see cref="BatchNorm"/> returns them); they move to the running
    /// statistics' device. Never recorded: the running statistics are buffers, not part of any graph.
    /// </summary>
    /// <exception cref="ArgumentException">The statistics are not floating point with C elements each, or the counter is
    /// not an Int64 scalar on the running statistics' device.</exception>
    public static void BatchNormUpdateStats(Tensor mean, Tensor variance, long count, double? momentum, Tensor runningMean,
        Tensor runningVar, Tensor? numBatchesTracked)
    {
        long c = runningMean.Numel;
        Require(mean.IsFloatingPoint && variance.IsFloatingPoint && runningMean.IsFloatingPoint && runningVar.IsFloatingPoint
            && mean.Numel == c && variance.Numel == c && runningVar.Numel == c && runningVar.Device == runningMean.Device,
            "BatchNormUpdateStats", $"expected floating-point statistics of {c} elements on one device, got mean {mean.DType} {mean.Shape}, variance {variance.DType} {variance.Shape}, running_var {runningVar.DType} {runningVar.Shape} on {runningVar.Device}.");
        Require(numBatchesTracked is null || numBatchesTracked.DType == DType.Int64 && numBatchesTracked.Numel == 1 && numBatchesTracked.Device == runningMean.Device,
            "BatchNormUpdateStats", $"num_batches_tracked must be an Int64 scalar on {runningMean.Device}, got {numBatchesTracked?.DType} {numBatchesTracked?.Shape} on {numBatchesTracked?.Device}.");
        using var _ = RecordingOff.Enter();
        runningMean.BeginInPlace("BatchNormUpdateStats");
        runningVar.BeginInPlace("BatchNormUpdateStats");
        numBatchesTracked?.BeginInPlace("BatchNormUpdateStats");
        var device = runningMean.Device;
        runningMean.Backend.BatchNormUpdateStats(mean.To(device).Reshape(c), variance.To(device).Reshape(c), count, momentum,
            runningMean, runningVar, numBatchesTracked);
    }

    // A Float16/BFloat16 x beside Float32 weight and/or bias on its device: the mixed batch norm.
    private static bool IsMixedNorm(Tensor x, Tensor? weight, Tensor? bias) =>
        x.DType.IsReducedPrecision() && (weight is not null || bias is not null)
        && (weight is null || weight.DType == DType.Float32 && weight.Device == x.Device)
        && (bias is null || bias.DType == DType.Float32 && bias.Device == x.Device);

    private static Tensor[] Inputs(Tensor x, Tensor? weight, Tensor? bias) =>
        weight is null ? (bias is null ? [x] : [x, bias]) : (bias is null ? [x, weight] : [x, weight, bias]);

    /// <summary>
    /// Per-row cross-entropy of logits x [rows, C] at Int64 class indices target [rows] (each in [0, C) or the ignore index;
    /// the caller checks), with optional class weights [C] and label smoothing: see <see cref="IBackend.CrossEntropy"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices do not match.</exception>
    public static Tensor CrossEntropy(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args)
    {
        if (Autocast.Cast(AutocastOp.CrossEntropy, x, weight) is { } cast) return CrossEntropy(cast[0]!, target, cast[1], args);
        RequireFloatLike("CrossEntropy", x, weight);
        Require(x.Dim == 2 && target.Dim == 1 && target.Shape[0] == x.Shape[0] && target.DType == DType.Int64 && target.Device == x.Device
            && (weight is null || weight.Dim == 1 && weight.Shape[0] == x.Shape[1]), "CrossEntropy",
            $"expected x [rows, C], Int64 target [rows] and weight [C] on one device, got {x.Shape}, {target.DType} {target.Shape}, {weight?.Shape}.");
        Tensor[] inputs = [x];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        var xc = x.Contiguous();
        var tc = target.Contiguous();
        var wc = weight?.Contiguous();
        long rows = x.Shape[0];
        var loss = Tensor.Alloc([rows], x.DType, x.Device);
        var lse = Tensor.Alloc([rows], x.DType, x.Device);
        x.Backend.CrossEntropy(xc, tc, wc, args, loss, lse);
        Record(record, OpKind.CrossEntropy, loss, new FusedArgs { CrossEntropy = args, Target = tc, ClassWeight = wc, LogSumExp = lse, Scratch = [lse] }, inputs);
        return loss;
    }

    /// <summary>
    /// True when <see cref="Attention"/> takes q [*, L, D], k [*, S, D], v [*, S, Dv]: float tensors of one dtype and device,
    /// at least 3 dims, the same leading dims, k and v with the same S, nothing empty.
    /// </summary>
    public static bool AttentionApplies(Tensor q, Tensor k, Tensor v)
    {
        if (!q.IsFloatingPoint) return false;
        if (k.DType != q.DType || v.DType != q.DType || k.Device != q.Device || v.Device != q.Device) return false;
        if (q.Dim < 3 || k.Dim != q.Dim || v.Dim != q.Dim) return false;
        var lq = q.Shape.ToArray()[..^2];
        if (!lq.AsSpan().SequenceEqual(k.Shape.ToArray()[..^2]) || !lq.AsSpan().SequenceEqual(v.Shape.ToArray()[..^2])) return false;
        return k.Shape[-2] == v.Shape[-2] && q.Shape[-1] == k.Shape[-1] && q.Shape[-2] > 0 && k.Shape[-2] > 0 && q.Numel > 0;
    }

    /// <summary>
    /// A dense tensor of <paramref name="shape"/> whose dims but the last are laid out in the order of q's strides (the
    /// last innermost), as PyTorch's fused attention does: heads permuted out of [B, L, H, D] give an output whose
    /// transpose(1, 2) is contiguous, so merging the heads back is a view instead of a copy.
    /// </summary>
    private static Tensor AllocLike(Tensor q, long[] shape)
    {
        int n = shape.Length;
        var qs = q.StridesSpan.ToArray();
        // Outermost first: descending stride; ties (size-1 dims) keep their order, so a contiguous q gives the identity.
        int[] order = [.. Enumerable.Range(0, n - 1).OrderByDescending(d => qs[d]), n - 1];
        bool identity = true;
        for (int i = 0; i < n; i++) identity &= order[i] == i;
        if (identity) return Tensor.Alloc(shape, q.DType, q.Device);
        var inverse = new int[n];
        for (int i = 0; i < n; i++) inverse[order[i]] = i;
        return Tensor.Alloc(order.Select(d => shape[d]).ToArray(), q.DType, q.Device).Permute(inverse);
    }

    /// <summary>
    /// Scaled dot-product attention softmax(q·kᵀ·scale (+ causal −∞ mask))·v over q [*, L, D], k [*, S, D], v [*, S, Dv]
    /// → [*, L, Dv] (see <see cref="IBackend.Attention"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not satisfy <see cref="AttentionApplies"/>.</exception>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, double scale, bool causal)
    {
        if (Autocast.Cast(AutocastOp.Attention, q, k, v) is { } cast) return Attention(cast[0]!, cast[1]!, cast[2]!, scale, causal);
        Require(AttentionApplies(q, k, v), "Attention", $"expected float q [*, L, D], k [*, S, D], v [*, S, Dv] with equal leading dims on one device, got {q.Shape}, {k.Shape}, {v.Shape}.");
        Tensor[] inputs = [q, k, v];
        bool record = Recording(inputs, out var scope);
        using var _ = scope;
        long l = q.Shape[-2], s = k.Shape[-2], dv = v.Shape[-1];
        var lead = q.Shape.ToArray()[..^2];
        var p = Tensor.Alloc([.. lead, l, s], q.DType, q.Device);
        var o = AllocLike(q, [.. lead, l, dv]);
        q.Backend.Attention(q, k, v, scale, causal, p, o);
        Record(record, OpKind.Attention, o, new FusedArgs { Scale = scale, Causal = causal, Probabilities = p, Scratch = [p] }, inputs);
        return o;
    }
}
