using System.Globalization;
using System.Text;

namespace Ember.NN;

/// <summary>One row of a <see cref="ModelSummary"/>: a submodule, its output shape in the traced call and its own parameter count.</summary>
/// <param name="Name">Dotted name (e.g. <c>0.conv1</c>).</param>
/// <param name="Type">Class name.</param>
/// <param name="Depth">Nesting depth (1 for the model's children).</param>
/// <param name="OutputShape">Shape of its last output in the traced call; null when it was not called or its output is not a tensor.</param>
/// <param name="Parameters">Elements of its own parameters (not its children's).</param>
public sealed record ModelSummaryRow(string Name, string Type, int Depth, long[]? OutputShape, long Parameters);

/// <summary>
/// A per-layer table of a model (the Keras/torchsummary <c>summary</c>): every submodule in registration order with the
/// output shape it produced for an example input and its parameter count, and the totals. <see cref="ToString"/> prints it.
/// </summary>
public sealed class ModelSummary
{
    internal ModelSummary(string modelType, long[] outputShape, IReadOnlyList<ModelSummaryRow> rows, long total, long trainable, long rootOwn)
    {
        ModelType = modelType; OutputShape = outputShape; Rows = rows; TotalParameters = total; TrainableParameters = trainable; RootParameters = rootOwn;
    }

    /// <summary>The model's class name.</summary>
    public string ModelType { get; }
    /// <summary>The model's output shape.</summary>
    public long[] OutputShape { get; }
    /// <summary>The submodules.</summary>
    public IReadOnlyList<ModelSummaryRow> Rows { get; }
    /// <summary>All parameter elements.</summary>
    public long TotalParameters { get; }
    /// <summary>Elements of parameters that require grad.</summary>
    public long TrainableParameters { get; }
    /// <summary>Elements of parameters registered on the model itself (not on a submodule).</summary>
    public long RootParameters { get; }

    /// <summary>Runs <paramref name="model"/> on <paramref name="input"/> without recording gradients, with forward hooks on every <c>Module&lt;Tensor, Tensor&gt;</c> submodule, and tabulates it.</summary>
    /// <exception cref="ArgumentException">The forward pass rejects the input (its own exception propagates).</exception>
    public static ModelSummary Of(Module<Tensor, Tensor> model, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var shapes = new Dictionary<Module, long[]>(ReferenceEqualityComparer.Instance);
        var handles = new List<IDisposable>();
        var named = model.NamedModules().Where(m => m.Name.Length > 0).ToList();
        foreach (var (_, m) in named)
            if (m is Module<Tensor, Tensor> tm)
                handles.Add(tm.RegisterForwardHook((mod, x, y) => shapes[mod] = y.Shape.ToArray()));
        Tensor output;
        try
        {
            using (Autograd.NoGrad()) output = model.Call(input);
        }
        finally { foreach (var h in handles) h.Dispose(); }
        var rows = named.Select(nm => new ModelSummaryRow(nm.Name, nm.Module.GetType().Name, nm.Name.Count(ch => ch == '.') + 1,
            shapes.TryGetValue(nm.Module, out var s) ? s : null, nm.Module.Parameters(recurse: false).Sum(p => p.Numel))).ToList();
        var all = model.Parameters().ToList();
        return new ModelSummary(model.GetType().Name, output.Shape.ToArray(), rows, all.Sum(p => p.Numel), all.Where(p => p.RequiresGrad).Sum(p => p.Numel),
            model.Parameters(recurse: false).Sum(p => p.Numel));
    }

    /// <summary>The table: one line per submodule (indented by depth), then the totals.</summary>
    public override string ToString()
    {
        static string Shape(long[]? s) => s is null ? "--" : "[" + string.Join(", ", s) + "]";
        var names = Rows.Select(r => new string(' ', 2 * (r.Depth - 1)) + r.Name.Split('.')[^1] + " (" + r.Type + ")").ToList();
        int w1 = Math.Max(12, names.Count == 0 ? 0 : names.Max(n => n.Length)) + 2;
        int w2 = Math.Max(12, Rows.Count == 0 ? 0 : Rows.Max(r => Shape(r.OutputShape).Length)) + 2;
        var sb = new StringBuilder();
        string rule = new('-', w1 + w2 + 12);
        sb.AppendLine(ModelType).AppendLine(rule);
        sb.Append("Layer (type)".PadRight(w1)).Append("Output Shape".PadRight(w2)).AppendLine("Param #".PadLeft(12)).AppendLine(rule);
        for (int i = 0; i < Rows.Count; i++)
            sb.Append(names[i].PadRight(w1)).Append(Shape(Rows[i].OutputShape).PadRight(w2)).AppendLine(Rows[i].Parameters.ToString("N0", CultureInfo.InvariantCulture).PadLeft(12));
        sb.AppendLine(rule);
        sb.Append("Output shape: ").AppendLine(Shape(OutputShape));
        sb.Append("Total params: ").AppendLine(TotalParameters.ToString("N0", CultureInfo.InvariantCulture));
        sb.Append("Trainable params: ").AppendLine(TrainableParameters.ToString("N0", CultureInfo.InvariantCulture));
        sb.Append("Non-trainable params: ").AppendLine((TotalParameters - TrainableParameters).ToString("N0", CultureInfo.InvariantCulture));
        return sb.ToString();
    }
}

/// <summary>The <c>model.Summary(input)</c> extension.</summary>
public static class ModelSummaryExtensions
{
    /// <summary>The per-layer table of <paramref name="model"/> for an example input (see <see cref="ModelSummary.Of"/>).</summary>
    public static ModelSummary Summary(this Module<Tensor, Tensor> model, Tensor input) => ModelSummary.Of(model, input);

    /// <summary>The per-layer table for a zero input of <paramref name="inputShape"/> (batch dim included), created with the dtype and device of the model's first parameter.</summary>
    public static ModelSummary Summary(this Module<Tensor, Tensor> model, params long[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        var p = model.Parameters().FirstOrDefault();
        return ModelSummary.Of(model, Tensor.Zeros(inputShape, p?.DType ?? DType.Float32, p?.Device));
    }
}
