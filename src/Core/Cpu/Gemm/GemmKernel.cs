using System.Numerics;

namespace Ember.Cpu;

/// <summary>
/// A register-tiled GEMM micro-kernel and the cache blocking that suits it (GotoBLAS/BLIS terms).
/// </summary>
/// <remarks>
/// <para>The kernel multiplies one packed A micro-panel (<see cref="MR"/> rows, stored k-major: for each
/// p the <see cref="MR"/> values A[0..MR, p]) by one packed B micro-panel (<see cref="NR"/> columns,
/// for each p the <see cref="NR"/> values B[p, 0..NR]) and writes the full MR x NR tile to a row-major
/// destination with unit column stride: <c>C = alpha * Ap * Bp + beta * C</c>, or <c>C = alpha * Ap * Bp</c>
/// when <c>betaZero</c> (C is then never read, so NaN in it does not propagate).</para>
/// <para>Partial tiles are the driver's job: packed panels are zero-padded, the kernel writes a full tile
/// to a scratch buffer, and the driver merges the valid part.</para>
/// </remarks>
internal unsafe interface IGemmKernel<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Rows of the register tile (height of an A micro-panel).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile (width of a B micro-panel).</summary>
    static abstract int NR { get; }

    /// <summary>Depth of a packed block (k extent), chosen so a B micro-panel stays in L1.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of a packed A block (multiple of MR), chosen so the block stays in L2.</summary>
    static abstract int MC { get; }

    /// <summary>Columns of a packed B panel (multiple of NR), chosen so the panel stays in L3.</summary>
    static abstract int NC { get; }

    /// <summary>Full MR x NR tile: <c>C = alpha * Ap * Bp (+ beta * C)</c>, C row stride <paramref name="rs"/>, column stride 1.</summary>
    static abstract void Run(int kc, T* a, T* b, T* c, long rs, T alpha, T beta, bool betaZero);
}

/// <summary>Compile-time tile height and cache blocking for a kernel family (a struct type argument, so the JIT folds it).</summary>
internal interface IKernelShape
{
    /// <summary>Rows of the register tile.</summary>
    static abstract int Rows { get; }

    /// <summary>Depth of a packed block.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of a packed A block (multiple of <see cref="Rows"/>).</summary>
    static abstract int MC { get; }

    /// <summary>Columns of a packed B panel (multiple of the kernel's NR).</summary>
    static abstract int NC { get; }
}
