using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>
/// Copies blocks of A and B into the micro-panel layouts the micro-kernels read (GotoBLAS packing),
/// zero-padding partial panels so the kernel always computes full tiles.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs the <paramref name="mc"/> x <paramref name="kc"/> block at <paramref name="a"/> (strides
    /// <paramref name="rs"/>, <paramref name="cs"/>) into ceil(mc / mr) micro-panels of <paramref name="mr"/>
    /// rows: panel i holds, for each p, the values A[i*mr .. i*mr+mr, p] (zeros past row mc). May write up to 16
    /// elements past the last panel (the caller reserves that slack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(T* dst, T* a, long rs, long cs, int mc, int kc, int mr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i0 = 0; i0 < mc; i0 += mr)
        {
            int rows = Math.Min(mr, mc - i0);
            T* src = a + i0 * rs;
            if (typeof(T) == typeof(float) && cs == 1 && mr <= 16 && GemmPackTranspose.IsSupported)
            {
                // A last panel of fewer rows too (M not a multiple of MR): its missing rows load as zero vectors, so the
                // whole 16-k chunks store their zero padding; only the last kc % 16 runs need it written here.
                GemmPackTranspose.TransposeRuns((float*)dst, mr, (float*)src, rs, kc, rows);
                for (int p = kc & ~15; rows < mr && p < kc; p++)
                    new Span<T>(dst + (long)p * mr + rows, mr - rows).Clear();
            }
            else if (rs == 1 && rows == mr)
            {
                // Column-major source (a transposed A): each p is a contiguous run of mr values.
                for (int p = 0; p < kc; p++)
                    CopyRun(dst + (long)p * mr, src + p * cs, mr);
            }
            else
            {
                // Row-major or general source: walk each row along k, scattering with stride mr.
                for (int i = 0; i < rows; i++)
                {
                    T* s = src + i * rs;
                    T* d = dst + i;
                    if (cs == 1)
                    {
                        for (int p = 0; p < kc; p++)
                            d[(long)p * mr] = s[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++)
                            d[(long)p * mr] = s[p * cs];
                    }
                }
                for (int i = rows; i < mr; i++)
                {
                    T* d = dst + i;
                    for (int p = 0; p < kc; p++)
                        d[(long)p * mr] = T.Zero;
                }
            }
            dst += (long)kc * mr;
        }
    }

    /// <summary>
    /// Packs the <paramref name="kc"/> x <paramref name="nc"/> block at <paramref name="b"/> (strides
    /// <paramref name="rs"/>, <paramref name="cs"/>) into ceil(nc / nr) micro-panels of <paramref name="nr"/>
    /// columns: panel j holds, for each p, the values B[p, j*nr .. j*nr+nr] (zeros past column nc).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(T* dst, T* b, long rs, long cs, int kc, int nc, int nr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int j0 = 0; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            T* src = b + j0 * cs;
            if (cs == 1 && cols == nr)
            {
                // Row-major source: each p is a contiguous run of nr values.
                for (int p = 0; p < kc; p++)
                    CopyRun(dst + (long)p * nr, src + p * rs, nr);
            }
            else if (typeof(T) == typeof(float) && rs == 1 && cols == nr && nr % 16 == 0 && GemmPackTranspose.IsSupported)
            {
                // Transposed source: columns are contiguous along p; transpose them 16 at a time.
                for (int j = 0; j < nr; j += 16)
                    GemmPackTranspose.TransposeRuns((float*)dst + j, nr, (float*)src + j * cs, cs, kc, 16);
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    T* s = src + j * cs;
                    T* d = dst + j;
                    if (rs == 1)
                    {
                        for (int p = 0; p < kc; p++)
                            d[(long)p * nr] = s[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++)
                            d[(long)p * nr] = s[p * rs];
                    }
                }
                for (int j = cols; j < nr; j++)
                {
                    T* d = dst + j;
                    for (int p = 0; p < kc; p++)
                        d[(long)p * nr] = T.Zero;
                }
            }
            dst += (long)kc * nr;
        }
    }

    /// <summary>Copies <paramref name="count"/> contiguous elements with the widest vectors available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun<T>(T* dst, T* src, int count) where T : unmanaged
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
                Vector512.Store(Vector512.Load(src + i), dst + i);
        }
        if (Vector256.IsHardwareAccelerated && count >= Vector256<T>.Count)
        {
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
                Vector256.Store(Vector256.Load(src + i), dst + i);
            // The rest (a 14-row micro-panel's run: 8 + 6 floats) as one more vector ending at the run's end, rewriting a
            // few elements with the same values, instead of element by element.
            if (i < count)
            {
                Vector256.Store(Vector256.Load(src + count - Vector256<T>.Count), dst + count - Vector256<T>.Count);
                i = count;
            }
        }
        for (; i < count; i++)
            dst[i] = src[i];
    }
}
