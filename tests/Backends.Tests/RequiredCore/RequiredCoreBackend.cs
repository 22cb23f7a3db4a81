extern alias core;
using Ember.Cpu;

namespace Ember.Conformance;

/// <summary>
/// A test-only backend that implements exactly IBackend's required core (memory, copies, fill, elementwise, where, reduce,
/// matmul, indexing, random) and none of the optional fused kernels, so every softmax, norm, loss, convolution, pooling,
/// attention and optimizer step on its device runs the composite defaults. It owns a device of its own
/// (<see cref="Device"/>) and computes by handing each call's views, re-pointed at the CPU memory it wraps, to the CPU
/// backend's required members.
/// </summary>
public sealed class RequiredCoreBackend : IBackend
{
    /// <summary>The one instance, registered on first use.</summary>
    public static readonly RequiredCoreBackend Instance = new();

    /// <summary>The device it runs: an OpenCL index no machine has, so no other backend claims it.</summary>
    public static readonly Device Device = new(DeviceType.OpenCL, 4096);

    private static readonly CpuBackend Cpu = CpuBackend.Instance;

    static RequiredCoreBackend() => core::Ember.Backends.Register(Instance);

    private RequiredCoreBackend() { }

    /// <summary>Makes sure the backend is registered.</summary>
    public static void Register() => core::Ember.Backends.Register(Instance);

    // A storage of this backend: CPU memory under another device's name.
    private sealed class WrappedStorage(IBackend owner, Storage inner) : Storage(owner, RequiredCoreBackend.Device, inner.DType, inner.Length)
    {
        public Storage Inner { get; } = inner;
        protected override void Release() => Inner.Dispose();
    }

    private static Storage Inner(Storage s) => ((WrappedStorage)s).Inner;

    // The same view over the wrapped CPU storage.
    private static Tensor C(Tensor t) => new(Inner(t.storage), t.offset, t.shape, t.strides);

    private static Tensor? COrNull(Tensor? t) => t is null ? null : C(t);

    /// <inheritdoc/>
    public string Name => "required-core";
    /// <inheritdoc/>
    public bool Supports(Device device) => device == Device;
    /// <inheritdoc/>
    public IReadOnlyList<Device> Devices => [Device];
    /// <inheritdoc/>
    public Storage Allocate(Device device, DType dtype, long length) => new WrappedStorage(this, Cpu.Allocate(Ember.Device.Cpu, dtype, length));
    /// <inheritdoc/>
    public void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long elementOffset) => Cpu.CopyFromHost(source, Inner(destination), elementOffset);
    /// <inheritdoc/>
    public void CopyToHost(Storage source, long elementOffset, Span<byte> destination) => Cpu.CopyToHost(Inner(source), elementOffset, destination);
    /// <inheritdoc/>
    public void Synchronize(Device device) { }
    /// <inheritdoc/>
    public void Copy(Tensor source, Tensor destination) => Cpu.Copy(C(source), C(destination));
    /// <inheritdoc/>
    public void Fill(Tensor destination, double value) => Cpu.Fill(C(destination), value);
    /// <inheritdoc/>
    public void Unary(UnaryOp op, Tensor x, Tensor result, double alpha = 0, double beta = 0) => Cpu.Unary(op, C(x), C(result), alpha, beta);
    /// <inheritdoc/>
    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor result) => Cpu.Binary(op, C(a), C(b), C(result));
    /// <inheritdoc/>
    public void Where(Tensor condition, Tensor a, Tensor b, Tensor result) => Cpu.Where(C(condition), C(a), C(b), C(result));
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices) => Cpu.Reduce(op, C(x), C(values), COrNull(indices));
    /// <inheritdoc/>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false) => Cpu.MatMul(C(a), C(b), C(c), accumulate);
    /// <inheritdoc/>
    public void Gather(Tensor x, int dim, Tensor index, Tensor result) => Cpu.Gather(C(x), dim, C(index), C(result));
    /// <inheritdoc/>
    public void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate) => Cpu.Scatter(C(target), dim, C(index), C(source), accumulate);
    /// <inheritdoc/>
    public void IndexSelect(Tensor x, int dim, Tensor index, Tensor result) => Cpu.IndexSelect(C(x), dim, C(index), C(result));
    /// <inheritdoc/>
    public void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha) => Cpu.IndexAdd(C(target), dim, C(index), C(source), alpha);
    /// <inheritdoc/>
    public void Triangular(Tensor x, Tensor result, long diagonal, bool upper) => Cpu.Triangular(C(x), C(result), diagonal, upper);
    /// <inheritdoc/>
    public void Random(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b) =>
        Cpu.Random(distribution, C(destination), seed, offset, a, b);
}
