namespace Ember;

/// <summary>
/// Whether operations record a graph for autograd. Per logical flow of execution (an
/// <see cref="AsyncLocal{T}"/>): a NoGrad scope on one thread does not affect another, and it flows
/// across <c>await</c>. Ember.Autograd exposes it as <c>Autograd.NoGrad()</c> / <c>EnableGrad()</c>.
/// </summary>
public static class GradMode
{
    private static readonly AsyncLocal<bool> Disabled = new();

    /// <summary>True unless inside a NoGrad scope.</summary>
    public static bool IsEnabled => !Disabled.Value;

    /// <summary>Sets the mode for the current flow; returns the previous value.</summary>
    public static bool Set(bool enabled)
    {
        var prev = !Disabled.Value;
        Disabled.Value = !enabled;
        return prev;
    }
}
