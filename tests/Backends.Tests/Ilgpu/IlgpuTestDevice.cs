using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>The shared ilgpu-cpu device every test in this folder runs on (no GPU needed).</summary>
internal static class IlgpuTestDevice
{
    public static IlgpuDevice Cpu => IlgpuContext.Shared.Get(Device.IlgpuCpu);

    /// <summary>Copies a device view to a new host array (synchronizes first).</summary>
    public static T[] ToHost<T>(ILGPU.ArrayView<T> view) where T : unmanaged
    {
        Cpu.Synchronize();
        var host = new T[view.Length];
        if (host.Length > 0) ILGPU.Runtime.ArrayViewExtensions.CopyToCPU(view, ref host[0], host.Length);
        return host;
    }

    /// <summary>Copies a host array into a device view.</summary>
    public static void FromHost<T>(ILGPU.ArrayView<T> view, T[] host) where T : unmanaged
    {
        if (host.Length > 0) ILGPU.Runtime.ArrayViewExtensions.CopyFromCPU(view, ref host[0], host.Length);
    }
}
