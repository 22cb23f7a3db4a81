using System.Runtime.InteropServices;
namespace Ember;

public sealed partial class Tensor
{
    /// <summary>This tensor when already contiguous, else a contiguous copy.</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        return Clone();
    }

    /// <summary>A contiguous copy with its own storage (gradients flow through it).</summary>
    public Tensor Clone()
    {
        CheckNotDisposed("Clone");
        var r = NewEmpty((long[])shape.Clone());
        Backend.Copy(this, r);
        return AutogradHook.Record(OpKind.Copy, r, OpArgs.None, this);
    }

    /// <summary>
    /// Converts to another dtype (this tensor when it already has it), with PyTorch's rules (<see cref="ElementConvert"/>):
    /// float → int truncates toward zero, to Float16/BFloat16 rounds to nearest even. Differentiable between
    /// floating-point dtypes: the gradient arrives in the new dtype and is converted back to this one.
    /// </summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var r = NewEmpty((long[])shape.Clone(), dtype);
        Backend.Copy(this, r);
        if (!dtype.IsFloatingPoint() || !IsFloatingPoint) return r;
        return AutogradHook.Record(OpKind.ToDType, r, new OpArgs { DType = DType }, this);
    }

    /// <summary>
    /// <c>To(DType.Float16)</c> (PyTorch's <c>Tensor.half()</c>): each element rounded to the nearest IEEE half, ties to
    /// even; magnitudes above 65504 (after rounding) become ±∞, below 2⁻²⁴ become ±0; NaN stays NaN. Differentiable
    /// between floating-point dtypes (the gradient is converted back).
    /// </summary>
    public Tensor Half() => To(DType.Float16);

    /// <summary>
    /// <c>To(DType.BFloat16)</c> (PyTorch's <c>Tensor.bfloat16()</c>): each element rounded to 8 significant bits, ties to
    /// even, with float32's range (see <see cref="Ember.BFloat16.FromSingle"/>).
    /// </summary>
    public Tensor BFloat16() => To(DType.BFloat16);

    /// <summary><c>To(DType.Float32)</c> (PyTorch's <c>Tensor.float()</c>); exact from Float16 and BFloat16.</summary>
    public Tensor Float() => To(DType.Float32);

    /// <summary><c>To(DType.Float64)</c> (PyTorch's <c>Tensor.double()</c>).</summary>
    public Tensor Double() => To(DType.Float64);

    /// <summary>Moves to another device (this tensor when already there). Copies to the host synchronize.</summary>
    /// <exception cref="InvalidOperationException">The device's backend is not loaded or sees no such device.</exception>
    public Tensor To(Device device)
    {
        if (device == Device) return this;
        var r = Alloc((long[])shape.Clone(), DType, device);
        Transfer(Contiguous(), r);
        return AutogradHook.Record(OpKind.ToDevice, r, new OpArgs { Device = Device }, this);
    }

    /// <summary>
    /// Copies the contiguous <paramref name="src"/> into the contiguous <paramref name="dst"/> (same dtype and element
    /// count) on another device: straight from or into the host array when one side is the CPU (a temporary of the
    /// whole tensor, zeroed and then collected, cost more than the copy itself: 1.5 GB/s for 256 MB on an H100
    /// machine), through a host buffer between two devices.
    /// </summary>
    private static void Transfer(Tensor src, Tensor dst)
    {
        long bytes = src.Numel * src.DType.ElementSize();
        if (src.storage is Cpu.CpuStorage hostSrc)
            dst.Backend.CopyFromHost(HostBytes(hostSrc, src.offset, bytes), dst.storage, dst.offset);
        else if (dst.storage is Cpu.CpuStorage hostDst)
            src.Backend.CopyToHost(src.storage, src.offset, HostBytes(hostDst, dst.offset, bytes));
        else
        {
            var buffer = new byte[bytes];
            src.Backend.CopyToHost(src.storage, src.offset, buffer);
            dst.Backend.CopyFromHost(buffer, dst.storage, dst.offset);
        }
    }

    // The bytes of a CPU storage's array from element `offset` on (the backends pin the span for the copy).
    private static Span<byte> HostBytes(Cpu.CpuStorage st, long offset, long bytes)
    {
        var all = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(st.Data), checked((int)st.ByteLength));
        return all.Slice(checked((int)(offset * st.DType.ElementSize())), checked((int)bytes));
    }

    /// <summary>Moves and converts.</summary>
    public Tensor To(Device device, DType dtype) => To(device).To(dtype);

    /// <summary>Converts to the dtype and device of <paramref name="other"/>.</summary>
    public Tensor To(Tensor other) => To(other.Device).To(other.DType);

    /// <summary>Same as To(Device.Cpu).</summary>
    public Tensor Cpu() => To(Device.Cpu);

    // ---- in-place ---------------------------------------------------------------------------------

    /// <summary>
    /// The single entry check of every in-place write: the tensor is alive, no two of its elements share memory (unless the
    /// write is idempotent, as a fill is), and autograd allows it; then bumps the version counter.
    /// </summary>
    internal void BeginInPlace(string op, Tensor? source = null, bool idempotent = false)
    {
        CheckNotDisposed(op);
        source?.CheckNotDisposed(op);
        if (!idempotent) CheckNoInternalOverlap(op);
        if (GradMode.IsEnabled)
        {
            if (RequiresGrad && IsLeaf)
                throw new InvalidOperationException(
                    $"{op}: a leaf tensor that requires grad is being used in an in-place operation; wrap it in Autograd.NoGrad() (as optimizers and initializers do).");
            if (RequiresGrad || (source?.RequiresGrad ?? false))
                throw new InvalidOperationException(
                    $"{op}: in-place operations on tensors that are part of an autograd graph are not supported; use the out-of-place op (e.g. Add instead of Add_).");
        }
        storage.BumpVersion();
    }

    /// <summary>Copies <paramref name="source"/> (broadcast, converted, from any device) into this tensor in place; returns this.</summary>
    /// <exception cref="ArgumentException">source does not broadcast to this shape.</exception>
    public Tensor Copy_(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var bshape = ShapeUtil.Broadcast("Copy_", shape, source.shape);
        if (!bshape.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"Copy_: source shape {source.Shape} does not broadcast to destination shape {Shape}.");
        BeginInPlace("Copy_", source);
        if (source.Device != Device && source.DType == DType && IsContiguous && source.Numel == Numel)
        {
            // Across devices into a whole contiguous destination: one transfer, no temporary on this device.
            Transfer(source.Contiguous(), this);
            return this;
        }
        var src = source.Device == Device ? source : source.To(Device);
        Backend.Copy(src.ExpandRaw(shape), this);
        return this;
    }

    /// <summary>Sets every element to <paramref name="value"/> in place; returns this.</summary>
    public Tensor Fill_(double value)
    {
        BeginInPlace("Fill_", idempotent: true);   // like PyTorch, filling an expanded view is allowed
        Backend.Fill(this, value);
        return this;
    }

    /// <summary>Sets every element to zero in place; returns this.</summary>
    public Tensor Zero_() => Fill_(0);

    private Tensor InPlaceBinary(string op, BinaryOp bop, Tensor other)
    {
        var bshape = ShapeUtil.Broadcast(op, shape, other.shape);
        if (!bshape.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"{op}: other's shape {other.Shape} does not broadcast to this shape {Shape}.");
        CheckSameDevice(op, this, other); CheckSameDType(op, this, other);
        CheckIntegerDivisor(bop, other);
        BeginInPlace(op, other);
        Backend.Binary(bop, this, other.ExpandRaw(shape), this);
        return this;
    }

    /// <summary>x += alpha·other in place; returns this.</summary>
    public Tensor Add_(Tensor other, double alpha = 1) =>
        InPlaceBinary("Add_", BinaryOp.Add, alpha == 1 ? other : ScaledNoGrad(other, alpha));

    /// <summary>x −= alpha·other in place; returns this.</summary>
    public Tensor Sub_(Tensor other, double alpha = 1) =>
        InPlaceBinary("Sub_", BinaryOp.Sub, alpha == 1 ? other : ScaledNoGrad(other, alpha));

    /// <summary>x ·= other in place; returns this.</summary>
    public Tensor Mul_(Tensor other) => InPlaceBinary("Mul_", BinaryOp.Mul, other);

    /// <summary>x /= other in place (true division); returns this.</summary>
    /// <exception cref="InvalidOperationException">x is an integer or Bool tensor: the quotient is a float, which PyTorch
    /// refuses to write into it too.</exception>
    public Tensor Div_(Tensor other) => IsFloatingPoint ? InPlaceBinary("Div_", BinaryOp.Div, other)
        : throw new InvalidOperationException($"Div_: the result type Float32 can't be cast to the desired output type {DType} (shape {Shape}); true division of integers gives floats: use Div (a new tensor), FloorDivide or Div(other, \"trunc\").");

    /// <summary>x += s in place; returns this.</summary>
    public Tensor Add_(double s) { CheckScalarFitsInPlace("Add_", s); return UnaryInPlace("Add_", UnaryOp.AddScalar, s); }

    /// <summary>x ·= s in place; returns this.</summary>
    public Tensor Mul_(double s) { CheckScalarFitsInPlace("Mul_", s); return UnaryInPlace("Mul_", UnaryOp.MulScalar, s); }

    /// <summary>Clamps in place; returns this.</summary>
    public Tensor Clamp_(double? min = null, double? max = null) =>
        UnaryInPlace("Clamp_", UnaryOp.Clamp, min ?? double.NaN, max ?? double.NaN);

    private Tensor UnaryInPlace(string op, UnaryOp u, double alpha, double beta = 0)
    {
        BeginInPlace(op);
        Backend.Unary(u, this, this, alpha, beta);
        return this;
    }

    private static Tensor ScaledNoGrad(Tensor t, double alpha)
    {
        var r = t.NewEmpty((long[])t.shape.Clone());
        t.Backend.Unary(UnaryOp.MulScalar, t, r, alpha);
        return r;
    }

    /// <summary>Fills in place from U[from, to) with the given (or default) generator; returns this.</summary>
    public Tensor Uniform_(double from = 0, double to = 1, Generator? generator = null) =>
        RandomInPlace("Uniform_", RandomDistribution.Uniform, from, to, generator);

    /// <summary>Fills in place from N(mean, std²); returns this.</summary>
    public Tensor Normal_(double mean = 0, double std = 1, Generator? generator = null) =>
        RandomInPlace("Normal_", RandomDistribution.Normal, mean, std, generator);

    /// <summary>Fills in place with 1 with probability p else 0; returns this.</summary>
    public Tensor Bernoulli_(double p = 0.5, Generator? generator = null) =>
        RandomInPlace("Bernoulli_", RandomDistribution.Bernoulli, p, 0, generator);

    private Tensor RandomInPlace(string op, RandomDistribution dist, double a, double b, Generator? generator)
    {
        CheckFloat(op);
        BeginInPlace(op);
        var gen = generator ?? Random.Default;
        if (IsContiguous)
        {
            var (seed, off) = gen.Reserve(Numel);
            Backend.Random(dist, this, seed, off, a, b);
        }
        else
        {
            var tmp = NewEmpty((long[])shape.Clone());
            var (seed, off) = gen.Reserve(Numel);
            Backend.Random(dist, tmp, seed, off, a, b);
            Backend.Copy(tmp, this);
        }
        return this;
    }
}
