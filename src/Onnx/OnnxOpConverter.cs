using Ember.NN;
using static Ember.OnnxGraphBuilder;

namespace Ember;

/// <summary>
/// Turns each traced primitive into ONNX nodes (opset 17). One case per <see cref="OpKind"/>; elementwise ops are in
/// OnnxOpConverter.Elementwise.cs. The second trace's twin of each op tells which of its sizes depend on a dynamic axis.
/// </summary>
internal sealed partial class OnnxOpConverter(OnnxGraphBuilder b)
{
    /// <summary>Converts the whole trace, in execution order (a topological order).</summary>
    /// <exception cref="OnnxExportException">The two traces differ (control flow depends on a dynamic size), or an op has no conversion.</exception>
    public void ConvertAll(List<TracedOp> trace1, List<TracedOp> trace2)
    {
        int first = 0;
        while (first < Math.Min(trace1.Count, trace2.Count) && trace1[first].Kind == trace2[first].Kind && trace1[first].Inputs.Length == trace2[first].Inputs.Length)
            first++;
        if (first < Math.Max(trace1.Count, trace2.Count))
        {
            string At(List<TracedOp> t) => first < t.Count ? $"{t[first].Kind}{ModulePath(t[first])}" : "the end";
            throw new OnnxExportException($"Onnx.Export: the forward pass runs different ops when the input changes " +
                $"({trace1.Count} ops on the sample, {trace2.Count} on other values with each dynamic axis longer; op {first} is {At(trace1)} in the first " +
                $"and {At(trace2)} in the second): control flow depends on a dynamic size or on the input's values. Trace with sizes above 1, " +
                "export a dynamic axis that a loop runs over as static, and keep value-dependent branches out of the forward pass.");
        }
        for (int i = 0; i < trace1.Count; i++)
        {
            TracedOp op = trace1[i], twin = trace2[i];
            var inputs = op.Inputs.Select((t, j) => b.Value(t, twin.Inputs[j])).ToArray();
            b.Bind(op.Result, Convert(op, twin, inputs));
        }
    }

    private string Convert(TracedOp op, TracedOp twin, string[] x)
    {
        var a = op.Args;
        long[] r1 = op.Result.Shape.ToArray(), r2 = twin.Result.Shape.ToArray();
        switch (op.Kind)
        {
            case OpKind.Unary:
                return a.Alpha.Equals(twin.Args.Alpha) && a.Beta.Equals(twin.Args.Beta) ? Unary(a, x[0], op.Inputs[0].DType) : DynamicScale(op, twin, x[0]);
            case OpKind.Binary: return Binary(a.Binary, x, op.Inputs, op.Result.DType);
            case OpKind.Where: return b.Node("Where", [b.Value(a.Index!, twin.Args.Index!), x[0], x[1]]);
            case OpKind.Reduce: return Reduce(op, x[0]);
            case OpKind.Bmm: return b.Node("MatMul", x);
            case OpKind.Reshape: return b.Node("Reshape", [x[0], b.ReshapeTarget(r1, r2)]);
            case OpKind.Permute: return b.Node("Transpose", x, Ints("perm", [.. a.Perm.Select(p => (long)p)]));
            case OpKind.Expand:
                return a.InputShape.AsSpan().SequenceEqual(r1) && twin.Args.InputShape.AsSpan().SequenceEqual(r2)
                    ? b.Node("Identity", x) : b.Node("Expand", [x[0], b.ShapeOf(r1, r2)]);
            case OpKind.Slice: return Slice(op, twin, x[0]);
            case OpKind.Copy or OpKind.ToDevice: return b.Node("Identity", x);
            case OpKind.ToDType: return b.Node("Cast", x, Int("to", ElemType(op.Result.DType)));
            case OpKind.Cat: return b.Node("Concat", x, Int("axis", a.Dim));
            case OpKind.Gather: return b.Node("GatherElements", [x[0], b.Value(a.Index!, twin.Args.Index!)], Int("axis", a.Dim));
            case OpKind.IndexSelect: return b.Node("Gather", [x[0], b.Value(a.Index!, twin.Args.Index!)], Int("axis", a.Dim));
            case OpKind.Triangular: return b.Node("Trilu", [x[0], b.Scalar(a.Start, DType.Int64)], Int("upper", a.KeepDim ? 1 : 0));
            case OpKind.Softmax: return b.Node("Softmax", x, Int("axis", a.Dim));
            case OpKind.LogSoftmax: return b.Node("LogSoftmax", x, Int("axis", a.Dim));
            case OpKind.Linear:
                return op.Inputs[0].Dim == 2
                    ? b.Node("Gemm", x, Int("transB", 1))
                    : b.Node("Add", [b.Node("MatMul", [x[0], b.Node("Transpose", [x[1]], Ints("perm", 1, 0))]), x[2]]);
            case OpKind.Conv2d: return Conv(a.Fused!, x);
            case OpKind.Conv2dInputGrad: return ConvTranspose(a.Fused!, x);
            case OpKind.MaxPool2d or OpKind.AvgPool2d: return Pool(op.Kind, a.Fused!, x[0]);
            case OpKind.LayerNorm: return LayerNorm(op, x);
            case OpKind.BatchNorm: return BatchNorm(op, x);
            case OpKind.Attention: return Attention(op, twin, x);
            default:
                throw new OnnxExportException($"Onnx.Export: the op {op.Kind} (autograd node {op.Result.GradFn?.Name}){ModulePath(op)} has no ONNX conversion.");
        }
    }

