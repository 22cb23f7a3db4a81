using System.Runtime.InteropServices;

namespace Ember;

/// <summary>
/// An n-dimensional array on a device: a view (offset, shape, strides) into a <see cref="Ember.Storage"/>
/// of one <see cref="Ember.DType"/>. Views (Reshape, Transpose, slicing, …) share storage; ops allocate
/// results through the storage's backend. Tensors carry autograd state (RequiresGrad, Grad, GradFn);
/// Ember.Autograd records and runs the graph.
/// </summary>
/// <remarks>
/// Memory is managed by the GC: no Dispose call is needed for correctness. <see cref="Dispose"/> releases
/// the storage early (all views of it become unusable).
/// </remarks>
public sealed partial class Tensor : IDisposable
{
    /// <summary>Kernels accept at most this many dimensions.</summary>
    public const int MaxRank = 8;

    internal readonly Storage storage;
    internal readonly long offset;
    internal readonly long[] shape;
    internal readonly long[] strides;

    internal Tensor(Storage storage, long offset, long[] shape, long[] strides)
    {
        if (shape.Length > MaxRank)
            throw new ArgumentException($"Tensor: rank {shape.Length} exceeds the maximum of {MaxRank} dims (shape [{string.Join(", ", shape)}]).");
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
    }

    /// <summary>Creates a tensor of the given shape on a fresh storage of <paramref name="device"/> (contents unspecified).</summary>
    /// <exception cref="ArgumentException">The element count overflows or exceeds <see cref="MaxElements"/> (the message names <paramref name="op"/>).</exception>
    internal static Tensor Alloc(long[] shape, DType dtype, Device device, string op = "Empty")
    {
        long n = CheckAllocatable(op, shape, dtype);
        var backend = Backends.For(device);
        var st = backend.Allocate(device, dtype, n);
        TensorScope.Track(st);
        AllocationRecorder.Record(st);
        return new Tensor(st, 0, shape, ShapeUtil.ContiguousStrides(shape));
    }

    /// <summary>
    /// Opens a <see cref="TensorScope"/> on this thread: tensors allocated until it is disposed are disposed with it
    /// (except kept ones, parameters, gradients and optimizer state), so their memory returns to the backend's cache at
    /// once. Use with <c>using</c>.
    /// </summary>
    public static TensorScope Scope() => new();

    /// <summary>Allocates an uninitialized tensor like this one's dtype/device with the given shape.</summary>
    internal Tensor NewEmpty(long[] shape, DType? dtype = null) => Alloc(shape, dtype ?? DType, Device);

    // ---- metadata -----------------------------------------------------------------------------

    /// <summary>The sizes of the dimensions (<c>x.Shape[0]</c> is the first).</summary>
    public Shape Shape => Shape.Wrap(shape);

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public long Size(int dim) => shape[IndexedDim(dim, "Size")];

    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Dim => shape.Length;

    /// <summary>Number of elements.</summary>
    public long Numel => ShapeUtil.Numel(shape);

    /// <summary>Element type.</summary>
    public DType DType => storage.DType;

    /// <summary>Where the storage lives.</summary>
    public Device Device => storage.Device;

    /// <summary>Element strides of each dimension (a copy).</summary>
    public long[] Strides => (long[])strides.Clone();

    /// <summary>The sizes of the dimensions, without a copy (for backends, which read views' geometry on every call).</summary>
    public ReadOnlySpan<long> ShapeSpan => shape;

    /// <summary>Element strides of each dimension, without a copy (for backends; <see cref="Strides"/> copies).</summary>
    public ReadOnlySpan<long> StridesSpan => strides;

    /// <summary>Offset of the first element in the storage, in elements.</summary>
    public long StorageOffset => offset;

    /// <summary>The storage this tensor views.</summary>
    public Storage Storage => storage;

    /// <summary>The backend of the storage.</summary>
    public IBackend Backend => storage.Backend;

    /// <summary>The storage's version counter (bumped by in-place ops).</summary>
    public int Version => storage.Version;

    /// <summary>True when the elements are laid out row-major without gaps.</summary>
    public bool IsContiguous => ShapeUtil.IsContiguous(shape, strides);

    /// <summary>True for floating-point dtypes.</summary>
    public bool IsFloatingPoint => DType.IsFloatingPoint();

    // ---- autograd state (managed by Ember.Autograd) --------------------------------------------

    /// <summary>Whether gradients flow to this tensor. Set on leaves with <see cref="RequiresGrad_"/>.</summary>
    public bool RequiresGrad { get; internal set; }

