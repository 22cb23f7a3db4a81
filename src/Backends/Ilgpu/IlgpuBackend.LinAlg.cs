using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// A shared-memory tiled kernel over arbitrary strides (transposed views and stride-0 broadcast batches
    /// are read in place), Float32 and Float64.
    /// </remarks>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false)
    {
        long batch = c.shape[0], m = c.shape[1], n = c.shape[2], k = a.shape[2];
        if (batch == 0 || m == 0 || n == 0) return;
        var d = Dev(c);
        var p = new MatMulParams
        {
            M = m, N = n, K = k,
            A0 = a.shape[0] == 1 ? 0 : a.strides[0], A1 = a.strides[1], A2 = a.strides[2],
            B0 = b.shape[0] == 1 ? 0 : b.strides[0], B1 = b.strides[1], B2 = b.strides[2],
            C0 = c.strides[0], C1 = c.strides[1], C2 = c.strides[2],
            AOff = a.offset, BOff = b.offset, COff = c.offset,
        };
        int ts = 16;
        while (ts > 1 && ts * ts > d.Accelerator.MaxNumThreadsPerGroup) ts /= 2;
        if (batch > 65535 || (m + ts - 1) / ts > 65535) throw new NotSupportedException($"ILGPU backend: MatMul grid too large (batch {batch}, M {m}).");
        var cfg = new KernelConfig(
            new Index3D(checked((int)((n + ts - 1) / ts)), (int)((m + ts - 1) / ts), (int)batch),
            new Index3D(ts, ts, 1));
        int acc = accumulate ? 1 : 0;
        if (c.DType == DType.Float32)
            G<ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams, int>(d, MatMulKernels.Tiled<float, F32>)(
                cfg, V<float>(a), V<float>(b), V<float>(c), p, acc);
        else
            G<ArrayView<double>, ArrayView<double>, ArrayView<double>, MatMulParams, int>(d, MatMulKernels.Tiled<double, F64>)(
                cfg, V<double>(a), V<double>(b), V<double>(c), p, acc);
    }
}