    /// <summary>" in A → B" for the modules whose Forward was on the stack when <paramref name="op"/> was recorded, outermost first.</summary>
    public static string ModulePath(TracedOp op)
    {
        if (op.Stack is not { } stack) return "";
        var modules = new List<string>();
        foreach (var frame in stack.GetFrames())
            if (frame.GetMethod() is { Name: "Forward", DeclaringType: { } type } && typeof(Module).IsAssignableFrom(type))
                modules.Add(type.Name);
        modules.Reverse();
        return modules.Count == 0 ? "" : $", called from {string.Join(" → ", modules)}";
    }

    // A scalar that changes with a dynamic size: the 1/n of a mean over a dynamic axis becomes a division by n at run time;
    // any other such scalar is refused (it would be frozen at the sample's value).
    private string DynamicScale(TracedOp op, TracedOp twin, string x)
    {
        static bool InverseOfCount(double alpha, out long n)
        {
            n = alpha > 0 ? (long)Math.Round(1 / alpha) : 0;
            return n >= 1 && Math.Abs(1 / alpha - n) <= 1e-6 * n;
        }
        OpArgs a = op.Args, a2 = twin.Args;
        if (a.Unary == UnaryOp.MulScalar && InverseOfCount(a.Alpha, out long n1) && InverseOfCount(a2.Alpha, out long n2))
        {
            var count = b.Node("Reshape", [b.ShapeOf([n1], [n2]), b.Int64s()]);
            return b.Node("Div", [x, b.Node("Cast", [count], Int("to", ElemType(op.Inputs[0].DType)))]);
        }
        throw new OnnxExportException($"Onnx.Export: the scalar of {a.Unary} depends on a dynamic size ({a.Alpha}, then {a2.Alpha}; " +
            $"{a.Beta}, then {a2.Beta}){ModulePath(op)}; it cannot be frozen into the graph. Export with that axis static.");
    }

