using ILGPU;
using Ember.Ilgpu.Ops;
using Ember.Operators;
using EK = Ember.Ilgpu.Ops.ElementwiseKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public void Copy(Tensor source, Tensor destination)
    {
        long n = destination.Numel;
        if (n == 0) return;
        var (sh, s) = LayoutPlan.Plan(destination.shape, source, destination);
        var d = Dev(destination);
        if (source.DType == destination.DType)
        {
            switch (source.DType)
            {
                case DType.Float32: CopySame<float>(d, source, destination, sh, s, n); break;
                case DType.Float64: CopySame<double>(d, source, destination, sh, s, n); break;
                case DType.Int32: CopySame<int>(d, source, destination, sh, s, n); break;
                case DType.Int64: CopySame<long>(d, source, destination, sh, s, n); break;
                default: CopySame<byte>(d, source, destination, sh, s, n); break;
            }
            return;
        }
        int viaLong = !source.IsFloatingPoint && !destination.IsFloatingPoint ? 1 : 0;
        switch (source.DType)
        {
            case DType.Float32: ConvertFrom<float, F32>(d, source, destination, sh, s, n, viaLong); break;
            case DType.Float64: ConvertFrom<double, F64>(d, source, destination, sh, s, n, viaLong); break;
            case DType.Int32: ConvertFrom<int, I32>(d, source, destination, sh, s, n, viaLong); break;
            case DType.Int64: ConvertFrom<long, I64>(d, source, destination, sh, s, n, viaLong); break;
            default: ConvertFrom<byte, B8>(d, source, destination, sh, s, n, viaLong); break;
        }
    }

    private static void CopySame<T>(IlgpuDevice d, Tensor src, Tensor dst, Shape8 sh, Str8[] s, long n) where T : unmanaged =>
        K<ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8>(d, EK.Copy<T>)(Count(n), V<T>(src), V<T>(dst), sh, s[0], s[1]);

    private static void ConvertFrom<TS, NS>(IlgpuDevice d, Tensor src, Tensor dst, Shape8 sh, Str8[] s, long n, int viaLong)
        where TS : unmanaged where NS : struct, INum<TS>
    {
        switch (dst.DType)
        {
            case DType.Float32: ConvertTo<TS, NS, float, F32>(d, src, dst, sh, s, n, viaLong); break;
            case DType.Float64: ConvertTo<TS, NS, double, F64>(d, src, dst, sh, s, n, viaLong); break;
            case DType.Int32: ConvertTo<TS, NS, int, I32>(d, src, dst, sh, s, n, viaLong); break;
            case DType.Int64: ConvertTo<TS, NS, long, I64>(d, src, dst, sh, s, n, viaLong); break;
            default: ConvertTo<TS, NS, byte, B8>(d, src, dst, sh, s, n, viaLong); break;
        }
    }

    private static void ConvertTo<TS, NS, TD, ND>(IlgpuDevice d, Tensor src, Tensor dst, Shape8 sh, Str8[] s, long n, int viaLong)
        where TS : unmanaged where NS : struct, INum<TS> where TD : unmanaged where ND : struct, INum<TD> =>
        K<ArrayView<TS>, ArrayView<TD>, Shape8, Str8, Str8, int>(d, EK.Convert<TS, NS, TD, ND>)(
            Count(n), V<TS>(src), V<TD>(dst), sh, s[0], s[1], viaLong);

    /// <inheritdoc/>
    public void Fill(Tensor destination, double value)
    {
        long n = destination.Numel;
        if (n == 0) return;
        var (sh, s) = LayoutPlan.Plan(destination.shape, destination);
        var d = Dev(destination);
        switch (destination.DType)
        {
            case DType.Float32: FillT(d, destination, sh, s[0], n, (float)value); break;
            case DType.Float64: FillT(d, destination, sh, s[0], n, value); break;
            case DType.Int32: FillT(d, destination, sh, s[0], n, (int)value); break;
            case DType.Int64: FillT(d, destination, sh, s[0], n, (long)value); break;
            default: FillT(d, destination, sh, s[0], n, value != 0 ? (byte)1 : (byte)0); break;
        }
    }

    private static void FillT<T>(IlgpuDevice d, Tensor t, Shape8 sh, Str8 s, long n, T value) where T : unmanaged =>
        K<ArrayView<T>, Shape8, Str8, T>(d, EK.Fill<T>)(Count(n), V<T>(t), sh, s, value);

    /// <inheritdoc/>
    public void Unary(UnaryOp op, Tensor x, Tensor result, double alpha = 0, double beta = 0)
    {
        long n = result.Numel;
        if (n == 0) return;
        var (sh, s) = LayoutPlan.Plan(result.shape, x, result);
        var d = Dev(result);
        if (op is UnaryOp.IsNan or UnaryOp.IsInf)
        {
            int code = op == UnaryOp.IsNan ? 0 : 1;
            switch (x.DType)
            {
                case DType.Float32:
                    K<ArrayView<float>, ArrayView<byte>, Shape8, Str8, Str8, int>(d, EK.Classify<float, F32>)(Count(n), V<float>(x), V<byte>(result), sh, s[0], s[1], code);
                    break;
                case DType.Float64:
                    K<ArrayView<double>, ArrayView<byte>, Shape8, Str8, Str8, int>(d, EK.Classify<double, F64>)(Count(n), V<double>(x), V<byte>(result), sh, s[0], s[1], code);
                    break;
                default: Fill(result, 0); break;
            }
            return;
        }
        var launcher = new UnaryLauncher(d, x, result, sh, s[0], s[1], n);
        if (UnaryOperators.TryVisitFloat(op, x.DType, alpha, beta, ref launcher)) return;
        switch (x.DType)
        {
            case DType.Int32:
                K<ArrayView<int>, ArrayView<int>, Shape8, Str8, Str8, int, double, double>(d, EK.UnaryInt<int, I32>)(
                    Count(n), V<int>(x), V<int>(result), sh, s[0], s[1], (int)op, alpha, beta);
                break;
            case DType.Int64:
                K<ArrayView<long>, ArrayView<long>, Shape8, Str8, Str8, int, double, double>(d, EK.UnaryInt<long, I64>)(
                    Count(n), V<long>(x), V<long>(result), sh, s[0], s[1], (int)op, alpha, beta);
                break;
            case DType.Bool when op == UnaryOp.LogicalNot:
                K<ArrayView<byte>, ArrayView<byte>, Shape8, Str8, Str8>(d, EK.Not)(Count(n), V<byte>(x), V<byte>(result), sh, s[0], s[1]);
                break;
            default: throw new NotSupportedException($"ILGPU backend: unary op {op} is not defined for {x.DType}.");
        }
    }

    /// <summary>Launches the one generic unary kernel <see cref="EK.Map{T, TOp}"/> for an operator struct.</summary>
    private readonly struct UnaryLauncher(IlgpuDevice device, Tensor x, Tensor result, Shape8 shape, Str8 xStrides, Str8 resultStrides, long count)
        : IUnaryOperatorVisitor
    {
        private readonly IlgpuDevice device = device;
        private readonly Tensor x = x, result = result;
        private readonly Shape8 shape = shape;
        private readonly Str8 xStrides = xStrides, resultStrides = resultStrides;
        private readonly long count = count;

        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T> =>
            K<ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, TOp>(device, EK.Map<T, TOp>)(
                Count(count), V<T>(x), V<T>(result), shape, xStrides, resultStrides, op);
    }

    /// <summary>Launches the one generic binary kernel <see cref="EK.Combine{T, TOp}"/> for an operator struct.</summary>
    private readonly struct BinaryLauncher(IlgpuDevice device, Tensor a, Tensor b, Tensor result, Shape8 shape, Str8[] strides, long count)
        : IBinaryOperatorVisitor
    {
        private readonly IlgpuDevice device = device;
        private readonly Tensor a = a, b = b, result = result;
        private readonly Shape8 shape = shape;
        private readonly Str8[] strides = strides;
        private readonly long count = count;

        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IBinaryOperator<T> =>
            K<ArrayView<T>, ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, Str8, TOp>(device, EK.Combine<T, TOp>)(
                Count(count), V<T>(a), V<T>(b), V<T>(result), shape, strides[0], strides[1], strides[2], op);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor result)
    {
        long n = result.Numel;
        if (n == 0) return;
        var (sh, s) = LayoutPlan.Plan(result.shape, a, b, result);
        var d = Dev(result);
        if (result.DType == DType.Bool)
        {
            switch (a.DType)
            {
                case DType.Float32: Cmp<float, F32>(); break;
                case DType.Float64: Cmp<double, F64>(); break;
                case DType.Int32: Cmp<int, I32>(); break;
                case DType.Int64: Cmp<long, I64>(); break;
                default: Cmp<byte, B8>(); break;
            }
            return;
        }
        var launcher = new BinaryLauncher(d, a, b, result, sh, s, n);
        if (BinaryOperators.TryVisitFloat(op, a.DType, ref launcher)) return;
        switch (a.DType)
        {
            case DType.Int32:
                K<ArrayView<int>, ArrayView<int>, ArrayView<int>, Shape8, Str8, Str8, Str8, int>(d, EK.BinaryInt<int, I32>)(
                    Count(n), V<int>(a), V<int>(b), V<int>(result), sh, s[0], s[1], s[2], (int)op);
                break;
            case DType.Int64:
                K<ArrayView<long>, ArrayView<long>, ArrayView<long>, Shape8, Str8, Str8, Str8, int>(d, EK.BinaryInt<long, I64>)(
                    Count(n), V<long>(a), V<long>(b), V<long>(result), sh, s[0], s[1], s[2], (int)op);
                break;
            default: throw new NotSupportedException($"ILGPU backend: binary op {op} is not defined for {a.DType} with a {result.DType} result.");
        }

        void Cmp<T, N>() where T : unmanaged where N : struct, INum<T> =>
            K<ArrayView<T>, ArrayView<T>, ArrayView<byte>, Shape8, Str8, Str8, Str8, int>(d, EK.Compare<T, N>)(
                Count(n), V<T>(a), V<T>(b), V<byte>(result), sh, s[0], s[1], s[2], (int)op);
    }

    /// <inheritdoc/>
    public void Where(Tensor condition, Tensor a, Tensor b, Tensor result)
    {
        long n = result.Numel;
        if (n == 0) return;
        var (sh, s) = LayoutPlan.Plan(result.shape, condition, a, b, result);
        var d = Dev(result);
        switch (a.DType)
        {
            case DType.Float32: W<float>(); break;
            case DType.Float64: W<double>(); break;
            case DType.Int32: W<int>(); break;
            case DType.Int64: W<long>(); break;
            default: W<byte>(); break;
        }

        void W<T>() where T : unmanaged =>
            K<ArrayView<byte>, ArrayView<T>, ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, Str8, Str8>(d, EK.Where<T>)(
                Count(n), V<byte>(condition), V<T>(a), V<T>(b), V<T>(result), sh, s[0], s[1], s[2], s[3]);
    }
}
