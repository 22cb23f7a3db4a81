using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// One role (param, grad, exp_avg, …) of a multi-tensor launch: the whole-storage views and storage offsets of up to
/// <see cref="Slots"/> tensors, passed by value as one kernel parameter (ILGPU accepts structs of views). Slots past the
/// chunk's count hold empty views and are never read.
/// </summary>
internal struct ForeachViews<T> where T : unmanaged
{
    /// <summary>Tensors per launch: a struct's fields cannot be indexed, so each slot is a field and a switch picks it.</summary>
    public const int Slots = 8;

    public ArrayView<T> V0, V1, V2, V3, V4, V5, V6, V7;
    public long O0, O1, O2, O3, O4, O5, O6, O7;

    /// <summary>The view of slot <paramref name="s"/> (0 ≤ s &lt; <see cref="Slots"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ArrayView<T> View(int s) => s switch { 0 => V0, 1 => V1, 2 => V2, 3 => V3, 4 => V4, 5 => V5, 6 => V6, _ => V7 };

    /// <summary>The storage offset (elements) of slot <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly long Offset(int s) => s switch { 0 => O0, 1 => O1, 2 => O2, 3 => O3, 4 => O4, 5 => O5, 6 => O6, _ => O7 };

    /// <summary>Host side: fills slot <paramref name="s"/>.</summary>
    public void Set(int s, ArrayView<T> view, long offset)
    {
        switch (s)
        {
            case 0: V0 = view; O0 = offset; break;
            case 1: V1 = view; O1 = offset; break;
            case 2: V2 = view; O2 = offset; break;
            case 3: V3 = view; O3 = offset; break;
            case 4: V4 = view; O4 = offset; break;
            case 5: V5 = view; O5 = offset; break;
            case 6: V6 = view; O6 = offset; break;
            case 7: V7 = view; O7 = offset; break;
            default: throw new ArgumentOutOfRangeException(nameof(s));
        }
    }
}

/// <summary>
/// Where each slot of a multi-tensor launch starts in its 1-D grid: the exclusive prefix sum of the slots' element
/// counts (slot 0 starts at 0). Slots past the chunk's count start at <see cref="long.MaxValue"/>, so no thread finds them.
/// </summary>
internal struct ForeachLayout
{
    public long S1, S2, S3, S4, S5, S6, S7;

    /// <summary>An empty layout: every slot but 0 unused.</summary>
    public static ForeachLayout Empty => new() { S1 = long.MaxValue, S2 = long.MaxValue, S3 = long.MaxValue, S4 = long.MaxValue, S5 = long.MaxValue, S6 = long.MaxValue, S7 = long.MaxValue };

    /// <summary>Host side: slot <paramref name="s"/> (1 ≤ s &lt; 8) starts at grid index <paramref name="start"/>.</summary>
    public void SetStart(int s, long start)
    {
        switch (s)
        {
            case 1: S1 = start; break;
            case 2: S2 = start; break;
            case 3: S3 = start; break;
            case 4: S4 = start; break;
            case 5: S5 = start; break;
            case 6: S6 = start; break;
            case 7: S7 = start; break;
            default: throw new ArgumentOutOfRangeException(nameof(s));
        }
    }

    /// <summary>
    /// The slot of grid index <paramref name="i"/> and, in <paramref name="start"/>, where that slot begins: starts
    /// increase with the slot, so the last one at or below i is it (seven compares, no loop or divergent search).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Slot(long i, out long start)
    {
        int s = 0;
        long b = 0;
        if (i >= S1) { s = 1; b = S1; }
        if (i >= S2) { s = 2; b = S2; }
        if (i >= S3) { s = 3; b = S3; }
        if (i >= S4) { s = 4; b = S4; }
        if (i >= S5) { s = 5; b = S5; }
        if (i >= S6) { s = 6; b = S6; }
        if (i >= S7) { s = 7; b = S7; }
        start = b;
        return s;
    }
}

/// <summary>
/// Multi-tensor SGD and Adam/AdamW steps (PyTorch's foreach implementations): one launch updates up to
/// <see cref="ForeachViews{T}.Slots"/> parameters, one thread per element of their concatenation; each thread finds its
/// tensor with <see cref="ForeachLayout.Slot"/> and runs the single-tensor kernel's element update on it.
/// </summary>
internal static class OptimForeachKernels
{
    /// <summary>SGD over the chunk: param p, grad g, momentum buffer buf (empty without momentum).</summary>
    public static void Sgd<T, R>(Index1D i, ForeachViews<T> p, ForeachViews<T> g, ForeachViews<T> buf, ForeachLayout l, OptimParams a)
        where T : unmanaged where R : struct, IReal<T>
    {
        int s = l.Slot(i, out long start);
        long j = i - start;
        OptimKernels.SgdElement<T, R>(p.View(s), p.Offset(s) + j, g.View(s), g.Offset(s) + j, buf.View(s), buf.Offset(s) + j, a);
    }

    /// <summary>Adam/AdamW over the chunk: param p, grad g, exp_avg m, exp_avg_sq v, max_exp_avg_sq vmax (empty without amsgrad).</summary>
    public static void Adam<T, R>(Index1D i, ForeachViews<T> p, ForeachViews<T> g, ForeachViews<T> m, ForeachViews<T> v, ForeachViews<T> vmax,
        ForeachLayout l, OptimParams a) where T : unmanaged where R : struct, IReal<T>
    {
        int s = l.Slot(i, out long start);
        long j = i - start;
        OptimKernels.AdamElement<T, R>(p.View(s), p.Offset(s) + j, g.View(s), g.Offset(s) + j, m.View(s), m.Offset(s) + j,
            v.View(s), v.Offset(s) + j, vmax.View(s), vmax.Offset(s) + j, a);
    }
}
