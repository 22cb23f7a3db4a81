using System.Reflection;
using ILGPU;
using Ember.Ilgpu.Ops;
using Ember.Operators;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>
    /// A Float16/BFloat16 unary op of the operator registry in one launch (<see cref="NarrowElementwiseKernels.Map"/>)
    /// instead of three (widen, float32 kernel, round); false when the op has no float32 struct or the result is not of
    /// x's dtype (the caller then takes the float32 copies).
    /// </summary>
    private bool TryNarrowUnary(UnaryOp op, Tensor x, Tensor result, double alpha, double beta)
    {
        if (result.DType != x.DType || op is UnaryOp.IsNan or UnaryOp.IsInf) return false;
        if (result.Numel == 0) return true;
        var launcher = new NarrowUnaryLauncher(ElementwiseLaunch.Plan(result, x, result), x, result);
        // The float32 struct, its scalars converted to float32 on the host: the same struct the float32 copies would run.
        return UnaryOperators.TryVisitFloat(op, DType.Float32, alpha, beta, ref launcher);
    }

    /// <summary>
    /// A Float16/BFloat16 arithmetic binary op (a, b and the result of one 16-bit dtype) in one launch
    /// (<see cref="NarrowElementwiseKernels.Combine"/>) instead of four; false when the op has no float32 struct.
    /// </summary>
    private bool TryNarrowBinary(BinaryOp op, Tensor a, Tensor b, Tensor result)
    {
        if (a.DType != result.DType || b.DType != result.DType) return false;
        if (result.Numel == 0) return true;
        var launcher = new NarrowBinaryLauncher(ElementwiseLaunch.Plan(result, a, b, result), a, b, result);
        return BinaryOperators.TryVisitFloat(op, DType.Float32, ref launcher);
    }

    /// <inheritdoc/>
    /// <remarks>One launch (<see cref="NarrowElementwiseKernels.CombineMixed"/>) reading the 16-bit operand in place.</remarks>
    public void MixedBinary(BinaryOp op, Tensor a, Tensor b, Tensor result)
    {
        bool narrowFirst = a.DType.IsReducedPrecision();
        var (n, w) = narrowFirst ? (a, b) : (b, a);
        if (result.DType != DType.Float32 || w.DType != DType.Float32 || !n.DType.IsReducedPrecision())
        {
            CompositeKernels.MixedBinary(this, op, a, b, result);
            return;
        }
        if (result.Numel == 0) return;
        var launcher = new MixedBinaryLauncher(ElementwiseLaunch.Plan(result, n, w, result), n, w, result, narrowFirst);
        if (!BinaryOperators.TryVisitFloat(op, DType.Float32, ref launcher)) CompositeKernels.MixedBinary(this, op, a, b, result);
    }

    /// <summary>Launches <see cref="NarrowElementwiseKernels.CombineMixed"/> for the float32 struct the registry gives.</summary>
    private readonly struct MixedBinaryLauncher(ElementwiseLaunch launch, Tensor narrow, Tensor wide, Tensor result, bool narrowFirst) : IBinaryOperatorVisitor
    {
        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IBinaryOperator<T>
        {
            var kernel = narrow.DType == DType.Float16 ? MixedCombineKernel<F16, TOp>.Kernel : MixedCombineKernel<BF16, TOp>.Kernel;
            LoadKernel(launch.Device, kernel)(Count(launch.Count), ViewOf<ushort>(narrow), ViewOf<float>(wide), ViewOf<float>(result),
                launch.Shape, launch.Strides[0], launch.Strides[1], launch.Strides[2], narrowFirst ? 1 : 0, op);
        }
    }

    /// <summary><see cref="NarrowElementwiseKernels.CombineMixed"/> instantiated as <see cref="NarrowMapKernel{TN, TOp}"/>.</summary>
    private static class MixedCombineKernel<TN, TOp> where TN : struct where TOp : struct
    {
        public static readonly Action<Index1D, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, Shape8, Str8, Str8, Str8, int, TOp> Kernel =
            typeof(NarrowElementwiseKernels).GetMethod(nameof(NarrowElementwiseKernels.CombineMixed), BindingFlags.Public | BindingFlags.Static)!
                .MakeGenericMethod(typeof(TN), typeof(TOp)).CreateDelegate<Action<Index1D, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, Shape8, Str8, Str8, Str8, int, TOp>>();
    }

    /// <summary>Launches <see cref="NarrowElementwiseKernels.Map"/> for the float32 struct the registry gives.</summary>
    private readonly struct NarrowUnaryLauncher(ElementwiseLaunch launch, Tensor x, Tensor result) : IUnaryOperatorVisitor
    {
        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T>
        {
            // The accurate float32 e^x, tanh and what is built on them, as the float32 kernel runs them (see UnaryLauncher).
            if (typeof(TOp) == typeof(ExpOperator<float>)) { Launch<AccurateExpF32>(default); return; }
            if (typeof(TOp) == typeof(TanhOperator<float>)) { Launch<AccurateTanhF32>(default); return; }
            if (typeof(TOp) == typeof(SigmoidOperator<float>)) { Launch<AccurateSigmoidF32>(default); return; }
            if (typeof(TOp) == typeof(SiluOperator<float>)) { Launch<AccurateSiluF32>(default); return; }
            if (typeof(TOp) == typeof(GeluTanhOperator<float>)) { Launch<AccurateGeluTanhF32>(default); return; }
            Launch(op);
        }

        private void Launch<TOp>(TOp op) where TOp : struct
        {
            var kernel = x.DType == DType.Float16 ? NarrowMapKernel<F16, TOp>.Kernel : NarrowMapKernel<BF16, TOp>.Kernel;
            LoadKernel(launch.Device, kernel)(Count(launch.Count), ViewOf<ushort>(x), ViewOf<ushort>(result), launch.Shape, launch.Strides[0], launch.Strides[1], op);
        }
    }

    /// <summary>Launches <see cref="NarrowElementwiseKernels.Combine"/> for the float32 struct the registry gives.</summary>
    private readonly struct NarrowBinaryLauncher(ElementwiseLaunch launch, Tensor a, Tensor b, Tensor result) : IBinaryOperatorVisitor
    {
        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IBinaryOperator<T>
        {
            var kernel = a.DType == DType.Float16 ? NarrowCombineKernel<F16, TOp>.Kernel : NarrowCombineKernel<BF16, TOp>.Kernel;
            LoadKernel(launch.Device, kernel)(Count(launch.Count), ViewOf<ushort>(a), ViewOf<ushort>(b), ViewOf<ushort>(result),
                launch.Shape, launch.Strides[0], launch.Strides[1], launch.Strides[2], op);
        }
    }

    /// <summary>
    /// <see cref="NarrowElementwiseKernels.Map"/> instantiated for one 16-bit type and one operator struct, made once per
    /// pair. The registry visits with a generic element type (float here), so the kernel's constraint (an operator over
    /// float) cannot be stated at the call site; the instantiation is made by reflection, which checks it.
    /// </summary>
    private static class NarrowMapKernel<TN, TOp> where TN : struct where TOp : struct
    {
        public static readonly Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, Shape8, Str8, Str8, TOp> Kernel =
            typeof(NarrowElementwiseKernels).GetMethod(nameof(NarrowElementwiseKernels.Map), BindingFlags.Public | BindingFlags.Static)!
                .MakeGenericMethod(typeof(TN), typeof(TOp)).CreateDelegate<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, Shape8, Str8, Str8, TOp>>();
    }

    /// <summary><see cref="NarrowElementwiseKernels.Combine"/> instantiated as <see cref="NarrowMapKernel{TN, TOp}"/>.</summary>
    private static class NarrowCombineKernel<TN, TOp> where TN : struct where TOp : struct
    {
        public static readonly Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, Shape8, Str8, Str8, Str8, TOp> Kernel =
            typeof(NarrowElementwiseKernels).GetMethod(nameof(NarrowElementwiseKernels.Combine), BindingFlags.Public | BindingFlags.Static)!
                .MakeGenericMethod(typeof(TN), typeof(TOp)).CreateDelegate<Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, Shape8, Str8, Str8, Str8, TOp>>();
    }
}
