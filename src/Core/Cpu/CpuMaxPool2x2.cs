using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Cpu;

/// <summary>
/// The 2×2, stride-2, unpadded float32 max pool with AVX-512: 16 windows per step, branch-free (random data makes the
/// scalar compare chain mispredict about every other window). Same results as the scalar loop: the first NaN of the
/// window order (0, 0), (0, 1), (1, 0), (1, 1) wins, ties keep the first position.
/// </summary>
internal static unsafe class CpuMaxPool2x2
{
    /// <summary>Whether the vector kernels run on this machine.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    private static readonly Vector512<int> TwiceLane = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>
    /// Planes [planes, H, W] → y, idx [planes, OutH, OutW] with y = the window max and idx its flat position in the plane,
    /// for the windows whose 16-wide groups fit (ox &lt; OutW rounded down to 16); returns that count of columns per row,
    /// the caller does the rest.
    /// </summary>
    public static int Forward(float[] x, long xo, float[] y, long[] idx, long yo, long io, long planes, int h, int w, int outH, int outW)
    {
        int vecCols = outW / 16 * 16;
        if (vecCols == 0) return 0;
        CpuFused.ForChunks(planes, (p0, count) =>
        {
            fixed (float* xp = x, yp = y)
            fixed (long* ip = idx)
            {
                for (long p = p0; p < p0 + count; p++)
                {
                    float* xb = xp + xo + p * h * w;
                    long ob = p * outH * outW;
                    Vector512<int> o1 = Vector512.Create(1), o2 = Vector512.Create(w), o3 = Vector512.Create(w + 1);
                    for (int oy = 0; oy < outH; oy++)
                    {
                        float* r0 = xb + 2L * oy * w, r1 = r0 + w;
                        int rowFlat = 2 * oy * w;
                        for (int ox = 0; ox < vecCols; ox += 16)
                        {
                            Vector512<float> a0 = Vector512.Load(r0 + 2 * ox), a1 = Vector512.Load(r0 + 2 * ox + 16);
                            Vector512<float> b0 = Vector512.Load(r1 + 2 * ox), b1 = Vector512.Load(r1 + 2 * ox + 16);
                            Vector512<float> best = Avx512F.PermuteVar16x32x2(a0, Evens, a1);
                            Vector512<int> at = Vector512<int>.Zero;
                            Step(ref best, ref at, Avx512F.PermuteVar16x32x2(a0, Odds, a1), o1);
                            Step(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, Evens, b1), o2);
                            Step(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, Odds, b1), o3);
                            long o = ob + (long)oy * outW + ox;
                            Vector512.Store(best, yp + yo + o);
                            Vector512<int> flat = at + TwiceLane + Vector512.Create(rowFlat + 2 * ox);
                            var (lo, hi) = Vector512.Widen(flat);
                            Vector512.Store(lo, ip + io + o);
                            Vector512.Store(hi, ip + io + o + 8);
                        }
                    }
                }
            }
        }, (long)outH * outW * 4);
        return vecCols;
    }

    // Take v where it is larger or NaN, unless the best so far is already NaN (NaN propagates, the first one wins).
    private static void Step(ref Vector512<float> best, ref Vector512<int> at, Vector512<float> v, Vector512<int> offset)
    {
        Vector512<float> take = (Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v)) & Vector512.Equals(best, best);
        best = Vector512.ConditionalSelect(take, v, best);
        at = Vector512.ConditionalSelect(take.AsInt32(), offset, at);
    }

    /// <summary>
    /// gx [planes, 2·OutH, 2·OutW] = g scattered to the positions idx (from <see cref="Forward"/> or the scalar loop: each
    /// index lies in its own window), every other element 0. Writes every element of gx (no clearing pass).
    /// </summary>
    public static void Backward(float[] g, long go, long[] idx, long io, float[] gx, long xo, long planes, int outH, int outW)
    {
        int w = 2 * outW, vecCols = outW / 16 * 16;
        CpuFused.ForChunks(planes, (p0, count) =>
        {
            fixed (float* gp = g, xp = gx)
            fixed (long* ip = idx)
            {
                for (long p = p0; p < p0 + count; p++)
                {
                    float* xb = xp + xo + p * 4L * outH * outW;
                    long ob = p * outH * outW;
                    Vector512<int> o1 = Vector512.Create(1), o2 = Vector512.Create(w), o3 = Vector512.Create(w + 1);
                    for (int oy = 0; oy < outH; oy++)
                    {
                        float* r0 = xb + 2L * oy * w, r1 = r0 + w;
                        long rowFlat = 2L * oy * w;
                        for (int ox = 0; ox < vecCols; ox += 16)
                        {
                            long o = ob + (long)oy * outW + ox;
                            Vector512<float> v = Vector512.Load(gp + go + o);
                            // Position inside the window: idx − (row start + 2·column).
                            Vector512<long> baseLo = Vector512.Create(rowFlat + 2 * ox) + Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);
                            Vector512<long> baseHi = baseLo + Vector512.Create(16L);
                            Vector512<int> at = Vector512.Narrow(Vector512.Load(ip + io + o) - baseLo, Vector512.Load(ip + io + o + 8) - baseHi);
                            Vector512<float> e0 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512<int>.Zero).AsSingle(), v, Vector512<float>.Zero);
                            Vector512<float> d0 = Vector512.ConditionalSelect(Vector512.Equals(at, o1).AsSingle(), v, Vector512<float>.Zero);
                            Vector512<float> e1 = Vector512.ConditionalSelect(Vector512.Equals(at, o2).AsSingle(), v, Vector512<float>.Zero);
                            Vector512<float> d1 = Vector512.ConditionalSelect(Vector512.Equals(at, o3).AsSingle(), v, Vector512<float>.Zero);
                            Vector512.Store(Avx512F.PermuteVar16x32x2(e0, InterleaveLow, d0), r0 + 2 * ox);
                            Vector512.Store(Avx512F.PermuteVar16x32x2(e0, InterleaveHigh, d0), r0 + 2 * ox + 16);
                            Vector512.Store(Avx512F.PermuteVar16x32x2(e1, InterleaveLow, d1), r1 + 2 * ox);
                            Vector512.Store(Avx512F.PermuteVar16x32x2(e1, InterleaveHigh, d1), r1 + 2 * ox + 16);
                        }
                        for (int ox = vecCols; ox < outW; ox++)
                        {
                            long o = ob + (long)oy * outW + ox;
                            long at = ip[io + o] - (rowFlat + 2 * ox);
                            float v = gp[go + o];
                            r0[2 * ox] = at == 0 ? v : 0; r0[2 * ox + 1] = at == 1 ? v : 0;
                            r1[2 * ox] = at == w ? v : 0; r1[2 * ox + 1] = at == w + 1 ? v : 0;
                        }
                    }
                }
            }
        }, (long)outH * outW * 4);
    }
}
