using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>
/// Direct 2-D convolution on the CPU for float32 with stride 1, dilation 1 and one group, on AVX-512 machines:
/// forward, input gradient and weight (+ bias) gradient without im2col columns. The CPU backend's Conv2d members call it when
/// the <c>Supports…</c> check holds and run the im2col + GEMM composite otherwise.
/// </summary>
/// <remarks>
/// <para>Each sample's input is copied into a zero-padded plane per channel (thread-local scratch, a few hundred KB),
/// and <see cref="ConvTileKernel"/> reads its 16-wide runs straight from it. The input gradient of a stride-1
/// convolution is itself a stride-1 convolution of the output gradient, padded by k − 1 − p, with the weight
/// transposed over (O, C) and flipped in both spatial dims, so it runs through the same kernel. The weight gradient
/// runs <see cref="ConvWeightGradKernel"/> over the positions of every sample.</para>
/// <para>Work is split over <see cref="CpuThreads.Count"/> threads by (sample, position tile) for the two
/// convolutions and by a grid of (output-channel blocks × input-channel groups) of the weight gradient for the third
/// (each thread pads only the input channels it reads), so every output element is computed by one thread in a fixed
/// order: results do not depend on the thread count.</para>
/// </remarks>
internal static unsafe class CpuConv
{
    private const long WorkPerThread = 1L << 19;

    private static bool Common(Tensor x, Tensor w, ConvGeometry g, int groups) =>
        Vector512.IsHardwareAccelerated && x.Device.Type == DeviceType.Cpu && x.DType == DType.Float32 && w.DType == DType.Float32
        && groups == 1 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && (long)g.Channels * (g.Height + 2 * g.PadH) * (g.Width + 2 * g.PadW) < int.MaxValue / 2
        && (long)w.Shape[0] * (g.OutH + 2 * g.KernelH) * (g.OutW + 2 * g.KernelW) < int.MaxValue / 2;

    /// <summary>Whether <see cref="Forward"/> and <see cref="BackwardWeight"/> apply: the common conditions and an output width that is a multiple of 16.</summary>
    public static bool SupportsForward(Tensor x, Tensor w, ConvGeometry g, int groups) => Common(x, w, g, groups) && g.OutW % 16 == 0;

    /// <summary>Whether <see cref="BackwardInput"/> applies: the common conditions, an input width that is a multiple of 16 and padding below the kernel size.</summary>
    public static bool SupportsInputGrad(Tensor x, Tensor w, ConvGeometry g, int groups) =>
        Common(x, w, g, groups) && g.Width % 16 == 0 && g.PadH <= g.KernelH - 1 && g.PadW <= g.KernelW - 1;

    /// <summary>
    /// y[n, o, oy, ox] = bias[o] + Σ_(c, ki, kj) w[o, c, ki, kj] · x[n, c, oy + ki − pH, ox + kj − pW] (zero outside).
    /// x [N, C, H, W], w [O, C, kH, kW], bias [O] or null, y [N, O, outH, outW]; all contiguous float32 CPU tensors.
    /// </summary>
    public static void Forward(Tensor x, Tensor w, Tensor? bias, ConvGeometry g, Tensor y)
    {
        int o = (int)w.Shape[0], c = g.Channels, kk = g.KernelH * g.KernelW, k = c * kk;
        float[] packed = new float[(long)o * k];
        float[] wd = CpuBackend.Data<float>(w);
        long wo = w.offset;
        // packed[o0·K + p·rows + r] = w[o0 + r, p] for each block of rows output channels (p = (c, ki, kj)).
        ForBlocks(o, (o0, rows) =>
        {
            for (int p = 0; p < k; p++)
                for (int r = 0; r < rows; r++)
                    packed[(long)o0 * k + p * rows + r] = wd[wo + (long)(o0 + r) * k + p];
        });
        float[] b = new float[o];
        if (bias is not null) CpuBackend.Data<float>(bias).AsSpan((int)bias.offset, o).CopyTo(b);
        Direct(x, c, g.Height, g.Width, g.PadH, g.PadW, g.KernelH, g.KernelW, packed, o, b, y, g.OutH, g.OutW);
    }

