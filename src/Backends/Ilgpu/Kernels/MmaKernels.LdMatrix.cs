using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// The <c>ldmatrix</c> variant of the tensor-core kernel's K step (<see cref="MmaGemmOptions.LdMatrix"/>): each warp
/// reads its fragments with 6 <c>ldmatrix.x4</c> per K step instead of 24 32-bit shared loads. <c>ldmatrix</c> moves
/// 8×8 matrices of 16-bit elements, i.e. 8 rows of 4 words, and gives lane L the word (row L/4, word L mod 4) of each:
/// exactly the word layout of the A (<c>.row</c>) and B (<c>.col</c>) fragments, for TF32 words as for 16-bit pairs.
/// Off CUDA both <c>ldmatrix</c> and <c>mma</c> are emulated with warp shuffles, so the tests on ilgpu-cpu check the
/// lanes' row addresses and every register's place.
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>The 32-bit shared-window address of the kernel's shared memory (ILGPU's first and, in this variant, only shared allocation).</summary>
    /// <remarks>
    /// Every inline-PTX operand goes through a small local-memory slot that ILGPU writes before the instruction and reads
    /// into a register; ptxas turns the 4-byte slots back into registers, but measured on the H100 it left the 8-byte
    /// ones in memory (a 104-byte stack frame for the ldmatrix kernel, 1,848 bytes and 400 local stores per slab loop for
    /// the first cp.async kernel, 35× slower). Shared addresses are 32-bit (the shared window is), so every operand here
    /// is 32-bit; PtxCompileTests checks that no 8-byte slot is left.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SharedBase<TX>() where TX : struct, IMmaPath
    {
        if (!TX.Native()) return 0;
        // ILGPU names a kernel's shared allocations in order; PtxCompileTests checks that the name still holds.
        CudaAsm.Emit("mov.u32 %0, __shared_alloca0;", out uint b);
        return b;
    }

    /// <summary>
    /// <paramref name="v"/>, computed where this is called: on CUDA through an inline-PTX <c>mov</c>, which ILGPU does not
    /// move. ILGPU places a pure computation in the block that uses it, so a loop-invariant address used only inside the
    /// main loop would be recomputed in every trip (for the ldmatrix offsets about 90 integer instructions per slab).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Pin<TX>(uint v) where TX : struct, IMmaPath
    {
        if (!TX.Native()) return v;
        CudaAsm.Emit("mov.u32 %0, %1;", out uint r, v);
        return r;
    }

    /// <summary>
    /// One <c>mma</c> K step (8 words at <paramref name="kw"/>) through <c>ldmatrix</c>: A by m-tile (rows 0-7 / 8-15 ×
    /// words 0-3 / 4-7: a0..a3), B two n-tiles per load (tile words 0-3, 4-7, next tile 0-3, 4-7: its b0, b1 and the next's).
    /// <paramref name="sh"/> is the whole allocation: A's two buffers, then B's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MmaAcc LdStep<T, TX>(MmaAcc acc, ArrayView<uint> sh, uint shBase, int buf, int wm, int wn, int lane, int kw)
        where T : struct, IMmaType where TX : struct, IMmaPath
    {
        int j = lane >> 3, r = lane & 7;   // lanes 8j..8j+7 give the row addresses of matrix j
        int aw = buf + (wm + r + (j & 1) * 8) * RowW + kw + (j >> 1) * 4;
        UInt4 a0 = LdMatrix<TX>(sh, shBase, aw, lane), a1 = LdMatrix<TX>(sh, shBase, aw + 16 * RowW, lane);
        UInt4 a2 = LdMatrix<TX>(sh, shBase, aw + 32 * RowW, lane), a3 = LdMatrix<TX>(sh, shBase, aw + 48 * RowW, lane);
        int bw = 2 * Buf + buf + (wn + (j >> 1) * 8 + r) * RowW + kw + (j & 1) * 4;
        UInt4 b01 = LdMatrix<TX>(sh, shBase, bw, lane), b23 = LdMatrix<TX>(sh, shBase, bw + 16 * RowW, lane);
        return Tile<T, TX>(acc, a0, a1, a2, a3, b01, b23, lane);
    }

    /// <summary>
    /// The 16 <c>mma</c>s of a warp's 64×32 tile for one K step: A fragments of m-tiles 0-3, B words (b0, b1) of n-tiles
    /// 0-1 in <paramref name="b01"/> and 2-3 in <paramref name="b23"/> (the order ldmatrix.x4 hands them out).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MmaAcc Tile<T, TX>(MmaAcc acc, UInt4 a0, UInt4 a1, UInt4 a2, UInt4 a3, UInt4 b01, UInt4 b23, int lane)
        where T : struct, IMmaType where TX : struct, IMmaPath
    {
        acc.C00 = Mma<T, TX>(acc.C00, a0, b01.X, b01.Y, lane); acc.C01 = Mma<T, TX>(acc.C01, a0, b01.Z, b01.W, lane);
        acc.C02 = Mma<T, TX>(acc.C02, a0, b23.X, b23.Y, lane); acc.C03 = Mma<T, TX>(acc.C03, a0, b23.Z, b23.W, lane);
        acc.C10 = Mma<T, TX>(acc.C10, a1, b01.X, b01.Y, lane); acc.C11 = Mma<T, TX>(acc.C11, a1, b01.Z, b01.W, lane);
        acc.C12 = Mma<T, TX>(acc.C12, a1, b23.X, b23.Y, lane); acc.C13 = Mma<T, TX>(acc.C13, a1, b23.Z, b23.W, lane);
        acc.C20 = Mma<T, TX>(acc.C20, a2, b01.X, b01.Y, lane); acc.C21 = Mma<T, TX>(acc.C21, a2, b01.Z, b01.W, lane);
        acc.C22 = Mma<T, TX>(acc.C22, a2, b23.X, b23.Y, lane); acc.C23 = Mma<T, TX>(acc.C23, a2, b23.Z, b23.W, lane);
        acc.C30 = Mma<T, TX>(acc.C30, a3, b01.X, b01.Y, lane); acc.C31 = Mma<T, TX>(acc.C31, a3, b01.Z, b01.W, lane);
        acc.C32 = Mma<T, TX>(acc.C32, a3, b23.X, b23.Y, lane); acc.C33 = Mma<T, TX>(acc.C33, a3, b23.Z, b23.W, lane);
        return acc;
    }

    /// <summary>
    /// <c>ldmatrix.x4</c>: this lane's word of each of four 8-row × 4-word matrices, whose rows start at the word
    /// indexes (into <paramref name="sh"/>) that lanes 8j..8j+7 pass as <paramref name="word"/> for matrix j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt4 LdMatrix<TX>(ArrayView<uint> sh, uint shBase, int word, int lane) where TX : struct, IMmaPath =>
        LdMatrixAt<TX>(sh, shBase + (uint)(word * 4), lane);

    /// <summary>
    /// <see cref="LdMatrix{TX}"/> with the lane's row address given as a shared-window byte address (<see cref="SharedBase{TX}"/>
    /// plus the byte offset; off CUDA the base is 0, so <paramref name="at"/> / 4 is the word index into <paramref name="sh"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt4 LdMatrixAt<TX>(ArrayView<uint> sh, uint at, int lane) where TX : struct, IMmaPath
    {
        if (TX.Native())
        {
            Output<uint> r0 = default, r1 = default, r2 = default, r3 = default;
            Input<uint> p = at;
            // ILGPU takes the PTX text only as a literal.
            CudaAsm.EmitRef("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];", ref r0, ref r1, ref r2, ref r3, ref p);
            return new UInt4(r0.Value, r1.Value, r2.Value, r3.Value);
        }
        int word = (int)(at >> 2), src = lane >> 2, q = lane & 3;
        return new UInt4(sh[Warp.Shuffle(word, src) + q], sh[Warp.Shuffle(word, 8 + src) + q],
            sh[Warp.Shuffle(word, 16 + src) + q], sh[Warp.Shuffle(word, 24 + src) + q]);
    }

    /// <summary>
    /// <c>d += a · b</c> for one m16n8 tile from the lanes' register fragments: the inline-PTX <c>mma</c>, or off CUDA
    /// its emulation with warp shuffles (lane 4g+q's D (g, 2q..2q+1), (g+8, ...) summed over the 8 words of K, word w
    /// of row g from lane 4g + w mod 4, word w of column c from lane 4c + w mod 4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Frag4 Mma<T, TX>(Frag4 d, UInt4 a, uint b0, uint b1, int lane) where T : struct, IMmaType where TX : struct, IMmaPath
    {
        if (TX.Native()) return T.Mma(d, a, b0, b1);
        int g = lane >> 2, q = lane & 3;
        for (int w = 0; w < 8; w++)
        {
            int s = w & 3;
            uint aLo = Warp.Shuffle(w < 4 ? a.X : a.Z, 4 * g + s), aHi = Warp.Shuffle(w < 4 ? a.Y : a.W, 4 * g + s);
            uint bv = w < 4 ? b0 : b1;
            uint c0 = Warp.Shuffle(bv, 8 * q + s), c1 = Warp.Shuffle(bv, 8 * q + 4 + s);
            d.X += T.Dot(aLo, c0);
            d.Y += T.Dot(aLo, c1);
            d.Z += T.Dot(aHi, c0);
            d.W += T.Dot(aHi, c1);
        }
        return d;
    }

    /// <summary>The <c>ldmatrix</c> variant on CUDA.</summary>
    internal readonly struct NativeLdMatrixPath : IMmaPath
    {
        public static bool Native() => true;
        public static bool LdMatrix() => true;
    }

    /// <summary>The <c>ldmatrix</c> variant emulated with warp shuffles (any accelerator with 32-lane warps).</summary>
    internal readonly struct EmulatedLdMatrixPath : IMmaPath
    {
        public static bool Native() => false;
        public static bool LdMatrix() => true;
    }
}
