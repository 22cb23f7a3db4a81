using ScottPlot;

namespace Ember.Visualization;

/// <summary>
/// Per-epoch metrics of a training run (loss, accuracy, …) and their plot as a PNG (ScottPlot, rendered
/// headless through SkiaSharp). Series whose name contains "acc" are drawn against the right axis; all others
/// (losses) against the left.
/// <code>
/// var curves = new TrainingCurves();
/// curves.Add("train loss", epoch, trainLoss); curves.Add("test accuracy", epoch, acc);
/// curves.SavePng("curves.png");
/// </code>
/// </summary>
public sealed class TrainingCurves
{
    private readonly Dictionary<string, List<(double Epoch, double Value)>> series = [];
    private readonly List<string> order = [];

    /// <summary>Records <paramref name="value"/> of the metric <paramref name="name"/> at <paramref name="epoch"/>.</summary>
    public void Add(string name, double epoch, double value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!series.TryGetValue(name, out var points)) { series[name] = points = []; order.Add(name); }
        points.Add((epoch, value));
    }

    /// <summary>The recorded series, by name, in the order they were first added.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(double Epoch, double Value)>> Series =>
        order.ToDictionary(n => n, n => (IReadOnlyList<(double, double)>)series[n]);

    /// <summary>Writes the curves as a PNG of <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    /// <exception cref="InvalidOperationException">Nothing was recorded.</exception>
    public void SavePng(string path, int width = 900, int height = 500, string title = "Training")
    {
        ArgumentNullException.ThrowIfNull(path);
        if (order.Count == 0) throw new InvalidOperationException("TrainingCurves.SavePng: no metric was recorded.");
        var plot = new Plot();
        bool anyRight = false;
        foreach (var name in order)
        {
            var pts = series[name];
            var line = plot.Add.Scatter(pts.Select(p => p.Epoch).ToArray(), pts.Select(p => p.Value).ToArray());
            line.LegendText = name;
            if (name.Contains("acc", StringComparison.OrdinalIgnoreCase)) { line.Axes.YAxis = plot.Axes.Right; anyRight = true; }
        }
        plot.Title(title);
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "loss";
        if (anyRight) plot.Axes.Right.Label.Text = "accuracy";
        plot.ShowLegend(Alignment.MiddleRight);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        plot.SavePng(path, width, height);
    }
}
