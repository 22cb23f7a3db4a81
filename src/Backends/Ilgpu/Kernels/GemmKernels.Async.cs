using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// The <c>cp.async</c> variant of the 16-deep SIMT GEMM (<see cref="GemmAlgorithm.TiledK16Async"/>): the same 128×128
/// block, 8×8 outputs per thread, 32×64 warp tiles and 16 k steps per stage as <see cref="Tiled16{TA, TB}"/>, but the
/// operand tiles go from global to shared memory through <c>cp.async</c> (no prefetch registers), with
/// <see cref="AsyncStages"/> stages in flight:
/// <list type="bullet">
/// <item><description>both tiles are k-major in shared memory (<c>tile[k][r]</c>, as the 8×8 outer products read them:
/// four consecutive rows of one k are one 16-byte load). An operand whose rows are contiguous along M/N (A transposed,
/// B not transposed) lands there unchanged: 16-byte <c>cp.async.cg</c> chunks, two per thread and stage. One that is
/// contiguous along K (A not transposed: the NN case; B transposed) is transposed on the way, one element per
/// <c>cp.async.ca</c> of 4 bytes, eight per thread and stage; each warp's copy covers 8 consecutive k of 4 rows, so it
/// reads 4 × 32 bytes of global memory (whole sectors) and writes 32 distinct banks;</description></item>
/// <item><description>tile rows are 128 floats unpadded (3 stages × 2 operands × 16 × 128 × 4 B = 48 KB, the static
/// shared-memory limit; the 16-deep kernel's 132-float rows would need 49.5 KB). Instead of padding, 16-byte chunk j of
/// k-row k is stored at chunk j XOR (k mod 8): the transposing 4-byte copies (k = 8 consecutive values, 4 rows) then hit
/// 32 distinct banks, and the outer-product reads stay conflict-free (a warp reads an aligned run of 4 or 8 chunks of
/// one k-row, which the XOR only permutes);</description></item>
/// <item><description>one barrier per stage: the barrier that publishes stage s also proves every warp has finished
/// stage s − 1, whose buffer is refilled (with stage s + 2) right after it, before the k steps of stage s;</description></item>
/// <item><description>edges: rows past M (K-major operands) are clamped (they only feed outputs never written);
/// elements past K and columns past M/N of contiguous rows are zero-filled with <c>cp.async</c>'s source-size operand,
/// so a last partial stage runs all 16 k steps on zeros and any M, N, K works. Contiguous rows need 16-byte aligned
/// starts (aligned view, leading dimension and batch stride multiples of 4); others fall back to
/// <see cref="Tiled16{TA, TB}"/>.</description></item>
/// </list>
/// Why transposing 4-byte copies rather than a K-contiguous shared layout for K-major operands: the copies cost 8
/// <c>cp.async</c> instructions per thread and stage (against 1,024 multiply-adds) and move the same bytes and shared
/// wavefronts as 16-byte ones; a K-contiguous tile would instead change the k step: each thread would load its 8 rows as
/// 8 fragments along K (twice the shared-load instructions per multiply-add for 2 k a load, or 32 more live registers
/// for 4) in the loop that bounds the kernel.
/// <para>
/// On CUDA the kernel needs <see cref="PtxRewrite"/> (IlgpuGemm loads it through
/// <see cref="KernelCache.GroupedTuned{T1, T2, T3, T4}"/>): ptxas keeps every local slot of a kernel with <c>cp.async</c>
/// in memory. Off CUDA (<see cref="EmulatedAsyncCopy"/>) the copies are plain loads and stores with the same zero fill,
/// and commit/wait do nothing (the stores are done when the barrier is reached), so ilgpu-cpu checks the indexing, the
/// swizzle and the stage ring.
/// </para>
/// </summary>
internal static partial class GemmKernels
{
    /// <summary>Stages in flight in <see cref="Tiled16Async{TA, TB, TX}"/>.</summary>
    public const int AsyncStages = 3;
    private const int ARow4 = BM / 4;            // Float4s per k-row of an async stage tile (unpadded, swizzled)
    private const int ATile = BK16 * BM;         // floats per operand tile of a stage
    private const int AStage = 2 * ATile;        // floats per stage: A's tile, then B's

