namespace Ember.Cpu;

/// <summary>
/// Iteration plan for an elementwise kernel over several same-shape strided operands: dims are
/// coalesced where every operand allows it, then the work is a set of rows (the last dim) whose start
/// offsets come from decomposing the row number.
/// </summary>
internal sealed class StridedLayout
{
    public readonly long[] Shape;       // coalesced, at least one dim
    public readonly long[][] Strides;   // per operand
    public readonly long[] Offsets;     // per operand base offset
    public readonly long Rows;
    public readonly int RowLength;

    public StridedLayout(long[] shape, params Tensor[] operands)
    {
        (Shape, Strides) = ShapeUtil.Coalesce(shape, operands);
        Offsets = new long[operands.Length];
        for (int j = 0; j < operands.Length; j++) Offsets[j] = operands[j].offset;
        RowLength = checked((int)Shape[^1]);
        Rows = ShapeUtil.Numel(Shape) / Math.Max(RowLength, 1);
        if (ShapeUtil.Numel(shape) == 0) Rows = 0;
    }

    /// <summary>Inner (last-dim) stride of operand j.</summary>
    public long Inner(int j) => Strides[j][^1];

    /// <summary>Start offset of row r for operand j.</summary>
    public long RowOffset(int j, long r)
    {
        long off = Offsets[j];
        var s = Strides[j];
        for (int d = Shape.Length - 2; d >= 0; d--)
        {
            long n = Shape[d];
            off += (r % n) * s[d];
            r /= n;
        }
        return off;
    }

    /// <summary>Runs body(rowStart, rowEnd) over chunks of rows, in parallel when the work is large.</summary>
    public void ForRows(Action<long, long> body)
    {
        long total = Rows * RowLength;
        if (total < 65536 || Rows < 2) { body(0, Rows); return; }
        CpuParallel.For(Rows, RowLength, (r0, n) => body(r0, r0 + n));
    }
}
