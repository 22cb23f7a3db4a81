using ILGPU;
using Ember.Ilgpu.Ops;
using Ember.Operators;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>
    /// One elementwise launch over the coalesced shape of its operands: the device, the launch shape, one
    /// <see cref="Str8"/> per operand (in the order they were planned) and the element count.
    /// </summary>
    private readonly record struct ElementwiseLaunch(IlgpuDevice Device, Shape8 Shape, Str8[] Strides, long Count)
    {
        /// <summary>Plans the launch for <paramref name="result"/>'s shape over <paramref name="operands"/> (result last).</summary>
        public static ElementwiseLaunch Plan(Tensor result, params Tensor[] operands)
        {
            var (shape, strides) = LayoutPlan.Plan(result.ShapeSpan, operands);
            return new(Dev(result), shape, strides, result.Numel);
        }
    }

    /// <inheritdoc/>
    public void Copy(Tensor source, Tensor destination)
    {
        if (destination.Numel == 0) return;
        var launch = ElementwiseLaunch.Plan(destination, source, destination);
        if (source.DType == destination.DType) DeviceElement.Visit(source.DType, new CopyLauncher(launch, source, destination));
        else DeviceElement.Visit(source.DType, new ConvertFromLauncher(launch, source, destination));
    }

    /// <summary>destination = source, same dtype.</summary>
    private readonly struct CopyLauncher(ElementwiseLaunch launch, Tensor source, Tensor destination) : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8>(launch.Device, ElementwiseKernels.Copy<T>)(
                Count(launch.Count), ViewOf<T>(source), ViewOf<T>(destination), launch.Shape, launch.Strides[0], launch.Strides[1]);
    }

    /// <summary>destination = convert(source): the source's element type is known here, the destination's next.</summary>
    private readonly struct ConvertFromLauncher(ElementwiseLaunch launch, Tensor source, Tensor destination) : IDeviceElementVisitor
    {
        public void Visit<TSource, NSource>() where TSource : unmanaged where NSource : struct, INum<TSource> =>
            DeviceElement.Visit(destination.DType, new ConvertLauncher<TSource, NSource>(launch, source, destination));
    }

    /// <summary>Launches the conversion kernel: through long between integer/Bool types (exact), through double otherwise.</summary>
    private readonly struct ConvertLauncher<TSource, NSource>(ElementwiseLaunch launch, Tensor source, Tensor destination) : IDeviceElementVisitor
        where TSource : unmanaged where NSource : struct, INum<TSource>
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T>
        {
            int viaLong = !source.IsFloatingPoint && !destination.IsFloatingPoint ? 1 : 0;
            LoadKernel<ArrayView<TSource>, ArrayView<T>, Shape8, Str8, Str8, int>(launch.Device, ElementwiseKernels.Convert<TSource, NSource, T, N>)(
                Count(launch.Count), ViewOf<TSource>(source), ViewOf<T>(destination), launch.Shape, launch.Strides[0], launch.Strides[1], viaLong);
        }
    }

    /// <inheritdoc/>
    public void Fill(Tensor destination, double value)
    {
        if (destination.Numel == 0) return;
        DeviceElement.Visit(destination.DType, new FillLauncher(ElementwiseLaunch.Plan(destination, destination), destination, value));
    }

    /// <summary>Every element of destination = value converted to its element type (Bool: non-zero → 1).</summary>
    private readonly struct FillLauncher(ElementwiseLaunch launch, Tensor destination, double value) : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, Shape8, Str8, T>(launch.Device, ElementwiseKernels.Fill<T>)(
                Count(launch.Count), ViewOf<T>(destination), launch.Shape, launch.Strides[0], N.FromD(value));
    }

    /// <inheritdoc/>
    public void Unary(UnaryOp op, Tensor x, Tensor result, double alpha = 0, double beta = 0)
    {
        // UInt8/Int8/Int16 arithmetic in Int64, wrapped back (PyTorch's modular results).
        if (ReducedPrecision.AnySmallInteger(x)) { ReducedPrecision.ViaInt64(this, [x], [result], (i, o) => Unary(op, i[0]!, o[0]!, alpha, beta)); return; }
        // Float16/BFloat16: the float32 operator struct on 16-bit storage in one launch, rounded once per element; ops
        // without one (or with another result dtype) on a widened copy, rounded back.
        if (ReducedPrecision.Any(x)) { if (TryNarrowUnary(op, x, result, alpha, beta)) return; ReducedPrecision.ViaFloat32(this, [x], [result], (i, o) => Unary(op, i[0]!, o[0]!, alpha, beta)); return; }
        if (result.Numel == 0) return;
        var launch = ElementwiseLaunch.Plan(result, x, result);
        if (op is UnaryOp.IsNan or UnaryOp.IsInf)
        {
            if (x.IsFloatingPoint) DeviceElement.VisitReal(x.DType, op.ToString(), new ClassifyLauncher(launch, op, x, result));
            else Fill(result, 0);
            return;
        }
        var mapped = new UnaryLauncher(launch, x, result);
        if (UnaryOperators.TryVisitFloat(op, x.DType, alpha, beta, ref mapped) || UnaryOperators.TryVisitInteger(op, x.DType, alpha, beta, ref mapped)) return;
        if (x.DType == DType.Bool && op == UnaryOp.LogicalNot)
            LoadKernel<ArrayView<byte>, ArrayView<byte>, Shape8, Str8, Str8>(launch.Device, ElementwiseKernels.Not)(
                Count(launch.Count), ViewOf<byte>(x), ViewOf<byte>(result), launch.Shape, launch.Strides[0], launch.Strides[1]);
        else throw new NotSupportedException($"ILGPU backend: unary op {op} is not defined for {x.DType}.");
    }

    /// <summary>Launches the one generic unary kernel <see cref="ElementwiseKernels.Map{T, TOp}"/> for an operator struct.</summary>
    private readonly struct UnaryLauncher(ElementwiseLaunch launch, Tensor x, Tensor result) : IUnaryOperatorVisitor
    {
        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T>
        {
            // float32 e^x, tanh and what is built on them: ILGPU compiles T.Exp / T.Tanh to PTX's approximate
            // ex2.approx / tanh.approx on CUDA, so these run AccurateMath's formulas instead (on every ILGPU device).
            if (typeof(T) == typeof(float))
            {
                if (typeof(TOp) == typeof(ExpOperator<float>)) { Launch<float, AccurateExpF32>(default); return; }
                if (typeof(TOp) == typeof(TanhOperator<float>)) { Launch<float, AccurateTanhF32>(default); return; }
                if (typeof(TOp) == typeof(SigmoidOperator<float>)) { Launch<float, AccurateSigmoidF32>(default); return; }
                if (typeof(TOp) == typeof(SiluOperator<float>)) { Launch<float, AccurateSiluF32>(default); return; }
                if (typeof(TOp) == typeof(GeluTanhOperator<float>)) { Launch<float, AccurateGeluTanhF32>(default); return; }
            }
            Launch<T, TOp>(op);
        }

        private void Launch<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, TOp>(launch.Device, ElementwiseKernels.Map<T, TOp>)(
                Count(launch.Count), ViewOf<T>(x), ViewOf<T>(result), launch.Shape, launch.Strides[0], launch.Strides[1], op);
    }

    /// <summary>IsNan / IsInf of a floating-point x into a Bool result.</summary>
    private readonly struct ClassifyLauncher(ElementwiseLaunch launch, UnaryOp op, Tensor x, Tensor result) : IDeviceRealVisitor
    {
        public void Visit<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadKernel<ArrayView<T>, ArrayView<byte>, Shape8, Str8, Str8, UnaryOp>(launch.Device, ElementwiseKernels.Classify<T, R>)(
                Count(launch.Count), ViewOf<T>(x), ViewOf<byte>(result), launch.Shape, launch.Strides[0], launch.Strides[1], op);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor result)
    {
        if (ReducedPrecision.AnySmallInteger(result)) { ReducedPrecision.ViaInt64(this, [a, b], [result], (i, o) => Binary(op, i[0]!, i[1]!, o[0]!)); return; }
        // Float16/BFloat16 arithmetic: the float32 operator struct on 16-bit storage in one launch (else on widened
        // copies); comparisons compare the narrow values directly.
        if (ReducedPrecision.Any(result)) { if (TryNarrowBinary(op, a, b, result)) return; ReducedPrecision.ViaFloat32(this, [a, b], [result], (i, o) => Binary(op, i[0]!, i[1]!, o[0]!)); return; }
        if (result.Numel == 0) return;
        var launch = ElementwiseLaunch.Plan(result, a, b, result);
        if (result.DType == DType.Bool)
        {
            if (op is not (BinaryOp.Eq or BinaryOp.Ne or BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge
                    or BinaryOp.LogicalAnd or BinaryOp.LogicalOr or BinaryOp.LogicalXor))
                throw new NotSupportedException($"ILGPU backend: binary op {op} has no Bool result.");
            DeviceElement.Visit(a.DType, new CompareLauncher(launch, op, a, b, result));
            return;
        }
        var combined = new BinaryLauncher(launch, a, b, result);
        if (BinaryOperators.TryVisitFloat(op, a.DType, ref combined) || BinaryOperators.TryVisitInteger(op, a.DType, ref combined)) return;
        throw new NotSupportedException($"ILGPU backend: binary op {op} is not defined for {a.DType} with a {result.DType} result.");
    }

    /// <summary>Launches the one generic binary kernel <see cref="ElementwiseKernels.Combine{T, TOp}"/> for an operator struct.</summary>
    private readonly struct BinaryLauncher(ElementwiseLaunch launch, Tensor a, Tensor b, Tensor result) : IBinaryOperatorVisitor
    {
        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IBinaryOperator<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, Str8, TOp>(launch.Device, ElementwiseKernels.Combine<T, TOp>)(
                Count(launch.Count), ViewOf<T>(a), ViewOf<T>(b), ViewOf<T>(result), launch.Shape, launch.Strides[0], launch.Strides[1], launch.Strides[2], op);
    }

    /// <summary>Comparisons of any dtype and the logical ops of Bool operands, into a Bool result.</summary>
    private readonly struct CompareLauncher(ElementwiseLaunch launch, BinaryOp op, Tensor a, Tensor b, Tensor result) : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<byte>, Shape8, Str8, Str8, Str8, BinaryOp>(launch.Device, ElementwiseKernels.Compare<T, N>)(
                Count(launch.Count), ViewOf<T>(a), ViewOf<T>(b), ViewOf<byte>(result), launch.Shape, launch.Strides[0], launch.Strides[1], launch.Strides[2], op);
    }

    /// <inheritdoc/>
    public void Where(Tensor condition, Tensor a, Tensor b, Tensor result)
    {
        if (result.Numel == 0) return;
        DeviceElement.Visit(a.DType, new WhereLauncher(ElementwiseLaunch.Plan(result, condition, a, b, result), condition, a, b, result));
    }

    /// <summary>result = condition ? a : b.</summary>
    private readonly struct WhereLauncher(ElementwiseLaunch launch, Tensor condition, Tensor a, Tensor b, Tensor result) : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<byte>, ArrayView<T>, ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, Str8, Str8>(launch.Device, ElementwiseKernels.Where<T>)(
                Count(launch.Count), ViewOf<byte>(condition), ViewOf<T>(a), ViewOf<T>(b), ViewOf<T>(result),
                launch.Shape, launch.Strides[0], launch.Strides[1], launch.Strides[2], launch.Strides[3]);
    }
}
