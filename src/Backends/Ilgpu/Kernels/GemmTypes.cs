using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ember.Ilgpu;

/// <summary>
/// The scalars of one (batched) GEMM <c>C = alpha · op(A) · op(B) + beta · C</c>, passed to the kernels by value.
/// op(A) is M×K, op(B) is K×N, C is M×N, all row-major with leading dimensions (elements between rows of the
/// stored matrix) and batch strides (elements between consecutive matrices).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct GemmParams
{
    /// <summary>Rows of op(A) and C.</summary>
    public int M;
    /// <summary>Columns of op(B) and C.</summary>
    public int N;
    /// <summary>Columns of op(A), rows of op(B).</summary>
    public int K;
    /// <summary>Leading dimension of A as stored (K×… when transposed: M×K stored as K×M).</summary>
    public int Lda;
    /// <summary>Leading dimension of B as stored.</summary>
    public int Ldb;
    /// <summary>Leading dimension of C.</summary>
    public int Ldc;
    /// <summary>Elements between consecutive A matrices of the batch (0 broadcasts one A).</summary>
    public long StrideA;
    /// <summary>Elements between consecutive B matrices of the batch (0 broadcasts one B).</summary>
    public long StrideB;
    /// <summary>Elements between consecutive C matrices of the batch.</summary>
    public long StrideC;
    /// <summary>Scale of the product.</summary>
    public float Alpha;
    /// <summary>Scale of the old C; when 0, C is not read (so NaN in C does not propagate).</summary>
    public float Beta;
    /// <summary>1 when C may be stored with 16-byte stores (aligned start, ldc and strideC multiples of 4).</summary>
    public int VecC;
    /// <summary>1 when A is stored transposed (K×M, element (m, k) at <c>k · lda + m</c>); read by the naive kernel.</summary>
    public int TransA;
    /// <summary>1 when B is stored transposed (N×K, element (k, n) at <c>n · ldb + k</c>); read by the naive kernel.</summary>
    public int TransB;
    /// <summary>Split-K in the tensor-core kernel: elements of K per slab (grid z is the slab index); unused otherwise.</summary>
    public int KChunk;
    /// <summary>The tensor-core kernel's <c>cp.async</c> loop on CUDA: the device address of A's element 0 (generic window), set on the host.</summary>
    public ulong AddressA;
    /// <summary>As <see cref="AddressA"/>, for B.</summary>
    public ulong AddressB;
}

/// <summary>Which GEMM kernel <see cref="IlgpuGemm"/> runs.</summary>
public enum GemmAlgorithm
{
    /// <summary>Tiled for all but tiny problems (TF32 tensor cores instead when allowed, see <see cref="Tf32"/>).</summary>
    Auto,
    /// <summary>One thread per output element, no shared memory (reference and tiny sizes).</summary>
    Naive,
    /// <summary>128×128×8 shared-memory tiles, 8×8 outputs per thread, double-buffered (unbatched products with few tiles split K as <see cref="SplitK"/>).</summary>
    Tiled,
    /// <summary>Tiled, with K cut into slabs whose partial products are summed by a second kernel, whenever K allows (unbatched only).</summary>
    SplitK,
    /// <summary>
    /// TF32 tensor cores (<see cref="IlgpuMmaGemm.Tf32"/>): operands rounded to 10 mantissa bits, float32 accumulation.
    /// Native on CUDA with compute capability ≥ 8.0, emulated (slowly) elsewhere. <see cref="Auto"/> picks it on such
    /// devices when TF32 is allowed (<see cref="Backends.Cuda.AllowTF32"/>), as PyTorch's <c>allow_tf32</c>.
    /// </summary>
    Tf32,
    /// <summary>
    /// <see cref="Tiled"/> with 16 of K per shared stage instead of 8 (half the barriers per multiply-add, twice the
    /// shared memory, 120-124 registers against 142-148 so two groups fit an SM); split-K as <see cref="Tiled"/>.
    /// <see cref="Auto"/>'s choice on CUDA (H100: +10 %).
    /// </summary>
    TiledK16,
    /// <summary>
    /// <see cref="TiledK16"/> with the operand tiles copied by <c>cp.async</c> (3 stages in flight, no prefetch registers;
    /// K-contiguous operands transposed by 4-byte copies). Operands contiguous along M/N need 16-byte aligned rows, else
    /// <see cref="TiledK16"/> runs, as on CUDA devices of compute capability below 8.0; split-K as <see cref="Tiled"/>.
    /// Off CUDA the copies are plain loads and stores. Experimental (not measured): <see cref="Auto"/> does not pick it.
    /// </summary>
    TiledK16Async,
}

/// <summary>Four floats loaded or stored with one 16-byte access (ILGPU vectorizes struct accesses).</summary>
internal struct Float4
{
    public float X, Y, Z, W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Float4(float x, float y, float z, float w) { X = x; Y = y; Z = z; W = w; }
}

/// <summary>One row of a thread's 8×8 register tile.</summary>
internal struct Row8
{
    public float C0, C1, C2, C3, C4, C5, C6, C7;

    /// <summary><c>this + a · (b0, b1)</c>, eight multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Row8 Fma(Row8 c, float a, Float4 b0, Float4 b1)
    {
        c.C0 += a * b0.X; c.C1 += a * b0.Y; c.C2 += a * b0.Z; c.C3 += a * b0.W;
        c.C4 += a * b1.X; c.C5 += a * b1.Y; c.C6 += a * b1.Z; c.C7 += a * b1.W;
        return c;
    }
}

/// <summary>
/// Compile-time description of how an operand is stored, as a generic argument of the tiled kernel:
/// K-major means the K index is contiguous (A not transposed, B transposed); Vec means the tile may be
/// read with 16-byte loads (16-byte aligned start, leading dimension and batch stride multiples of 4, and for
/// R-major operands at least 4 rows).
/// </summary>
internal interface IOperandLayout
{
    /// <summary>True when element (r, k) of the operand is at <c>r · ld + k</c>; false for <c>k · ld + r</c>.</summary>
    static abstract bool KMajor();

    /// <summary>True when four consecutive elements along the contiguous index are read with one 16-byte load.</summary>
    static abstract bool Vec();
}

/// <summary>Element (r, k) at <c>r · ld + k</c>, scalar loads.</summary>
internal readonly struct KMajorLayout : IOperandLayout
{
    public static bool KMajor() => true;
    public static bool Vec() => false;
}

/// <summary>Element (r, k) at <c>r · ld + k</c>, 16-byte loads.</summary>
internal readonly struct KMajorVecLayout : IOperandLayout
{
    public static bool KMajor() => true;
    public static bool Vec() => true;
}

/// <summary>Element (r, k) at <c>k · ld + r</c>, scalar loads.</summary>
internal readonly struct RMajorLayout : IOperandLayout
{
    public static bool KMajor() => false;
    public static bool Vec() => false;
}

/// <summary>Element (r, k) at <c>k · ld + r</c>, 16-byte loads.</summary>
internal readonly struct RMajorVecLayout : IOperandLayout
{
    public static bool KMajor() => false;
    public static bool Vec() => true;
}
