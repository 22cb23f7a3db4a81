using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// The K loop of the dynamic-shared kernels with fragments double-buffered across the barrier
/// (<see cref="MmaGemmOptions.EarlyBarrier"/>, <see cref="MmaKernels.GemmWideEarly{T, TX, TE, TS, TB}"/>), meant for the
/// 128×256 block: with one block per SM, every warp of the SM meets at the slab's barrier,
/// and in the plain loop the barrier is followed by the copy issue and 8 <c>ldmatrix</c> whose latency no other warp
/// covers before the first <c>mma</c> can start. Here slab s + 1 is waited for and published before slab s's last K
/// step: that step's fragments are already in registers, so its 32 <c>mma</c>s are issued right after the barrier
/// together with the <c>ldmatrix</c> of slab s + 1's first K step, and inside a slab each K step's fragments load while
/// the previous step's <c>mma</c>s run.
/// <para>
/// Why the ring stays correct: every <c>ldmatrix</c> of slab s is issued before the barrier of iteration s, so after it
/// no warp reads slab s's stage, which iteration s + 1 refills (with slab s + stages); the wait before that barrier
/// leaves stages − 2 groups in flight, i.e. slab s + 1 has landed. Off CUDA the emulated <c>mma</c> reads shared
/// memory itself, so it runs slab s's last step before the barrier (another thread may refill the stage after it).
/// </para>
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>
    /// <see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/> (same launch, operands, stages, copies and epilogue, either block)
    /// with the K loop of <see cref="EarlyBarrierSlabs{T, TX, TS, TB}"/>. Its frame repeats
    /// GemmWideDynamic's few setup lines instead of sharing them: ILGPU numbers the registers of a kernel by the order
    /// of its code, so a branch between the two loops in one body changed the PTX of the 128×128 kernels.
    /// </summary>
    public static void GemmWideEarly<T, TX, TE, TS, TB>(GemmParams p, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput where TS : struct, IWideStages where TB : struct, IWideBlock
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        // Warps row-major over the block: 2 × 2 (128×128) or 2 × 4 (128×256) tiles of 64×64.
        int wm = TB.Cols() == 256 ? (warp >> 2) * 64 : (warp >> 1) * 64, wn = TB.Cols() == 256 ? (warp & 3) * 64 : (warp & 1) * 64;
        int bx = Grid.IdxX, by = Grid.IdxY;
        if (TB.GroupRows() > 0) GroupedTile(TB.GroupRows(), Grid.DimX, Grid.DimY, ref bx, ref by);
        int m0 = by * BM, n0 = bx * TB.Cols();
        var o = SlabOrigin<KMajorVecLayout, KMajorVecLayout, TE>(p);
        int depth = o.Depth;
        int e = T.PerWord(), elementBytes = 4 / e;
        int words = TS.RowWords(), stageW = (BM + TB.Cols()) * words;

        ArrayView<uint> sh = SharedMemory.GetDynamic<uint>();
        uint shBase = DynamicBase<TX>();
        int slabK = words * e;
        int slabs = (depth + slabK - 1) / slabK;

        // This thread's chunks, rows and swizzle, ldmatrix row offsets and prologue as GemmWideDynamic.
        int row = t >> 2, wq = (words == 16 ? t & 3 : t & 7) << 2;
        var rows = WideRows.Of<TB>(o, p, m0, n0, row);
        var at = WideAddresses.Of<TB>(p, rows, elementBytes);
        int sw = StageSwizzle<TS>(row, wq);
        var steps = new StepRows(Pin<TX>(StageRowA<TS>(lane, wm, 0)), Pin<TX>(StageRowA<TS>(lane, wm, 8)),
            Pin<TX>(StageRowB<TS>(lane, wn, 0)), Pin<TX>(StageRowB<TS>(lane, wn, 8)));
        for (int s = 0; s < TS.Stages() - 1; s++)
        {
            if (s < slabs) IssueStage<T, TX, TS, TB>(sh, shBase, s * stageW + sw, a, b, rows, at, s * slabK, wq, depth);
            Commit<TX>();
        }

        WideAcc acc = EarlyBarrierSlabs<T, TX, TS, TB>(sh, shBase, a, b, rows, at, sw, wq, depth, slabs, steps, wm, wn, lane);

        int g = lane >> 2, q = lane & 3;
        int r0 = m0 + wm + g, c0 = n0 + wn + 2 * q;
        WriteTile<T, TX, TE>(c, o.C, p, r0, c0, acc.L);
        WriteTile<T, TX, TE>(c, o.C, p, r0, c0 + 32, acc.R);
    }

    /// <summary>
    /// The K loop after the prologue (slabs 0 .. stages-2 committed) with the barrier before each slab's last K step;
    /// arguments as computed by <see cref="GemmWideEarly{T, TX, TE, TS, TB}"/>. Returns the accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideAcc EarlyBarrierSlabs<T, TX, TS, TB>(ArrayView<uint> sh, uint shBase, ArrayView<ushort> a, ArrayView<ushort> b,
        WideRows rows, WideAddresses at, int sw, int wq, int depth, int slabs, StepRows steps, int wm, int wn, int lane)
        where T : struct, IMmaType where TX : struct, IMmaPath where TS : struct, IWideStages where TB : struct, IWideBlock
    {
        int e = T.PerWord(), words = TS.RowWords(), stages = TS.Stages();
        int stageW = (BM + TB.Cols()) * words, slabK = words * e;

        // Slab 0 visible, its first K step's fragments loaded.
        WaitStages<TX, TS>();
        if (T.Rounds() && slabs > 0) RoundStage<T, TX, TS, TB>(sh, shBase, sw);
        Group.Barrier();
        WideFrags frag = LoadFrags<TX, TS>(sh, shBase + steps.A0, shBase + steps.B0, shBase, 0, lane);

        WideAcc acc = default;
        int rd = 0, wr = stages - 1;   // stages read (slab s) and refilled (slab s + stages - 1)
        for (int s = 0; s < slabs; s++)
        {
            int nx = s + stages - 1;
            if (nx < slabs) IssueStage<T, TX, TS, TB>(sh, shBase, wr * stageW + sw, a, b, rows, at, nx * slabK, wq, depth);
            Commit<TX>();
            uint stage = shBase + (uint)(rd * stageW * 4);
            // K steps 0 .. last-1 of slab s (frag holds step 0): the next step's fragments load under this one's mma.
            WideFrags next = LoadFrags<TX, TS>(sh, stage + steps.A1, stage + steps.B1, stage, 8, lane);
            acc = MmaFrags<T, TX, TS>(acc, sh, frag, wm, wn, lane);
            frag = next;
            if (words == 32)
            {
                // Steps 2 and 3 read chunks XOR 4 of steps 0 and 1's rows (see GemmWideDynamic).
                next = LoadFrags<TX, TS>(sh, stage + (steps.A0 ^ 64u), stage + (steps.B0 ^ 64u), stage, 16, lane);
                acc = MmaFrags<T, TX, TS>(acc, sh, frag, wm, wn, lane);
                frag = next;
                next = LoadFrags<TX, TS>(sh, stage + (steps.A1 ^ 64u), stage + (steps.B1 ^ 64u), stage, 24, lane);
                acc = MmaFrags<T, TX, TS>(acc, sh, frag, wm, wn, lane);
                frag = next;
            }
            if (!TX.Native()) acc = MmaFrags<T, TX, TS>(acc, sh, frag, wm, wn, lane);

            // Slab s + 1 has landed (this thread's copies) once all but stages-2 groups are done; the barrier publishes
            // every thread's copies and ends all reads of slab s's stage.
            int rn = rd == stages - 1 ? 0 : rd + 1;
            WaitStages<TX, TS>();
            if (T.Rounds() && s + 1 < slabs) RoundStage<T, TX, TS, TB>(sh, shBase, rn * stageW + sw);
            Group.Barrier();
            // Slab s + 1's first fragments (after the last slab a stale stage, never used) load under slab s's last mma.
            uint after = shBase + (uint)(rn * stageW * 4);
            next = LoadFrags<TX, TS>(sh, after + steps.A0, after + steps.B0, after, 0, lane);
            if (TX.Native()) acc = MmaFrags<T, TX, TS>(acc, sh, frag, wm, wn, lane);
            frag = next;
            rd = rn;
            wr = wr == stages - 1 ? 0 : wr + 1;
        }
        return acc;
    }

    /// <summary>
    /// One K step's fragments of a 64×64 warp tile: on CUDA A's 4 m-tiles from shared byte address
    /// <paramref name="aAt"/> + 16·i rows and B's 8 n-tiles (two per load) from <paramref name="bAt"/> + 16·i rows
    /// (8 <c>ldmatrix.x4</c>, as <see cref="StageStep{T, TX, TS}"/>); off CUDA only where they are (stage
    /// <paramref name="stage"/>, K word <paramref name="kw"/>), for <see cref="StageEmulate{T, TS}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideFrags LoadFrags<TX, TS>(ArrayView<uint> sh, uint aAt, uint bAt, uint stage, int kw, int lane)
        where TX : struct, IMmaPath where TS : struct, IWideStages
    {
        WideFrags f = default;
        if (!TX.Native())
        {
            f.Stage = stage;
            f.Kw = kw;
            return f;
        }
        uint band = StageBand<TS>();
        f.A0 = LdMatrixAt<TX>(sh, aAt, lane);
        f.A1 = LdMatrixAt<TX>(sh, aAt + band, lane);
        f.A2 = LdMatrixAt<TX>(sh, aAt + 2 * band, lane);
        f.A3 = LdMatrixAt<TX>(sh, aAt + 3 * band, lane);
        f.B01 = LdMatrixAt<TX>(sh, bAt, lane);
        f.B23 = LdMatrixAt<TX>(sh, bAt + band, lane);
        f.B45 = LdMatrixAt<TX>(sh, bAt + 2 * band, lane);
        f.B67 = LdMatrixAt<TX>(sh, bAt + 3 * band, lane);
        return f;
    }

    /// <summary>The 32 <c>mma</c>s of one K step on fragments <paramref name="f"/> (n-tiles 0-3 into <see cref="WideAcc.L"/>, 4-7 into <see cref="WideAcc.R"/>); off CUDA their emulation, reading the stage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideAcc MmaFrags<T, TX, TS>(WideAcc acc, ArrayView<uint> sh, WideFrags f, int wm, int wn, int lane)
        where T : struct, IMmaType where TX : struct, IMmaPath where TS : struct, IWideStages
    {
        if (!TX.Native()) return StageEmulate<T, TS>(acc, sh, f.Stage, wm, wn, f.Kw, lane);
        acc.L = Tile<T, TX>(acc.L, f.A0, f.A1, f.A2, f.A3, f.B01, f.B23, lane);
        acc.R = Tile<T, TX>(acc.R, f.A0, f.A1, f.A2, f.A3, f.B45, f.B67, lane);
        return acc;
    }

    /// <summary>This lane's ldmatrix row offsets in a stage for K steps 0 and 1 (see <see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/>).</summary>
    private readonly record struct StepRows(uint A0, uint A1, uint B0, uint B1);

    /// <summary>One K step's fragments: on CUDA the registers <c>ldmatrix</c> filled; off CUDA the stage and K word to emulate from.</summary>
    private struct WideFrags
    {
        public UInt4 A0, A1, A2, A3, B01, B23, B45, B67;
        public uint Stage;
        public int Kw;
    }
}
