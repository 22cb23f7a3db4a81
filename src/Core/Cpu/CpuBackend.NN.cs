namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor gradX, Tensor? gradWeight, Tensor? gradBias) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Im2Col(Tensor x, ConvGeometry geometry, Tensor columns) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void Col2Im(Tensor columns, ConvGeometry geometry, Tensor x) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void MaxPool2d(Tensor x, PoolGeometry geometry, Tensor result, Tensor indices) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void MaxPool2dBackward(Tensor grad, Tensor indices, PoolGeometry geometry, Tensor gradInput) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad, Tensor result) => throw new NotImplementedException();
    /// <inheritdoc/>
    public void AvgPool2dBackward(Tensor grad, PoolGeometry geometry, bool countIncludePad, Tensor gradInput) => throw new NotImplementedException();
}
