using System.Reflection;
using System.Runtime.CompilerServices;
using Ember.NN;
using Module = Ember.NN.Module;
using Google.Protobuf;

namespace Ember;

/// <summary>
/// ONNX export (torch.onnx.export): traces a module's forward pass over sample inputs into an ONNX model whose
/// initializers carry the module's parameter and buffer names (the state dict keys).
/// </summary>
/// <remarks>
/// The forward pass runs twice in eval mode with the tracing recorder installed: once on the sample inputs, once on other
/// values with every dynamic axis longer (each symbol by its own ratio; never 1, where some ops are skipped). A
/// constant whose values differ between the traces was computed from the input outside the recorded ops and fails the
/// export rather than being frozen into the graph. Sizes that differ between the two traces are the
/// ones that depend on a dynamic axis; they become runtime shape computations in the graph (Shape → Gather → Mul →
/// Concat), and everything else is a constant. A forward pass whose op sequence depends on a dynamic size (a loop over
/// a dynamic sequence length) cannot be exported with that axis dynamic and fails with an
/// <see cref="OnnxExportException"/>.
/// Integer inputs (token ids) are not recorded by autograd: they may reach ops unchanged or through a contiguous
/// reshape (Flatten), which the exporter recovers; other integer computations on an input are not supported.
/// </remarks>
public static class Onnx
{
    /// <summary>The opset the exporter writes.</summary>
    public const int SupportedOpset = 17;

    /// <summary>
    /// Exports <paramref name="module"/> to an ONNX file. The module's <c>Forward</c> taking
    /// <paramref name="sampleInputs"/>.Length tensors is called (in eval mode, restored afterwards); its result may be a
    /// tensor, a (nested) tuple of tensors or a list of tensors, which become the graph outputs in order (null entries, such as
    /// attention weights that were not asked for, are left out). Further optional parameters of Forward keep their defaults.
    /// </summary>
    /// <param name="module">The model.</param>
    /// <param name="sampleInputs">One tensor per forward argument; float or integer.</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="opset">The ONNX opset; only 17 is written.</param>
    /// <param name="dynamicAxes">Per input or output name, the axes (→ symbolic names) whose size may differ at run time,
    /// e.g. <c>{ "input": { [0] = "batch" } }</c>; output axes that depend on a dynamic input axis are found by
    /// tracing and get that axis's name unless named here.</param>
    /// <param name="inputNames">Graph input names (default "input", or "input0", "input1", … for several).</param>
    /// <param name="outputNames">Graph output names (default "output", or "output0", … for several).</param>
    /// <exception cref="ArgumentException">No Forward takes that many tensors, a name list has the wrong length, or a
    /// dynamic axis names an unknown input/output or an axis out of range.</exception>
    /// <exception cref="ArgumentOutOfRangeException">opset is not 17.</exception>
    /// <exception cref="OnnxExportException">The forward pass uses an op that has no ONNX conversion (named with the
    /// modules it was called from), or a shape depends on a dynamic axis in a way the graph cannot express.</exception>
    public static void Export(Module module, Tensor[] sampleInputs, string path, int opset = SupportedOpset,
        IReadOnlyDictionary<string, IReadOnlyDictionary<int, string>>? dynamicAxes = null,
        IReadOnlyList<string>? inputNames = null, IReadOnlyList<string>? outputNames = null)
    {
        var model = ExportModel(module, sampleInputs, opset, dynamicAxes, inputNames, outputNames);
        using var file = File.Create(path);
        model.WriteTo(file);
    }

    /// <summary>Exports a one-input module; see <see cref="Export(Module, Tensor[], string, int, IReadOnlyDictionary{string, IReadOnlyDictionary{int, string}}?, IReadOnlyList{string}?, IReadOnlyList{string}?)"/>.</summary>
    /// <param name="module">The model.</param>
    /// <param name="sampleInput">The forward argument.</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="opset">The ONNX opset; only 17 is written.</param>
    /// <param name="dynamicAxes">Dynamic axes per input/output name.</param>
    /// <exception cref="OnnxExportException">See the general overload.</exception>
    public static void Export(Module module, Tensor sampleInput, string path, int opset = SupportedOpset,
        IReadOnlyDictionary<string, IReadOnlyDictionary<int, string>>? dynamicAxes = null) =>
        Export(module, [sampleInput], path, opset, dynamicAxes);

