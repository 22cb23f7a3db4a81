using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>
/// The weight-gradient micro-kernel of the direct convolution (AVX-512, float): a block of 4 output channels by
/// 6 reduction indices k = (c, ki, kj), vectorized over the output positions, 24 zmm accumulators that each hold
/// 16 partial sums (one per lane) of gW[o, k] = Σ_(oy, ox) gy[o, oy, ox] · xpad[c, oy + ki, ox + kj].
/// </summary>
/// <remarks>
/// Both operands are read along the positions with unit stride (a row of the output gradient, a shifted row of the
/// padded input plane), so nothing is packed; the caller reduces each accumulator's 16 lanes once at the end.
/// </remarks>
internal static unsafe class ConvWeightGradKernel
{
    /// <summary>Output channels per block.</summary>
    public const int Rows = 4;

    /// <summary>Reduction indices per block.</summary>
    public const int Columns = 6;

    /// <summary>
    /// acc[r·6 + s] += Σ_(i &lt; samples) Σ_(oy &lt; outH) Σ_(ox &lt; outW, step 16) g_r[i·gStride + oy·outW + ox + 0..16) ·
    /// x[i·xStride + offsets[s] + oy·wp + ox + 0..16) with g_r = g + rowOffsets[r]. outW must be a multiple of 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* g, long* rowOffsets, long gStride, float* x, int* offsets, long xStride, int samples,
        int outH, int outW, int wp, Vector512<float>* acc)
    {
        float* g0 = g + rowOffsets[0], g1 = g + rowOffsets[1], g2 = g + rowOffsets[2], g3 = g + rowOffsets[3];
        float* x0 = x + offsets[0], x1 = x + offsets[1], x2 = x + offsets[2], x3 = x + offsets[3], x4 = x + offsets[4], x5 = x + offsets[5];
        Vector512<float> a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3], a04 = acc[4], a05 = acc[5];
        Vector512<float> a10 = acc[6], a11 = acc[7], a12 = acc[8], a13 = acc[9], a14 = acc[10], a15 = acc[11];
        Vector512<float> a20 = acc[12], a21 = acc[13], a22 = acc[14], a23 = acc[15], a24 = acc[16], a25 = acc[17];
        Vector512<float> a30 = acc[18], a31 = acc[19], a32 = acc[20], a33 = acc[21], a34 = acc[22], a35 = acc[23];
        for (int i = 0; i < samples; i++, g0 += gStride, g1 += gStride, g2 += gStride, g3 += gStride,
            x0 += xStride, x1 += xStride, x2 += xStride, x3 += xStride, x4 += xStride, x5 += xStride)
        for (int oy = 0; oy < outH; oy++)
        {
            long gr = (long)oy * outW, xr = (long)oy * wp;
            for (int ox = 0; ox < outW; ox += 16)
            {
                Vector512<float> v0 = Vector512.Load(g0 + gr + ox), v1 = Vector512.Load(g1 + gr + ox);
                Vector512<float> v2 = Vector512.Load(g2 + gr + ox), v3 = Vector512.Load(g3 + gr + ox);
                long xo = xr + ox;
                Vector512<float> u = Vector512.Load(x0 + xo);
                a00 = Vector512.FusedMultiplyAdd(v0, u, a00); a10 = Vector512.FusedMultiplyAdd(v1, u, a10);
                a20 = Vector512.FusedMultiplyAdd(v2, u, a20); a30 = Vector512.FusedMultiplyAdd(v3, u, a30);
                u = Vector512.Load(x1 + xo);
                a01 = Vector512.FusedMultiplyAdd(v0, u, a01); a11 = Vector512.FusedMultiplyAdd(v1, u, a11);
                a21 = Vector512.FusedMultiplyAdd(v2, u, a21); a31 = Vector512.FusedMultiplyAdd(v3, u, a31);
                u = Vector512.Load(x2 + xo);
                a02 = Vector512.FusedMultiplyAdd(v0, u, a02); a12 = Vector512.FusedMultiplyAdd(v1, u, a12);
                a22 = Vector512.FusedMultiplyAdd(v2, u, a22); a32 = Vector512.FusedMultiplyAdd(v3, u, a32);
                u = Vector512.Load(x3 + xo);
                a03 = Vector512.FusedMultiplyAdd(v0, u, a03); a13 = Vector512.FusedMultiplyAdd(v1, u, a13);
                a23 = Vector512.FusedMultiplyAdd(v2, u, a23); a33 = Vector512.FusedMultiplyAdd(v3, u, a33);
                u = Vector512.Load(x4 + xo);
                a04 = Vector512.FusedMultiplyAdd(v0, u, a04); a14 = Vector512.FusedMultiplyAdd(v1, u, a14);
                a24 = Vector512.FusedMultiplyAdd(v2, u, a24); a34 = Vector512.FusedMultiplyAdd(v3, u, a34);
                u = Vector512.Load(x5 + xo);
                a05 = Vector512.FusedMultiplyAdd(v0, u, a05); a15 = Vector512.FusedMultiplyAdd(v1, u, a15);
                a25 = Vector512.FusedMultiplyAdd(v2, u, a25); a35 = Vector512.FusedMultiplyAdd(v3, u, a35);
            }
        }
        acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03; acc[4] = a04; acc[5] = a05;
        acc[6] = a10; acc[7] = a11; acc[8] = a12; acc[9] = a13; acc[10] = a14; acc[11] = a15;
        acc[12] = a20; acc[13] = a21; acc[14] = a22; acc[15] = a23; acc[16] = a24; acc[17] = a25;
        acc[18] = a30; acc[19] = a31; acc[20] = a32; acc[21] = a33; acc[22] = a34; acc[23] = a35;
    }
}
