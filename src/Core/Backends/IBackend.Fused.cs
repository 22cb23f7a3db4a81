namespace Ember;

/// <summary>
/// The backend contract has two halves: the required core of IBackend.cs (memory, copies, fill, elementwise, where, reduce,
/// matmul, indexing, random), which every backend implements, and, here, the optional fused kernels. Every member has a default body that runs the composite
/// in <see cref="CompositeKernels"/>, written once with the required members, so a backend that implements only the
/// required core runs every model. A backend implements a member (same signature, public) only to be faster; where its
/// fast kernel covers only some cases it calls the <see cref="CompositeKernels"/> method for the rest.
/// </summary>
/// <remarks>
/// Default interface members rather than a second interface that Core probes with a type test: the contract stays one
/// type, the composite is the documented meaning of each member, and the call site is the same for every backend.
/// Arguments follow the required core's rules: Core validates and allocates, outputs are overwritten unless a member
/// says otherwise, contiguity is as documented per member.
/// </remarks>
public partial interface IBackend
{
    // ---- softmax ------------------------------------------------------------------------------------------

    /// <summary>Softmax (or log-softmax) over the last dim of a contiguous 2-D [rows, cols] x into result.</summary>
    void Softmax(Tensor x, Tensor result, bool log) => CompositeKernels.Softmax(this, x, result, log);

