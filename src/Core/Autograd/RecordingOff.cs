namespace Ember;

/// <summary>
/// Turns gradient recording (and autocast) off for the current flow until disposed (Core's own kernels and composites run their tensor
/// ops inside it: they compute values, they are not graph nodes).
/// </summary>
internal readonly struct RecordingOff : IDisposable
{
    private readonly bool previous;
    private readonly object? autocast;
    private RecordingOff(bool previous, object? autocast) => (this.previous, this.autocast) = (previous, autocast);

    /// <summary>Turns recording and autocast off; <see cref="Dispose"/> restores both.</summary>
    public static RecordingOff Enter() => new(GradMode.Set(false), Autocast.SuspendRaw());

    /// <inheritdoc/>
    public void Dispose()
    {
        GradMode.Set(previous);
        Autocast.Restore(autocast);
    }
}
