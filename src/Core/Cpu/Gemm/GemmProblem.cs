using System.Numerics;

namespace Ember.Cpu;

/// <summary>
/// One (batched) GEMM as the driver sees it, after validation: C_b = alpha * A_b * B_b + beta * C_b for
/// b in [0, Batch), every operand addressed by element strides, plus how the work is split over threads.
/// It lives on the caller's stack and is shared by pointer with the worker threads.
/// </summary>
internal unsafe struct GemmProblem<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public int Batch, M, N, K;
    public T Alpha, Beta;
    public T* A;
    public long ABatch, ARow, ACol;
    public T* B;
    public long BBatch, BRow, BCol;
    public T* C;
    public long CBatch, CRow, CCol;

    /// <summary>Number of pieces of work the problem is split into.</summary>
    public int Parts;

    /// <summary>Threads that run the pieces (at most <see cref="Parts"/>; fewer when <see cref="GemmBlocking.Oversplit"/> makes more cells than threads).</summary>
    public int Threads;

    /// <summary>
    /// Number of groups the batch entries are split into (contiguous ranges, 1 when every piece sees every entry).
    /// Piece i computes cell i % (GridM * GridN) of every entry of group i / (GridM * GridN).
    /// </summary>
    public int BatchGroups;

    /// <summary>Cells of the grid each matrix is split into (1 x 1 when pieces own whole entries).</summary>
    public int GridM, GridN;

    /// <summary>Rows and columns of a grid cell (multiples of the kernel's MR and NR).</summary>
    public int CellM, CellN;

    /// <summary>Groups of KC slices a split-K product's pieces take (<see cref="GemmSplitK{T, TK}"/>); 0 or 1 when not split.</summary>
    public int KGroups;

    /// <summary>KC slices of a split-K product (⌈K / KC⌉), each with its partial M x N buffer.</summary>
    public int Slices;

    /// <summary>Pieces of a split-K product's second pass (rows of C adding the partials).</summary>
    public int ReduceParts;

    /// <summary>A split-K product's partials: slice s at <c>Partials + s · M · N</c>, row-major, M x N.</summary>
    public T* Partials;

    /// <summary>The product's trace when <see cref="GemmTrace.Enabled"/>, else null.</summary>
    public GemmTraceProduct* Trace;
}
