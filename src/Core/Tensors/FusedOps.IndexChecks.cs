namespace Ember;

public static partial class FusedOps
{
    /// <summary>
    /// Checks that every element of the Int64 tensor <paramref name="index"/> lies in [0, size), elements equal to
    /// <paramref name="skip"/> excepted, and counts those not skipped into <paramref name="count"/> when given (a 0-dim
    /// floating-point tensor on the index's device; see <see cref="IBackend.CheckIndices"/>). Returns the
    /// count when the backend checked on the host (the CPU: a bad index has thrown already); null when it checks on the
    /// device, where a bad index throws at the device's next synchronisation, so that the host can keep queueing work without waiting for the device.
    /// </summary>
    /// <exception cref="ArgumentException">index is not Int64, or count is not a 0-dim floating-point tensor on its device.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The host check found a bad index (<paramref name="check"/>'s error).</exception>
    public static long? CheckIndices(Tensor index, long size, long? skip, Tensor? count, IndexCheck check)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(check);
        Require(index.DType == DType.Int64, "CheckIndices", $"expected an Int64 index, got {index.DType} {index.Shape}.");
        Require(count is null || count.Dim == 0 && count.IsFloatingPoint && count.Device == index.Device, "CheckIndices",
            $"expected a 0-dim floating-point count on {index.Device}, got {count?.DType} {count?.Shape} on {count?.Device}.");
        using var _ = RecordingOff.Enter();
        var counted = index.Backend.CheckIndices(index.Contiguous(), size, skip, count, check);
        // Checked on the host: the count goes into count too, so callers divide by the same tensor on every backend.
        if (counted is { } n && count is not null) count.Fill_(n);
        return counted;
    }
}
