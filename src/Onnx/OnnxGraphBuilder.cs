using System.Runtime.InteropServices;
using Ember.OnnxProto;
using Google.Protobuf;

namespace Ember;

/// <summary>
/// Accumulates an ONNX graph: names the traced values, turns parameters, buffers and constants into initializers,
/// and builds the shape tensors of ops whose sizes depend on a dynamic axis.
/// </summary>
/// <remarks>
/// Every traced tensor comes with its twin from the second trace (same op, same input slot); a size that differs between
/// the twins depends on a dynamic axis and is computed at run time from the graph input's shape.
/// </remarks>
internal sealed partial class OnnxGraphBuilder
{
    private readonly GraphProto graph = new();
    private readonly Dictionary<Tensor, string> values = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> stateNames = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> initialized = [];
    private readonly HashSet<string> usedNames = [];
    private readonly Dictionary<(int, int), string> dimCache = [];
    private readonly List<DynamicAxis> symbols;
    private readonly Tensor[] inputs1;
    private readonly string[] inputNames;
    private int counter;

    public OnnxGraphBuilder(string graphName, IEnumerable<(string Name, Tensor Tensor)> state, List<DynamicAxis> symbols,
        Tensor[] inputs1, Tensor[] inputs2, string[] inputNames)
    {
        graph.Name = graphName;
        foreach (var (name, t) in state)
        {
            stateNames.TryAdd(t, name);     // tied weights: the first name
            usedNames.Add(name);
        }
        this.symbols = symbols;
        this.inputs1 = inputs1;
        this.inputNames = inputNames;
        for (int i = 0; i < inputs1.Length; i++)
        {
            usedNames.Add(inputNames[i]);
            values[inputs1[i]] = inputNames[i];
            graph.Input.Add(ValueInfo(inputNames[i], inputs1[i].DType, inputs1[i].Shape.ToArray(), inputs2[i].Shape.ToArray(),
                symbols.Where(s => s.Input == i).ToDictionary(s => s.Axis, s => s.Symbol)));
        }
    }

    /// <summary>A fresh value or node name with the given stem.</summary>
    public string Fresh(string stem)
    {
        string name;
        do name = $"/{stem}_{counter++}"; while (!usedNames.Add(name));
        return name;
    }

    /// <summary>Registers the ONNX value that holds a traced result.</summary>
    public void Bind(Tensor result, string name) => values[result] = name;

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var output = Fresh(opType);
        var node = new NodeProto { OpType = opType, Name = output + "_node" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>An int attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, double value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };

    /// <summary>An ints attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A new initializer holding <paramref name="t"/>'s values.</summary>
    public string Constant(Tensor t)
    {
        var name = Fresh("Constant");
        graph.Initializer.Add(TensorProtoOf(name, t));
        return name;
    }

    /// <summary>A 0-D constant of <paramref name="dtype"/>.</summary>
    public string Scalar(double value, DType dtype) => Constant(Tensor.Full((Shape)Array.Empty<long>(), value, dtype));

    /// <summary>A 1-D Int64 constant.</summary>
    public string Int64s(params long[] v) => Constant(Tensor.FromArray(v, v.Length));

    /// <summary>
    /// A 1-D Int64 shape tensor for sizes <paramref name="a"/> (first trace) / <paramref name="b"/> (second trace): a constant
    /// when they agree, else built at run time, each differing size being c × a dynamic input axis.
    /// </summary>
    /// <exception cref="OnnxExportException">A differing size is not a multiple of a dynamic axis.</exception>
    public string ShapeOf(long[] a, long[] b)
    {
        if (a.AsSpan().SequenceEqual(b)) return Int64s(a);
        var parts = new List<string>();
        var run = new List<long>();
        for (int d = 0; d < a.Length; d++)
        {
            if (a[d] == b[d]) { run.Add(a[d]); continue; }
            if (run.Count > 0) { parts.Add(Int64s([.. run])); run.Clear(); }
            parts.Add(Dim(a[d], b[d]));
        }
        if (run.Count > 0) parts.Add(Int64s([.. run]));
        return parts.Count == 1 ? parts[0] : Node("Concat", parts, Int("axis", 0));
    }

    /// <summary>The target of a Reshape to <paramref name="a"/>/<paramref name="b"/>: constant (one dynamic size as −1) when possible.</summary>
    public string ReshapeTarget(long[] a, long[] b)
    {
        int differing = 0, at = -1;
        for (int d = 0; d < a.Length; d++) if (a[d] != b[d]) { differing++; at = d; }
        if (differing > 1) return ShapeOf(a, b);
        var target = (long[])a.Clone();
        if (at >= 0) target[at] = -1;
        return Int64s(target);
    }

