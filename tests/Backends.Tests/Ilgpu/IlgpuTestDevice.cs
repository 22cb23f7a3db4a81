using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>The shared ilgpu-cpu device every test in this folder runs on (no GPU needed).</summary>
internal static class IlgpuTestDevice
{
    public static IlgpuDevice Cpu => IlgpuContext.Shared.Get(Device.IlgpuCpu);

    /// <summary>Copies a device view to a new host array (synchronizes first).</summary>
    /// <remarks>The array is pinned for the copy: ILGPU takes its address, then allocates before copying (see IlgpuBackend.CopyPinned).</remarks>
    public static unsafe T[] ToHost<T>(ILGPU.ArrayView<T> view) where T : unmanaged
    {
        Cpu.Synchronize();
        var host = new T[view.Length];
        if (host.Length > 0)
            fixed (T* p = host) ILGPU.Runtime.ArrayViewExtensions.CopyToCPU(view, ref *p, host.Length);
        return host;
    }

    /// <summary>Copies a host array into a device view (the array pinned for the copy).</summary>
    public static unsafe void FromHost<T>(ILGPU.ArrayView<T> view, T[] host) where T : unmanaged
    {
        if (host.Length > 0)
            fixed (T* p = host) ILGPU.Runtime.ArrayViewExtensions.CopyFromCPU(view, ref *p, host.Length);
    }
}
