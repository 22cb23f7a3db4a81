namespace Ember;

public sealed partial class Tensor
{
    /// <summary>
    /// The most elements one tensor may hold: .NET's largest array length (<see cref="Array.MaxLength"/>, the same for every
    /// element type), since a CPU storage is one managed array.
    /// </summary>
    public static long MaxElements => Array.MaxLength;

    /// <summary>
    /// The element count of <paramref name="shape"/>. The product of its non-zero sizes must fit Int64 even when a size
    /// is 0, because contiguous strides are such products.
    /// </summary>
    /// <param name="op">The operation named in the exception (e.g. "Reshape", "Safetensors").</param>
    /// <param name="shape">The sizes.</param>
    /// <remarks>Public for readers of file formats (safetensors, IDX, PyTorch checkpoints) that size tensors from a header.</remarks>
    /// <exception cref="ArgumentException">A size is negative, or the product overflows Int64; the message names <paramref name="op"/> and the shape.</exception>
    public static long CheckedNumel(string op, ReadOnlySpan<long> shape)
    {
        long n = 1;
        bool empty = false;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"{op}: sizes must be non-negative, got shape {ShapeUtil.Format(shape)}.");
            if (s == 0) { empty = true; continue; }
            if (n > long.MaxValue / s)
                throw new ArgumentException($"{op}: shape {ShapeUtil.Format(shape)} has more elements than Int64 can count.");
            n *= s;
        }
        return empty ? 0 : n;
    }

    /// <summary>Checks that a new storage of <paramref name="shape"/> can exist: the element count fits Int64 and <see cref="MaxElements"/>.</summary>
    /// <exception cref="ArgumentException">It cannot; the message names <paramref name="op"/>, the shape and the limit.</exception>
    internal static long CheckAllocatable(string op, ReadOnlySpan<long> shape, DType dtype)
    {
        long n = CheckedNumel(op, shape);
        if (n > MaxElements)
            throw new ArgumentException(
                $"{op}: shape {ShapeUtil.Format(shape)} has {n} elements; a {dtype} tensor holds at most {MaxElements} (the largest .NET array).");
        return n;
    }

    /// <summary>Checks an element count computed from scalars (Arange, Linspace, Eye, Randperm) before anything is allocated.</summary>
    /// <exception cref="ArgumentException">The count is negative, not finite or above <see cref="MaxElements"/>.</exception>
    internal static long CheckCount(string op, double count, string what)
    {
        if (!(count >= 0) || count > MaxElements)
            throw new ArgumentException($"{op}: {what} gives {count} elements; expected between 0 and {MaxElements} (the largest .NET array).");
        return (long)count;
    }

    /// <summary>
    /// PyTorch's internal-overlap check of a written-to tensor: refuses a view in which two indices reach one memory location
    /// (a stride 0 over a dim of size &gt; 1 from Expand, or overlapping windows from Unfold), because an in-place kernel
    /// would then read values it already wrote, in an order that depends on the backend.
    /// </summary>
    /// <exception cref="InvalidOperationException">Elements overlap; PyTorch's message.</exception>
    internal void CheckNoInternalOverlap(string op)
    {
        // Sort the dims of size > 1 by stride; the view is overlap-free when each stride exceeds the farthest offset
        // reachable through the smaller-stride dims (a sufficient condition that every view Ember makes of a dense storage
        // meets unless it truly overlaps).
        Span<(long Stride, long Size)> dims = stackalloc (long, long)[MaxRank];
        int k = 0;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 0) return;
            if (shape[i] > 1) dims[k++] = (Math.Abs(strides[i]), shape[i]);
        }
        var used = dims[..k];
        used.Sort((a, b) => a.Stride.CompareTo(b.Stride));
        long reach = 0;   // the largest offset reachable through the dims seen so far
        foreach (var (stride, size) in used)
        {
            if (stride <= reach)
                throw new InvalidOperationException(
                    $"{op}: unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
                    + $"Please clone() the tensor before performing the operation. (shape {Shape}, strides {ShapeUtil.Format(strides)})");
            reach += stride * (size - 1);
        }
    }

    /// <summary>
    /// Integer division by zero: checked here, before any kernel, so that every size and backend throws the same
    /// <see cref="DivideByZeroException"/> (a parallel kernel would wrap it in an AggregateException, a GPU one return garbage).
    /// </summary>
    /// <exception cref="DivideByZeroException">An element of <paramref name="divisor"/> is zero.</exception>
    internal static void CheckIntegerDivisor(BinaryOp op, Tensor divisor)
    {
        if (op is not (BinaryOp.Div or BinaryOp.Remainder) || divisor.DType is not (DType.Int32 or DType.Int64)) return;
        bool zero = divisor.DType == DType.Int32
            ? divisor.ToArray<int>().AsSpan().Contains(0)
            : divisor.ToArray<long>().AsSpan().Contains(0L);
        if (zero) throw new DivideByZeroException($"{op}: integer division by zero (divisor of shape {divisor.Shape}, {divisor.DType}).");
    }

    /// <summary>
    /// The dim of an op that indexes into a dim (Select, Slice, Narrow, Unfold, Unflatten, Size): a 0-dim tensor has none,
    /// although <see cref="ShapeUtil.NormalizeDim"/> accepts dim 0 of it for reductions.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is 0-dim (PyTorch: "cannot be applied to a 0-dim tensor").</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    internal int IndexedDim(int dim, string op)
    {
        if (shape.Length == 0) throw new ArgumentException($"{op}: cannot be applied to a 0-dim tensor.");
        return ShapeUtil.NormalizeDim(dim, shape.Length, op);
    }

    /// <summary>PyTorch's checks on <c>tensor.grad = value</c>: same size, dtype and device as the tensor.</summary>
    /// <exception cref="ArgumentException">The value does not match.</exception>
    private void CheckGradAssignment(Tensor value)
    {
        if (!value.shape.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"Grad: assigned grad has data of a different size (the tensor has shape {Shape}, the gradient {value.Shape}).");
        if (value.DType != DType)
            throw new ArgumentException($"Grad: assigned grad has data of a different type (the tensor is {DType}, the gradient {value.DType}).");
        if (value.Device != Device)
            throw new ArgumentException($"Grad: assigned grad has data located on a different device (the tensor is on {Device}, the gradient on {value.Device}).");
    }
}
