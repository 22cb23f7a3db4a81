using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// Float32/Float64 go through the packed, multithreaded GEMM (<see cref="Gemm"/>); integer dtypes use a
    /// plain triple loop.
    /// </remarks>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false)
    {
        int batch = checked((int)c.shape[0]), m = checked((int)c.shape[1]), n = checked((int)c.shape[2]);
        int k = checked((int)a.shape[2]);
        if (batch == 0 || m == 0 || n == 0) return;
        // Float16/BFloat16: the float32 GEMM on widened copies, rounded back once (a narrow GEMM kernel would replace this).
        if (ReducedPrecision.Any(a, b, c))
        {
            ReducedPrecision.ViaFloat32(this, [a, b], [c], (i, o) => MatMul(i[0]!, i[1]!, o[0]!, accumulate));
            return;
        }
        switch (a.DType)
        {
            case DType.Float32: MatMulF32(a, b, c, accumulate, batch, m, n, k); break;
            case DType.Float64: MatMulF64(a, b, c, accumulate, batch, m, n, k); break;
            case DType.Int32: MatMulNaive<int>(a, b, c, accumulate); break;
            case DType.Int64: MatMulNaive<long>(a, b, c, accumulate); break;
            default: throw new NotSupportedException($"CPU MatMul: {a.DType} tensors are not supported (Float32, Float64, Float16, BFloat16, Int32, Int64 are).");
        }
    }

    // The packed GEMM (Gemm.SgemmBatched/DgemmBatched) handles batching, strides (transposed views need no
    // copy; a broadcast batch has stride 0) and threading over CpuThreads.Count itself.
    private static unsafe void MatMulF32(Tensor a, Tensor b, Tensor c, bool accumulate, int batch, int m, int n, int k)
    {
        fixed (float* pa = Data<float>(a), pb = Data<float>(b), pc = Data<float>(c))
            Gemm.SgemmBatched(batch, m, n, k, 1f, pa + a.offset, a.strides[0], a.strides[1], a.strides[2],
                pb + b.offset, b.strides[0], b.strides[1], b.strides[2],
                accumulate ? 1f : 0f, pc + c.offset, c.strides[0], c.strides[1], c.strides[2]);
    }

    private static unsafe void MatMulF64(Tensor a, Tensor b, Tensor c, bool accumulate, int batch, int m, int n, int k)
    {
        fixed (double* pa = Data<double>(a), pb = Data<double>(b), pc = Data<double>(c))
            Gemm.DgemmBatched(batch, m, n, k, 1.0, pa + a.offset, a.strides[0], a.strides[1], a.strides[2],
                pb + b.offset, b.strides[0], b.strides[1], b.strides[2],
                accumulate ? 1.0 : 0.0, pc + c.offset, c.strides[0], c.strides[1], c.strides[2]);
    }

    private static void MatMulNaive<T>(Tensor a, Tensor b, Tensor c, bool accumulate) where T : unmanaged, INumber<T>
    {
        var ad = Data<T>(a); var bd = Data<T>(b); var cd = Data<T>(c);
        long batch = c.shape[0], m = c.shape[1], n = c.shape[2], k = a.shape[2];
        for (long q = 0; q < batch; q++)
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++)
                {
                    T s = T.Zero;
                    for (long p = 0; p < k; p++)
                        s += ad[a.offset + q * a.strides[0] + i * a.strides[1] + p * a.strides[2]]
                           * bd[b.offset + q * b.strides[0] + p * b.strides[1] + j * b.strides[2]];
                    long ci = c.offset + q * c.strides[0] + i * c.strides[1] + j * c.strides[2];
                    cd[ci] = accumulate ? cd[ci] + s : s;
                }
    }
}