    private string Reduce(TracedOp op, string x)
    {
        var a = op.Args;
        long[] axes = a.Index is not null ? [a.Dim] : [.. a.Dims.Select(d => (long)d)];
        if (axes.Length == 0) axes = [.. Enumerable.Range(0, op.Inputs[0].Dim).Select(d => (long)d)];     // an empty list reduces every dim
        var keep = Int("keepdims", a.KeepDim ? 1 : 0);
        return a.Reduce switch
        {
            // opset 13+ takes ReduceSum's axes as an input; the others still take an attribute in opset 17.
            ReduceOp.Sum => b.Node("ReduceSum", [x, b.Int64s(axes)], keep),
            ReduceOp.Prod => b.Node("ReduceProd", [x], Ints("axes", axes), keep),
            ReduceOp.Max => b.Node("ReduceMax", [x], Ints("axes", axes), keep),
            ReduceOp.Min => b.Node("ReduceMin", [x], Ints("axes", axes), keep),
            ReduceOp.LogSumExp => b.Node("ReduceLogSumExp", [x], Ints("axes", axes), keep),
            _ => throw new OnnxExportException($"Onnx.Export: the reduction {a.Reduce}{ModulePath(op)} has no ONNX conversion."),
        };
    }

    private string Slice(TracedOp op, TracedOp twin, string x)
    {
        OpArgs a = op.Args, a2 = twin.Args;
        int d = a.Dim;
        long end;
        if (a.Start == a2.Start && a.Length == a2.Length)
            end = a.Length == 0 ? a.Start : a.Start + (a.Length - 1) * a.Step + 1;
        else if (a.Start == a2.Start && a.Start + a.Length * a.Step >= a.InputShape[d] && a2.Start + a2.Length * a2.Step >= a2.InputShape[d])
            end = long.MaxValue;    // to the end of a dynamic dim
        else
            throw new OnnxExportException($"Onnx.Export: a slice of dim {d} depends on a dynamic size (start {a.Start}/{a2.Start}, length {a.Length}/{a2.Length}){ModulePath(op)}.");
        return b.Node("Slice", [x, b.Int64s(a.Start), b.Int64s(end), b.Int64s(d), b.Int64s(a.Step)]);
    }

    private string Conv(FusedArgs f, string[] x)
    {
        var g = f.Conv;
        return b.Node("Conv", x, Ints("kernel_shape", g.KernelH, g.KernelW), Ints("strides", g.StrideH, g.StrideW),
            Ints("pads", g.PadH, g.PadW, g.PadH, g.PadW), Ints("dilations", g.DilationH, g.DilationW), Int("group", f.Groups));
    }

    // The input gradient of Conv2d is the transposed convolution back to the geometry's input size; output_padding
    // restores the rows/columns a strided forward convolution dropped.
    private string ConvTranspose(FusedArgs f, string[] x)
    {
        var g = f.Conv;
        long fullH = (g.OutH - 1L) * g.StrideH - 2L * g.PadH + g.DilationH * (g.KernelH - 1L) + 1;
        long fullW = (g.OutW - 1L) * g.StrideW - 2L * g.PadW + g.DilationW * (g.KernelW - 1L) + 1;
        return b.Node("ConvTranspose", x, Ints("kernel_shape", g.KernelH, g.KernelW), Ints("strides", g.StrideH, g.StrideW),
            Ints("pads", g.PadH, g.PadW, g.PadH, g.PadW), Ints("dilations", g.DilationH, g.DilationW), Int("group", f.Groups),
            Ints("output_padding", g.Height - fullH, g.Width - fullW));
    }

    private string Pool(OpKind kind, FusedArgs f, string x)
    {
        var g = f.Pool;
        // The geometry carries the output size; more than the floor formula gives means PyTorch's ceil_mode.
        bool ceil = g.OutH > (g.Height + 2 * g.PadH - g.KernelH) / g.StrideH + 1 || g.OutW > (g.Width + 2 * g.PadW - g.KernelW) / g.StrideW + 1;
        var common = new[] { Ints("kernel_shape", g.KernelH, g.KernelW), Ints("strides", g.StrideH, g.StrideW),
            Ints("pads", g.PadH, g.PadW, g.PadH, g.PadW), Int("ceil_mode", ceil ? 1 : 0) };
        return kind == OpKind.MaxPool2d ? b.Node("MaxPool", [x], common)
            : b.Node("AveragePool", [x], [.. common, Int("count_include_pad", f.CountIncludePad ? 1 : 0)]);
    }