    /// <summary>The accumulated gradient of a leaf (or of a non-leaf after RetainGrad), else null.</summary>
    /// <exception cref="ArgumentException">Assigned a tensor of another shape, dtype or device (PyTorch's "assigned grad has data of a different size/type/device").</exception>
    public Tensor? Grad
    {
        get => grad;
        set
        {
            if (value is not null) CheckGradAssignment(value);
            grad = value;
        }
    }
    private Tensor? grad;

    /// <summary>The node that produced this tensor; null for leaves.</summary>
    public GradFn? GradFn { get; internal set; }

    /// <summary>True when the tensor was not produced by a recorded op (user-created, or not requiring grad).</summary>
    public bool IsLeaf => GradFn == null;

    /// <summary>Storage for Ember.Autograd's per-tensor state (hooks, retain-grad flag).</summary>
    public object? AutogradState { get; set; }

    /// <summary>Marks a name for graph printing (ToDot) and anomaly messages.</summary>
    public string? Name { get; set; }

    /// <summary>Makes this leaf require (or stop requiring) gradients; returns this.</summary>
    /// <exception cref="InvalidOperationException">Called on a non-leaf, or requiring grad on a non-float tensor.</exception>
    public Tensor RequiresGrad_(bool requiresGrad = true)
    {
        if (!IsLeaf)
            throw new InvalidOperationException(
                $"RequiresGrad_: can only change requires_grad of leaf tensors; this tensor was produced by {GradFn!.Name}. Use Detach() to get a leaf.");
        if (requiresGrad && !IsFloatingPoint)
            throw new InvalidOperationException($"RequiresGrad_: only floating-point tensors can require gradients, this one is {DType}.");
        if (requiresGrad) AutogradHook.EnsureLoaded();
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Internal: sets the autograd fields of a freshly produced tensor (used by the engine).</summary>
    public void SetGradFn(GradFn? fn, bool requiresGrad)
    {
        GradFn = fn;
        RequiresGrad = requiresGrad;
    }

    /// <summary>A view of the same data that is a leaf and does not require grad.</summary>
    public Tensor Detach() => new(storage, offset, shape, strides);

    // ---- host transfer ------------------------------------------------------------------------

    /// <summary>Copies the elements (row-major) into a new array; synchronizes with the device.</summary>
    /// <exception cref="ArgumentException">T does not match <see cref="DType"/>.</exception>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (DTypeInfo.Of<T>() != DType)
            throw new ArgumentException($"ToArray<{typeof(T).Name}>: the tensor's dtype is {DType}; use ToArray<{DType.ClrType().Name}>() or To({DTypeInfo.Of<T>()}) first.");
        CheckNotDisposed("ToArray");
        var c = Contiguous();
        var result = new T[c.Numel];
        c.Backend.CopyToHost(c.storage, c.offset, MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The value of a one-element tensor as a double.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public double Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: only one-element tensors can be converted to a number, this one has shape {Shape}.");
        var visitor = new ItemVisitor(this);
        DTypeDispatch.Visit(DType, ref visitor);
        return visitor.Value;
    }

    // Reads the one element in its own type and widens it to double (exact for every dtype but Int64 beyond 2^53).
    private struct ItemVisitor(Tensor t) : IDTypeVisitor
    {
        public double Value;

        public void Visit<T>() where T : unmanaged => Value = ElementConvert.ToDouble(t.ToArray<T>()[0]);
    }

    /// <summary>The value of a one-element tensor converted to T.</summary>
    public T Item<T>() where T : unmanaged
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: only one-element tensors can be converted to a number, this one has shape {Shape}.");
        return To(DTypeInfo.Of<T>()).ToArray<T>()[0];
    }

    /// <summary>Releases the storage now (every view of it becomes unusable).</summary>
    public void Dispose() => storage.Dispose();

    // ---- validation helpers -----------------------------------------------------------------------

    internal static void CheckSameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
            throw new ArgumentException(
                $"{op}: expected all tensors on the same device, got {a.Device} and {b.Device} (shapes {a.Shape} and {b.Shape}). Move one with .To(device).");
    }

    internal static void CheckSameDType(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: expected tensors of the same dtype, got {a.DType} and {b.DType} (shapes {a.Shape} and {b.Shape}). Convert one with .To(DType).");
    }

    internal void CheckFloat(string op)
    {
        if (!IsFloatingPoint)
            throw new ArgumentException($"{op}: expected a floating-point tensor, got {DType} (shape {Shape}).");
    }

    internal void CheckNotDisposed(string op)
    {
        if (storage.IsDisposed) throw new ObjectDisposedException(nameof(Tensor), $"{op}: the {DType} tensor of shape {Shape} was used after its storage was disposed (Dispose or the end of a Tensor.Scope).");
    }
}
