using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// The 128×256 block of 64×64 warp tiles (<see cref="MmaStaging.WideBlock"/> and its variants): 8 warps (2 along M ×
/// 4 along N, 256 threads) share each K slab, instead of 4 warps of the 128×128 block
/// (<see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/>, whose body, K step, copies, swizzle, emulation and epilogue it runs
/// with a block-shape argument <see cref="IWideBlock"/>):
/// <list type="bullet">
/// <item><description>per slab a stage holds 128 + 256 rows (384 × 64 B = 24 KB of 16-word rows) for 128 × 256 outputs:
/// 0.75 copied rows per 64 outputs against 1 (a quarter fewer <c>cp.async</c> per output), and one barrier per slab
/// for 8 warps' 8 × 64 <c>mma</c>s instead of 4 warps' (half the barriers per FLOP);</description></item>
/// <item><description>each thread copies 6 chunks per slab: A rows t/4 and t/4 + 64, B rows t/4 + 64·i (i = 0..3); row
/// r + 64 has row r's swizzle, so one stage offset serves all six;</description></item>
/// <item><description>128 accumulators a thread, one block per SM (launch bounds 256 × 1: ptxas may use 255 registers);
/// the ring of K slabs is deeper instead (4 stages, 96 KB of dynamic shared memory), since no second block covers
/// this one's barriers.</description></item>
/// </list>
/// Why 128×256 and not 256×128: both operands arrive K-major (packed if need be), so their tiles cost the same to copy;
/// keeping 128 rows of M keeps the stage's B offset (128 rows), <see cref="StageRowB{TS}"/>, the grid-y limit of
/// 65535 row tiles and the split-K tile count of the 128×128 kernels, and the block's rows of C are 256 contiguous
/// columns (longer store runs in the epilogue).
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>Threads per group of <see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/>: 8 warps of 64×64.</summary>
    public const int WideBlockThreads = 256;

    /// <summary>The block shape of the 64×64-warp-tile kernels, as a generic argument: 128 rows of C (<see cref="BM"/>) by <see cref="Cols"/>.</summary>
    internal interface IWideBlock
    {
        /// <summary>Columns of C per block (128 or 256): B rows per stage.</summary>
        static abstract int Cols();

        /// <summary>Threads per block, 32 per 64×64 warp tile (128 or 256).</summary>
        static abstract int Threads();

        /// <summary>Rows between one thread's chunks of a stage (threads / 4: four threads copy one 16-word row).</summary>
        static abstract int CopyRows();

        /// <summary>0: block (x, y) computes tile (x, y) of C; g &gt; 0: tiles in groups of g block rows (<see cref="GroupedTile"/>).</summary>
        static abstract int GroupRows();
    }

    /// <summary>128×128: 4 warps (2 × 2), 128 threads (<see cref="GemmWide{T, TX, TE}"/>, <see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/>).</summary>
    internal readonly struct Block128x128 : IWideBlock
    {
        public static int Cols() => BN;
        public static int Threads() => WideThreads;
        public static int CopyRows() => WideThreads / 4;
        public static int GroupRows() => 0;
    }

    /// <summary>128×256: 8 warps (2 × 4), 256 threads (<see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/>).</summary>
    internal readonly struct Block128x256 : IWideBlock
    {
        public static int Cols() => 2 * BN;
        public static int Threads() => WideBlockThreads;
        public static int CopyRows() => WideBlockThreads / 4;
        public static int GroupRows() => 0;
    }

    /// <summary><see cref="Block128x256"/> with C's tiles visited in groups of 8 block rows (<see cref="MmaGemmOptions.GroupedBlocks"/>).</summary>
    internal readonly struct Block128x256Grouped : IWideBlock
    {
        public static int Cols() => 2 * BN;
        public static int Threads() => WideBlockThreads;
        public static int CopyRows() => WideBlockThreads / 4;
        public static int GroupRows() => 8;
    }

    /// <summary>3 stages of 16-word slabs in dynamic shared memory (for the 128×256 block: 3 × 384 rows × 64 B = 72 KB).</summary>
    internal readonly struct ThreeStages : IWideStages
    {
        public static int Stages() => 3;
        public static int RowWords() => 16;
    }

    /// <summary>
    /// Maps block (<paramref name="bx"/>, <paramref name="by"/>) of a grid of <paramref name="nx"/> × <paramref name="ny"/>
    /// blocks to the tile of C it computes when tiles are visited in groups of <paramref name="rows"/> block rows: the blocks in launch order (x fastest) walk a group
    /// column by column, rows + 1 down each column, then the next group (the last one has the rows left). Blocks that
    /// run at the same time then share fewer, more reused tiles: one wave of 132 blocks of 128×256 over C = 8192×8192
    /// reads 8 row tiles of A and 17 column tiles of B instead of 5 and all 32 (B's 128 MB exceed the 50 MB L2).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void GroupedTile(int rows, int nx, int ny, ref int bx, ref int by)
    {
        int id = by * nx + bx, perGroup = rows * nx;
        int group = id / perGroup, first = group * rows;
        int height = IntrinsicMath.Min(ny - first, rows), within = id - group * perGroup;
        by = first + within % height;
        bx = within / height;
    }

    /// <summary>A rows each thread of <typeparamref name="TB"/> copies per 16-word chunk column: 4 (128×128) or 2 (128×256); B rows are 4 in both.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ACopies<TB>() where TB : struct, IWideBlock => BM / TB.CopyRows();
}