    private string LayerNorm(TracedOp op, string[] x)
    {
        var f = op.Args.Fused!;
        var input = op.Inputs[0];
        long normalized = input.Numel / f.Mean.Numel;
        var shape = input.Shape.ToArray();
        int axis = shape.Length;
        for (long p = 1; axis > 0 && p < normalized;) p *= shape[--axis];
        long[] tail = shape[axis..];
        int next = 1;
        string Affine(Tensor t, string name) => t.Shape.ToArray().AsSpan().SequenceEqual(tail) ? name : b.Node("Reshape", [name, b.Int64s(tail)]);
        var scale = f.HasWeight ? Affine(op.Inputs[next], x[next++]) : b.Constant(Tensor.Ones((Shape)tail, input.DType));
        string[] inputs = f.HasBias ? [x[0], scale, Affine(op.Inputs[next], x[next])] : [x[0], scale];
        return b.Node("LayerNormalization", inputs, Int("axis", axis), Float("epsilon", f.Eps));
    }

    // Batch statistics (training mode, or no running statistics): (x − mean)/√(var + ε)·w + b over every dim but 1.
    private string BatchNorm(TracedOp op, string[] x)
    {
        var f = op.Args.Fused!;
        var input = op.Inputs[0];
        long[] axes = [.. Enumerable.Range(0, input.Dim).Where(d => d != 1).Select(d => (long)d)];
        var perChannel = Enumerable.Repeat(1L, input.Dim).ToArray(); perChannel[1] = input.Shape[1];
        var mean = b.Node("ReduceMean", [x[0]], Ints("axes", axes), Int("keepdims", 1));
        var centered = b.Node("Sub", [x[0], mean]);
        var variance = b.Node("ReduceMean", [b.Node("Mul", [centered, centered])], Ints("axes", axes), Int("keepdims", 1));
        var y = b.Node("Div", [centered, b.Node("Sqrt", [b.Node("Add", [variance, b.Scalar(f.Eps, input.DType)])])]);
        int next = 1;
        if (f.HasWeight) y = b.Node("Mul", [y, b.Node("Reshape", [x[next++], b.Int64s(perChannel)])]);
        if (f.HasBias) y = b.Node("Add", [y, b.Node("Reshape", [x[next], b.Int64s(perChannel)])]);
        return y;
    }

    // softmax(q·kᵀ·scale + causal mask)·v; the causal mask is top-left aligned (tril of ones [L, S]) like PyTorch's.
    private string Attention(TracedOp op, TracedOp twin, string[] x)
    {
        var f = op.Args.Fused!;
        Tensor q = op.Inputs[0], k = op.Inputs[1];
        int rank = q.Dim;
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 2], perm[rank - 1]) = (perm[rank - 1], perm[rank - 2]);
        var scores = b.Node("Mul", [b.Node("MatMul", [x[0], b.Node("Transpose", [x[1]], Ints("perm", perm))]), b.Scalar(f.Scale, q.DType)]);
        if (f.Causal)
        {
            // Additive mask −∞ above the diagonal, built at run time: the tril of ones [L, S] (sizes constant or dynamic).
            DType dt = q.DType;
            long[] ls1 = [q.Shape[-2], k.Shape[-2]], ls2 = [twin.Inputs[0].Shape[-2], twin.Inputs[1].Shape[-2]];
            var lower = b.Node("Trilu", [b.Node("Expand", [b.Scalar(1, dt), b.ShapeOf(ls1, ls2)]), b.Scalar(0, DType.Int64)], Int("upper", 0));
            var mask = b.Node("Where", [b.Node("Equal", [lower, b.Scalar(0, dt)]), b.Scalar(double.NegativeInfinity, dt), b.Scalar(0, dt)]);
            scores = b.Node("Add", [scores, mask]);
        }
        return b.Node("MatMul", [b.Node("Softmax", [scores], Int("axis", -1)), x[2]]);
    }
}
