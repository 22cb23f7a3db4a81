namespace Ember;

// How a tensor that no traced op produced becomes an ONNX value: parameters and buffers, views of integer inputs, and
// constants (static, or rebuilt at run time when their shape follows a dynamic axis).
internal sealed partial class OnnxGraphBuilder
{
    /// <summary>
    /// The ONNX value of a traced tensor (<paramref name="t1"/>, with its second-trace twin <paramref name="t2"/>): a traced
    /// result, a graph input, a parameter or buffer (initializer named by its state dict key), a reshaped view of an
    /// integer input, or a constant.
    /// </summary>
    /// <exception cref="OnnxExportException">The tensor came from outside the trace in a way the graph cannot express.</exception>
    public string Value(Tensor t1, Tensor t2)
    {
        if (values.TryGetValue(t1, out var name)) return name;
        if (stateNames.TryGetValue(t1, out var state))
        {
            if (initialized.Add(state)) graph.Initializer.Add(TensorProtoOf(state, t1));
            return state;
        }
        if (t1.GradFn is { } fn)
            throw new OnnxExportException($"Onnx.Export: a tensor [{t1.DType} {t1.Shape}] was produced by {fn.Name} outside the traced forward pass " +
                "(a custom autograd Function, or a tensor computed before the export that requires grad); the exporter cannot see its computation.");
        for (int i = 0; i < inputs1.Length; i++)
            if (ReferenceEquals(t1.Storage, inputs1[i].Storage))
                return values[t1] = ViewOfInput(i, t1, t2);
        if (t1.Shape != t2.Shape) return values[t1] = DynamicConstant(t1, t2);
        RequireSameValues(t1, t2, t1, t2);
        return values[t1] = Constant(t1);
    }

    // Integer inputs are not recorded by autograd, so a Flatten/Reshape of one reaches the trace as an untraced view.
    private string ViewOfInput(int i, Tensor t1, Tensor t2)
    {
        var input = inputs1[i];
        if (t1.IsContiguous && input.IsContiguous && t1.StorageOffset == input.StorageOffset && t1.Numel == input.Numel && t1.DType == input.DType)
            return Node("Reshape", [inputNames[i], ReshapeTarget(t1.Shape.ToArray(), t2.Shape.ToArray())]);
        throw new OnnxExportException($"Onnx.Export: input '{inputNames[i]}' {input.Shape} reaches an op as an untraced view {t1.Shape} " +
            $"(strides [{string.Join(", ", t1.Strides)}], offset {t1.StorageOffset}); only contiguous reshapes of a {input.DType} input can be exported.");
    }

    // A constant whose shape depends on a dynamic axis (the zero initial state of an RNN, a broadcast matrix): exportable
    // when it is the same along every such dim, as a size-1 constant expanded to the run-time shape.
    private string DynamicConstant(Tensor t1, Tensor t2)
    {
        long[] a = t1.Shape.ToArray(), b = t2.Shape.ToArray();
        if (a.Length != b.Length)
            throw new OnnxExportException($"Onnx.Export: a constant has rank {a.Length} in one trace and {b.Length} in the other ({t1.Shape} vs {t2.Shape}).");
        if (IsArange(t1) && IsArange(t2))
        {
            // Positions 0 … n − 1 for a dynamic n (a GPT's position ids): Range(0, n, 1).
            var limit = Node("Reshape", [ShapeOf(a, b), Int64s()]);
            var range = Node("Range", [Scalar(0, DType.Int64), limit, Scalar(1, DType.Int64)]);
            return t1.DType == DType.Int64 ? range : Node("Cast", [range], Int("to", ElemType(t1.DType)));
        }
        if (Triangle(t1) is { } tri && Triangle(t2) == tri && a.AsSpan(0, a.Length - 2).SequenceEqual(b.AsSpan(0, b.Length - 2)))
        {
            // A mask over [L, S] with one value where j − i ≥ k and another below (a causal mask): rebuilt from a Trilu
            // of ones at the run-time L and S, then broadcast over the leading dims.
            var ones = Node("Expand", [Scalar(1, DType.Float32), ShapeOf(a[^2..], b[^2..])]);
            var below = Node("Cast", [Node("Trilu", [ones, Scalar(tri.K - 1, DType.Int64)], Int("upper", 0))], Int("to", ElemType(DType.Bool)));
            var mask = Node("Where", [below, Scalar(tri.Below, t1.DType), Scalar(tri.Above, t1.DType)]);
            return a.Length == 2 ? mask : Node("Expand", [mask, ShapeOf(a, b)]);
        }
        var core = t1;
        for (int d = 0; d < a.Length; d++)
            if (a[d] != b[d]) core = core.Narrow(d, 0, 1);
        if (!Values(core.Expand(a)).AsSpan().SequenceEqual(Values(t1)))
            throw new OnnxExportException($"Onnx.Export: a constant {t1.DType} {t1.Shape} (computed outside the traced ops) changes with a dynamic axis " +
                $"({t1.Shape} vs {t2.Shape}) and is not uniform along it; compute it from the input with tensor ops, or export with that axis static.");
        var core2 = t2;
        for (int d = 0; d < a.Length; d++)
            if (a[d] != b[d]) core2 = core2.Narrow(d, 0, 1);
        RequireSameValues(core, core2, t1, t2);
        return Node("Expand", [Constant(core.Contiguous()), ShapeOf(a, b)]);
    }

    // The second trace runs on other input values: a constant that differs between the traces was computed from the input
    // outside the recorded ops (under NoGrad, through Detach, or by integer ops on an integer input), and freezing the
    // sample's values into the graph would give a model that is silently wrong for other inputs.
    private static void RequireSameValues(Tensor core1, Tensor core2, Tensor t1, Tensor t2)
    {
        if (!Values(core1).AsSpan().SequenceEqual(Values(core2)))
            throw new OnnxExportException($"Onnx.Export: a tensor [{t1.DType} {t1.Shape}] reaches a traced op without being traced itself, and its values " +
                $"depend on the input (it differs between two traces on different inputs{(t1.Shape == t2.Shape ? "" : $", shapes {t1.Shape} and {t2.Shape}")}): " +
                "it was computed from the input under NoGrad, through Detach, or by integer ops on an integer input. Its values cannot be frozen into the graph.");
    }

    /// <summary>A triangular two-valued pattern of the last two dims: Above where j − i ≥ K, Below elsewhere.</summary>
    private readonly record struct TrianglePattern(double Above, double Below, long K);

    // The pattern of t when every [L, S] matrix of it (the same for each leading index) is triangular with two values.
    private static TrianglePattern? Triangle(Tensor t)
    {
        if (t.Dim < 2) return null;
        long l = t.Shape[-2], s = t.Shape[-1];
        var v = Values(t);
        double above = v[s - 1], below = v[(l - 1) * s];
        if (l < 2 || s < 2 || above.Equals(below)) return null;
        long k = 0;
        while (k < s && !v[k].Equals(above)) k++;
        for (long i = 0; i < v.Length; i++)
        {
            long row = i / s % l, col = i % s;
            if (!v[i].Equals(col - row >= k ? above : below)) return null;
        }
        return new TrianglePattern(above, below, k);
    }

    private static bool IsArange(Tensor t) =>
        t.Dim == 1 && !t.IsFloatingPoint && t.DType != DType.Bool && Values(t).Select((v, i) => v == i).All(same => same);

    // Element values for comparison (NaN equals NaN: SequenceEqual on doubles uses Equals).
    private static double[] Values(Tensor t) => t.To(DType.Float64).ToArray<double>();
}