    /// <summary>Builds the model message (for tests: initializer names, node list).</summary>
    internal static OnnxProto.ModelProto ExportModel(Module module, Tensor[] sampleInputs, int opset,
        IReadOnlyDictionary<string, IReadOnlyDictionary<int, string>>? dynamicAxes,
        IReadOnlyList<string>? inputNames, IReadOnlyList<string>? outputNames)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(sampleInputs);
        if (opset != SupportedOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), $"Onnx.Export: only opset {SupportedOpset} is supported, got {opset}.");
        var forward = FindForward(module, sampleInputs.Length);
        var names = inputNames?.ToArray() ?? DefaultNames("input", sampleInputs.Length);
        if (names.Length != sampleInputs.Length)
            throw new ArgumentException($"Onnx.Export: {sampleInputs.Length} sample inputs but {names.Length} input names.", nameof(inputNames));
        dynamicAxes ??= new Dictionary<string, IReadOnlyDictionary<int, string>>();

        var symbols = new List<DynamicAxis>();
        for (int i = 0; i < names.Length; i++)
            if (dynamicAxes.TryGetValue(names[i], out var axes))
                foreach (var (axis, symbol) in axes)
                {
                    if (axis < 0 || axis >= sampleInputs[i].Dim)
                        throw new ArgumentException($"Onnx.Export: dynamic axis {axis} of input '{names[i]}' is out of range for its shape {sampleInputs[i].Shape}.", nameof(dynamicAxes));
                    // The second trace's size: the same as the symbol's elsewhere, else larger with a growth ratio no other
                    // symbol has, so a size c·n in the graph traces back to one axis (a size of 1 is avoided too: some ops
                    // are skipped for it).
                    long size = sampleInputs[i].Shape[axis];
                    long varied = symbols.FirstOrDefault(s => s.Symbol == symbol) is { } same ? same.Size2 - same.Size1 + size : size + 1;
                    while (symbols.Any(s => s.Symbol != symbol && s.Size2 * size == varied * s.Size1)) varied++;
                    symbols.Add(new DynamicAxis(i, axis, symbol, size, varied));
                }

        // Parameters and float buffers require grad while tracing so every op on them is recorded (a BatchNorm's running
        // statistics must be initializers named like the state dict, not anonymous constants); restored afterwards.
        var modes = module.NamedModules().Select(m => (m.Module, m.Module.Training)).ToList();
        var named = module.NamedParameters().Concat(module.NamedBuffers()).ToList();
        var flags = named.Select(p => (p.Item2, p.Item2.RequiresGrad)).ToList();
        try
        {
            module.Eval();
            foreach (var (_, t) in named)
                if (t.IsFloatingPoint && !t.RequiresGrad && t.IsLeaf) t.RequiresGrad_();
            var inputs1 = sampleInputs.Select(Leaf).ToArray();
            var inputs2 = sampleInputs.Select((t, i) => Leaf(OtherValues(Varied(t, symbols.Where(s => s.Input == i))))).ToArray();
            object? out1 = null, out2 = null;
            var trace1 = TraceRecorder.Capture(() => out1 = Invoke(forward, module, inputs1));
            var trace2 = TraceRecorder.Capture(() => out2 = Invoke(forward, module, inputs2));
            var outputs1 = Flatten(out1).ToArray();
            var outputs2 = Flatten(out2).ToArray();
            var outNames = outputNames?.ToArray() ?? DefaultNames("output", outputs1.Length);
            if (outNames.Length != outputs1.Length)
                throw new ArgumentException($"Onnx.Export: the forward pass returned {outputs1.Length} tensors but {outNames.Length} output names were given.", nameof(outputNames));
            foreach (var key in dynamicAxes.Keys)
                if (!names.Contains(key) && !outNames.Contains(key))
                    throw new ArgumentException($"Onnx.Export: dynamic axes name '{key}', which is neither an input ({string.Join(", ", names)}) nor an output ({string.Join(", ", outNames)}).", nameof(dynamicAxes));

            var builder = new OnnxGraphBuilder(module.GetType().Name, named, symbols, inputs1, inputs2, names);
            var converter = new OnnxOpConverter(builder);
            converter.ConvertAll(trace1, trace2);
            for (int i = 0; i < outputs1.Length; i++)
                builder.AddOutput(outNames[i], outputs1[i], outputs2[i], dynamicAxes.GetValueOrDefault(outNames[i]));
            return builder.ToModel(opset);
        }
        finally
        {
            foreach (var (t, requires) in flags)
                if (t.IsLeaf && t.RequiresGrad != requires) t.RequiresGrad_(requires);
            foreach (var (m, training) in modes) m.Train(training);     // pre-order: each child's own mode wins
        }
    }

    private static string[] DefaultNames(string stem, int n) => n == 1 ? [stem] : [.. Enumerable.Range(0, n).Select(i => stem + i)];

    private static Tensor Leaf(Tensor t)
    {
        var leaf = t.Detach();
        return leaf.IsFloatingPoint ? leaf.RequiresGrad_() : leaf;
    }

    private static Tensor Varied(Tensor t, IEnumerable<DynamicAxis> axes)
    {
        using var _ = Autograd.NoGrad();
        foreach (var a in axes)
        {
            // The sample's entries repeated cyclically to the longer size (the values do not matter, only the shapes).
            var rows = Enumerable.Range(0, (int)a.Size2).Select(j => j % a.Size1).ToArray();
            t = t.IndexSelect(a.Axis, Tensor.FromArray(rows, rows.Length).To(t.Device));
        }
        return t;
    }

    // The same shape with other values, so that a tensor computed from the input outside the recorded ops differs between
    // the traces: every input rotated by one along its last axis (integers stay valid indices), floats also negated,
    // scaled and shifted (a sign mask such as x < 0 flips).
    private static Tensor OtherValues(Tensor t)
    {
        using var _ = Autograd.NoGrad();
        if (t.Dim > 0 && t.Shape[-1] > 1)
        {
            long n = t.Shape[-1];
            var rotated = Enumerable.Range(0, (int)n).Select(j => (j + 1) % n).ToArray();
            t = t.IndexSelect(-1, Tensor.FromArray(rotated, rotated.Length).To(t.Device));
        }
        return t.IsFloatingPoint ? t * -0.75 + 0.125 : t;
    }

    // The public Forward whose first `arity` parameters are tensors and whose others are optional (left at their
    // defaults: no masks); the one with the fewest parameters wins.
    private static MethodInfo FindForward(Module module, int arity)
    {
        var candidates = module.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.Name == "Forward" && m.GetParameters() is var ps && ps.Length >= arity
                && ps.Take(arity).All(p => p.ParameterType == typeof(Tensor)) && ps.Skip(arity).All(p => p.HasDefaultValue))
            .OrderBy(m => m.GetParameters().Length)
            .ToList();
        return candidates.Count > 0 ? candidates[0]
            : throw new ArgumentException($"Onnx.Export: {module.GetType().Name} has no public Forward taking {arity} Tensor argument(s) (further parameters optional).", nameof(module));
    }

    /// <summary>Calls the Forward the exporter traces (for comparing an export with Ember's own output).</summary>
    internal static object? CallForward(Module module, Tensor[] inputs) => Invoke(FindForward(module, inputs.Length), module, inputs);

    private static object? Invoke(MethodInfo forward, Module module, Tensor[] inputs)
    {
        object?[] args = [.. inputs, .. forward.GetParameters().Skip(inputs.Length).Select(p => p.DefaultValue)];
        try
        {
            return forward.Invoke(module, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static IEnumerable<Tensor> Flatten(object? result, bool nested = false)
    {
        switch (result)
        {
            case Tensor t:
                yield return t;
                break;
            case null when nested:
                break;
            case ITuple tuple:
                for (int i = 0; i < tuple.Length; i++)
                    foreach (var t in Flatten(tuple[i], nested: true)) yield return t;
                break;
            case IEnumerable<Tensor> list:
                foreach (var t in list) yield return t;
                break;
            default:
                throw new OnnxExportException($"Onnx.Export: the forward pass returned {result?.GetType().Name ?? "null"}; expected a tensor, a tuple of tensors or a list of tensors.");
        }
    }
}