    /// <summary>
    /// gx[n, c, iy, ix] = Σ_(o, ki, kj) w[o, c, ki, kj] · gy[n, o, iy − ki + pH, ix − kj + pW] (zero outside): the
    /// convolution of gy padded by k − 1 − p with w transposed over (O, C) and flipped in both spatial dims.
    /// gy [N, O, outH, outW] (any strides), w [O, C, kH, kW] and gx [N, C, H, W] contiguous; float32 CPU tensors.
    /// </summary>
    public static void BackwardInput(Tensor gy, Tensor w, ConvGeometry g, Tensor gx)
    {
        int o = (int)w.Shape[0], c = g.Channels, kh = g.KernelH, kw = g.KernelW, kk = kh * kw, k = o * kk;
        float[] packed = new float[(long)c * k];
        float[] wd = CpuBackend.Data<float>(w);
        long wo = w.offset;
        // Block of rows input channels c0…: packed[c0·K′ + ((oc·kH + ki)·kW + kj)·rows + r] = w[oc, c0 + r, kH−1−ki, kW−1−kj].
        ForBlocks(c, (c0, rows) =>
        {
            for (int oc = 0; oc < o; oc++)
                for (int ki = 0; ki < kh; ki++)
                    for (int kj = 0; kj < kw; kj++)
                    {
                        long p = (oc * kh + ki) * kw + kj;
                        for (int r = 0; r < rows; r++)
                            packed[(long)c0 * k + p * rows + r] = wd[wo + ((long)(oc * c + c0 + r) * kh + (kh - 1 - ki)) * kw + (kw - 1 - kj)];
                    }
        });
        Direct(gy, o, g.OutH, g.OutW, kh - 1 - g.PadH, kw - 1 - g.PadW, kh, kw, packed, c, new float[c], gx, g.Height, g.Width);
    }

    // Output-channel blocks of the tile kernel: the fewest blocks of at most 14 rows, as equal as possible (32 → 11, 11, 10),
    // so that no block is left with too few accumulator chains to hide the FMA latency.
    private static void ForBlocks(int channels, Action<int, int> body)
    {
        for (int b = 0, count = BlockCount(channels); b < count; b++)
        {
            var (o0, rows) = Block(channels, count, b);
            body(o0, rows);
        }
    }

    private static int BlockCount(int channels) => (channels + ConvTileKernel.MaxRows - 1) / ConvTileKernel.MaxRows;

    private static (int First, int Rows) Block(int channels, int count, int b)
    {
        int size = channels / count, extra = channels % count;
        return (b * size + Math.Min(b, extra), size + (b < extra ? 1 : 0));
    }

    private struct DirectJob
    {
        public float* X, Packed, Bias, Y;
        public int* Offsets;
        public long XN, XC, XH, XW, YSample;
        public int Cin, H, W, PadT, PadL, Hp, Wp, K, Cout, OutH, OutW, Tiles, Units, Parts;
    }

    // y[n] = conv(pad(x[n]), packed) + bias for every sample, over (sample, 32-position tile) units split by thread.
    private static void Direct(Tensor x, int cin, int h, int w, int padT, int padL, int kh, int kw, float[] packed, int cout,
        float[] bias, Tensor y, int outH, int outW)
    {
        int n = (int)x.Shape[0], hp = outH + kh - 1, wp = outW + kw - 1, k = cin * kh * kw;
        var offsets = new int[k];
        for (int ci = 0; ci < cin; ci++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++)
                    offsets[(ci * kh + ki) * kw + kj] = (ci * hp + ki) * wp + kj;
        long l = (long)outH * outW;
        int tiles = (int)((l + ConvTileKernel.Columns - 1) / ConvTileKernel.Columns);
        long flops = (long)n * l * cout * k;
        fixed (float* xp = CpuBackend.Data<float>(x), yp = CpuBackend.Data<float>(y), pk = packed, bp = bias)
        fixed (int* op = offsets)
        {
            DirectJob job = new()
            {
                X = xp + x.offset, Y = yp + y.offset, Packed = pk, Bias = bp, Offsets = op,
                XN = x.strides[0], XC = x.strides[1], XH = x.strides[2], XW = x.strides[3], YSample = cout * l, Cin = cin, H = h, W = w, PadT = padT, PadL = padL,
                Hp = hp, Wp = wp, K = k, Cout = cout, OutH = outH, OutW = outW, Tiles = tiles, Units = n * tiles,
            };
            job.Parts = (int)Math.Clamp(flops / WorkPerThread, 1, Math.Min(CpuThreads.Count, job.Units));
            GemmWorkers.Run(job.Parts, &DirectPart, &job);
        }
    }