    /// <summary>
    /// The pipelined 16-deep kernel; launch as <see cref="Tiled{TA, TB}"/> (grid (ceil(N/128), ceil(M/128), batch),
    /// groups of 256). On CUDA (<see cref="NativeAsyncCopy"/>) <see cref="GemmParams.AddressA"/>/<see cref="GemmParams.AddressB"/>
    /// must hold the device addresses of the views' element 0.
    /// </summary>
    public static void Tiled16Async<TA, TB, TX>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout where TX : struct, IAsyncCopy
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int tyM = ((warp >> 1) << 2) + (lane >> 3);
        int txN = ((warp & 1) << 3) + (lane & 7);
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        long z = Grid.IdxZ;
        long aBase = z * p.StrideA, bBase = z * p.StrideB, cBase = z * p.StrideC;
        // The batch entry's first element as a raw address (used on CUDA only).
        ulong ga = p.AddressA + 4 * (ulong)aBase, gb = p.AddressB + 4 * (ulong)bBase;

        // One allocation: its shared address is taken by ILGPU's name for it (see AsyncSharedBase).
        var sh = SharedMemory.Allocate<float>(AsyncStages * AStage);
        var sh4 = sh.Cast<Float4>();
        uint shBase = AsyncSharedBase<TX>();
        int slabs = (p.K + BK16 - 1) / BK16;

        // Prologue: stages 0 .. AsyncStages-2, one commit group each (empty ones too, so group s is always stage s).
        for (int s = 0; s < AsyncStages - 1; s++)
        {
            if (s < slabs)
            {
                IssueTile<TA, TX>(sh, shBase, s * AStage, a, ga, aBase, p.Lda, m0, p.M, s * BK16, p.K, t);
                IssueTile<TB, TX>(sh, shBase, s * AStage + ATile, b, gb, bBase, p.Ldb, n0, p.N, s * BK16, p.K, t);
            }
            CommitAsync<TX>();
        }

        Acc acc = default;
        int rd = 0, wr = AsyncStages - 1;   // stages read (slab s) and refilled (slab s + AsyncStages - 1)
        for (int s = 0; s < slabs; s++)
        {
            // All but the newest AsyncStages-2 groups done: this thread's copies of slab s have landed; the barrier
            // makes every thread's visible and proves slab s-1 (stage wr) is no longer read.
            WaitAsync<TX>();
            Group.Barrier();
            int nx = s + AsyncStages - 1;
            if (nx < slabs)
            {
                IssueTile<TA, TX>(sh, shBase, wr * AStage, a, ga, aBase, p.Lda, m0, p.M, nx * BK16, p.K, t);
                IssueTile<TB, TX>(sh, shBase, wr * AStage + ATile, b, gb, bBase, p.Ldb, n0, p.N, nx * BK16, p.K, t);
            }
            CommitAsync<TX>();
            // Two k steps a trip, as Tiled16's main loop (rolled: see its remarks on registers). Past K both tiles hold
            // zeros, so a partial last stage runs all 16 steps.
            int s0 = rd * (AStage / 4);
            for (int k = 0; k < BK16; k += 2)
            {
                acc = SwizzledStep(acc, sh4, s0, k, tyM, txN);
                acc = SwizzledStep(acc, sh4, s0, k + 1, tyM, txN);
            }
            rd = rd == AsyncStages - 1 ? 0 : rd + 1;
            wr = wr == AsyncStages - 1 ? 0 : wr + 1;
        }

