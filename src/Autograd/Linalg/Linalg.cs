using MathNet.Numerics.LinearAlgebra;

namespace Ember;

/// <summary>
/// Linear algebra (PyTorch's torch.linalg), batched over leading dims, float32 and float64, differentiable. The norms
/// compose Core ops. The decompositions and solvers (inv, det, slogdet, solve, cholesky, qr, svd, eigh) run on the host
/// with MathNet.Numerics in float64 (a tensor on another device is copied to the CPU and the result copied back) and record
/// one node whose backward formula is in Derivatives.Linalg.cs; pinv composes svd.
/// </summary>
public static partial class Linalg
{
    // ---- host round trip ------------------------------------------------------------------------------

    private static void CheckFloat(string op, Tensor a)
    {
        if (!a.IsFloatingPoint) throw new ArgumentException($"{op}: Expected a floating point or complex tensor as input. Got {a.DType}");
    }

    private static void CheckSquare(string op, Tensor a)
    {
        CheckFloat(op, a);
        if (a.Dim < 2) throw new ArgumentException($"{op}: The input tensor A must have at least 2 dimensions.");
        if (a.Size(-1) != a.Size(-2)) throw new ArgumentException($"{op}: A must be batches of square matrices, but they are {a.Size(-2)} by {a.Size(-1)} matrices");
    }

    // The matrices of a [..., r, c] tensor, in batch order.
    internal static Matrix<double>[] ToMatrices(Tensor a)
    {
        long r = a.Size(-2), c = a.Size(-1);
        var data = a.Detach().To(DType.Float64).Contiguous().ToArray<double>();
        int count = (int)(a.Numel / Math.Max(r * c, 1));
        var res = new Matrix<double>[count];
        for (int b = 0; b < count; b++)
            res[b] = Matrix<double>.Build.DenseOfRowMajor((int)r, (int)c, data.AsSpan(b * (int)(r * c), (int)(r * c)).ToArray());
        return res;
    }

    internal static long[] BatchShape(Tensor a) => a.Shape.ToArray()[..^2];

    // Stacks row-major host values into a tensor of `like`'s dtype and device.
    internal static Tensor FromHost(IEnumerable<double> values, long[] shape, Tensor like) =>
        Tensor.FromArray(values.ToArray()).Reshape(shape).To(like.DType).To(like.Device);

    internal static Tensor FromMatrices(Matrix<double>[] ms, long[] batch, Tensor like) =>
        FromHost(ms.SelectMany(m => m.ToRowMajorArray()), [.. batch, ms.Length > 0 ? ms[0].RowCount : 0, ms.Length > 0 ? ms[0].ColumnCount : 0], like);

    // ---- norms (composites) ------------------------------------------------------------------------------

    /// <summary>
    /// Vector norm over <paramref name="dims"/> (all elements when null; torch.linalg.vector_norm): (Σ|x|^ord)^(1/ord);
    /// ord = ∞: max |x|, −∞: min |x|, 0: the count of nonzeros (not differentiable).
    /// </summary>
    /// <exception cref="ArgumentException">A non-floating input.</exception>
    public static Tensor VectorNorm(Tensor x, double ord = 2, int[]? dims = null, bool keepDim = false)
    {
        CheckFloat("linalg.vector_norm", x);
        var d = dims ?? [];
        if (double.IsPositiveInfinity(ord)) return x.Abs().Amax(d, keepDim);
        if (double.IsNegativeInfinity(ord)) return x.Abs().Amin(d, keepDim);
        if (ord == 0) return x.Ne(0).To(x.DType).Sum(d, keepDim);
        return x.Norm(ord, d, keepDim);
    }

