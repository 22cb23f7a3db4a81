namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false) => throw new NotImplementedException("CPU MatMul: pending (core-ops).");
}