    /// <summary>
    /// Gradient of softmax / log-softmax over the last dim of [rows, cols]:
    /// softmax: gx = y ⊙ (g − Σ g⊙y); log-softmax: gx = g − e^y ⊙ Σ g.
    /// </summary>
    void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log) =>
        CompositeKernels.SoftmaxBackward(this, grad, output, result, log);

    // ---- normalization ------------------------------------------------------------------------------------

    /// <summary>
    /// Layer norm over the last dim of contiguous [rows, cols]: y = (x − μ)·rstd·w + b, rstd = 1/√(var + eps)
    /// (biased variance); writes mean [rows] and rstd [rows] (x's dtype) for the backward pass. weight/bias [cols] may be null.
    /// </summary>
    void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd) =>
        CompositeKernels.LayerNorm(this, x, weight, bias, eps, y, mean, rstd);

    /// <summary>Gradients of <see cref="LayerNorm"/>: gradX [rows, cols]; gradWeight/gradBias [cols] when not null (overwritten).</summary>
    void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight,
        Tensor gradX, Tensor? gradWeight, Tensor? gradBias) =>
        CompositeKernels.LayerNormBackward(this, grad, x, mean, rstd, weight, gradX, gradWeight, gradBias);

    /// <summary>
    /// Batch norm with batch statistics over every dim but 1 of contiguous x [N, C, *]: y = (x − μ_c)·rstd_c·w_c + b_c,
    /// rstd = 1/√(σ² + eps) with the biased variance σ²; writes mean, variance and rstd as Float64 [C] (for the running
    /// statistics and the backward pass). weight/bias [C] may be null; they are of x's dtype, or Float32 beside a
    /// Float16/BFloat16 x and y (mixed: computed in float32, y rounded once).
    /// </summary>
    void BatchNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor variance, Tensor rstd) =>
        CompositeKernels.BatchNorm(this, x, weight, bias, eps, y, mean, variance, rstd);

    /// <summary>
    /// Gradients of <see cref="BatchNorm"/> (m = N·Π spatial): x̂ = (x − μ)·rstd, gradBias = Σ g, gradWeight = Σ g·x̂,
    /// gradX = w·rstd·(g − gradBias/m − x̂·gradWeight/m). grad and x contiguous; each output may be null (not needed).
    /// gradX is of x's dtype, gradWeight/gradBias of the weight's (Float32 in the mixed case of <see cref="BatchNorm"/>).
    /// </summary>
    void BatchNormBackward(Tensor grad, Tensor x, Tensor? weight, Tensor mean, Tensor rstd,
        Tensor? gradX, Tensor? gradWeight, Tensor? gradBias) =>
        CompositeKernels.BatchNormBackward(this, grad, x, weight, mean, rstd, gradX, gradWeight, gradBias);

    /// <summary>
    /// Batch norm's running-statistics update in training, in place (PyTorch's fused update): numBatchesTracked (an Int64
    /// scalar, when not null) += 1; the factor f is <paramref name="momentum"/>, or where it is null the cumulative average's
    /// 1/numBatchesTracked read on the device after the increment (0 without a counter); then
    /// runningMean = (1 − f)·runningMean + f·mean and runningVar = (1 − f)·runningVar + f·variance·count/max(1, count − 1)
    /// (the biased batch variance made unbiased). mean and variance are the batch's statistics [C] (any floating dtype);
    /// runningMean and runningVar [C] are floating point; all are on this backend's one device. The values are those of
    /// the composite: mean and the unbiased variance rounded to the running statistics' dtype, 1 − f and f too, then one
    /// multiply of each term and one add in that dtype.
    /// </summary>
    void BatchNormUpdateStats(Tensor mean, Tensor variance, long count, double? momentum, Tensor runningMean, Tensor runningVar,
        Tensor? numBatchesTracked) =>
        CompositeKernels.BatchNormUpdateStats(this, mean, variance, count, momentum, runningMean, runningVar, numBatchesTracked);

    // ---- losses -------------------------------------------------------------------------------------------

    /// <summary>
    /// Checks that every element of the contiguous Int64 tensor <paramref name="index"/> lies in [0, size), elements equal
    /// to <paramref name="skip"/> (when given) excepted, and counts the elements that are not skipped. The composite
    /// (<see cref="CompositeKernels.CheckIndices"/>) reads the indices on the host, throws <paramref name="check"/>'s
    /// error for the first bad one and returns the count. A device backend may instead queue the check and the count on
    /// the device, so that the host does not wait for the device: it then returns null, writes the count into
    /// <paramref name="count"/> (a 0-dim floating-point tensor on the index's device, when not null) and throws the error
    /// at its next synchronisation (a copy to the host or <see cref="Synchronize"/>), as PyTorch's CUDA kernels report a
    /// device-side assertion at the next synchronising call. Kernels that read a bad index must not read out of bounds.
    /// </summary>
    long? CheckIndices(Tensor index, long size, long? skip, Tensor? count, IndexCheck check) =>
        CompositeKernels.CheckIndices(index, size, skip, check);

    /// <summary>
    /// Fused cross-entropy of contiguous logits x [rows, C] at Int64 class indices target [rows] (all in [0, C) or equal to
    /// the ignore index; the caller checks): lse = log Σ_c e^{x_c} (max-shifted), loss [rows] =
    /// s·((1 − ε)·w[t]·(lse − x[t]) + (ε/C)·Σ_c w[c]·(lse − x[c])) with w ≡ 1 when weight [C] is null and s =
    /// <see cref="CrossEntropyArgs.Scale"/>, 0 for ignored rows;
    /// writes lse [rows] for <see cref="CrossEntropyBackward"/>.
    /// </summary>
    void CrossEntropy(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor logSumExp) =>
        CompositeKernels.CrossEntropy(this, x, target, weight, args, loss, logSumExp);

    /// <summary>
    /// Gradient of <see cref="CrossEntropy"/> with respect to x, given grad [rows] (∂L/∂loss[r], any stride: a sum's
    /// gradient arrives as one element expanded with stride 0): gradX [rows, C] =
    /// s·grad[r]·((1 − ε)·w[t]·(p_j − [j = t]) + (ε/C)·(W·p_j − w[j])), p = e^{x − lse}, W = Σ_c w[c],
    /// s = <see cref="CrossEntropyArgs.Scale"/>; 0 for ignored rows.
    /// </summary>
    void CrossEntropyBackward(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor logSumExp, Tensor gradX) =>
        CompositeKernels.CrossEntropyBackward(this, grad, x, target, weight, args, logSumExp, gradX);

    // ---- convolution --------------------------------------------------------------------------------------

    /// <summary>im2col: contiguous x [N, C, H, W] → columns [N, C·kH·kW, outH·outW] (zero padding).</summary>
    void Im2Col(Tensor x, ConvGeometry geometry, Tensor columns) => CompositeKernels.Im2Col(this, x, geometry, columns);

    /// <summary>col2im: columns [N, C·kH·kW, outH·outW] summed into x [N, C, H, W] (x overwritten).</summary>
    void Col2Im(Tensor columns, ConvGeometry geometry, Tensor x) => CompositeKernels.Col2Im(this, columns, geometry, x);

    /// <summary>
    /// 2-D cross-correlation y [N, O, outH, outW] = bias + Σ weight·x over each window: contiguous x [N, C, H, W],
    /// weight [O, C/groups, kH, kW] (any strides), bias [O] or null; x, weight and bias share x's float dtype.
    /// </summary>
    void Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry geometry, int groups, Tensor y) =>
        CompositeKernels.Conv2d(this, x, weight, bias, geometry, groups, y);

    /// <summary>
    /// Gradient of <see cref="Conv2d"/> with respect to its input (the transposed convolution of grad):
    /// gradInput [N, C, H, W] (overwritten) from grad [N, O, outH, outW] (any strides) and weight [O, C/groups, kH, kW].
    /// </summary>
    void Conv2dInputGrad(Tensor grad, Tensor weight, ConvGeometry geometry, int groups, Tensor gradInput) =>
        CompositeKernels.Conv2dInputGrad(this, grad, weight, geometry, groups, gradInput);

    /// <summary>
    /// Gradient of <see cref="Conv2d"/> with respect to its weight, Σ over samples and positions of grad·window(x):
    /// gradWeight [O, C/groups, kH, kW] (contiguous, overwritten); gradBias [O] = Σ grad over N, outH, outW when not null.
    /// x contiguous [N, C, H, W]; grad [N, O, outH, outW] any strides.
    /// </summary>
    void Conv2dWeightGrad(Tensor grad, Tensor x, ConvGeometry geometry, int groups, Tensor gradWeight, Tensor? gradBias) =>
        CompositeKernels.Conv2dWeightGrad(this, grad, x, geometry, groups, gradWeight, gradBias);

    // ---- pooling ------------------------------------------------------------------------------------------

    /// <summary>
    /// Whether <see cref="MaxPool2d"/> of contiguous x with this geometry needs an indices tensor: false where this backend's
    /// <see cref="MaxPool2dBackward"/> recomputes each window's argmax from x, and then the caller allocates none and
    /// passes null to both members.
    /// </summary>
    bool MaxPool2dUsesIndices(Tensor x, PoolGeometry geometry) => true;

    /// <summary>
    /// Max pooling of contiguous [N, C, H, W] into result [N, C, outH, outW]; padding is −∞. indices (Int64, result's
    /// shape) receive what <see cref="MaxPool2dBackward"/> needs: the flat h·W + w of each maximum (PyTorch's convention).
    /// indices is null exactly when <see cref="MaxPool2dUsesIndices"/> returned false.
    /// </summary>
    /// <exception cref="ArgumentNullException">indices is null where the backend needs it.</exception>
    void MaxPool2d(Tensor x, PoolGeometry geometry, Tensor result, Tensor? indices) =>
        CompositeKernels.MaxPool2d(this, x, geometry, result, indices);

    /// <summary>
    /// gradInput [N, C, H, W] (overwritten) receives grad [N, C, outH, outW] at the maxima of x (the saved indices, null
    /// where <see cref="MaxPool2dUsesIndices"/> returned false).
    /// </summary>
    /// <exception cref="ArgumentNullException">indices is null where the backend needs it.</exception>
    void MaxPool2dBackward(Tensor grad, Tensor x, Tensor? indices, PoolGeometry geometry, Tensor gradInput) =>
        CompositeKernels.MaxPool2dBackward(this, grad, indices, geometry, gradInput);

    /// <summary>Average pooling of contiguous [N, C, H, W]; the divisor counts padding when <paramref name="countIncludePad"/>.</summary>
    void AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad, Tensor result) =>
        CompositeKernels.AvgPool2d(this, x, geometry, countIncludePad, result);

    /// <summary>gradInput [N, C, H, W] (overwritten) of <see cref="AvgPool2d"/>.</summary>
    void AvgPool2dBackward(Tensor grad, PoolGeometry geometry, bool countIncludePad, Tensor gradInput) =>
        CompositeKernels.AvgPool2dBackward(this, grad, geometry, countIncludePad, gradInput);

    // ---- attention ----------------------------------------------------------------------------------------

    /// <summary>
    /// Scaled dot-product attention over q [*, L, D], k [*, S, D], v [*, S, Dv] (same leading dims, any strides):
    /// probabilities [*, L, S] (contiguous, overwritten) = softmax(q·kᵀ·scale, −∞ above the diagonal when causal),
    /// output [*, L, Dv] (any strides, non-overlapping; overwritten) = probabilities·v.
    /// </summary>
    void Attention(Tensor q, Tensor k, Tensor v, double scale, bool causal, Tensor probabilities, Tensor output) =>
        CompositeKernels.Attention(this, q, k, v, scale, causal, probabilities, output);

    /// <summary>
    /// Gradients of <see cref="Attention"/> from grad [*, L, Dv] (any strides) and the contiguous probabilities:
    /// dP = g·vᵀ, dS = P ⊙ (dP − Σ dP ⊙ P)·scale, gradQ = dS·k, gradK = dSᵀ·q, gradV = Pᵀ·g (any strides,
    /// non-overlapping; overwritten). <paramref name="causal"/> is the forward's flag: P is then exactly 0 above the
    /// diagonal (key j &gt; query i, PyTorch's top-left <c>is_causal</c> alignment also when L ≠ S), so a kernel may
    /// skip those entries; the result is the same either way.
    /// </summary>
    void AttentionBackward(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale, bool causal,
        Tensor gradQ, Tensor gradK, Tensor gradV) =>
        CompositeKernels.AttentionBackward(this, grad, q, k, v, probabilities, scale, causal, gradQ, gradK, gradV);

    // ---- mixed dtypes ------------------------------------------------------------------------------------------

    /// <summary>
    /// result = op(a, b) for a Float32 result where one of a and b is Float16/BFloat16 and the other Float32 (PyTorch's type
    /// promotion, read in place: autocast's residual adds); a and b are broadcast views of result's shape. The 16-bit
    /// operand's values are exact in float32, so the result equals <see cref="IBackend.Binary"/> on a widened copy.
    /// </summary>
    void MixedBinary(BinaryOp op, Tensor a, Tensor b, Tensor result) => CompositeKernels.MixedBinary(this, op, a, b, result);

    // ---- small fused reductions -----------------------------------------------------------------------------

    /// <summary>result [n] = Σ_i g[i, j] over the rows of a contiguous float matrix g [m, n] (the bias gradient of Linear).</summary>
    void ColumnSum(Tensor g, Tensor result) => CompositeKernels.ColumnSum(this, g, result);

    // ---- linear -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Linear's forward with bias: y [m, out] = x [m, in] · weightᵀ + bias, with weight [out, in] and bias [out] (any
    /// strides for x and weight, bias contiguous, y contiguous and overwritten). The composite writes the broadcast bias
    /// into y and accumulates the product onto it (two kernels); a backend may add the bias in its GEMM's epilogue
    /// instead (after the sum over K, as cuBLAS does for PyTorch's addmm), equal up to float rounding.
    /// </summary>
    void Linear(Tensor x, Tensor weight, Tensor bias, Tensor y) => CompositeKernels.Linear(this, x, weight, bias, y);

    // ---- sorting -----------------------------------------------------------------------------------------

    /// <summary>
    /// The stable ascending (or descending) permutation of each row of contiguous Float64 <paramref name="keys"/>
    /// [rows, n] into contiguous Int64 <paramref name="indices"/> [rows, n]. NaN sorts after every number ascending and
    /// before every number descending (PyTorch's order); equal keys keep their positions' order.
    /// </summary>
    void Argsort(Tensor keys, Tensor indices, bool descending) => CompositeKernels.Argsort(this, keys, indices, descending);

    // ---- mixed precision ----------------------------------------------------------------------------------

    /// <summary>
    /// GradScaler's fused unscale (PyTorch's <c>_amp_foreach_non_finite_check_and_unscale_</c>): for every element x of
    /// every tensor in <paramref name="grads"/>, foundInf[0] = 1 when x is ±∞ or NaN (checked before scaling), then
    /// x ← x·invScale in x's dtype. grads are contiguous floating-point tensors on this backend's one device;
    /// foundInf is a Float32 [1] tensor on the same device, only ever set to 1 (never cleared), so the result
    /// stays on the device and the caller reads it once per step.
    /// </summary>
    void NonFiniteCheckAndUnscale(IReadOnlyList<Tensor> grads, Tensor foundInf, double invScale) =>
        CompositeKernels.NonFiniteCheckAndUnscale(this, grads, foundInf, invScale);

    // ---- optimizer steps ----------------------------------------------------------------------------------

    /// <summary>One SGD step in place on contiguous param (and momentum buffer), PyTorch's formula.</summary>
    void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args) =>
        CompositeKernels.SgdStep(this, param, grad, momentumBuffer, args);

    /// <summary>One Adam/AdamW step in place on contiguous param, exp_avg, exp_avg_sq (and max_exp_avg_sq for amsgrad), PyTorch's formula.</summary>
    void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamStepArgs args) =>
        CompositeKernels.AdamStep(this, param, grad, expAvg, expAvgSq, maxExpAvgSq, args);

    /// <summary>
    /// Whether this backend's <see cref="SgdStepForeach"/> and <see cref="AdamStepForeach"/> update a list of parameters on
    /// <paramref name="device"/> with fewer launches than one <see cref="SgdStep"/> / <see cref="AdamStep"/> each; the
    /// optimizers' automatic <c>foreach</c> choice (PyTorch picks foreach on CUDA) asks it.
    /// </summary>
    bool PrefersForeachSteps(Device device) => false;

    /// <summary>
    /// <see cref="SgdStep"/> over a list of parameters with the same <paramref name="args"/> (PyTorch's <c>_multi_tensor_sgd</c>):
    /// params[i], grads[i] and momentumBuffers[i] as in the single member. The lists have one entry per parameter;
    /// momentumBuffers is null without momentum. Every entry is checked before any is updated.
    /// </summary>
    /// <exception cref="ArgumentException">The lists' counts differ, or entry i's tensors differ in shape, dtype or device
    /// or are not contiguous (the message names the op and i).</exception>
    void SgdStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor>? momentumBuffers, SgdStepArgs args) =>
        CompositeKernels.SgdStepForeach(this, @params, grads, momentumBuffers, args);

    /// <summary>
    /// <see cref="AdamStep"/> over a list of parameters with the same <paramref name="args"/> (one step count; PyTorch's
    /// <c>_multi_tensor_adam</c>): params[i], grads[i], expAvgs[i], expAvgSqs[i] and maxExpAvgSqs[i] as in the single
    /// member; maxExpAvgSqs is null without amsgrad. Every entry is checked before any is updated.
    /// </summary>
    /// <exception cref="ArgumentException">The lists' counts differ, or entry i's tensors differ in shape, dtype or device
    /// or are not contiguous (the message names the op and i).</exception>
    void AdamStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> expAvgs,
        IReadOnlyList<Tensor> expAvgSqs, IReadOnlyList<Tensor>? maxExpAvgSqs, AdamStepArgs args) =>
        CompositeKernels.AdamStepForeach(this, @params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, args);
}
