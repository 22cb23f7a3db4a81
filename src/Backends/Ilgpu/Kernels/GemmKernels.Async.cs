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
/// <c>cp.async.ca</c> of 4 bytes, eight per thread and stage; each warp's copy covers the even (or odd) k of 4 rows,
/// so it reads 4 × 64 bytes of global memory (the other half from L1 in the next copy) and writes 32 distinct banks;</description></item>
/// <item><description>tile rows are 128 floats unpadded (3 stages × 2 operands × 16 × 128 × 4 B = 48 KB, the static
/// shared-memory limit; the 16-deep kernel's 132-float rows would need 49.5 KB). Instead of padding, 16-byte chunk j of
/// k-row k is stored at chunk j XOR (k/2 mod 8): the transposing 4-byte copies (8 k-rows of distinct k/2, 4 rows) then
/// hit 32 distinct banks, the outer-product reads stay conflict-free (a warp reads an aligned run of 4 or 8 chunks of
/// one k-row, which the XOR only permutes), and the two k steps of a loop trip share one XOR per operand;</description></item>
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
        // What each stage's copies reuse (row offsets, swizzled shared words): computed once, so a stage's copies cost
        // a few integer instructions each.
        var planA = Plan<TA>(p.Lda, m0, p.M, t);
        var planB = Plan<TB>(p.Ldb, n0, p.N, t);

        // Prologue: stages 0 .. AsyncStages-2, one commit group each (empty ones too, so group s is always stage s).
        for (int s = 0; s < AsyncStages - 1; s++)
        {
            if (s < slabs)
            {
                IssueTile<TA, TX>(sh, shBase, s * AStage, a, ga, aBase, p.Lda, planA, s * BK16, p.K);
                IssueTile<TB, TX>(sh, shBase, s * AStage + ATile, b, gb, bBase, p.Ldb, planB, s * BK16, p.K);
            }
            CommitAsync<TX>();
        }

        // One loop over quarter stages (4 k steps a trip) instead of a k-step loop inside a stage loop: with the nested
        // loops ptxas 12.8 copied about 24 accumulators between them twice per stage (48 moves per 1,024 multiply-adds).
        Acc acc = default;
        int rd = 0, wr = AsyncStages - 1;   // stages read (slab s) and refilled (slab s + AsyncStages - 1)
        int s0 = 0;
        for (int q = 0; q < slabs * 4; q++)
        {
            int k = (q & 3) << 2;
            if (k == 0)
            {
                // All but the newest AsyncStages-2 groups done: this thread's copies of slab s have landed; the barrier
                // makes every thread's visible and proves slab s-1 (stage wr) is no longer read.
                WaitAsync<TX>();
                Group.Barrier();
                int nx = (q >> 2) + AsyncStages - 1;
                if (nx < slabs)
                {
                    IssueTile<TA, TX>(sh, shBase, wr * AStage, a, ga, aBase, p.Lda, planA, nx * BK16, p.K);
                    IssueTile<TB, TX>(sh, shBase, wr * AStage + ATile, b, gb, bBase, p.Ldb, planB, nx * BK16, p.K);
                }
                CommitAsync<TX>();
                s0 = rd * (AStage / 4);
                rd = rd == AsyncStages - 1 ? 0 : rd + 1;
                wr = wr == AsyncStages - 1 ? 0 : wr + 1;
            }
            // k-rows k and k + 1 (k even) share their swizzle: chunk j at j XOR k/2, one XOR per operand and pair. The
            // XOR keeps the chunks of the two 64-row halves apart (it is below 16), so StepAt's + 16 finds the second.
            // Past K both tiles hold zeros, so a partial last stage runs all 16 steps. 64-bit indices: a constant added
            // to a 64-bit index folds into the load's immediate offset, one added to a 32-bit index before its widening
            // does not (each load would compute its own address).
            int x = k >> 1;
            long ia = s0 + k * ARow4 + (tyM ^ x), ib = s0 + k * ARow4 + ATile / 4 + (txN ^ x);
            acc = StepAt(acc, sh4, ia, ib);
            acc = StepAt(acc, sh4, ia + ARow4, ib + ARow4);
            ia = s0 + (k + 2) * ARow4 + (tyM ^ (x + 1));
            ib = s0 + (k + 2) * ARow4 + ATile / 4 + (txN ^ (x + 1));
            acc = StepAt(acc, sh4, ia, ib);
            acc = StepAt(acc, sh4, ia + ARow4, ib + ARow4);
        }

        WriteTile<NoBias>(c, c, cBase, p, m0, n0, tyM, txN, acc);
    }

    /// <summary>One k step as <see cref="Step"/>: A's two Float4s at <paramref name="ia"/> and + 16, B's at <paramref name="ib"/> and + 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Acc StepAt(Acc acc, ArrayView<Float4> sh4, long ia, long ib)
    {
        Float4 a0 = sh4[ia];
        Float4 a1 = sh4[ia + 16];
        Float4 b0 = sh4[ib];
        Float4 b1 = sh4[ib + 16];
        return Outer(acc, a0, a1, b0, b1);
    }

    /// <summary>
    /// This thread's share of every stage's copies of one operand (rows <paramref name="r0"/>.. of <paramref name="rows"/>).
    /// Element (k, row rl) of a stage tile is at float k · 128 + (rl XOR 4·(k/2 mod 8)). K-major operands: 8 elements,
    /// k = 2·(lane mod 8) + e, rows 16·warp + lane/8 + 4j (e &lt; 2, j &lt; 4), so one warp's copy covers even (or odd) k
    /// 0..14 of 4 rows: 32 distinct banks, and 4 × 64 bytes of global memory that the other copy reads again from L1;
    /// as 16·warp + lane/8 has bits 2-3 clear, row + 4j lands at the float of row XOR 4j. Others: 2 chunks, k = warp
    /// + 8h, rows 4·lane .. 4·lane + 3, at chunk lane XOR (k/2) of k-row k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CopyPlan Plan<TL>(int ld, int r0, int rows, int t) where TL : struct, IOperandLayout
    {
        int lane = t & 31, warp = t >> 5;
        CopyPlan c;
        if (TL.KMajor())
        {
            int kk = (lane & 7) << 1, rt = (warp << 4) + (lane >> 3), last = rows - 1;
            c.K = kk;
            c.Word = kk * BM + (rt ^ ((lane & 7) << 2));
            c.Word1 = c.Word + BM;   // k + 1: the same swizzle
            // Rows past the end read the last one (their outputs are never written). Element offsets within one matrix
            // fit in 32 bits (IlgpuGemm.Check); these hold k = kk.
            c.O0 = IntrinsicMath.Min(r0 + rt, last) * ld + kk;
            c.O1 = IntrinsicMath.Min(r0 + rt + 4, last) * ld + kk;
            c.O2 = IntrinsicMath.Min(r0 + rt + 8, last) * ld + kk;
            c.O3 = IntrinsicMath.Min(r0 + rt + 12, last) * ld + kk;
        }
        else
        {
            int r = lane << 2;
            c.K = warp;
            c.Word = warp * BM + ((lane ^ (warp >> 1)) << 2);
            c.Word1 = (warp + 8) * BM + ((lane ^ ((warp + 8) >> 1)) << 2);
            // Columns past the end are zero-filled: a partial chunk reads only its bytes inside the row, an empty one
            // nothing (from column 0).
            c.O2 = IntrinsicMath.Clamp((rows - r0 - r) * 4, 0, 16);
            c.O0 = c.O2 > 0 ? r0 + r : 0;
            c.O1 = warp * ld;
            c.O3 = 0;
        }
        return c;
    }

    /// <summary>
    /// Queues this thread's copies (<paramref name="c"/>) of one operand's 128 × 16 tile with K from <paramref name="k0"/>
    /// into the tile at float <paramref name="tile"/> of the shared allocation. Elements past K are zero (source size 0,
    /// from a valid address: k = 0). Written out, not as loops: ILGPU keeps C# loops rolled.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueTile<TL, TX>(ArrayView<float> sh, uint shBase, int tile, ArrayView<float> x, ulong gx, long xBase,
        int ld, CopyPlan c, int k0, int depth) where TL : struct, IOperandLayout where TX : struct, IAsyncCopy
    {
        int left = depth - k0 - c.K;   // elements of K from this thread's first k of the stage on
        if (TL.KMajor())
        {
            // The plan's offsets are at k = kk: + k0 (+ 1) for the stage, - kk for the address of a zero fill.
            int dk = left > 0 ? k0 : -c.K, bytes = left > 0 ? 4 : 0;
            int w = tile + c.Word;
            CopyAsync4<TX>(sh, shBase, w, x, gx, xBase, c.O0 + dk, bytes);
            CopyAsync4<TX>(sh, shBase, w ^ 4, x, gx, xBase, c.O1 + dk, bytes);
            CopyAsync4<TX>(sh, shBase, w ^ 8, x, gx, xBase, c.O2 + dk, bytes);
            CopyAsync4<TX>(sh, shBase, w ^ 12, x, gx, xBase, c.O3 + dk, bytes);
            dk = left > 1 ? k0 + 1 : -c.K;
            bytes = left > 1 ? 4 : 0;
            w = tile + c.Word1;
            CopyAsync4<TX>(sh, shBase, w, x, gx, xBase, c.O0 + dk, bytes);
            CopyAsync4<TX>(sh, shBase, w ^ 4, x, gx, xBase, c.O1 + dk, bytes);
            CopyAsync4<TX>(sh, shBase, w ^ 8, x, gx, xBase, c.O2 + dk, bytes);
            CopyAsync4<TX>(sh, shBase, w ^ 12, x, gx, xBase, c.O3 + dk, bytes);
        }
        else
        {
            CopyAsync16<TX>(sh, shBase, tile + c.Word, x, gx, xBase, left > 0 ? c.O0 + c.O1 + k0 * ld : c.O0, left > 0 ? c.O2 : 0);
            CopyAsync16<TX>(sh, shBase, tile + c.Word1, x, gx, xBase, left > 8 ? c.O0 + c.O1 + (k0 + 8) * ld : c.O0, left > 8 ? c.O2 : 0);
        }
    }

    /// <summary>What <see cref="IssueTile{TL, TX}"/> reuses every stage; see <see cref="Plan{TL}"/>.</summary>
    private struct CopyPlan
    {
        /// <summary>K-major: the element offsets (at k = 2 · (lane mod 8)) of the four rows; others: the column offset (0 if
        /// the chunk is past the end), warp · ld, the chunk's bytes inside the row, unused.</summary>
        public int O0, O1, O2, O3;
        /// <summary>The first shared float written (K-major: for this thread's first k; others: its first chunk), within an operand tile.</summary>
        public int Word;
        /// <summary>The same for the second k (K-major: k + 1; others: its second chunk, 8 k-rows on).</summary>
        public int Word1;
        /// <summary>This thread's first k within a stage.</summary>
        public int K;
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
            MmaKernels.AsyncCopy(shBase + (uint)(w * 4), gx + 4 * (ulong)(uint)off, bytes);
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
