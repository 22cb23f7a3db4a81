using System.Buffers;
using System.Numerics.Tensors;
using System.Numerics;

namespace Ember.Cpu;

// Normalization, im2col/col2im and pooling kernels. All take contiguous tensors (Core's callers make them so),
// compute in T with double accumulators for statistics, and run rows / (n, c) planes in parallel when large.
public sealed partial class CpuBackend
{
    private const long ParallelThreshold = 1 << 15;

    private static void ForRows(long count, long workPerRow, Action<int> body)
    {
        if (count > 1 && count * workPerRow >= ParallelThreshold)
            CpuParallel.For(count, workPerRow, (r0, n) => { for (long i = r0; i < r0 + n; i++) body((int)i); });
        else
            for (int i = 0; i < count; i++) body(i);
    }

    private static void RequireFloat(string op, Tensor t)
    {
        if (t.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{op}: the CPU kernel supports Float32 and Float64, got {t.DType}.");
    }

    /// <inheritdoc/>
    public void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd)
    {
        if (ReducedPrecision.Any(x, weight, bias)) { CompositeKernels.LayerNorm(this, x, weight, bias, eps, y, mean, rstd); return; }
        RequireFloat("LayerNorm", x);
        if (x.DType == DType.Float32) LayerNormT<float>(x, weight, bias, eps, y, mean, rstd);
        else LayerNormT<double>(x, weight, bias, eps, y, mean, rstd);
    }

    // Per row, vectorized: μ = Σx/n, σ² = Σ(x − μ)²/n (two passes over the row, sums returned in double),
    // y = (x − μ)·rstd·w + b. Rows run in parallel over CpuThreads.
    private static void LayerNormT<T>(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = (int)x.shape[^1];
        long rows = cols == 0 ? 0 : x.Numel / cols;
        T[] xd = Data<T>(x), yd = Data<T>(y), md = Data<T>(mean), rd = Data<T>(rstd);
        T[]? wd = weight is null ? null : Data<T>(weight);
        T[]? bd = bias is null ? null : Data<T>(bias);
        long xo = x.offset, yo = y.offset, mo = mean.offset, ro = rstd.offset, wo = weight?.offset ?? 0, bo = bias?.offset ?? 0;
        CpuFused.ForChunks(rows, (r0, len) =>
        {
            for (long r = r0; r < r0 + len; r++)
            {
                var row = xd.AsSpan((int)(xo + r * cols), cols);
                var outRow = yd.AsSpan((int)(yo + r * cols), cols);
                if (typeof(T) == typeof(float))
                {
                    // float32: the same steps in three passes over the row (LayerNormRows).
                    LayerNormRows.Forward(AsFloat(row), wd is null ? default : AsFloat(wd.AsSpan((int)wo, cols)),
                        bd is null ? default : AsFloat(bd.AsSpan((int)bo, cols)), eps, AsFloat(outRow), out float fm, out float fr);
                    md[mo + r] = T.CreateTruncating(fm);
                    rd[ro + r] = T.CreateTruncating(fr);
                    continue;
                }
                double mu = double.CreateTruncating(TensorPrimitives.Sum<T>(row)) / cols;
                T tmu = T.CreateTruncating(mu);
                TensorPrimitives.Subtract(row, tmu, outRow);
                double v = double.CreateTruncating(TensorPrimitives.SumOfSquares<T>(outRow)) / cols;
                double rs = 1 / Math.Sqrt(v + eps);
                md[mo + r] = tmu;
                rd[ro + r] = T.CreateTruncating(rs);
                TensorPrimitives.Multiply(outRow, T.CreateTruncating(rs), outRow);
                if (wd != null) TensorPrimitives.Multiply(outRow, wd.AsSpan((int)wo, cols), outRow);
                if (bd != null) TensorPrimitives.Add(outRow, bd.AsSpan((int)bo, cols), outRow);
            }
        }, cols);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor gradX, Tensor? gradWeight, Tensor? gradBias)
    {
        if (ReducedPrecision.Any(grad, x, weight)) { CompositeKernels.LayerNormBackward(this, grad, x, mean, rstd, weight, gradX, gradWeight, gradBias); return; }
        RequireFloat("LayerNormBackward", x);
        if (x.DType == DType.Float32) LayerNormBackwardT<float>(grad, x, mean, rstd, weight, gradX, gradWeight, gradBias);
        else LayerNormBackwardT<double>(grad, x, mean, rstd, weight, gradX, gradWeight, gradBias);
    }