    private static void DirectPart(void* context, int part)
    {
        var j = (DirectJob*)context;
        int u0 = (int)((long)j->Units * part / j->Parts), u1 = (int)((long)j->Units * (part + 1) / j->Parts);
        // This thread's padded plane of one sample; GemmBuffers is free to use because no GEMM runs inside.
        float* pad = (float*)GemmBuffers.Get((nuint)(((long)j->Cin * j->Hp * j->Wp + 16) * sizeof(float)));
        long l = (long)j->OutH * j->OutW;
        int current = -1;
        for (int u = u0; u < u1; u++)
        {
            int n = u / j->Tiles, t = u % j->Tiles;
            if (n != current)
            {
                Pad(j->X + n * j->XN, j->XC, j->XH, j->XW, j->Cin, j->H, j->W, j->PadT, j->PadL, j->Hp, j->Wp, pad);
                current = n;
            }
            long q0 = (long)t * ConvTileKernel.Columns, q1 = q0 + 16;
            // A last tile of 16 positions (l = 16 mod 32) computes its first run twice and stores it once.
            bool both = q1 < l;
            if (!both) q1 = q0;
            float* x0 = pad + q0 / j->OutW * j->Wp + q0 % j->OutW;
            float* x1 = pad + q1 / j->OutW * j->Wp + q1 % j->OutW;
            float* yt = j->Y + n * j->YSample + q0;
            for (int b = 0, count = BlockCount(j->Cout); b < count; b++)
            {
                var (o0, rows) = Block(j->Cout, count, b);
                ConvTileKernel.Run(rows, j->K, j->Packed + (long)o0 * j->K, x0, x1, j->Offsets, j->Bias + o0, yt + o0 * l, l, both);
            }
        }
    }

    // dst[c, r, s] = src[c·sc + (r − padT)·sh + (s − padL)·sw] inside the source plane, 0 elsewhere ([C, Hp, Wp]). Any
    // strides (an expanded gradient has zeros): unit-stride rows are span copies, others a gather.
    private static void Pad(float* src, long sc, long sh, long sw, int c, int h, int w, int padT, int padL, int hp, int wp, float* dst)
    {
        for (int ci = 0; ci < c; ci++)
        {
            float* s = src + ci * sc;
            float* d = dst + (long)ci * hp * wp;
            for (int r = 0; r < hp; r++)
            {
                var row = new Span<float>(d + (long)r * wp, wp);
                int iy = r - padT;
                if (iy < 0 || iy >= h) { row.Clear(); continue; }
                int lo = Math.Min(padL, wp), len = Math.Clamp(wp - padL, 0, w);
                row[..lo].Clear();
                float* sr = s + iy * sh;
                if (sw == 1) new ReadOnlySpan<float>(sr, len).CopyTo(row.Slice(lo, len));
                else if (sw == 0) row.Slice(lo, len).Fill(*sr);
                else for (int i = 0; i < len; i++) row[lo + i] = sr[i * sw];
                row[(lo + len)..].Clear();
            }
        }
    }

    // dst[o − o0, i] = g[o·so + i-th position] for o in [o0, o1), the rows of one sample contiguous in scratch.
    private static void Gather(float* g, long so, long sh, long sw, int o0, int o1, int outH, int outW, float* dst)
    {
        for (int o = o0; o < o1; o++)
            for (int y = 0; y < outH; y++)
            {
                float* sr = g + o * so + y * sh;
                var row = new Span<float>(dst + ((long)(o - o0) * outH + y) * outW, outW);
                if (sw == 1) new ReadOnlySpan<float>(sr, outW).CopyTo(row);
                else if (sw == 0) row.Fill(*sr);
                else for (int i = 0; i < outW; i++) row[i] = sr[i * sw];
            }
    }

    private struct WeightJob
    {
        public float* X, Gy, Gw, Gb;
        public int* Offsets;
        public long XSample, YN, YC, YH, YW;
        public bool GyContiguous;
        public int N, Cin, H, W, PadT, PadL, Hp, Wp, K, Cout, OutH, OutW, OBlocks, JBlocks, Units, Parts, GridO, GridJ;
    }

