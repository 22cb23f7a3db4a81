namespace Ember;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with PyTorch's rules: 1-D·1-D dot, 2-D·2-D matrix product, 1-D operands get a
    /// dim prepended/appended and removed after, batched operands broadcast their batch dims.
    /// Built from views and the recorded primitive Bmm.
    /// </summary>
    /// <exception cref="ArgumentException">Inner sizes differ, batch dims do not broadcast, or dtypes/devices differ.</exception>
    public Tensor MatMul(Tensor other) => throw new NotImplementedException();
    /// <summary>2-D matrix product [n,k]·[k,m].</summary>
    public Tensor Mm(Tensor other) => throw new NotImplementedException();
    /// <summary>Batched product [b,n,k]·[b,k,m] (no broadcasting, torch.bmm).</summary>
    public Tensor Bmm(Tensor other) => throw new NotImplementedException();
    /// <summary>Outer product of 1-D tensors: [n]⊗[m] → [n,m].</summary>
    public Tensor Outer(Tensor other) => throw new NotImplementedException();
    /// <summary>Dot product of 1-D tensors (0-dim).</summary>
    public Tensor Dot(Tensor other) => throw new NotImplementedException();
}