    // gx = rstd·(g·w − mean(g·w) − x̂·mean(g·w·x̂)), x̂ = (x − μ)·rstd; gw = Σ_rows g·x̂; gb = Σ_rows g.
    // Vectorized per row. gw/gb: each fixed block of rows (64; more for very large inputs, CpuFused.SumBlockRows) is summed in T into
    // its own slot, the slots are then added in double in block order, so the sums do not depend on the thread count (the
    // blocks used to restart at every thread's chunk, which made gw and gb differ between thread counts).
    private static void LayerNormBackwardT<T>(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor gradX, Tensor? gradWeight, Tensor? gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = (int)x.shape[^1];
        long rows = cols == 0 ? 0 : x.Numel / cols;
        T[] gd = Data<T>(grad), xd = Data<T>(x), md = Data<T>(mean), rd = Data<T>(rstd), gxd = Data<T>(gradX);
        T[]? wd = weight is null ? null : Data<T>(weight);
        long go = grad.offset, xo = x.offset, mo = mean.offset, ro = rstd.offset, gxo = gradX.offset, wo = weight?.offset ?? 0;
        bool wantParams = gradWeight is not null || gradBias is not null;

        // Rows [r0, r0 + len): gx, and (wantParams) Σ g·x̂ and Σ g added into blockW / blockB.
        void Rows(long r0, long len, Span<T> blockW, Span<T> blockB)
        {
            // Per-call scratch from the shared array pool (per-thread caches: no allocation once warm), cut to cols.
            T[] hArray = ArrayPool<T>.Shared.Rent(cols), gwArray = ArrayPool<T>.Shared.Rent(cols);
            Span<T> h = hArray.AsSpan(0, cols), gw = gwArray.AsSpan(0, cols);
            for (long r = r0; r < r0 + len; r++)
            {
                T mu = md[mo + r], rs = rd[ro + r];
                var g = gd.AsSpan((int)(go + r * cols), cols);
                var xr = xd.AsSpan((int)(xo + r * cols), cols);
                var gx = gxd.AsSpan((int)(gxo + r * cols), cols);
                if (typeof(T) == typeof(float))
                {
                    // float32: the same formula fused into two passes over the row (LayerNormRows).
                    LayerNormRows.Backward(AsFloat(g), AsFloat(xr), wd is null ? default : AsFloat(wd.AsSpan((int)wo, cols)),
                        float.CreateTruncating(mu), float.CreateTruncating(rs), AsFloat(gx),
                        wantParams ? AsFloat(blockW) : default, wantParams ? AsFloat(blockB) : default, wantParams);
                    continue;
                }
                TensorPrimitives.Subtract(xr, mu, h);
                TensorPrimitives.Multiply(h, rs, h);                      // x̂
                if (wd != null) TensorPrimitives.Multiply(g, wd.AsSpan((int)wo, cols), gw); else g.CopyTo(gw);
                double s1 = double.CreateTruncating(TensorPrimitives.Sum<T>(gw)) / cols;
                double s2 = double.CreateTruncating(TensorPrimitives.Dot<T>(gw, h)) / cols;
                // gx = rs·gw − rs·s1 − (rs·s2)·x̂
                TensorPrimitives.Multiply(h, T.CreateTruncating(-double.CreateTruncating(rs) * s2), gx);
                TensorPrimitives.MultiplyAdd(gw, rs, gx, gx);
                TensorPrimitives.Add(gx, T.CreateTruncating(-double.CreateTruncating(rs) * s1), gx);
                if (wantParams)
                {
                    TensorPrimitives.MultiplyAdd(g, h, blockW, blockW);
                    TensorPrimitives.Add(blockB, g, blockB);
                }
            }
            ArrayPool<T>.Shared.Return(hArray); ArrayPool<T>.Shared.Return(gwArray);
        }

        if (!wantParams)
        {
            CpuFused.ForChunks(rows, (r0, len) => Rows(r0, len, default, default), cols);
            return;
        }
        long block = CpuFused.SumBlockRows(rows, cols);
        int blocks = (int)((rows + block - 1) / block);
        T[] sumW = ArrayPool<T>.Shared.Rent(blocks * cols), sumB = ArrayPool<T>.Shared.Rent(blocks * cols);
        CpuParallel.For(blocks, block * cols, (b0, count) =>
        {
            for (long b = b0; b < b0 + count; b++)
            {
                Span<T> bw = sumW.AsSpan((int)(b * cols), cols), bb = sumB.AsSpan((int)(b * cols), cols);
                bw.Clear(); bb.Clear();
                Rows(b * block, Math.Min(block, rows - b * block), bw, bb);
            }
        });
        var accW = RentZeroed(cols); var accB = RentZeroed(cols);
        for (int b = 0; b < blocks; b++)
            for (int j = 0; j < cols; j++) { accW[j] += double.CreateTruncating(sumW[b * cols + j]); accB[j] += double.CreateTruncating(sumB[b * cols + j]); }
        if (gradWeight is not null) { var a = Data<T>(gradWeight); for (int j = 0; j < cols; j++) a[gradWeight.offset + j] = T.CreateTruncating(accW[j]); }
        if (gradBias is not null) { var a = Data<T>(gradBias); for (int j = 0; j < cols; j++) a[gradBias.offset + j] = T.CreateTruncating(accB[j]); }
        ArrayPool<T>.Shared.Return(sumW); ArrayPool<T>.Shared.Return(sumB);
        ArrayPool<double>.Shared.Return(accW); ArrayPool<double>.Shared.Return(accB);
    }

