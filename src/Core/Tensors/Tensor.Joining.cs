namespace Ember;

public sealed partial class Tensor
{
    /// <summary>Concatenates along dim (torch.cat); all other sizes must match.</summary>
    /// <exception cref="ArgumentException">Empty list, or mismatched shapes/dtypes/devices.</exception>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0) => throw new NotImplementedException();
    /// <summary>Stacks same-shape tensors along a new dim (torch.stack).</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0) => throw new NotImplementedException();
    /// <summary>Splits into pieces of <paramref name="splitSize"/> along dim (the last may be smaller); views.</summary>
    public Tensor[] Split(long splitSize, int dim = 0) => throw new NotImplementedException();
    /// <summary>Splits into pieces of the given sizes along dim; views.</summary>
    public Tensor[] Split(long[] sizes, int dim = 0) => throw new NotImplementedException();
    /// <summary>Splits into <paramref name="chunks"/> nearly equal pieces along dim (torch.chunk); views.</summary>
    public Tensor[] Chunk(int chunks, int dim = 0) => throw new NotImplementedException();
    /// <summary>torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] (dim = 1); index Int64 of result's shape.</summary>
    public Tensor Gather(int dim, Tensor index) => throw new NotImplementedException();
    /// <summary>torch.scatter (out of place): a copy of x with src written at index along dim.</summary>
    public Tensor Scatter(int dim, Tensor index, Tensor source) => throw new NotImplementedException();
    /// <summary>torch.scatter with a scalar value.</summary>
    public Tensor Scatter(int dim, Tensor index, double value) => throw new NotImplementedException();
    /// <summary>torch.scatter_add (out of place): a copy of x with src added at index along dim.</summary>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor source) => throw new NotImplementedException();
    /// <summary>torch.index_select: entries of index (Int64 or Int32, 1-D) along dim.</summary>
    public Tensor IndexSelect(int dim, Tensor index) => throw new NotImplementedException();
    /// <summary>torch.index_add (out of place): x with alpha·source added at index along dim.</summary>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source, double alpha = 1) => throw new NotImplementedException();
    /// <summary>Lower triangle of the last two dims (others zeroed), diagonal offset as torch.tril.</summary>
    public Tensor Tril(long diagonal = 0) => throw new NotImplementedException();
    /// <summary>Upper triangle of the last two dims.</summary>
    public Tensor Triu(long diagonal = 0) => throw new NotImplementedException();
    /// <summary>One-hot encoding of an integer tensor: shape + [numClasses], Int64 (torch.nn.functional.one_hot); numClasses −1 infers max+1.</summary>
    public Tensor OneHot(long numClasses = -1) => throw new NotImplementedException();
    /// <summary>Softmax along dim (fused kernel, own backward).</summary>
    public Tensor Softmax(int dim) => throw new NotImplementedException();
    /// <summary>Log-softmax along dim (fused kernel, own backward).</summary>
    public Tensor LogSoftmax(int dim) => throw new NotImplementedException();
}
