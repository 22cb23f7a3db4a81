using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>
/// Index checks queued on one device (<see cref="IBackend.CheckIndices"/>) and reported at its next synchronisation,
/// so that validating an embedding's tokens or a loss's class indices does not make the host wait for the device in the
/// middle of a step. Each queued check owns a slot of two Int64 in a small device buffer (a flag and the first bad
/// value its kernel found, written with a compare-and-swap so one value wins); the host keeps the checks' messages in
/// queue order. <see cref="IlgpuBackend.CopyToHost"/> and <see cref="IlgpuBackend.Synchronize"/> call
/// <see cref="ThrowIfFailed"/> after waiting for the device: when checks are pending it copies their slots (one small
/// read; the device is idle by then) and throws the first failed check's error, after zeroing the slots so the device
/// stays usable. Not thread-safe beyond a lock around the pending list (the backend's stream is one queue).
/// </summary>
internal sealed class DeviceChecks : IDisposable
{
    /// <summary>Checks that may be pending at once; one more forces a synchronisation and a report first.</summary>
    public const int Capacity = 256;

    private readonly Accelerator accelerator;
    private readonly object gate = new();
    private readonly List<IndexCheck> pending = [];
    private MemoryBuffer1D<long, Stride1D.Dense>? slots;

    internal DeviceChecks(Accelerator accelerator) => this.accelerator = accelerator;

    /// <summary>
    /// Queues <paramref name="check"/> and returns the view of its two slots (flag, value), zero until its kernel finds
    /// a bad index. Reports the checks already queued first when all slots are taken.
    /// </summary>
    public ArrayView<long> Queue(IndexCheck check)
    {
        lock (gate)
        {
            if (pending.Count == Capacity)
            {
                accelerator.Synchronize();
                ThrowIfFailedLocked();
            }
            if (slots is null)
            {
                slots = accelerator.Allocate1D<long>(2L * Capacity);
                slots.MemSetToZero();
            }
            pending.Add(check);
            return slots.View.SubView(2L * (pending.Count - 1), 2);
        }
    }

    /// <summary>
    /// Reports the pending checks: the caller has waited for the device. Throws the first failed check's error (queue
    /// order); the pending list is empty afterwards either way.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A queued check found a bad index.</exception>
    public void ThrowIfFailed()
    {
        lock (gate) ThrowIfFailedLocked();
    }

    private unsafe void ThrowIfFailedLocked()
    {
        if (pending.Count == 0 || slots is null) return;
        var host = new long[2 * pending.Count];
        var view = slots.View.SubView(0, host.Length);
        fixed (long* p = host)
            view.CopyToCPU(accelerator.DefaultStream, ref *p, host.Length);
        accelerator.DefaultStream.Synchronize();
        var checks = pending.ToArray();
        pending.Clear();
        for (int i = 0; i < checks.Length; i++)
        {
            if (host[2 * i] == 0) continue;
            // Zero every used slot before throwing: the next checks must start from clean flags.
            view.MemSetToZero(accelerator.DefaultStream);
            accelerator.DefaultStream.Synchronize();
            throw checks[i].Error(host[2 * i + 1]);
        }
    }

    /// <summary>Frees the slots.</summary>
    public void Dispose() => slots?.Dispose();
}