    // A pooled double array whose first n elements are zero (the rest is stale and unused).
    private static double[] RentZeroed(int n)
    {
        var a = ArrayPool<double>.Shared.Rent(n);
        Array.Clear(a, 0, n);
        return a;
    }

    private static Span<float> AsFloat<T>(Span<T> s) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(s);

    /// <inheritdoc/>
    public void Im2Col(Tensor x, ConvGeometry geometry, Tensor columns)
    {
        if (ReducedPrecision.Any(x)) { CompositeKernels.Im2Col(this, x, geometry, columns); return; }
        RequireFloat("Im2Col", x);
        if (x.DType == DType.Float32) Im2ColT<float>(x, geometry, columns, false);
        else Im2ColT<double>(x, geometry, columns, false);
    }

    /// <inheritdoc/>
    public void Col2Im(Tensor columns, ConvGeometry geometry, Tensor x)
    {
        if (ReducedPrecision.Any(columns)) { CompositeKernels.Col2Im(this, columns, geometry, x); return; }
        RequireFloat("Col2Im", x);
        if (x.DType == DType.Float32) Im2ColT<float>(x, geometry, columns, true);
        else Im2ColT<double>(x, geometry, columns, true);
    }

    // One (n, c) plane per task: for every kernel offset (ki, kj) the row c·kH·kW + ki·kW + kj of the columns
    // holds x[n, c, oh·sH − pH + ki·dH, ow·sW − pW + kj·dW] (0 outside). Col2Im runs the same loop backwards,
    // summing into x; planes are disjoint, so tasks never write the same element.
    private static void Im2ColT<T>(Tensor x, ConvGeometry g, Tensor columns, bool reverse) where T : unmanaged, INumber<T>
    {
        long n = x.shape[0];
        int c = g.Channels, h = g.Height, w = g.Width, oh = g.OutH, ow = g.OutW, kk = g.KernelH * g.KernelW;
        T[] xd = Data<T>(x), cd = Data<T>(columns);
        long xo = x.offset, co = columns.offset;
        long planeCols = (long)kk * oh * ow;
        ForRows(n * c, planeCols, p =>
        {
            long nIdx = p / c, ch = p % c;
            long xBase = xo + (long)p * h * w;
            long cBase = co + nIdx * c * planeCols + ch * planeCols;
            if (reverse) xd.AsSpan((int)xBase, h * w).Clear();
            for (int ki = 0; ki < g.KernelH; ki++)
                for (int kj = 0; kj < g.KernelW; kj++)
                {
                    long rowBase = cBase + (long)(ki * g.KernelW + kj) * oh * ow;
                    for (int y = 0; y < oh; y++)
                    {
                        int iy = y * g.StrideH - g.PadH + ki * g.DilationH;
                        long rb = rowBase + (long)y * ow;
                        if (iy < 0 || iy >= h)
                        {
                            if (!reverse) cd.AsSpan((int)rb, ow).Clear();
                            continue;
                        }
                        long xr = xBase + (long)iy * w;
                        if (g.StrideW == 1)
                        {
                            // ix = xx + shift: the valid xx form one run [lo, hi), copied (or added) as a span.
                            int shift = kj * g.DilationW - g.PadW;
                            int lo = Math.Clamp(-shift, 0, ow), hi = Math.Clamp(w - shift, lo, ow);
                            if (reverse)
                            {
                                if (hi > lo)
                                {
                                    var dst = xd.AsSpan((int)(xr + lo + shift), hi - lo);
                                    var src = cd.AsSpan((int)(rb + lo), hi - lo);
                                    for (int q = 0; q < dst.Length; q++) dst[q] += src[q];
                                }
                            }
                            else
                            {
                                if (lo > 0) cd.AsSpan((int)rb, lo).Clear();
                                if (hi > lo) xd.AsSpan((int)(xr + lo + shift), hi - lo).CopyTo(cd.AsSpan((int)(rb + lo), hi - lo));
                                if (hi < ow) cd.AsSpan((int)(rb + hi), ow - hi).Clear();
                            }
                            continue;
                        }
                        for (int xx = 0; xx < ow; xx++)
                        {
                            int ix = xx * g.StrideW - g.PadW + kj * g.DilationW;
                            if (ix < 0 || ix >= w) { if (!reverse) cd[rb + xx] = T.Zero; continue; }
                            if (reverse) xd[xr + ix] += cd[rb + xx];
                            else cd[rb + xx] = xd[xr + ix];
                        }
                    }
                }
        });
    }

