using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

public static partial class IlgpuGemm
{
    /// <summary>The tiled bias-epilogue kernel (<see cref="GemmKernels.TiledBias{TA, TB}"/> or its 16-deep sibling) for the operands' layouts.</summary>
    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> LaunchBias(
        KernelCache kernels, bool transA, bool vecA, bool transB, bool vecB, bool k16) => (transA, vecA) switch
    {
        (false, false) => PickBiasB<KMajorLayout>(kernels, transB, vecB, k16),
        (false, true) => PickBiasB<KMajorVecLayout>(kernels, transB, vecB, k16),
        (true, false) => PickBiasB<RMajorLayout>(kernels, transB, vecB, k16),
        (true, true) => PickBiasB<RMajorVecLayout>(kernels, transB, vecB, k16),
    };

    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> PickBiasB<TA>(
        KernelCache kernels, bool transB, bool vecB, bool k16) where TA : struct, IOperandLayout => (transB, vecB) switch
    {
        (false, false) => PickBias<TA, RMajorLayout>(kernels, k16),
        (false, true) => PickBias<TA, RMajorVecLayout>(kernels, k16),
        (true, false) => PickBias<TA, KMajorLayout>(kernels, k16),
        (true, true) => PickBias<TA, KMajorVecLayout>(kernels, k16),
    };

    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> PickBias<TA, TB>(
        KernelCache kernels, bool k16) where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        k16 ? kernels.Grouped<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmKernels.Tiled16Bias<TA, TB>)
            : kernels.Grouped<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmKernels.TiledBias<TA, TB>);
}
