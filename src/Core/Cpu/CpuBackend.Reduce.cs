namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices) => throw new NotImplementedException("CPU Reduce: pending (core-ops).");
}
