using ILGPU.Runtime;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>
    /// The hook the GEMM dispatch reads before it picks a float32 kernel: true when <see cref="Backends.Cuda.AllowTF32"/>
    /// is on and <paramref name="device"/> is a CUDA device (ILGPU's CPU accelerator and OpenCL ignore the switch, as
    /// PyTorch's CPU does). Read once per GEMM launch, so a change takes effect at the next product.
    /// </summary>
    internal static bool UseTF32(IlgpuDevice device) =>
        Backends.Cuda.AllowTF32 && device.Accelerator.AcceleratorType == AcceleratorType.Cuda;
}
