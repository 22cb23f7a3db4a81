using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>
/// The device side of <see cref="HostStaging"/>: enqueues copies between a staging slot (host memory that stays at
/// one address) and device memory on one in-order stream, and records fences on that stream. Tests substitute a
/// stream that defers every copy until a fence is waited on, to play the part of a GPU that runs far behind the host.
/// </summary>
internal interface IStagingStream
{
    /// <summary>Enqueues a copy of <paramref name="target"/>.Length bytes from <paramref name="staging"/> to <paramref name="target"/>.</summary>
    void Upload(nint staging, ArrayView<byte> target);

    /// <summary>Enqueues a copy of <paramref name="source"/> to the <paramref name="source"/>.Length bytes at <paramref name="staging"/>.</summary>
    void Download(ArrayView<byte> source, nint staging);

    /// <summary>A fence that completes when everything enqueued on the stream before it has completed.</summary>
    IStagingFence Record();
}

/// <summary>A point on a stream; <see cref="Wait"/> blocks the host until the stream has passed it.</summary>
internal interface IStagingFence : IDisposable
{
    /// <summary>Blocks until the work enqueued before the fence has completed (at once if it has).</summary>
    void Wait();
}

/// <summary>
/// <see cref="IStagingStream"/> over an ILGPU <see cref="AcceleratorStream"/>: copies through
/// <c>CopyFromCPUUnsafeAsync</c>/<c>CopyToCPUUnsafeAsync</c> (no host synchronization; on CUDA a <c>cuMemcpyAsync</c>,
/// truly asynchronous when the slot is page-locked; on OpenCL a non-blocking read/write; on ILGPU's CPU accelerator a
/// memcpy done before the call returns), fences as ILGPU profiling markers (a CUDA event, an OpenCL marker event, a
/// no-op on the CPU accelerator, whose copies and kernel launches complete before they return).
/// </summary>
/// <remarks>
/// The context must have profiling enabled (<see cref="IlgpuContext"/> does). Each copy wraps the slot in an ILGPU
/// host buffer of exactly the copied length: ILGPU 1.5.3's OpenCL copy transfers the whole host buffer's length, not
/// the view's, so a sub-view of one large host buffer would overrun the target there. The context's page-locking mode
/// must stay <c>Default</c>: under <c>Aggressive</c>, ILGPU 1.5.3's <c>CopyFromCPUUnsafeAsync</c> ignores its stream
/// argument and page-locks (then unlocks) the slot around every copy.
/// </remarks>
internal sealed class AcceleratorStagingStream(AcceleratorStream stream) : IStagingStream
{
    public unsafe void Upload(nint staging, ArrayView<byte> target) =>
        target.CopyFromCPUUnsafeAsync(stream, ref Unsafe.AsRef<byte>((void*)staging), target.Length);

    public unsafe void Download(ArrayView<byte> source, nint staging) =>
        source.CopyToCPUUnsafeAsync(stream, ref Unsafe.AsRef<byte>((void*)staging), source.Length);

    public IStagingFence Record() => new MarkerFence(stream.AddProfilingMarker());

    private sealed class MarkerFence(ProfilingMarker marker) : IStagingFence
    {
        // CudaProfilingMarker.Synchronize queries the event first and blocks (cuEventSynchronize) only when it is pending.
        public void Wait() => marker.Synchronize();
        public void Dispose() => marker.Dispose();
    }
}
