using Ember.Visualization;
using Spectre.Console;

namespace Ember.Data.Tests;

public class ProgressAndPlotTests
{
    [Test]
    public void ProgressBarDrawsToAnInteractiveConsole()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.Yes, Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors,
        });
        using (var bar = new ProgressBar("epoch 1", 4, enabled: true, console: console))
        {
            for (int i = 0; i < 4; i++) bar.Advance(status: $"loss {1.0 / (i + 1):F3}");
            Assert.That(bar.Completed, Is.EqualTo(4));
            Assert.That(bar.Status, Is.EqualTo("loss 0.250"));
        }
        Assert.That(writer.ToString(), Does.Contain("epoch 1").And.Contain("100%"));
    }

    [Test]
    public void DisabledProgressStillEnumeratesEverything()
    {
        // Test output is redirected, so the default is off.
        Assert.That(ProgressBar.IsTerminal, Is.False);
        var items = Enumerable.Range(0, 5).WithProgress("x", status: () => "s").ToArray();
        Assert.That(items, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
        var loader = new DataLoader(new TensorDataset(Tensor.Zeros([6, 1]), Tensor.Arange(6)), batchSize: 2);
        Assert.That(loader.WithProgress("epoch").Count(), Is.EqualTo(3));
    }

    [Test]
    public void TrainingCurvesWriteAPng()
    {
        var curves = new TrainingCurves();
        for (int e = 1; e <= 5; e++)
        {
            curves.Add("train loss", e, 2.0 / e);
            curves.Add("test accuracy", e, 1 - 0.5 / e);
        }
        var path = Path.Combine(Path.GetTempPath(), $"ember-curves-{Guid.NewGuid():N}.png");
        try
        {
            curves.SavePng(path, 640, 360);
            var bytes = File.ReadAllBytes(path);
            Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
            Assert.That(bytes.Length, Is.GreaterThan(5000));
            Assert.That(curves.Series["train loss"], Has.Count.EqualTo(5));
        }
        finally { File.Delete(path); }
        Assert.Throws<InvalidOperationException>(() => new TrainingCurves().SavePng(path));
    }
}