    /// <inheritdoc/>
    /// <remarks>The 2×2 vector kernel's backward recomputes each window's argmax from x, so it needs no indices.</remarks>
    public bool MaxPool2dUsesIndices(Tensor x, PoolGeometry geometry) => !CpuMaxPool2x2.Applies(x, geometry);

    /// <inheritdoc/>
    /// <remarks>2×2/stride-2 float32 windows take a vector kernel that writes no indices: its backward recomputes the argmax from x.</remarks>
    public void MaxPool2d(Tensor x, PoolGeometry geometry, Tensor result, Tensor? indices)
    {
        if (ReducedPrecision.Any(x)) { CompositeKernels.MaxPool2d(this, x, geometry, result, indices); return; }
        RequireFloat("MaxPool2d", x);
        if (CpuMaxPool2x2.Applies(x, geometry)) { CpuMaxPool2x2.Forward(x, geometry, result); return; }
        ArgumentNullException.ThrowIfNull(indices);
        if (x.DType == DType.Float32) MaxPoolT<float>(x, geometry, result, indices);
        else MaxPoolT<double>(x, geometry, result, indices);
    }

    private static void MaxPoolT<T>(Tensor x, PoolGeometry g, Tensor result, Tensor indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long planes = x.Numel / ((long)g.Height * g.Width);
        T[] xd = Data<T>(x), rd = Data<T>(result);
        long[] id = Data<long>(indices);
        long xo = x.offset, ro = result.offset, io = indices.offset;
        if (g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0
            && g.OutH * 2 <= g.Height && g.OutW * 2 <= g.Width)
        {
            // The common 2×2 / stride 2 window without padding: 16 windows per AVX-512 step for float32, the rest
            // (or everything elsewhere) four loads per window without bounds checks.
            int start = typeof(T) == typeof(float) && CpuMaxPool2x2.IsSupported
                ? CpuMaxPool2x2.Forward((float[])(object)xd, xo, (float[])(object)rd, id, ro, io, planes, g.Height, g.Width, g.OutH, g.OutW)
                : 0;
            if (start == g.OutW) return;
            ForRows(planes, (long)g.OutH * (g.OutW - start) * 4, p =>
            {
                long xb = xo + (long)p * g.Height * g.Width, ob = (long)p * g.OutH * g.OutW;
                for (int oy = 0; oy < g.OutH; oy++)
                {
                    long r0 = xb + (long)(2 * oy) * g.Width, r1 = r0 + g.Width;
                    long fo = (long)(2 * oy) * g.Width;
                    for (int ox = start; ox < g.OutW; ox++)
                    {
                        int c0 = 2 * ox;
                        T best = xd[r0 + c0]; long bi = fo + c0;
                        // Same order and NaN rule as the general loop: the first NaN wins, ties keep the first.
                        if (!T.IsNaN(best))
                        {
                            T v = xd[r0 + c0 + 1]; if (v > best || T.IsNaN(v)) { best = v; bi = fo + c0 + 1; }
                            if (!T.IsNaN(best)) { v = xd[r1 + c0]; if (v > best || T.IsNaN(v)) { best = v; bi = fo + g.Width + c0; } }
                            if (!T.IsNaN(best)) { v = xd[r1 + c0 + 1]; if (v > best || T.IsNaN(v)) { best = v; bi = fo + g.Width + c0 + 1; } }
                        }
                        rd[ro + ob + (long)oy * g.OutW + ox] = best;
                        id[io + ob + (long)oy * g.OutW + ox] = bi;
                    }
                }
            });
            return;
        }
        ForRows(planes, (long)g.OutH * g.OutW * g.KernelH * g.KernelW, p =>
        {
            long xb = xo + (long)p * g.Height * g.Width, ob = (long)p * g.OutH * g.OutW;
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int y0 = oy * g.StrideH - g.PadH, x0 = ox * g.StrideW - g.PadW;
                    T best = T.NegativeInfinity; long bi = -1;
                    for (int ky = Math.Max(0, -y0); ky < g.KernelH && y0 + ky < g.Height; ky++)
                        for (int kx = Math.Max(0, -x0); kx < g.KernelW && x0 + kx < g.Width; kx++)
                        {
                            long flat = (long)(y0 + ky) * g.Width + x0 + kx;
                            T v = xd[xb + flat];
                            // NaN wins (propagates) like PyTorch; ties keep the first position.
                            if (v > best || T.IsNaN(v) || bi < 0) { best = v; bi = flat; if (T.IsNaN(v)) goto done; }
                        }
                    done:
                    rd[ro + ob + (long)oy * g.OutW + ox] = best;
                    id[io + ob + (long)oy * g.OutW + ox] = bi;
                }
        });
    }

    /// <inheritdoc/>
    public void MaxPool2dBackward(Tensor grad, Tensor x, Tensor? indices, PoolGeometry geometry, Tensor gradInput)
    {
        if (ReducedPrecision.Any(grad)) { CompositeKernels.MaxPool2dBackward(this, grad, indices, geometry, gradInput); return; }
        RequireFloat("MaxPool2dBackward", grad);
        if (CpuMaxPool2x2.Applies(x, geometry)) { CpuMaxPool2x2.Backward(grad.ContiguousRaw(), x, geometry, gradInput); return; }
        ArgumentNullException.ThrowIfNull(indices);
        if (grad.DType == DType.Float32) MaxPoolBackT<float>(grad, indices, geometry, gradInput);
        else MaxPoolBackT<double>(grad, indices, geometry, gradInput);
    }

    private static void MaxPoolBackT<T>(Tensor grad, Tensor indices, PoolGeometry g, Tensor gradInput) where T : unmanaged, INumber<T>
    {
        long hw = (long)g.Height * g.Width, ohw = (long)g.OutH * g.OutW;
        long planes = gradInput.Numel / hw;
        T[] gd = Data<T>(grad), xd = Data<T>(gradInput);
        long[] id = Data<long>(indices);
        long go = grad.offset, xo = gradInput.offset, io = indices.offset;
        if (typeof(T) == typeof(float) && CpuMaxPool2x2.IsSupported && g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2
            && g.PadH == 0 && g.PadW == 0 && g.Height == 2 * g.OutH && g.Width == 2 * g.OutW)
        {
            // Windows tile the plane exactly: every element of gx is written once (g or 0), no clearing pass.
            CpuMaxPool2x2.Backward((float[])(object)gd, go, id, io, (float[])(object)xd, xo, planes, g.OutH, g.OutW);
            return;
        }
        ForRows(planes, ohw, p =>
        {
            long xb = xo + p * hw;
            xd.AsSpan((int)xb, (int)hw).Clear();
            for (long o = 0; o < ohw; o++)
            {
                long i = id[io + p * ohw + o];
                if (i >= 0) xd[xb + i] += gd[go + p * ohw + o];
            }
        });
    }

    /// <inheritdoc/>
    public void AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad, Tensor result)
    {
        if (ReducedPrecision.Any(x)) { CompositeKernels.AvgPool2d(this, x, geometry, countIncludePad, result); return; }
        RequireFloat("AvgPool2d", x);
        if (x.DType == DType.Float32) AvgPoolT<float>(x, geometry, countIncludePad, result, false);
        else AvgPoolT<double>(x, geometry, countIncludePad, result, false);
    }

    /// <inheritdoc/>
    public void AvgPool2dBackward(Tensor grad, PoolGeometry geometry, bool countIncludePad, Tensor gradInput)
    {
        if (ReducedPrecision.Any(grad)) { CompositeKernels.AvgPool2dBackward(this, grad, geometry, countIncludePad, gradInput); return; }
        RequireFloat("AvgPool2dBackward", grad);
        if (grad.DType == DType.Float32) AvgPoolT<float>(gradInput, geometry, countIncludePad, grad, true);
        else AvgPoolT<double>(gradInput, geometry, countIncludePad, grad, true);
    }

    // PyTorch's window rule: [y0, min(y0 + k, H + pad)) gives the padded size; clipped to [0, H) gives the real one.
    // backward = true spreads out[o]/divisor back over the window into x (x overwritten).
    private static void AvgPoolT<T>(Tensor x, PoolGeometry g, bool countIncludePad, Tensor outT, bool backward) where T : unmanaged, INumber<T>
    {
        long hw = (long)g.Height * g.Width, ohw = (long)g.OutH * g.OutW;
        long planes = x.Numel / hw;
        T[] xd = Data<T>(x), od = Data<T>(outT);
        long xo = x.offset, oo = outT.offset;
        ForRows(planes, ohw * g.KernelH * g.KernelW, p =>
        {
            long xb = xo + p * hw, ob = oo + p * ohw;
            if (backward) xd.AsSpan((int)xb, (int)hw).Clear();
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int ys = oy * g.StrideH - g.PadH, xs = ox * g.StrideW - g.PadW;
                    int ye = Math.Min(ys + g.KernelH, g.Height + g.PadH), xe = Math.Min(xs + g.KernelW, g.Width + g.PadW);
                    int padded = (ye - ys) * (xe - xs);
                    ys = Math.Max(ys, 0); xs = Math.Max(xs, 0); ye = Math.Min(ye, g.Height); xe = Math.Min(xe, g.Width);
                    int div = countIncludePad ? padded : (ye - ys) * (xe - xs);
                    if (div <= 0) { if (!backward) od[ob + (long)oy * g.OutW + ox] = T.Zero; continue; }
                    T inv = T.One / T.CreateTruncating(div);
                    if (backward)
                    {
                        T v = od[ob + (long)oy * g.OutW + ox] * inv;
                        for (int yy = ys; yy < ye; yy++)
                            for (int xx = xs; xx < xe; xx++) xd[xb + (long)yy * g.Width + xx] += v;
                    }
                    else
                    {
                        T s = T.Zero;
                        for (int yy = ys; yy < ye; yy++)
                            for (int xx = xs; xx < xe; xx++) s += xd[xb + (long)yy * g.Width + xx];
                        od[ob + (long)oy * g.OutW + ox] = s * inv;
                    }
                }
        });
    }
}
