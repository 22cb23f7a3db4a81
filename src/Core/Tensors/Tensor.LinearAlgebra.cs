namespace Ember;

public sealed partial class Tensor
{
    private static void CheckMatMulOperands(string op, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(b);
        CheckSameDevice(op, a, b);
        CheckSameDType(op, a, b);
        a.CheckNotDisposed(op); b.CheckNotDisposed(op);
        if (a.DType == DType.Bool)
            throw new ArgumentException($"{op}: not defined for Bool tensors (shapes {a.Shape} and {b.Shape}).");
    }

    /// <summary>
    /// Matrix product with PyTorch's rules: 1-D·1-D dot, 2-D·2-D matrix product, 1-D operands get a
    /// dim prepended/appended and removed after, batched operands broadcast their batch dims.
    /// Built from views and the recorded primitive Bmm. Shapes: [..., n, k]·[..., k, m] → [broadcast(...), n, m].
    /// </summary>
    /// <exception cref="ArgumentException">An operand is 0-dim, inner sizes differ, batch dims do not broadcast, or dtypes/devices differ.</exception>
    public Tensor MatMul(Tensor other)
    {
        if (Autocast.Cast(AutocastOp.MatMul, this, other) is { } cast) return cast[0]!.MatMul(cast[1]!);
        CheckMatMulOperands("MatMul", this, other);
        if (Dim == 0 || other.Dim == 0)
            throw new ArgumentException($"MatMul: both arguments need at least 1 dimension, got shapes {Shape} and {other.Shape}.");
        var a = Dim == 1 ? Unsqueeze(0) : this;
        var b = other.Dim == 1 ? other.Unsqueeze(1) : other;
        long m = a.shape[^2], k = a.shape[^1], k2 = b.shape[^2], n = b.shape[^1];
        if (k != k2)
            throw new ArgumentException($"MatMul: shapes {Shape} and {other.Shape} cannot be multiplied (inner sizes {k} and {k2} differ).");
        Tensor result;
        long[] outShape;
        if (b.Dim == 2)
        {
            // [..., m, k]·[k, n]: fold the batch dims of a into its rows (one Bmm, b is not expanded).
            var batchA = a.shape[..^2];
            outShape = [.. batchA, m, n];
            var a3 = a.Reshape(1, ShapeUtil.Numel(batchA) * m, k);
            result = a3.Bmm(b.Unsqueeze(0)).Reshape(outShape);
        }
        else
        {
            var batch = ShapeUtil.Broadcast("MatMul", a.shape[..^2], b.shape[..^2]);
            long nb = ShapeUtil.Numel(batch);
            outShape = [.. batch, m, n];
            var a3 = a.Expand([.. batch, m, k]).Reshape(nb, m, k);
            var b3 = b.Expand([.. batch, k, n]).Reshape(nb, k, n);
            result = a3.Bmm(b3).Reshape(outShape);
        }
        if (Dim == 1) result = result.Squeeze(-2);
        if (other.Dim == 1) result = result.Squeeze(-1);
        return result;
    }

    /// <summary>2-D matrix product [n,k]·[k,m] → [n,m].</summary>
    /// <exception cref="ArgumentException">An operand is not 2-D, inner sizes differ, or dtypes/devices differ.</exception>
    public Tensor Mm(Tensor other)
    {
        if (Autocast.Cast(AutocastOp.MatMul, this, other) is { } cast) return cast[0]!.Mm(cast[1]!);
        CheckMatMulOperands("Mm", this, other);
        if (Dim != 2 || other.Dim != 2)
            throw new ArgumentException($"Mm: expected 2-D tensors, got shapes {Shape} and {other.Shape}.");
        return MatMul(other);
    }

    /// <summary>
    /// Batched product [b,n,k]·[b,k,m] → [b,n,m] (no broadcasting, torch.bmm). The recorded primitive of every
    /// matrix product; strided (e.g. transposed) operands are passed to the backend without copies.
    /// </summary>
    /// <exception cref="ArgumentException">An operand is not 3-D, batch or inner sizes differ, or dtypes/devices differ.</exception>
    public Tensor Bmm(Tensor other)
    {
        if (Autocast.Cast(AutocastOp.MatMul, this, other) is { } cast) return cast[0]!.Bmm(cast[1]!);
        CheckMatMulOperands("Bmm", this, other);
        if (Dim != 3 || other.Dim != 3)
            throw new ArgumentException($"Bmm: expected 3-D tensors, got shapes {Shape} and {other.Shape}.");
        if (shape[0] != other.shape[0] || shape[2] != other.shape[1])
            throw new ArgumentException(
                $"Bmm: shapes {Shape} and {other.Shape} cannot be multiplied (expected [b, n, k]·[b, k, m] with equal b and k).");
        var result = Alloc([shape[0], shape[1], other.shape[2]], DType, Device);
        Backend.MatMul(this, other, result);
        // Recorded: OpKind.Bmm, inputs (this, other), no args (OpArgs.None).
        return AutogradHook.Record(OpKind.Bmm, result, OpArgs.None, this, other);
    }

    /// <summary>Outer product of 1-D tensors: [n]⊗[m] → [n,m] (a broadcast product).</summary>
    /// <exception cref="ArgumentException">An operand is not 1-D, or dtypes/devices differ.</exception>
    public Tensor Outer(Tensor other)
    {
        CheckMatMulOperands("Outer", this, other);
        if (Dim != 1 || other.Dim != 1)
            throw new ArgumentException($"Outer: expected 1-D tensors, got shapes {Shape} and {other.Shape}.");
        return Unsqueeze(1) * other.Unsqueeze(0);
    }

    /// <summary>Dot product of 1-D tensors of equal length (0-dim).</summary>
    /// <exception cref="ArgumentException">An operand is not 1-D, the lengths differ, or dtypes/devices differ.</exception>
    public Tensor Dot(Tensor other)
    {
        CheckMatMulOperands("Dot", this, other);
        if (Dim != 1 || other.Dim != 1 || shape[0] != other.shape[0])
            throw new ArgumentException($"Dot: expected 1-D tensors of equal length, got shapes {Shape} and {other.Shape}.");
        return MatMul(other);
    }
}
