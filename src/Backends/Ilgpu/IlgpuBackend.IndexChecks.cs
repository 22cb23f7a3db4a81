using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// One launch of one group (<see cref="IndexCheckKernels.Check"/>) and no host read: the check is queued in the
    /// device's <see cref="DeviceChecks"/> and a bad index throws at the next <see cref="CopyToHost"/> or
    /// <see cref="Synchronize"/> (the kernels that read the index afterwards do not read out of bounds). The count, when
    /// asked for, is written in count's dtype (Float32 or Float64; others take the composite, which reads on the host).
    /// </remarks>
    public long? CheckIndices(Tensor index, long size, long? skip, Tensor? count, IndexCheck check)
    {
        if (count is not null && count.DType is not (DType.Float32 or DType.Float64))
            return CompositeKernels.CheckIndices(index, size, skip, check);
        long n = index.Numel;
        if (n == 0) return 0;   // nothing to check: the caller writes the count
        var d = Dev(index);
        var slots = d.Checks.Queue(check);
        var cfg = new KernelConfig(new Index1D(1), new Index1D(RowGroupSize(d)));
        if (count is null || count.DType == DType.Float32) C<float, F32>(); else C<double, F64>();
        return null;

        void C<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadGroupedKernel<ArrayView<long>, long, long, long, long, int, ArrayView<T>, long, int, ArrayView<long>>(d, IndexCheckKernels.Check<T, R>)(
                cfg, ViewOf<long>(index), index.StorageOffset, n, size, skip ?? 0, skip is null ? 0 : 1,
                count is null ? ViewOf<T>(DummyFloat<T>(d)) : ViewOf<T>(count), count?.StorageOffset ?? 0, count is null ? 0 : 1, slots);
    }

    // A placeholder count view for checks without a count (the kernel does not write it): the Int64 dummy's storage.
    private static Tensor DummyFloat<T>(IlgpuDevice d) where T : unmanaged => Dummy(d);
}