    /// <summary>
    /// gw[o, c, ki, kj] = Σ_(n, oy, ox) gy[n, o, oy, ox] · x[n, c, oy + ki − pH, ox + kj − pW] (zero outside) and, when gb is
    /// not null, gb[o] = Σ_(n, oy, ox) gy[n, o, oy, ox]. x [N, C, H, W], gw [O, C, kH, kW] and gb [O] contiguous, gy
    /// [N, O, outH, outW] with any strides; float32 CPU tensors; gw and gb are overwritten.
    /// </summary>
    public static void BackwardWeight(Tensor gy, Tensor x, ConvGeometry g, Tensor gw, Tensor? gb)
    {
        int n = (int)x.Shape[0], o = (int)gw.Shape[0], c = g.Channels, kh = g.KernelH, kw = g.KernelW, k = c * kh * kw;
        int hp = g.OutH + kh - 1, wp = g.OutW + kw - 1;
        var offsets = new int[k];
        for (int ci = 0; ci < c; ci++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++)
                    offsets[(ci * kh + ki) * kw + kj] = (ci * hp + ki) * wp + kj;
        int oBlocks = (o + ConvWeightGradKernel.Rows - 1) / ConvWeightGradKernel.Rows;
        int jBlocks = (k + ConvWeightGradKernel.Columns - 1) / ConvWeightGradKernel.Columns;
        long flops = (long)n * g.OutH * g.OutW * o * k;
        float[] gbTmp = new float[o];
        fixed (float* xp = CpuBackend.Data<float>(x), yp = CpuBackend.Data<float>(gy), wp2 = CpuBackend.Data<float>(gw), bp = gbTmp)
        fixed (int* op = offsets)
        {
            WeightJob job = new()
            {
                X = xp + x.offset, Gy = yp + gy.offset, Gw = wp2 + gw.offset, Gb = gb is null ? null : bp, Offsets = op,
                XSample = (long)c * g.Height * g.Width, YN = gy.strides[0], YC = gy.strides[1], YH = gy.strides[2], YW = gy.strides[3],
                GyContiguous = gy.IsContiguous, N = n, Cin = c, H = g.Height, W = g.Width,
                PadT = g.PadH, PadL = g.PadW, Hp = hp, Wp = wp, K = k, Cout = o, OutH = g.OutH, OutW = g.OutW,
                OBlocks = oBlocks, JBlocks = jBlocks, Units = oBlocks * jBlocks,
            };
            PlanWeightGrid(&job, (int)Math.Clamp(flops / WorkPerThread, 1, Math.Min(CpuThreads.Count, job.Units)), kh * kw);
            GemmWorkers.Run(job.Parts, &WeightPart, &job);
        }
        if (gb is not null) gbTmp.CopyTo(CpuBackend.Data<float>(gb).AsSpan((int)gb.offset, o));
    }

    // Splits the (output-channel block × reduction block) units into a GridO × GridJ grid of rectangles, one per thread.
    // A thread pads only the input channels its reduction blocks touch and reads only its output channels' gradient rows,
    // so with many threads the per-thread copying shrinks with the grid instead of every thread padding all of x. Cost
    // per output position, in cycles: kernel work (units · 4·6 multiply-adds at about 32 per cycle), padding (about 0.5
    // per channel element written and read) and gradient rows (about 0.25 per row element, reads and the L2 they take);
    // the cheapest grid wins (at 2 threads that is the split by output channels, as before).
    private static void PlanWeightGrid(WeightJob* j, int parts, int kk)
    {
        const int R = ConvWeightGradKernel.Rows, S = ConvWeightGradKernel.Columns;
        double best = double.MaxValue;
        for (int go = 1; go <= Math.Min(parts, j->OBlocks); go++)
        {
            int gj = Math.Min(j->JBlocks, parts / go);
            int ob = (j->OBlocks + go - 1) / go, jb = (j->JBlocks + gj - 1) / gj;
            int channels = Math.Min(j->Cin, (jb * S + kk - 1) / kk + 1);
            double cost = ob * jb * R * S / 32.0 + 0.5 * channels + 0.25 * ob * R;
            if (cost < best)
            {
                best = cost;
                j->GridO = go;
                j->GridJ = gj;
            }
        }
        j->Parts = j->GridO * j->GridJ;
    }

