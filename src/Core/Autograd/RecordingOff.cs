namespace Ember;

/// <summary>
/// Turns gradient recording off for the current flow until disposed (Core's own kernels and composites run their tensor
/// ops inside it: they compute values, they are not graph nodes).
/// </summary>
internal readonly struct RecordingOff : IDisposable
{
    private readonly bool previous;
    private RecordingOff(bool previous) => this.previous = previous;

    /// <summary>Turns recording off; <see cref="Dispose"/> restores the previous mode.</summary>
    public static RecordingOff Enter() => new(GradMode.Set(false));

    /// <inheritdoc/>
    public void Dispose() => GradMode.Set(previous);
}
