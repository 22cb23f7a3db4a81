using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ember.Visualization;

/// <summary>
/// A terminal progress bar for data-loader loops and training epochs (Spectre.Console): description, bar,
/// percentage, items/s, elapsed time, ETA and a live status such as the current loss.
/// Off automatically when standard output is redirected (logs and CI stay clean); then every call is a no-op.
/// <code>
/// using var bar = new ProgressBar($"epoch {epoch}", loader.Count);
/// foreach (var (x, y) in loader) { …; bar.Advance(status: $"loss {loss:F4}"); }
/// </code>
/// </summary>
public sealed class ProgressBar : IDisposable
{
    private readonly ManualResetEventSlim started = new(), finished = new();
    private readonly Task? render;
    private ProgressTask? task;
    private readonly string description;

    /// <summary>Starts a bar of <paramref name="total"/> steps.</summary>
    /// <param name="description">Shown left of the bar.</param>
    /// <param name="total">The number of steps (e.g. <c>loader.Count</c>).</param>
    /// <param name="enabled">Force on or off; null (default): on unless output is redirected.</param>
    /// <param name="console">Where to draw (default: the process console); tests pass a recording console.</param>
    /// <exception cref="ArgumentOutOfRangeException">total is negative.</exception>
    public ProgressBar(string description, long total, bool? enabled = null, IAnsiConsole? console = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        this.description = description ?? "";
        Total = total;
        Enabled = enabled ?? IsTerminal;
        if (!Enabled) return;
        var target = console ?? AnsiConsole.Console;
        render = Task.Factory.StartNew(() =>
        {
            try
            {
                target.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                             new RateColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        task = ctx.AddTask(Markup.Escape(this.description), maxValue: Math.Max(total, 1));
                        started.Set();
                        finished.Wait();
                        if (Completed == Total) task.Value = task.MaxValue;
                        task.StopTask();
                    });
            }
            finally { started.Set(); }
        }, TaskCreationOptions.LongRunning);
        started.Wait();
    }

    /// <summary>True when the bar is drawn: standard output is a terminal (not redirected).</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>Whether this bar draws anything.</summary>
    public bool Enabled { get; }

    /// <summary>The number of steps.</summary>
    public long Total { get; }

    /// <summary>Steps done so far.</summary>
    public long Completed { get; private set; }

    /// <summary>The status shown after the description (e.g. "loss 0.1234").</summary>
    public string? Status { get; private set; }

    /// <summary>Adds <paramref name="steps"/> done and optionally replaces the status text.</summary>
    public void Advance(long steps = 1, string? status = null)
    {
        Completed += steps;
        if (status is not null) Status = status;
        if (task is null) return;
        task.Increment(steps);
        if (status is not null) task.Description = Markup.Escape(description + "  " + status);
    }

    /// <summary>Stops drawing; the bar stays on screen in its final state.</summary>
    public void Dispose()
    {
        finished.Set();
        render?.Wait();
        started.Dispose();
        finished.Dispose();
    }

    /// <summary>Steps per second, Spectre's smoothed speed.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } s ? $"{s,7:F1} it/s" : "    -- it/s", new Style(Color.Grey));
    }
}

/// <summary>Progress helpers: wrap any loop in a <see cref="ProgressBar"/>.</summary>
public static class ProgressExtensions
{
    /// <summary>
    /// Enumerates <paramref name="source"/> while a bar advances by one per item; <paramref name="status"/> is called
    /// after each item for the live status (e.g. <c>() => $"loss {lastLoss:F4}"</c>). Off when output is redirected.
    /// </summary>
    public static IEnumerable<T> WithProgress<T>(this IEnumerable<T> source, string description, int? total = null,
        Func<string?>? status = null, bool? enabled = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        int count = total ?? source switch
        {
            System.Collections.ICollection c => c.Count,
            IReadOnlyCollection<T> c => c.Count,
            _ => source.GetType().GetProperty("Count")?.GetValue(source) as int? ?? 0,
        };
        return Iterate(source, description, count, status, enabled);
    }

    private static IEnumerable<T> Iterate<T>(IEnumerable<T> source, string description, int count, Func<string?>? status, bool? enabled)
    {
        using var bar = new ProgressBar(description, count, enabled);
        foreach (var item in source)
        {
            yield return item;
            bar.Advance(1, status?.Invoke());
        }
    }
}
