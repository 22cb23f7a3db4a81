namespace Ember;

/// <summary>
/// The whole contract between tensors and kernels. Core validates every argument (shapes, dtypes,
/// devices) and allocates every output before it calls a backend, so a backend only computes.
/// Tensors passed in are views (storage, offset, shape, strides) on the backend's own device;
/// outputs may be non-contiguous views (in-place ops write through them) unless a member says
/// otherwise. Every member may run asynchronously on the device's stream; <see cref="CopyToHost"/>
/// synchronizes.
/// </summary>
public partial interface IBackend
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
}
