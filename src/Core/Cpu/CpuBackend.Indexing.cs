namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Gather(Tensor x, int dim, Tensor index, Tensor result) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void IndexSelect(Tensor x, int dim, Tensor index, Tensor result) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Triangular(Tensor x, Tensor result, long diagonal, bool upper) => throw new NotImplementedException();
}
