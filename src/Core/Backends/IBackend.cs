namespace Ember;

/// <summary>
/// The whole contract between tensors and kernels. Core validates every argument (shapes, dtypes,
/// devices) and allocates every output before it calls a backend, so a backend only computes.
/// Tensors passed in are views (storage, offset, shape, strides) on the backend's own device;
/// outputs may be non-contiguous views (in-place ops write through them) unless a member says
/// otherwise. Every member may run asynchronously on the device's stream; <see cref="CopyToHost"/>
/// synchronizes.
/// </summary>
public interface IBackend
{
    /// <summary>Short name, e.g. "cpu" or "ilgpu".</summary>
    string Name { get; }

    /// <summary>True when this backend runs tensors of <paramref name="device"/>.</summary>
    bool Supports(Device device);

    /// <summary>The devices this backend sees on this machine.</summary>
    IReadOnlyList<Device> Devices { get; }

    // ---- memory -------------------------------------------------------------------------

    /// <summary>Allocates <paramref name="length"/> elements; contents are unspecified.</summary>
    Storage Allocate(Device device, DType dtype, long length);

    /// <summary>Copies raw element bytes from the host into the storage starting at element <paramref name="elementOffset"/>.</summary>
    void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long elementOffset);

    /// <summary>Copies raw element bytes from the storage (starting at element <paramref name="elementOffset"/>) to the host; waits for pending work.</summary>
    void CopyToHost(Storage source, long elementOffset, Span<byte> destination);

    /// <summary>Waits until all queued work on the device is done.</summary>
    void Synchronize(Device device);

    // ---- elementwise ----------------------------------------------------------------------

    /// <summary>dst = src (same shape, any strides), converting dtype when they differ.</summary>
    void Copy(Tensor source, Tensor destination);

    /// <summary>Every element of dst = value (converted to dst's dtype).</summary>
    void Fill(Tensor destination, double value);

    /// <summary>result = op(x) elementwise; same shape. See <see cref="UnaryOp"/> for alpha/beta.</summary>
    void Unary(UnaryOp op, Tensor x, Tensor result, double alpha = 0, double beta = 0);

    /// <summary>result = op(a, b) elementwise; a and b are already broadcast (stride-0 views) to result's shape and share a dtype.</summary>
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor result);

    /// <summary>result = condition ? a : b elementwise; all broadcast to result's shape; condition is Bool.</summary>
    void Where(Tensor condition, Tensor a, Tensor b, Tensor result);

    // ---- reductions -----------------------------------------------------------------------

    /// <summary>
    /// Reduces a 2-D [outer, inner] view along its last dimension into values [outer]
    /// (and, for Max/Min, the Int64 position of the first extreme into indices [outer]).
    /// </summary>
    void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices);

    // ---- linear algebra -------------------------------------------------------------------

    /// <summary>
    /// Batched matrix product c[b] = a[b] · b[b] (+ c[b] when <paramref name="accumulate"/>):
    /// a [B, M, K], b [B, K, N], c [B, M, N], any strides (a transposed operand is a strided view;
    /// a broadcast batch has stride 0). Float32 and Float64.
    /// </summary>
    void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false);

    // ---- indexing -------------------------------------------------------------------------

    /// <summary>result[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (torch.gather); index Int64, shape of result.</summary>
    void Gather(Tensor x, int dim, Tensor index, Tensor result);

    /// <summary>In place: target[i][index[i][j][k]][k] = src[i][j][k] (or += when accumulate) for dim = 1 (torch.scatter / scatter_add).</summary>
    void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate);

    /// <summary>result = x selected at Int64 <paramref name="index"/> [n] along dim (torch.index_select).</summary>
    void IndexSelect(Tensor x, int dim, Tensor index, Tensor result);

    /// <summary>In place: target.select(dim, index[i]) += alpha · source.select(dim, i) (torch.index_add_); repeated indices accumulate.</summary>
    void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha);

    /// <summary>result = x with elements above (upper = false: Tril) or below (upper = true: Triu) the diagonal zeroed, over the last two dims.</summary>
    void Triangular(Tensor x, Tensor result, long diagonal, bool upper);

    // ---- random ---------------------------------------------------------------------------

    /// <summary>
    /// Fills a contiguous tensor from Philox 4x32-10 with key <paramref name="seed"/>: element i uses
    /// counter (<paramref name="offset"/> + i / 4), output lane i % 4 (see <c>Ember.Philox</c>), so every
    /// backend produces the same values for the same (seed, offset).
    /// </summary>
    void Random(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b);

    // ---- neural-network kernels -----------------------------------------------------------

    /// <summary>Softmax (or log-softmax) over the last dim of a contiguous 2-D [rows, cols] x into result.</summary>
    void Softmax(Tensor x, Tensor result, bool log);

    /// <summary>
    /// Gradient of softmax / log-softmax over the last dim of [rows, cols]:
    /// softmax: gx = y ⊙ (g − Σ g⊙y); log-softmax: gx = g − e^y ⊙ Σ g.
    /// </summary>
    void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log);

    /// <summary>
    /// Layer norm over the last dim of contiguous [rows, cols]: y = (x − μ)·rstd·w + b, rstd = 1/√(var + eps)
    /// (biased variance); writes mean [rows] and rstd [rows] for the backward pass. weight/bias [cols] may be null.
    /// </summary>
    void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd);

    /// <summary>Gradients of <see cref="LayerNorm"/>: gradX [rows, cols]; gradWeight/gradBias [cols] when not null (overwritten).</summary>
    void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight,
        Tensor gradX, Tensor? gradWeight, Tensor? gradBias);

    /// <summary>
    /// Fused cross-entropy of contiguous logits x [rows, C] at Int64 class indices target [rows] (all in [0, C) or equal to
    /// the ignore index; the caller checks): lse = log Σ_c e^{x_c} (max-shifted), loss [rows] =
    /// (1 − ε)·w[t]·(lse − x[t]) + (ε/C)·Σ_c w[c]·(lse − x[c]) with w ≡ 1 when weight [C] is null, 0 for ignored rows;
    /// writes lse [rows] for <see cref="CrossEntropyBackward"/>.
    /// </summary>
    void CrossEntropy(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor logSumExp);

    /// <summary>
    /// Gradient of <see cref="CrossEntropy"/> with respect to x, given grad [rows] (∂L/∂loss[r]): gradX [rows, C] =
    /// grad[r]·((1 − ε)·w[t]·(p_j − [j = t]) + (ε/C)·(W·p_j − w[j])), p = e^{x − lse}, W = Σ_c w[c]; 0 for ignored rows.
    /// </summary>
    void CrossEntropyBackward(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor logSumExp, Tensor gradX);

    /// <summary>im2col: contiguous x [N, C, H, W] → columns [N, C·kH·kW, outH·outW] (zero padding).</summary>
    void Im2Col(Tensor x, ConvGeometry geometry, Tensor columns);

    /// <summary>col2im: columns [N, C·kH·kW, outH·outW] summed into x [N, C, H, W] (x overwritten).</summary>
    void Col2Im(Tensor columns, ConvGeometry geometry, Tensor x);

    /// <summary>Max pooling of contiguous [N, C, H, W] into result [N, C, outH, outW]; indices (Int64) hold the flat h·W + w of each maximum (PyTorch's convention); padding is −∞.</summary>
    void MaxPool2d(Tensor x, PoolGeometry geometry, Tensor result, Tensor indices);

    /// <summary>gradInput [N, C, H, W] (overwritten) receives grad [N, C, outH, outW] at the saved indices.</summary>
    void MaxPool2dBackward(Tensor grad, Tensor indices, PoolGeometry geometry, Tensor gradInput);

    /// <summary>Average pooling of contiguous [N, C, H, W]; the divisor counts padding when <paramref name="countIncludePad"/>.</summary>
    void AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad, Tensor result);

    /// <summary>gradInput [N, C, H, W] (overwritten) of <see cref="AvgPool2d"/>.</summary>
    void AvgPool2dBackward(Tensor grad, PoolGeometry geometry, bool countIncludePad, Tensor gradInput);

    // ---- fused optimizer steps --------------------------------------------------------------

    /// <summary>One SGD step in place on contiguous param (and momentum buffer), PyTorch's formula.</summary>
    void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args);

    /// <summary>One Adam/AdamW step in place on contiguous param, exp_avg, exp_avg_sq (and max_exp_avg_sq for amsgrad), PyTorch's formula.</summary>
    void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamStepArgs args);
}