    // [c·n] where n is a dynamic input axis with a = c·n₁ and b = c·n₂.
    private string Dim(long a, long b)
    {
        var matches = symbols.Where(s => a % s.Size1 == 0 && b % s.Size2 == 0 && a / s.Size1 == b / s.Size2).ToList();
        if (matches.Select(s => s.Symbol).Distinct().Count() > 1)
            throw new OnnxExportException($"Onnx.Export: a size ({a}, then {b}) could come from several dynamic axes " +
                $"({string.Join(", ", matches.Select(s => s.Symbol).Distinct())}); give the sample inputs different sizes along them.");
        if (matches.Count == 0)
            throw new OnnxExportException($"Onnx.Export: a size is {a} in the first trace and {b} in the second, which is no multiple of a dynamic axis " +
                $"({string.Join(", ", symbols.Select(s => $"{inputNames[s.Input]}[{s.Axis}] = {s.Size1}/{s.Size2}"))}).");
        var m = matches[0];
        if (!dimCache.TryGetValue((m.Input, m.Axis), out var dim))
        {
            var shape = Node("Shape", [inputNames[m.Input]]);
            dimCache[(m.Input, m.Axis)] = dim = Node("Gather", [shape, Int64s(m.Axis)], Int("axis", 0));
        }
        long c = a / m.Size1;
        return c == 1 ? dim : Node("Mul", [dim, Int64s(c)]);
    }

    /// <summary>Adds a graph output named <paramref name="name"/> holding the traced tensor.</summary>
    public void AddOutput(string name, Tensor t1, Tensor t2, IReadOnlyDictionary<int, string>? axisNames)
    {
        var source = Value(t1, t2);
        var node = new NodeProto { OpType = "Identity", Name = name + "_identity" };
        node.Input.Add(source);
        node.Output.Add(name);
        graph.Node.Add(node);
        long[] a = t1.Shape.ToArray(), b = t2.Shape.ToArray();
        var dims = new Dictionary<int, string>();
        for (int d = 0; d < a.Length; d++)
        {
            if (axisNames?.TryGetValue(d, out var given) == true) dims[d] = given;
            else if (a[d] != b[d])
                dims[d] = symbols.FirstOrDefault(s => s.Size1 == a[d] && s.Size2 == b[d])?.Symbol ?? $"{name}_dim{d}";
        }
        graph.Output.Add(ValueInfo(name, t1.DType, a, b, dims));
    }

    /// <summary>The finished model.</summary>
    public ModelProto ToModel(int opset)
    {
        var model = new ModelProto
        {
            IrVersion = 8,      // the IR version of opset 17 (ONNX 1.12)
            ProducerName = "Ember",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, DType dtype, long[] a, long[] b, IReadOnlyDictionary<int, string> dynamic)
    {
        var shape = new TensorShapeProto();
        for (int d = 0; d < a.Length; d++)
            shape.Dim.Add(dynamic.TryGetValue(d, out var symbol) ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : a[d] == b[d] ? new TensorShapeProto.Types.Dimension { DimValue = a[d] }
                : new TensorShapeProto.Types.Dimension { DimParam = $"{name}_dim{d}" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = ElemType(dtype), Shape = shape } },
        };
    }

    /// <summary>The ONNX element type (TensorProto.DataType) of a dtype.</summary>
    public static int ElemType(DType dtype) => dtype switch
    {
        DType.Float32 => (int)TensorProto.Types.DataType.Float,
        DType.Float64 => (int)TensorProto.Types.DataType.Double,
        DType.Int32 => (int)TensorProto.Types.DataType.Int32,
        DType.Int64 => (int)TensorProto.Types.DataType.Int64,
        DType.Bool => (int)TensorProto.Types.DataType.Bool,
        DType.Float16 => (int)TensorProto.Types.DataType.Float16,
        DType.BFloat16 => (int)TensorProto.Types.DataType.Bfloat16,
        DType.UInt8 => (int)TensorProto.Types.DataType.Uint8,
        DType.Int8 => (int)TensorProto.Types.DataType.Int8,
        DType.Int16 => (int)TensorProto.Types.DataType.Int16,
        _ => throw new OnnxExportException($"Onnx.Export: dtype {dtype} has no ONNX element type here."),
    };

    private static TensorProto TensorProtoOf(string name, Tensor t)
    {
        var proto = new TensorProto { Name = name, DataType = ElemType(t.DType) };
        proto.Dims.AddRange(t.Shape.ToArray());
        // raw_data is the little-endian element bytes (ONNX's layout; .NET runs little-endian on every supported platform).
        var bytes = new RawBytes(t);
        DTypeDispatch.Visit(t.DType, ref bytes);
        proto.RawData = bytes.Data;
        return proto;
    }

    // The elements' little-endian bytes, whatever the dtype (Bool as one byte 0/1, as ONNX stores it).
    private struct RawBytes(Tensor t) : IDTypeVisitor
    {
        public ByteString Data = ByteString.Empty;

        public void Visit<T>() where T : unmanaged => Data = ByteString.CopyFrom(MemoryMarshal.AsBytes(t.ToArray<T>().AsSpan()));
    }
}
