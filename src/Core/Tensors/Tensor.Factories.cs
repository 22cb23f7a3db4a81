using System.Runtime.InteropServices;

namespace Ember;

public sealed partial class Tensor
{
    private static Tensor Finish(Tensor t, bool requiresGrad) => requiresGrad ? t.RequiresGrad_() : t;

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape (1-D when no shape is given).</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from data.Length, or T is not a tensor element type.</exception>
    public static Tensor FromArray<T>(T[] data, params long[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var s = shape.Length == 0 ? [data.LongLength] : (long[])shape.Clone();
        long n = CheckedNumel("FromArray", s);
        if (n != data.LongLength)
            throw new ArgumentException($"FromArray: shape {ShapeUtil.Format(s)} holds {n} elements but the array has {data.LongLength}.");
        var t = Alloc(s, DTypeInfo.Of<T>(), Device.Cpu, "FromArray");
        t.Backend.CopyFromHost(MemoryMarshal.AsBytes(data.AsSpan()), t.storage, 0);
        return t;
    }

    /// <summary>A tensor from a multi-dimensional array (e.g. <c>float[,]</c>), keeping its shape.</summary>
    public static Tensor FromArray(Array data, DType? dtype = null, Device? device = null, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        var shape = new long[data.Rank];
        for (int i = 0; i < data.Rank; i++) shape[i] = data.GetLength(i);
        var et = DTypeInfo.Of(data.GetType().GetElementType()!);
        Tensor t = et switch
        {
            DType.Float32 => FromArray(data.Cast<float>().ToArray(), shape),
            DType.Float64 => FromArray(data.Cast<double>().ToArray(), shape),
            DType.Int32 => FromArray(data.Cast<int>().ToArray(), shape),
            DType.Int64 => FromArray(data.Cast<long>().ToArray(), shape),
            _ => FromArray(data.Cast<bool>().ToArray(), shape),
        };
        t = t.To(device ?? Device.Cpu).To(dtype ?? et);
        return Finish(t, requiresGrad);
    }

    /// <summary>A 0-dim tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Finish(Full([], value, dtype, device), requiresGrad);

    /// <summary>An uninitialized tensor (contents unspecified).</summary>
    public static Tensor Empty(Shape shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Finish(Alloc(shape.ToArray(), dtype, device ?? Device.Cpu, "Empty"), requiresGrad);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">The element count overflows or exceeds <see cref="MaxElements"/>.</exception>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Filled("Full", shape, value, dtype, device, requiresGrad);

    private static Tensor Filled(string op, Shape shape, double value, DType dtype, Device? device, bool requiresGrad)
    {
        var t = Alloc(shape.ToArray(), dtype, device ?? Device.Cpu, op);
        t.Backend.Fill(t, value);
        return Finish(t, requiresGrad);
    }

    /// <summary>A tensor of zeros.</summary>
    /// <exception cref="ArgumentException">The element count overflows or exceeds <see cref="MaxElements"/>.</exception>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Filled("Zeros", shape, 0, dtype, device, requiresGrad);

    /// <summary>A tensor of ones.</summary>
    /// <exception cref="ArgumentException">The element count overflows or exceeds <see cref="MaxElements"/>.</exception>
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Filled("Ones", shape, 1, dtype, device, requiresGrad);

    /// <summary>Float32 zeros on the CPU: <c>Tensor.Zeros(2, 3)</c>.</summary>
    public static Tensor Zeros(params long[] shape) => Zeros((Shape)shape);
    /// <summary>Float32 ones on the CPU.</summary>
    public static Tensor Ones(params long[] shape) => Ones((Shape)shape);
    /// <summary>Uninitialized Float32 on the CPU.</summary>
    public static Tensor Empty(params long[] shape) => Empty((Shape)shape);

    /// <summary>Zeros with the shape, dtype and device of <paramref name="t"/>.</summary>
    public static Tensor ZerosLike(Tensor t, DType? dtype = null, bool requiresGrad = false) => Zeros(t.Shape, dtype ?? t.DType, t.Device, requiresGrad);
    /// <summary>Ones like <paramref name="t"/>.</summary>
    public static Tensor OnesLike(Tensor t, DType? dtype = null, bool requiresGrad = false) => Ones(t.Shape, dtype ?? t.DType, t.Device, requiresGrad);
    /// <summary>Filled like <paramref name="t"/>.</summary>
    public static Tensor FullLike(Tensor t, double value, DType? dtype = null, bool requiresGrad = false) => Full(t.Shape, value, dtype ?? t.DType, t.Device, requiresGrad);
    /// <summary>Uninitialized like <paramref name="t"/>.</summary>
    public static Tensor EmptyLike(Tensor t, DType? dtype = null) => Empty(t.Shape, dtype ?? t.DType, t.Device);
    /// <summary>Uniform [0, 1) like <paramref name="t"/>.</summary>
    public static Tensor RandLike(Tensor t, Generator? generator = null) => Rand(t.Shape, t.DType, t.Device, false, generator);
    /// <summary>Standard normal like <paramref name="t"/>.</summary>
    public static Tensor RandnLike(Tensor t, Generator? generator = null) => Randn(t.Shape, t.DType, t.Device, false, generator);

    /// <summary>Values start, start+step, … below end (torch.arange). Int64 unless a dtype is given.</summary>
    /// <exception cref="ArgumentException">step is 0 or has the wrong sign, or the count is not finite or above <see cref="MaxElements"/>.</exception>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Int64, Device? device = null, bool requiresGrad = false)
    {
        if (step == 0 || (end - start) / step < 0)
            throw new ArgumentException($"Arange: step {step} cannot go from {start} to {end}.");
        long n = CheckCount("Arange", Math.Ceiling((end - start) / step), $"start {start}, end {end}, step {step}");
        var vals = new double[n];
        for (long i = 0; i < n; i++) vals[i] = start + i * step;
        return Finish(FromArray(vals, n).To(dtype).To(device ?? Device.Cpu), requiresGrad);
    }

    /// <summary>0, 1, …, end − 1 as Int64 (torch.arange(end)).</summary>
    public static Tensor Arange(long end, DType dtype = DType.Int64, Device? device = null) => Arange(0, end, 1, dtype, device);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive (torch.linspace).</summary>
    public static Tensor Linspace(double start, double end, long steps, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false)
    {
        if (steps < 0) throw new ArgumentException($"Linspace: steps must be non-negative, got {steps}.");
        CheckCount("Linspace", steps, $"steps {steps}");
        var vals = new double[steps];
        double d = steps > 1 ? (end - start) / (steps - 1) : 0;
        // PyTorch fills the second half backwards from end so that the last value is exactly end.
        long half = steps / 2;
        for (long i = 0; i < steps; i++) vals[i] = i < half ? start + i * d : end - (steps - 1 - i) * d;
        return Finish(FromArray(vals, steps).To(dtype).To(device ?? Device.Cpu), requiresGrad);
    }

    /// <summary>The n×m identity matrix (m = n by default).</summary>
    /// <exception cref="ArgumentException">A size is negative, or n·m exceeds <see cref="MaxElements"/>.</exception>
    public static Tensor Eye(long n, long? m = null, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false)
    {
        long cols = m ?? n;
        CheckAllocatable("Eye", [n, cols], dtype);
        var vals = new double[n * cols];
        for (long i = 0; i < Math.Min(n, cols); i++) vals[i * cols + i] = 1;
        return Finish(FromArray(vals, n, cols).To(dtype).To(device ?? Device.Cpu), requiresGrad);
    }

    /// <summary>Uniform [0, 1) samples from Philox.</summary>
    public static Tensor Rand(Shape shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false, Generator? generator = null)
    {
        var t = Alloc(shape.ToArray(), dtype, device ?? Device.Cpu, "Rand");
        t.CheckFloat("Rand");
        var (s, o) = (generator ?? Random.Default).Reserve(t.Numel);
        t.Backend.Random(RandomDistribution.Uniform, t, s, o, 0, 1);
        return Finish(t, requiresGrad);
    }

    /// <summary>Standard normal samples from Philox (Box–Muller).</summary>
    public static Tensor Randn(Shape shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false, Generator? generator = null)
    {
        var t = Alloc(shape.ToArray(), dtype, device ?? Device.Cpu, "Randn");
        t.CheckFloat("Randn");
        var (s, o) = (generator ?? Random.Default).Reserve(t.Numel);
        t.Backend.Random(RandomDistribution.Normal, t, s, o, 0, 1);
        return Finish(t, requiresGrad);
    }

    /// <summary>Float32 uniform [0, 1) on the CPU: <c>Tensor.Rand(2, 3)</c>.</summary>
    public static Tensor Rand(params long[] shape) => Rand((Shape)shape);
    /// <summary>Float32 standard normal on the CPU: <c>Tensor.Randn(64, 784)</c>.</summary>
    public static Tensor Randn(params long[] shape) => Randn((Shape)shape);

    /// <summary>Integers uniform in [low, high) (torch.randint), Int64 by default.</summary>
    /// <exception cref="ArgumentException">high ≤ low.</exception>
    public static Tensor RandInt(long low, long high, Shape shape, DType dtype = DType.Int64, Device? device = null, Generator? generator = null)
    {
        if (high <= low) throw new ArgumentException($"RandInt: expected low < high, got [{low}, {high}).");
        var u = Rand(shape, DType.Float64, Device.Cpu, false, generator).ToArray<double>();
        var vals = new long[u.Length];
        for (int i = 0; i < u.Length; i++) vals[i] = low + Math.Min((long)(u[i] * (high - low)), high - low - 1);
        return FromArray(vals, shape.ToArray()).To(dtype).To(device ?? Device.Cpu);
    }

    /// <summary>A random permutation of 0..n−1 (Int64), from Philox keys sorted.</summary>
    public static Tensor Randperm(long n, DType dtype = DType.Int64, Device? device = null, Generator? generator = null)
    {
        var perm = RandpermArray(n, generator);
        return FromArray(perm, n).To(dtype).To(device ?? Device.Cpu);
    }

    /// <summary>A random permutation of 0..n−1 on the host (used by samplers).</summary>
    /// <exception cref="ArgumentException">n is negative or above <see cref="MaxElements"/>.</exception>
    public static long[] RandpermArray(long n, Generator? generator = null)
    {
        CheckCount("Randperm", n, $"n {n}");
        var gen = generator ?? Random.Default;
        var (s, o) = gen.Reserve(n);
        var keys = new ulong[n];
        var perm = new long[n];
        for (long i = 0; i < n; i++)
        {
            Philox.Block(s, o + (ulong)(i / 4), out var r0, out var r1, out var r2, out var r3);
            uint r = (i % 4) switch { 0 => r0, 1 => r1, 2 => r2, _ => r3 };
            keys[i] = ((ulong)r << 32) | (ulong)i; // ties broken by position, so the order is total
            perm[i] = i;
        }
        Array.Sort(keys, perm);
        return perm;
    }
}
