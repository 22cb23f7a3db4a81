using System.Runtime.CompilerServices;

namespace Ember.Core.Tests;

/// <summary>
/// <see cref="FailureMessage"/>: an argument check's interpolated message is formatted only when the check fails, and
/// then reads as the plain interpolated string would.
/// </summary>
public class FailureMessageTests
{
    private sealed class Counted
    {
        public int Formatted;
        public override string ToString() { Formatted++; return "[2, 3]"; }
    }

    private static string Check(bool ok, [InterpolatedStringHandlerArgument("ok")] ref FailureMessage message) =>
        ok ? "passed" : message.ToStringAndClear();

    [Test]
    public void PassingCheckFormatsNothing()
    {
        var shape = new Counted();
        Assert.That(Check(true, $"expected {shape} and {shape}, got {42}."), Is.EqualTo("passed"));
        Assert.That(shape.Formatted, Is.EqualTo(0));
    }

    [Test]
    public void FailingCheckFormatsTheMessage()
    {
        var shape = new Counted();
        Assert.That(Check(false, $"expected {shape}, got {1.5:F2}."), Is.EqualTo("expected [2, 3], got 1.50."));
        Assert.That(shape.Formatted, Is.EqualTo(1));
    }

    [Test]
    public void FusedOpsStillNameTheOpAndShapes()
    {
        var x = Tensor.Zeros([2, 3]);
        var ex = Assert.Throws<ArgumentException>(() => FusedOps.Linear(x, Tensor.Zeros([4, 5]), Tensor.Zeros([4])));
        Assert.That(ex!.Message, Does.Contain("Linear").And.Contain("[2, 3]").And.Contain("[4, 5]"));
    }
}
