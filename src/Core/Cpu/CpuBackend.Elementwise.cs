using System.Buffers;
using Ember.Operators;

namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, Tensor x, Tensor result, double alpha = 0, double beta = 0)
    {
        if (op is UnaryOp.IsNan or UnaryOp.IsInf)
        {
            if (x.DType == DType.Float32) Predicate<float>(x, result, op == UnaryOp.IsNan ? float.IsNaN : float.IsInfinity);
            else if (x.DType == DType.Float64) Predicate<double>(x, result, op == UnaryOp.IsNan ? double.IsNaN : double.IsInfinity);
            else if (x.DType == DType.Float16) Predicate<Half>(x, result, op == UnaryOp.IsNan ? Half.IsNaN : Half.IsInfinity);
            else if (x.DType == DType.BFloat16) Predicate<BFloat16>(x, result, op == UnaryOp.IsNan ? BFloat16.IsNaN : BFloat16.IsInfinity);
            else Fill(result, 0);
            return;
        }
        var rows = new UnaryRows(x, result);
        // Float16/BFloat16 run the float32 struct (their compute type) over widened rows.
        if (UnaryOperators.TryVisitFloat(op, x.DType.ComputeType(), alpha, beta, ref rows) || UnaryOperators.TryVisitInteger(op, x.DType, alpha, beta, ref rows)) return;
        if (x.DType == DType.Bool && op == UnaryOp.LogicalNot) RunRows<bool>(x, result, (s, d) => { for (int i = 0; i < s.Length; i++) d[i] = !s[i]; });
        else throw new NotSupportedException($"CPU backend: unary op {op} is not defined for {x.DType}.");
    }

    /// <summary>Runs a unary operator struct over every row of x → result (contiguous rows in place, others gathered).</summary>
    private readonly struct UnaryRows(Tensor x, Tensor result) : IUnaryOperatorVisitor
    {
        private readonly Tensor x = x, result = result;

        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T>
        {
            if (x.DType.IsReducedPrecision()) DTypeDispatch.Visit(x.DType, new NarrowUnaryRows<T, TOp>(op, x, result));
            else RunRows<T>(x, result, (s, d) => op.Invoke(s, d));
        }
    }

    // The float32 operator (T = float) over Float16 or BFloat16 rows (TN, the storage type): widen, compute, round back.
    private readonly struct NarrowUnaryRows<T, TOp>(TOp op, Tensor x, Tensor result) : IDTypeVisitor
        where T : unmanaged where TOp : struct, IUnaryOperator<T>
    {
        public void Visit<TN>() where TN : unmanaged
        {
            var o = op;
            RunRows<TN>(x, result, (s, d) => NarrowConvert.Unary<TN, T, TOp>(o, s, d));
        }
    }

    // The float32 operator (T = float) over Float16 or BFloat16 rows of a, b → result.
    private readonly struct NarrowBinaryRows<T, TOp>(TOp op, Tensor a, Tensor b, Tensor result) : IDTypeVisitor
        where T : unmanaged where TOp : struct, IBinaryOperator<T>
    {
        public void Visit<TN>() where TN : unmanaged
        {
            var o = op;
            RunRows2<TN, TN>(a, b, result, (x, y, d) => NarrowConvert.Binary<TN, T, TOp>(o, x, y, d));
        }
    }

    /// <summary>Runs a binary operator struct over every row of a, b → result.</summary>
    private readonly struct BinaryRows(Tensor a, Tensor b, Tensor result) : IBinaryOperatorVisitor
    {
        private readonly Tensor a = a, b = b, result = result;

        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IBinaryOperator<T>
        {
            if (a.DType.IsReducedPrecision()) DTypeDispatch.Visit(a.DType, new NarrowBinaryRows<T, TOp>(op, a, b, result));
            else RunRows2<T, T>(a, b, result, (x, y, d) => op.Invoke(x, y, d));
        }
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor result)
    {
        var rows = new BinaryRows(a, b, result);
        if (result.DType == a.DType && (BinaryOperators.TryVisitFloat(op, a.DType.ComputeType(), ref rows) || BinaryOperators.TryVisitInteger(op, a.DType, ref rows))) return;
        DTypeDispatch.Visit(a.DType, new BinaryKernelRows(op, a, b, result));
    }

    /// <summary>Comparisons (any dtype, Bool result) and the logical ops of Bool operands, by <see cref="BinaryKernels"/>.</summary>
    private readonly struct BinaryKernelRows(BinaryOp op, Tensor a, Tensor b, Tensor result) : IDTypeVisitor
    {
        public void Visit<T>() where T : unmanaged
        {
            var binaryOp = op;
            if (result.DType == DType.Bool && typeof(T) != typeof(bool))
                RunRows2<T, bool>(a, b, result, (x, y, d) => BinaryKernels.Compare(binaryOp, x, y, d));
            else
                RunRows2<T, T>(a, b, result, (x, y, d) => BinaryKernels.Logical(binaryOp, x, y, d));
        }
    }

    /// <inheritdoc/>
    public void Where(Tensor condition, Tensor a, Tensor b, Tensor result)
    {
        DTypeDispatch.Visit(a.DType, new WhereRows(condition, a, b, result));
    }

    private readonly struct WhereRows(Tensor condition, Tensor a, Tensor b, Tensor result) : IDTypeVisitor
    {
        public void Visit<T>() where T : unmanaged => WhereTyped<T>(condition, a, b, result);
    }

    private static void WhereTyped<T>(Tensor c, Tensor a, Tensor b, Tensor result) where T : unmanaged
    {
        var cd = Data<bool>(c); var ad = Data<T>(a); var bd = Data<T>(b); var rd = Data<T>(result);
        var layout = new StridedLayout(result.shape, c, a, b, result);
        layout.ForRows((r0, r1) =>
        {
            long cs = layout.Inner(0), as_ = layout.Inner(1), bs = layout.Inner(2), rs = layout.Inner(3);
            for (long r = r0; r < r1; r++)
            {
                long co = layout.RowOffset(0, r), ao = layout.RowOffset(1, r), bo = layout.RowOffset(2, r), ro = layout.RowOffset(3, r);
                for (int i = 0; i < layout.RowLength; i++)
                    rd[ro + i * rs] = cd[co + i * cs] ? ad[ao + i * as_] : bd[bo + i * bs];
            }
        });
    }

    private static void Predicate<T>(Tensor x, Tensor result, Func<T, bool> pred) where T : unmanaged
    {
        var xd = Data<T>(x); var rd = Data<bool>(result);
        var layout = new StridedLayout(result.shape, x, result);
        layout.ForRows((r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                long xo = layout.RowOffset(0, r), ro = layout.RowOffset(1, r);
                for (int i = 0; i < layout.RowLength; i++) rd[ro + i * layout.Inner(1)] = pred(xd[xo + i * layout.Inner(0)]);
            }
        });
    }

    internal delegate void RowKernel<TIn, TOut>(ReadOnlySpan<TIn> x, Span<TOut> y);
    internal delegate void RowKernel2<TIn, TOut>(ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> b, Span<TOut> y);

    /// <summary>
    /// Runs a row kernel over x → result. Unit-stride rows are passed as spans of the arrays; other rows
    /// are gathered into pooled buffers and scattered back, so every kernel sees contiguous spans.
    /// </summary>
    internal static void RunRows<T>(Tensor x, Tensor result, RowKernel<T, T> kernel) where T : unmanaged
    {
        var xd = Data<T>(x); var rd = Data<T>(result);
        var layout = new StridedLayout(result.shape, x, result);
        int n = layout.RowLength;
        if (layout.Rows == 1 && layout.Inner(0) == 1 && layout.Inner(1) == 1)
        {
            // One contiguous run (every contiguous tensor coalesces to this): split it into chunks over the threads,
            // which ForRows (parallel over rows only) cannot.
            long xo = layout.RowOffset(0, 0), ro = layout.RowOffset(1, 0);
            CpuFused.ForChunks(n, (s, len) => kernel(xd.AsSpan((int)xo + s, len), rd.AsSpan((int)ro + s, len)));
            return;
        }
        layout.ForRows((r0, r1) =>
        {
            long xs = layout.Inner(0), rs = layout.Inner(1);
            T[]? bx = xs == 1 ? null : ArrayPool<T>.Shared.Rent(n);
            T[]? br = rs == 1 ? null : ArrayPool<T>.Shared.Rent(n);
            for (long r = r0; r < r1; r++)
            {
                long xo = layout.RowOffset(0, r), ro = layout.RowOffset(1, r);
                ReadOnlySpan<T> sx = bx == null ? xd.AsSpan((int)xo, n) : Gather(xd, xo, xs, bx, n);
                Span<T> sr = br == null ? rd.AsSpan((int)ro, n) : br.AsSpan(0, n);
                kernel(sx, sr);
                if (br != null) Scatter(br, rd, ro, rs, n);
            }
            if (bx != null) ArrayPool<T>.Shared.Return(bx);
            if (br != null) ArrayPool<T>.Shared.Return(br);
        });
    }

    /// <summary>Two-input version of <see cref="RunRows{T}"/>; the output element type may differ (comparisons).</summary>
    internal static void RunRows2<T, TOut>(Tensor a, Tensor b, Tensor result, RowKernel2<T, TOut> kernel)
        where T : unmanaged where TOut : unmanaged
    {
        var ad = Data<T>(a); var bd = Data<T>(b); var rd = Data<TOut>(result);
        var layout = new StridedLayout(result.shape, a, b, result);
        int n = layout.RowLength;
        if (layout.Rows == 1 && layout.Inner(0) == 1 && layout.Inner(1) == 1 && layout.Inner(2) == 1)
        {
            // One contiguous run: chunks over the threads (see RunRows).
            long ao = layout.RowOffset(0, 0), bo = layout.RowOffset(1, 0), ro = layout.RowOffset(2, 0);
            CpuFused.ForChunks(n, (s, len) => kernel(ad.AsSpan((int)ao + s, len), bd.AsSpan((int)bo + s, len), rd.AsSpan((int)ro + s, len)));
            return;
        }
        layout.ForRows((r0, r1) =>
        {
            long as_ = layout.Inner(0), bs = layout.Inner(1), rs = layout.Inner(2);
            T[]? ba = as_ == 1 ? null : ArrayPool<T>.Shared.Rent(n);
            T[]? bb = bs == 1 ? null : ArrayPool<T>.Shared.Rent(n);
            TOut[]? br = rs == 1 ? null : ArrayPool<TOut>.Shared.Rent(n);
            for (long r = r0; r < r1; r++)
            {
                long ao = layout.RowOffset(0, r), bo = layout.RowOffset(1, r), ro = layout.RowOffset(2, r);
                ReadOnlySpan<T> sa = ba == null ? ad.AsSpan((int)ao, n) : Gather(ad, ao, as_, ba, n);
                ReadOnlySpan<T> sb = bb == null ? bd.AsSpan((int)bo, n) : Gather(bd, bo, bs, bb, n);
                Span<TOut> sr = br == null ? rd.AsSpan((int)ro, n) : br.AsSpan(0, n);
                kernel(sa, sb, sr);
                if (br != null) Scatter(br, rd, ro, rs, n);
            }
            if (ba != null) ArrayPool<T>.Shared.Return(ba);
            if (bb != null) ArrayPool<T>.Shared.Return(bb);
            if (br != null) ArrayPool<TOut>.Shared.Return(br);
        });
    }

    private static ReadOnlySpan<T> Gather<T>(T[] src, long offset, long stride, T[] buffer, int n)
    {
        if (stride == 0) buffer.AsSpan(0, n).Fill(src[offset]);
        else for (int i = 0; i < n; i++) buffer[i] = src[offset + i * stride];
        return buffer.AsSpan(0, n);
    }

    private static void Scatter<T>(T[] buffer, T[] dst, long offset, long stride, int n)
    {
        for (int i = 0; i < n; i++) dst[offset + i * stride] = buffer[i];
    }
}