    private static void WeightPart(void* context, int part)
    {
        var j = (WeightJob*)context;
        const int R = ConvWeightGradKernel.Rows, S = ConvWeightGradKernel.Columns;
        // This thread's rectangle of units: output-channel blocks [ob0, ob1) × reduction blocks [jb0, jb1).
        int go = part / j->GridJ, gj = part % j->GridJ;
        int ob0 = (int)((long)j->OBlocks * go / j->GridO), ob1 = (int)((long)j->OBlocks * (go + 1) / j->GridO);
        int jb0 = (int)((long)j->JBlocks * gj / j->GridJ), jb1 = (int)((long)j->JBlocks * (gj + 1) / j->GridJ);
        int jCount = jb1 - jb0, units = (ob1 - ob0) * jCount;
        if (units == 0) return;
        // The input channels that reduction indices [jb0·S, jb1·S) read: only those are padded, at plane cFirst = 0.
        int kk = j->K / j->Cin, cFirst = jb0 * S / kk, cLast = (Math.Min(j->K, jb1 * S) - 1) / kk + 1;
        long plane = (long)j->Hp * j->Wp;
        long padLength = ((cLast - cFirst) * plane + 15) & ~15L;
        long l = (long)j->OutH * j->OutW;
        // The output channels of this thread's blocks. Their gradient rows are read in place when each channel plane is
        // contiguous, else gathered per pass into scratch (an expanded or permuted gradient is never materialized whole).
        int oFirst = ob0 * R, oLast = Math.Min(j->Cout, ob1 * R);
        bool inPlace = j->YW == 1 && j->YH == j->OutW;
        // Samples per pass: their padded planes stay within about 256 KB, so each block's accumulators are loaded and
        // stored once per pass rather than once per sample (small planes have only a few vectors per row).
        int chunk = (int)Math.Clamp((256L << 10) / (padLength * sizeof(float)), 1, j->N);
        long gatherLength = inPlace ? 0 : ((long)chunk * (oLast - oFirst) * l + 15) & ~15L;
        // Scratch: the padded samples, the gathered rows, then R·S lane accumulators per unit (64-byte aligned: the
        // lengths before them are multiples of 16 floats).
        float* pad = (float*)GemmBuffers.Get((nuint)((chunk * padLength + gatherLength + (long)units * R * S * 16) * sizeof(float)));
        float* gathered = pad + chunk * padLength;
        var acc = (Vector512<float>*)(gathered + gatherLength);
        new Span<float>(acc, units * R * S * 16).Clear();
        long gStride = inPlace ? j->YN : (oLast - oFirst) * l;
        // Bias sums of the output channels whose first block (jb = 0) is this thread's, in double over samples.
        var gbAcc = j->Gb is null ? null : new double[j->Cout];
        long* rowOffsets = stackalloc long[R];
        int* colOffsets = stackalloc int[S];
        for (int n0 = 0; n0 < j->N; n0 += chunk)
        {
            int m = Math.Min(chunk, j->N - n0);
            for (int i = 0; i < m; i++)
            {
                Pad(j->X + (n0 + i) * j->XSample + (long)cFirst * j->H * j->W, (long)j->H * j->W, j->W, 1, cLast - cFirst, j->H, j->W,
                    j->PadT, j->PadL, j->Hp, j->Wp, pad + i * padLength);
                if (!inPlace)
                    Gather(j->Gy + (n0 + i) * j->YN, j->YC, j->YH, j->YW, oFirst, oLast, j->OutH, j->OutW, gathered + i * gStride);
            }
            float* gyn = inPlace ? j->Gy + n0 * j->YN : gathered;
            for (int u = 0; u < units; u++)
            {
                int o0 = (ob0 + u / jCount) * R, k0 = (jb0 + u % jCount) * S;
                // Blocks past the last channel or index repeat the last one (computed, never stored).
                for (int r = 0; r < R; r++)
                {
                    int oc = Math.Min(o0 + r, j->Cout - 1);
                    rowOffsets[r] = inPlace ? oc * j->YC : (oc - oFirst) * l;
                }
                for (int s = 0; s < S; s++) colOffsets[s] = j->Offsets[Math.Min(k0 + s, j->K - 1)] - (int)(cFirst * plane);
                ConvWeightGradKernel.Run(gyn, rowOffsets, gStride, pad, colOffsets, padLength, m, j->OutH, j->OutW, j->Wp,
                    acc + (long)u * R * S);
                if (gbAcc is not null && k0 == 0)
                    for (int i = 0; i < m; i++)
                        for (int r = 0; r < R && o0 + r < j->Cout; r++)
                            gbAcc[o0 + r] += TensorPrimitives.Sum(new ReadOnlySpan<float>(gyn + i * gStride + rowOffsets[r], (int)l));
            }
        }
        for (int u = 0; u < units; u++)
        {
            int o0 = (ob0 + u / jCount) * R, k0 = (jb0 + u % jCount) * S;
            Vector512<float>* a = acc + (long)u * R * S;
            for (int r = 0; r < R && o0 + r < j->Cout; r++)
            {
                for (int s = 0; s < S && k0 + s < j->K; s++)
                    j->Gw[(long)(o0 + r) * j->K + k0 + s] = Vector512.Sum(a[r * S + s]);
                if (gbAcc is not null && k0 == 0) j->Gb[o0 + r] = (float)gbAcc[o0 + r];
            }
        }
    }
}
