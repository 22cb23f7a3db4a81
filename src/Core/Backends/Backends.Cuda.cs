namespace Ember;

public static partial class Backends
{
    /// <summary>
    /// Switches of CUDA devices (PyTorch's <c>torch.backends.cuda</c>). Only CUDA devices read them; the CPU backend,
    /// ILGPU's CPU accelerator and OpenCL ignore them, as PyTorch's CPU ignores its CUDA flags.
    /// </summary>
    public static class Cuda
    {
        private static volatile bool allowTF32;

        /// <summary>
        /// Whether float32 matrix products on CUDA devices may run on TF32 tensor cores (PyTorch's
        /// <c>torch.backends.cuda.matmul.allow_tf32</c>); false by default, as in PyTorch since 1.12.
        /// </summary>
        /// <remarks>
        /// <para>TF32 keeps float32's 8-bit exponent but rounds the operands' significands to 10 bits (float16's
        /// precision) before each product and accumulates in float32: about 1e-3 relative error per product instead of
        /// 1e-7, for several times the throughput of float32 FMA units on Ampere and Hopper GPUs.</para>
        /// <para>It covers every float32 GEMM an op runs on a CUDA device: matmul, linear, the batched products of
        /// attention, and convolutions, which Ember runs as GEMMs (im2col, then a matrix product). Ember has no cuDNN,
        /// so this one switch also stands for PyTorch's <c>torch.backends.cudnn.allow_tf32</c>; unlike PyTorch, whose
        /// cuDNN switch is on by default, Ember's convolutions use TF32 only when this switch is on.</para>
        /// <para>A process-wide setting, safe to read and write from any thread; a GEMM reads it when it is launched.
        /// Float64, float16 and bfloat16 products do not depend on it.</para>
        /// </remarks>
        public static bool AllowTF32
        {
            get => allowTF32;
            set => allowTF32 = value;
        }
    }
}