        WriteTile(c, cBase, p, m0, n0, tyM, txN, acc);
    }

    /// <summary>
    /// One k step from the swizzled stage at Float4 <paramref name="s0"/>: as <see cref="Step"/>, with chunk j of k-row
    /// <paramref name="k"/> at j XOR (k mod 8) (the XOR keeps the chunks of the two 64-row halves apart: it is below 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Acc SwizzledStep(Acc acc, ArrayView<Float4> sh4, int s0, int k, int tyM, int txN)
    {
        int row = s0 + k * ARow4, x = k & 7;
        int ia = row + (tyM ^ x), ib = row + ATile / 4 + (txN ^ x);
        Float4 a0 = sh4[ia];
        Float4 a1 = sh4[ia + 16];
        Float4 b0 = sh4[ib];
        Float4 b1 = sh4[ib + 16];
        acc.R0 = Row8.Fma(acc.R0, a0.X, b0, b1);
        acc.R1 = Row8.Fma(acc.R1, a0.Y, b0, b1);
        acc.R2 = Row8.Fma(acc.R2, a0.Z, b0, b1);
        acc.R3 = Row8.Fma(acc.R3, a0.W, b0, b1);
        acc.R4 = Row8.Fma(acc.R4, a1.X, b0, b1);
        acc.R5 = Row8.Fma(acc.R5, a1.Y, b0, b1);
        acc.R6 = Row8.Fma(acc.R6, a1.Z, b0, b1);
        acc.R7 = Row8.Fma(acc.R7, a1.W, b0, b1);
        return acc;
    }

    /// <summary>
    /// Queues this thread's copies of one operand's 128 × 16 tile (rows <paramref name="r0"/>.., K from
    /// <paramref name="k0"/>) into the swizzled k-major tile at float <paramref name="tile"/> of the shared allocation.
    /// K-major operands: 8 elements, k = 8h + lane mod 8, rows 16·warp + 4j + lane/8 (h &lt; 2, j &lt; 4). Others: 2
    /// 16-byte chunks, k = warp + 8h, rows 4·lane .. 4·lane + 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueTile<TL, TX>(ArrayView<float> sh, uint shBase, int tile, ArrayView<float> x, ulong gx, long xBase,
        int ld, int r0, int rows, int k0, int depth, int t) where TL : struct, IOperandLayout where TX : struct, IAsyncCopy
    {
        int lane = t & 31, warp = t >> 5;
        // Written out, not as loops: ILGPU keeps C# loops rolled, and these copies are few enough to unroll.
        if (TL.KMajor())
        {
            int kk = lane & 7, rt = (warp << 4) + (lane >> 3);
            // Element (k, row rl) goes to k · 128 + (rl XOR 4·(k mod 8)); rt has bits 2-3 clear, so rows rt + 4j land
            // at that of rt XOR 4j (IssueRows).
            int w = tile + kk * BM + (rt ^ (kk << 2));
            IssueRows<TX>(sh, shBase, w, x, gx, xBase, ld, r0 + rt, rows, k0 + kk, depth);
            IssueRows<TX>(sh, shBase, w + 8 * BM, x, gx, xBase, ld, r0 + rt, rows, k0 + 8 + kk, depth);
        }
        else
        {
            int r = lane << 2;
            // Columns past the end are zero-filled (a partial chunk reads only its bytes inside the row).
            int colBytes = IntrinsicMath.Clamp((rows - r0 - r) * 4, 0, 16), rc = colBytes > 0 ? r0 + r : 0;
            int w = tile + warp * BM + ((lane ^ warp) << 2);   // k-rows warp and warp + 8: the same swizzle
            int k = k0 + warp;
            CopyAsync16<TX>(sh, shBase, w, x, gx, xBase, (k < depth ? k : 0) * ld + rc, k < depth ? colBytes : 0);
            k += 8;
            CopyAsync16<TX>(sh, shBase, w + 8 * BM, x, gx, xBase, (k < depth ? k : 0) * ld + rc, k < depth ? colBytes : 0);
        }
    }

    /// <summary>
    /// A K-major operand's element <paramref name="k"/> of rows <paramref name="r"/>, + 4, + 8, + 12 (rows past the end
    /// clamped to the last; past K zero, with a valid address, k = 0) into shared floats <paramref name="w"/> XOR 0, 4, 8, 12.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueRows<TX>(ArrayView<float> sh, uint shBase, int w, ArrayView<float> x, ulong gx, long xBase,
        int ld, int r, int rows, int k, int depth) where TX : struct, IAsyncCopy
    {
        bool inK = k < depth;
        int bytes = inK ? 4 : 0, kc = inK ? k : 0, last = rows - 1;
        // Element offsets within one matrix fit in 32 bits (IlgpuGemm.Check).
        CopyAsync4<TX>(sh, shBase, w, x, gx, xBase, IntrinsicMath.Min(r, last) * ld + kc, bytes);
        CopyAsync4<TX>(sh, shBase, w ^ 4, x, gx, xBase, IntrinsicMath.Min(r + 4, last) * ld + kc, bytes);
        CopyAsync4<TX>(sh, shBase, w ^ 8, x, gx, xBase, IntrinsicMath.Min(r + 8, last) * ld + kc, bytes);
        CopyAsync4<TX>(sh, shBase, w ^ 12, x, gx, xBase, IntrinsicMath.Min(r + 12, last) * ld + kc, bytes);
    }

    /// <summary>
    /// One element at offset <paramref name="off"/> of the operand (raw address <paramref name="gx"/> + 4·off on CUDA,
    /// <c>x[xBase + off]</c> elsewhere) to shared float <paramref name="w"/>; zero when <paramref name="bytes"/> is 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyAsync4<TX>(ArrayView<float> sh, uint shBase, int w, ArrayView<float> x, ulong gx, long xBase, int off, int bytes)
        where TX : struct, IAsyncCopy
    {
        if (TX.Native())
        {
            // 32-bit operands only (an 8-byte inline-PTX slot stays in local memory): the global address goes in as two
            // halves joined in a scoped register. .ca: the 4-byte copies of a warp read 4 sectors, kept in L1 for the
            // neighbouring k of the same rows.
            ulong at = gx + 4 * (ulong)(uint)off;
            Input<uint> d = shBase + (uint)(w * 4), lo = (uint)at, hi = (uint)(at >> 32), n = (uint)bytes;
            CudaAsm.EmitRef("{ .reg .b64 emsrc; mov.b64 emsrc, {%1, %2}; cp.async.ca.shared.global [%0], [emsrc], 4, %3; }", ref d, ref lo, ref hi, ref n);
            return;
        }
        sh[w] = bytes > 0 ? x[xBase + off] : 0f;
    }

    /// <summary>As <see cref="CopyAsync4{TX}"/> for four consecutive elements (16-byte aligned on both sides); those past <paramref name="bytes"/> are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyAsync16<TX>(ArrayView<float> sh, uint shBase, int w, ArrayView<float> x, ulong gx, long xBase, int off, int bytes)
        where TX : struct, IAsyncCopy
    {
        if (TX.Native())
        {
            ulong at = gx + 4 * (ulong)(uint)off;
            Input<uint> d = shBase + (uint)(w * 4), lo = (uint)at, hi = (uint)(at >> 32), n = (uint)bytes;
            CudaAsm.EmitRef("{ .reg .b64 emsrc; mov.b64 emsrc, {%1, %2}; cp.async.cg.shared.global [%0], [emsrc], 16, %3; }", ref d, ref lo, ref hi, ref n);
            return;
        }
        long i = xBase + off;
        sh[w] = bytes > 0 ? x[i] : 0f;
        sh[w + 1] = bytes > 4 ? x[i + 1] : 0f;
        sh[w + 2] = bytes > 8 ? x[i + 2] : 0f;
        sh[w + 3] = bytes > 12 ? x[i + 3] : 0f;
    }

    /// <summary>The 32-bit shared-window address of the kernel's one shared allocation (CUDA), else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AsyncSharedBase<TX>() where TX : struct, IAsyncCopy
    {
        if (!TX.Native()) return 0;
        // ILGPU names a kernel's shared allocations in order; PtxCompileTests checks that the name still holds.
        CudaAsm.Emit("mov.u32 %0, __shared_alloca0;", out uint s);
        return s;
    }

    /// <summary>Closes this thread's group of <c>cp.async</c> copies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CommitAsync<TX>() where TX : struct, IAsyncCopy
    {
        if (TX.Native()) CudaAsm.Emit("cp.async.commit_group;");
    }

    /// <summary>Waits until at most <see cref="AsyncStages"/> − 2 of this thread's copy groups are in flight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WaitAsync<TX>() where TX : struct, IAsyncCopy
    {
        // The literal is AsyncStages - 2 (ILGPU takes the PTX text only as a literal).
        if (TX.Native()) CudaAsm.Emit("cp.async.wait_group 1;");
    }
}

/// <summary>How <see cref="GemmKernels.Tiled16Async{TA, TB, TX}"/> copies global to shared memory (a compile-time choice).</summary>
internal interface IAsyncCopy
{
    /// <summary>True: <c>cp.async</c> inline PTX (CUDA only); false: plain loads and stores (any accelerator).</summary>
    static abstract bool Native();
}

/// <summary><c>cp.async</c> on CUDA.</summary>
internal readonly struct NativeAsyncCopy : IAsyncCopy
{
    public static bool Native() => true;
}

/// <summary>Plain copies with the same zero fill (ilgpu-cpu, OpenCL).</summary>
internal readonly struct EmulatedAsyncCopy : IAsyncCopy
{
    public static bool Native() => false;
}
