using Ember.Cpu;

namespace Ember;

/// <summary>
/// The registry of backends. The CPU backend is always present; GPU backends register explicitly
/// (<see cref="Register"/>, called by Ember.Backends.Ilgpu's module initializer). No reflection scanning.
/// </summary>
public static partial class Backends
{
    private static readonly object Gate = new();
    private static IBackend[] registered = [CpuBackend.Instance];

    /// <summary>The CPU backend.</summary>
    public static IBackend Cpu => CpuBackend.Instance;

    /// <summary>All registered backends, CPU first.</summary>
    public static IReadOnlyList<IBackend> Registered => registered;

    /// <summary>Adds a backend; registering the same instance twice is a no-op.</summary>
    public static void Register(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        lock (Gate)
        {
            if (Array.IndexOf(registered, backend) >= 0) return;
            registered = [.. registered, backend];
        }
    }

    /// <summary>The backend that runs <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException">No registered backend runs it; the message says which package to reference.</exception>
    public static IBackend For(Device device)
    {
        foreach (var b in registered)
            if (b.Supports(device)) return b;
        var hint = device.Type == DeviceType.Cpu
            ? ""
            : registered.Length == 1
                ? " Reference the Ember.Backends.Ilgpu package (and call IlgpuBackend.Register() or touch any of its types) to use GPU devices."
                : $" The GPU backend is loaded but sees no such device (it sees: {string.Join(", ", registered.SelectMany(r => r.Devices))}).";
        throw new InvalidOperationException($"Device {device} is not available.{hint}");
    }

    internal static Device BestDevice()
    {
        foreach (var kind in new[] { DeviceType.Cuda, DeviceType.OpenCL })
            foreach (var b in registered)
                foreach (var d in b.Devices)
                    if (d.Type == kind) return d;
        return Device.Cpu;
    }
}