    /// <summary>
    /// Matrix norm over the last two dims (torch.linalg.matrix_norm): "fro" (default), "nuc" (sum of singular values), or
    /// ord 1 / −1 (max / min column abs-sum), ∞ / −∞ (max / min row abs-sum), 2 / −2 (largest / smallest singular value).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims, or an unsupported ord.</exception>
    public static Tensor MatrixNorm(Tensor a, string ord = "fro", bool keepDim = false)
    {
        CheckFloat("linalg.matrix_norm", a);
        if (a.Dim < 2) throw new ArgumentException($"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.");
        return ord switch
        {
            "fro" => a.Square().Sum([-2, -1], keepDim).Sqrt(),
            "nuc" => Keep(Svdvals(a).Sum(-1), keepDim),
            _ => throw new ArgumentException($"linalg.matrix_norm: Order {ord} not supported."),
        };
    }

    /// <inheritdoc cref="MatrixNorm(Tensor, string, bool)"/>
    public static Tensor MatrixNorm(Tensor a, double ord, bool keepDim = false)
    {
        CheckFloat("linalg.matrix_norm", a);
        if (a.Dim < 2) throw new ArgumentException($"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.");
        Tensor r = ord switch
        {
            1 => a.Abs().Sum(-2).Amax([-1]),
            -1 => a.Abs().Sum(-2).Amin([-1]),
            double.PositiveInfinity => a.Abs().Sum(-1).Amax([-1]),
            double.NegativeInfinity => a.Abs().Sum(-1).Amin([-1]),
            2 => Svdvals(a).Amax([-1]),
            -2 => Svdvals(a).Amin([-1]),
            _ => throw new ArgumentException($"linalg.matrix_norm: Order {ord} not supported."),
        };
        return Keep(r, keepDim);
    }

    private static Tensor Keep(Tensor r, bool keepDim) => keepDim ? r.Unsqueeze(-1).Unsqueeze(-1) : r;

    /// <summary>
    /// torch.linalg.norm: with ord null, the 2-norm of all elements (dims null) or over dims; with ord and one dim (or a
    /// 1-D input) a vector norm; with two dims (or a 2-D input) a matrix norm.
    /// </summary>
    /// <exception cref="ArgumentException">ord given without dims for an input that is not 1-D or 2-D.</exception>
    public static Tensor Norm(Tensor x, double? ord = null, int[]? dims = null, bool keepDim = false)
    {
        if (ord is null) return VectorNorm(x, 2, dims, keepDim);
        var d = dims ?? (x.Dim is 1 or 2 ? [.. Enumerable.Range(0, x.Dim)] : throw new ArgumentException($"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {x.Dim}D."));
        if (d.Length == 1) return VectorNorm(x, ord.Value, d, keepDim);
        if (d.Length != 2) throw new ArgumentException($"linalg.norm: If dim is specified, it must be of length 1 or 2. Got [{string.Join(", ", d)}]");
        var r = MatrixNorm(MoveToEnd(x, d), ord.Value, false);
        return keepDim ? Unkeep(r, x, d) : r;
    }

    /// <summary>The Frobenius or nuclear norm over two dims (the last two when null).</summary>
    public static Tensor Norm(Tensor x, string ord, int[]? dims = null, bool keepDim = false)
    {
        var d = dims ?? [-2, -1];
        if (d.Length != 2) throw new ArgumentException($"linalg.norm: ord '{ord}' needs two dims, got [{string.Join(", ", d)}]");
        var r = MatrixNorm(MoveToEnd(x, d), ord, false);
        return keepDim ? Unkeep(r, x, d) : r;
    }

    private static Tensor MoveToEnd(Tensor x, int[] d)
    {
        int a = d[0] < 0 ? d[0] + x.Dim : d[0], b = d[1] < 0 ? d[1] + x.Dim : d[1];
        return x.Permute([.. Enumerable.Range(0, x.Dim).Where(i => i != a && i != b), a, b]);
    }

    private static Tensor Unkeep(Tensor r, Tensor x, int[] d)
    {
        var s = x.Shape.ToArray();
        foreach (var k in d) s[k < 0 ? k + x.Dim : k] = 1;
        return r.Reshape(s);
    }
}
