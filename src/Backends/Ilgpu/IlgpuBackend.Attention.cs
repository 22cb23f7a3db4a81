using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;
using AK = Ember.Ilgpu.Ops.AttentionKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>
    /// Scaled dot-product attention in one launch (<see cref="AttentionKernels.Forward{TS, T, R, S}"/>) for float32 and
    /// float64, and for Float16/BFloat16 (autocast's attention: q, k, v read and P, output written as 16-bit, computed in
    /// float32 with the raw scores in a float32 scratch), with head widths up to <see cref="AttentionKernels.MaxHeadDim"/>
    /// on CUDA and the CPU accelerator; q, k and v may be strided views (permuted heads are read in place). Other cases
    /// run <see cref="CompositeKernels.Attention"/>.
    /// </summary>
    public void Attention(Tensor q, Tensor k, Tensor v, double scale, bool causal, Tensor probabilities, Tensor output)
    {
        bool narrow = ReducedPrecisionAttentionFits(q, k, v) && probabilities.DType == q.DType && output.DType == q.DType;
        if (ReducedPrecision.Any(q, k, v, probabilities, output) && !narrow)
        {
            ReducedPrecision.ViaFloat32(this, [q, k, v], [probabilities, output],
                (i, o) => Attention(i[0]!, i[1]!, i[2]!, scale, causal, o[0]!, o[1]!), overwritten: true);
            return;
        }
        if (!narrow && !AttentionFits(q, k, v) || !AttentionLayout(q, [q, k, v, probabilities, output], out var geo, out var ops)
            && !AttentionLayout(q, [q = Contig(q), k = Contig(k), v = Contig(v), probabilities, output], out geo, out ops))
        {
            CompositeKernels.Attention(this, q, k, v, scale, causal, probabilities, output);
            return;
        }
        var d = Dev(q);
        var x = new AttentionOperands { Q = ops[0], K = ops[1], V = ops[2], P = ops[3], O = ops[4] };
        geo.Causal = causal ? 1 : 0;
        var config = AttentionLaunch(d, geo.L, ref geo);
        // 16-bit: the raw scores go to a float32 scratch as long as P's storage (the kernel addresses both with x.P), so
        // they are exponentiated unrounded and P is rounded once, as the float32 kernel between conversions did.
        var scores = narrow ? Tensor.Empty([probabilities.Storage.Length], DType.Float32, q.Device) : probabilities;
        if (q.DType == DType.Float16) F<ushort, float, F32, Narrowed<F16>>((float)scale);
        else if (narrow) F<ushort, float, F32, Narrowed<BF16>>((float)scale);
        else if (q.DType == DType.Float32) F<float, float, F32, Plain<float>>((float)scale);
        else F<double, double, F64, Plain<double>>(scale);

        void F<TS, T, R, S>(T s) where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T> =>
            LoadGroupedKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, ArrayView<T>, ArrayView<TS>, ArrayView<TS>, AttentionGeometry, AttentionOperands, T>(d, AK.Forward<TS, T, R, S>)(
                config, ViewOf<TS>(q), ViewOf<TS>(k), ViewOf<TS>(v), ViewOf<T>(scores), ViewOf<TS>(probabilities), ViewOf<TS>(output), geo, x, s);
    }

    /// <summary>
    /// Gradients of <see cref="Attention"/> from the saved probabilities in two launches
    /// (<see cref="AttentionKernels.RowsBackward{TS, T, R, S}"/>, then <see cref="AttentionKernels.ColumnsBackward{TS, T, R, S}"/>),
    /// also for Float16/BFloat16 operands (read and written as 16-bit, computed in float32 with dS in a float32 scratch);
    /// grad, q, k, v and the gradient outputs may be strided views. Other cases run <see cref="CompositeKernels.AttentionBackward"/>.
    /// </summary>
    public void AttentionBackward(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale, bool causal,
        Tensor gradQ, Tensor gradK, Tensor gradV)
    {
        bool narrow = ReducedPrecisionAttentionFits(q, k, v) && grad.DType == q.DType && probabilities.DType == q.DType
            && gradQ.DType == q.DType && gradK.DType == q.DType && gradV.DType == q.DType;
        if (ReducedPrecision.Any(grad, q, k, v, probabilities, gradQ, gradK, gradV) && !narrow)
        {
            ReducedPrecision.ViaFloat32(this, [grad, q, k, v, probabilities], [gradQ, gradK, gradV],
                (i, o) => AttentionBackward(i[0]!, i[1]!, i[2]!, i[3]!, i[4]!, scale, causal, o[0]!, o[1]!, o[2]!), overwritten: true);
            return;
        }
        if (!narrow && (!AttentionFits(q, k, v) || grad.DType != q.DType || probabilities.DType != q.DType))
        {
            CompositeKernels.AttentionBackward(this, grad, q, k, v, probabilities, scale, causal, gradQ, gradK, gradV);
            return;
        }
        // dS [*, L, S]: scratch shared by the two kernels (dP, then dS in place), in the compute type (float32 for 16-bit
        // operands, so dP and dS are never rounded).
        var ds = Tensor.Empty(probabilities.ShapeSpan.ToArray(), narrow ? DType.Float32 : q.DType, q.Device);
        if (!AttentionLayout(q, [q, k, v, probabilities, grad, ds, gradQ, gradK, gradV], out var geo, out var ops)
            && !AttentionLayout(q, [q = Contig(q), k = Contig(k), v = Contig(v), probabilities = Contig(probabilities), grad = Contig(grad), ds, gradQ, gradK, gradV],
                out geo, out ops))
        {
            CompositeKernels.AttentionBackward(this, grad, q, k, v, probabilities, scale, causal, gradQ, gradK, gradV);
            return;
        }
        var d = Dev(q);
        var x = new AttentionOperands { Q = ops[0], K = ops[1], V = ops[2], P = ops[3], O = ops[4], DS = ops[5], DQ = ops[6], DK = ops[7], DV = ops[8] };
        // Causal: the rows kernel visits keys j ≤ i only and the columns kernel queries i ≥ j only (P = 0 elsewhere, and
        // dS = P ⊙ (…) too, so the skipped entries of ds are never written nor read).
        geo.Causal = causal ? 1 : 0;
        if (q.DType == DType.Float16) B<ushort, float, F32, Narrowed<F16>>((float)scale);
        else if (narrow) B<ushort, float, F32, Narrowed<BF16>>((float)scale);
        else if (q.DType == DType.Float32) B<float, float, F32, Plain<float>>((float)scale);
        else B<double, double, F64, Plain<double>>(scale);

        void B<TS, T, R, S>(T s) where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
        {
            var rows = geo;
            var rowConfig = AttentionLaunch(d, geo.L, ref rows);
            LoadGroupedKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, ArrayView<T>, ArrayView<TS>, AttentionGeometry, AttentionOperands, T>(d, AK.RowsBackward<TS, T, R, S>)(
                rowConfig, ViewOf<TS>(grad), ViewOf<TS>(k), ViewOf<TS>(v), ViewOf<TS>(probabilities), ViewOf<T>(ds), ViewOf<TS>(gradQ), rows, x, s);
            var cols = geo;
            var colConfig = AttentionLaunch(d, geo.S, ref cols);
            LoadGroupedKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, ArrayView<T>, ArrayView<TS>, ArrayView<TS>, AttentionGeometry, AttentionOperands>(d, AK.ColumnsBackward<TS, T, R, S>)(
                colConfig, ViewOf<TS>(grad), ViewOf<TS>(q), ViewOf<TS>(probabilities), ViewOf<T>(ds), ViewOf<TS>(gradK), ViewOf<TS>(gradV), cols, x);
        }
    }

    /// <summary>True when the attention kernels take these inputs: float32/float64 on a warp-shuffle device with 32-lane warps, D and Dv in 1..128.</summary>
    private static bool AttentionFits(Tensor q, Tensor k, Tensor v) => (q.DType == DType.Float32 || q.DType == DType.Float64) && AttentionShapeFits(q, k, v);

    /// <summary>True for Float16/BFloat16 inputs the kernels take on 16-bit storage (computing in float32).</summary>
    private static bool ReducedPrecisionAttentionFits(Tensor q, Tensor k, Tensor v) => q.DType.IsReducedPrecision() && AttentionShapeFits(q, k, v);

    private static bool AttentionShapeFits(Tensor q, Tensor k, Tensor v)
    {
        var d = Dev(q);
        if (!WarpRows(d) || d.Accelerator.WarpSize != 32) return false;
        long dim = q.ShapeSpan[^1], dv = v.ShapeSpan[^1];
        return dim >= 1 && dim <= AK.MaxHeadDim && dv >= 1 && dv <= AK.MaxHeadDim && k.DType == q.DType && v.DType == q.DType;
    }

    /// <summary>
    /// The geometry and each tensor's <see cref="AttentionOperand"/>, with the leading dims (shared by all) coalesced
    /// jointly into at most two; false when more remain (the caller copies or falls back).
    /// </summary>
    private static bool AttentionLayout(Tensor q, Tensor[] ts, out AttentionGeometry geo, out AttentionOperand[] ops)
    {
        geo = default;
        ops = new AttentionOperand[ts.Length];
        var lead = q.ShapeSpan[..^2];
        // Groups of leading dims, innermost first: (size, stride of each tensor).
        var sizes = new List<long>();
        var strides = new List<long[]>();
        for (int dim = lead.Length - 1; dim >= 0; dim--)
        {
            long n = lead[dim];
            if (n == 1) continue;
            var st = new long[ts.Length];
            for (int t = 0; t < ts.Length; t++) st[t] = ts[t].StridesSpan[dim];
            int last = sizes.Count - 1;
            bool merge = last >= 0;
            for (int t = 0; merge && t < ts.Length; t++) merge = st[t] == strides[last][t] * sizes[last];
            if (merge) sizes[last] *= n;
            else { sizes.Add(n); strides.Add(st); }
        }
        if (sizes.Count > 2) return false;
        long inner = sizes.Count > 0 ? sizes[0] : 1, outerN = sizes.Count > 1 ? sizes[1] : 1;
        for (int t = 0; t < ts.Length; t++)
        {
            var s = ts[t].StridesSpan;
            ops[t] = new AttentionOperand
            {
                Offset = ts[t].StorageOffset,
                Inner = sizes.Count > 0 ? strides[0][t] : 0,
                Outer = sizes.Count > 1 ? strides[1][t] : 0,
                Row = s[^2],
                Col = s[^1],
            };
        }
        geo = new AttentionGeometry
        {
            Inner = inner, L = q.ShapeSpan[^2], S = ts[1].ShapeSpan[^2], D = q.ShapeSpan[^1], Dv = ts[2].ShapeSpan[^1],
            Blocks = outerN * inner,   // batch count until AttentionLaunch turns it into row blocks per entry
        };
        return true;
    }

    /// <summary>
    /// <see cref="AttentionKernels.RowsPerWarp"/> rows of <paramref name="rows"/> per warp and batch entry, whole warps
    /// (<see cref="AttentionWarps"/> on a GPU, <see cref="CpuAttentionWarps"/> on the CPU accelerator): groups = batch · ⌈rows / rows per group⌉.
    /// Sets <see cref="AttentionGeometry.Blocks"/> (on entry: the batch count).
    /// </summary>
    private static KernelConfig AttentionLaunch(IlgpuDevice d, long rows, ref AttentionGeometry geo)
    {
        int warps = d.Accelerator.AcceleratorType == AcceleratorType.CPU ? CpuAttentionWarps : AttentionWarps;
        warps = Math.Max(1, Math.Min(warps, d.Accelerator.MaxNumThreadsPerGroup / 32));
        long perGroup = (long)warps * AK.RowsPerWarp;
        long batch = geo.Blocks, blocks = (rows + perGroup - 1) / perGroup, groups = batch * blocks;
        if (groups > int.MaxValue) throw new NotSupportedException($"ILGPU backend: attention over {batch} × {rows} rows needs too many groups.");
        geo.Blocks = blocks;
        return new KernelConfig(new Index1D((int)groups), new Index1D(warps * 32));
    }

    /// <summary>
    /// Warps per attention group on a GPU: 8 (32 rows share each staged key chunk; gpt's [16, 4, 128, 64] makes 256
    /// groups), or <c>EMBER_ATTENTION_WARPS</c> (1 to 16, read once) for measurements; settable by tests. Measured on an
    /// H100 (ncu, fp32 gpt step, forward / rows backward / columns backward): 2 warps 142 / 136 / 103 µs, 4 warps
    /// 96 / 94 / 71 µs, 8 warps 73 / 72 / 56 µs: fewer, larger groups stage each key chunk for more rows.
    /// </summary>
    internal static int AttentionWarps =
        int.TryParse(Environment.GetEnvironmentVariable("EMBER_ATTENTION_WARPS"), out int w) && w >= 1 && w <= 16 ? w : 8;

    /// <summary>Warps per attention group on the CPU accelerator: 2 (settable, as <see cref="AttentionWarps"/>, by tests that vary the grouping).</summary>
    internal static int CpuAttentionWarps = 2;
}
