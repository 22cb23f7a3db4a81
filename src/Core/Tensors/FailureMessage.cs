using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// An interpolated error message formatted only when its check failed: <c>Require(ok, op, $"… {x.Shape} …")</c>
/// with this handler builds no string (and formats no shape) when <c>ok</c> is true. Argument checks run on every
/// call of an op, so eager messages were allocations on every training step.
/// </summary>
[InterpolatedStringHandler]
internal ref struct FailureMessage
{
    private DefaultInterpolatedStringHandler inner;
    private readonly bool failed;

    /// <summary>Starts the message; <paramref name="shouldAppend"/> is false (nothing is formatted) when <paramref name="ok"/>.</summary>
    public FailureMessage(int literalLength, int formattedCount, bool ok, out bool shouldAppend)
    {
        failed = shouldAppend = !ok;
        inner = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    /// <summary>Appends literal text.</summary>
    public void AppendLiteral(string value) => inner.AppendLiteral(value);

    /// <summary>Appends a formatted value.</summary>
    public void AppendFormatted<T>(T value) => inner.AppendFormatted(value);

    /// <summary>Appends a value with a format string.</summary>
    public void AppendFormatted<T>(T value, string? format) => inner.AppendFormatted(value, format);

    /// <summary>The message (empty when the check passed).</summary>
    public string ToStringAndClear() => failed ? inner.ToStringAndClear() : "";
}
