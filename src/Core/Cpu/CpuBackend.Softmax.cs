namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Softmax(Tensor x, Tensor result, bool log) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log) => throw new NotImplementedException();
}
