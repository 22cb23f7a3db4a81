extern alias core;
using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// Base of every conformance fixture: the device under test (from the fixture argument), availability check,
/// deterministic inputs, and the run-on-both-backends-and-compare helper.
/// </summary>
public abstract class DeviceTest(string device)
{
    /// <summary>The device under test.</summary>
    protected Device Dev { get; } = Device.Parse(device);

    /// <summary>
    /// The devices every conformance fixture runs on: ilgpu-cpu everywhere (CI), plus each CUDA and OpenCL
    /// device ILGPU sees on this machine (the GPU machine). No fixture exists for an absent device, so
    /// nothing is skipped.
    /// </summary>
    /// <remarks>
    /// <c>EMBER_TEST_DEVICES</c> (a comma list such as <c>cuda:0,opencl:0</c>) narrows this to the listed devices, so
    /// that each device's fixtures can run in a process of their own on the GPU machine.
    /// </remarks>
    public static IEnumerable<string> AvailableDevices()
    {
        IlgpuBackend.Register();
        var only = Environment.GetEnvironmentVariable("EMBER_TEST_DEVICES")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(Device.Parse).ToHashSet();
        var devices = new List<Device> { Device.IlgpuCpu };
        foreach (var d in IlgpuBackend.Instance.Devices)
            if (d.Type is DeviceType.Cuda or DeviceType.OpenCL) devices.Add(d);
        foreach (var d in devices)
            if (only is null || only.Contains(d)) yield return d.ToString();
    }

    [OneTimeSetUp]
    public void RequireDevice()
    {
        IlgpuBackend.Register();
        RequiredCoreBackend.Register();
        Assert.That(core::Ember.Backends.Registered.Any(b => b.Supports(Dev)), Is.True,
            $"{Dev} is not available here (ILGPU sees: {string.Join(", ", IlgpuBackend.Instance.Devices)}).");
    }

    /// <summary>Deterministic float values: normal(0, scale) from a seeded System.Random.</summary>
    protected static float[] Floats(int n, int seed, double scale = 1, double shift = 0)
    {
        var r = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - r.NextDouble(), u2 = r.NextDouble();
            a[i] = (float)(shift + scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }

    /// <summary>A tensor of deterministic values on <paramref name="device"/> (built on the CPU, then moved).</summary>
    protected static Tensor Rnd(Device device, long[] shape, int seed, DType dtype = DType.Float32, double scale = 1, double shift = 0)
    {
        int n = (int)shape.Aggregate(1L, (x, y) => x * y);
        var t = Tensor.FromArray(Floats(n, seed, scale, shift), shape);
        return t.To(dtype).To(device);
    }

    /// <summary>Positive values in [lo, hi).</summary>
    protected static Tensor Pos(Device device, long[] shape, int seed, double lo = 0.1, double hi = 3, DType dtype = DType.Float32)
    {
        var r = new System.Random(seed);
        int n = (int)shape.Aggregate(1L, (x, y) => x * y);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.NextDouble();
        return Tensor.FromArray(a, shape).To(dtype).To(device);
    }

    /// <summary>Integer values in [lo, hi) of the given dtype.</summary>
    protected static Tensor Ints(Device device, long[] shape, int seed, long lo, long hi, DType dtype = DType.Int64)
    {
        var r = new System.Random(seed);
        int n = (int)shape.Aggregate(1L, (x, y) => x * y);
        var a = new long[n];
        for (int i = 0; i < n; i++) a[i] = r.NextInt64(lo, hi);
        return Tensor.FromArray(a, shape).To(dtype).To(device);
    }

    /// <summary>The elements of any tensor as doubles (row-major), copied to the host.</summary>
    protected static double[] Host(Tensor t)
    {
        // Converted on the CPU (exact for every dtype but Int64 beyond 2^53), so a device conversion bug cannot hide here.
        var c = t.Detach().Cpu();
        return c.DType == DType.Float64 ? c.ToArray<double>() : c.To(DType.Float64).ToArray<double>();
    }

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN matches NaN, ±∞ must match).</summary>
    protected static void AssertClose(double[] actual, double[] expected, double rtol, double atol, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{what}: element count");
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(e)) { Assert.That(double.IsNaN(a), $"{what}[{i}]: expected NaN, got {a}"); continue; }
            if (double.IsInfinity(e)) { Assert.That(a, Is.EqualTo(e), $"{what}[{i}]"); continue; }
            Assert.That(Math.Abs(a - e), Is.LessThanOrEqualTo(atol + rtol * Math.Abs(e)), $"{what}[{i}]: device {a:R}, cpu {e:R}");
        }
    }

    /// <summary>Asserts exact equality of every element.</summary>
    protected static void AssertEqual(double[] actual, double[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{what}: element count");
        for (int i = 0; i < actual.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]), $"{what}[{i}]");
    }

    /// <summary>
    /// Builds the arguments with <paramref name="make"/> on the CPU and on the device under test, runs
    /// <paramref name="op"/> with each backend, and compares the arguments listed in <paramref name="outputs"/>
    /// (float32 tolerance by default). When <paramref name="reference"/> is given, the device's outputs are
    /// also compared with it (a float64 host computation from the CPU inputs).
    /// </summary>
    protected void Conform(Func<Device, Tensor?[]> make, Action<IBackend, Tensor?[]> op, int[] outputs,
        double rtol = 2e-5, double atol = 2e-6, Func<Tensor?[], double[][]>? reference = null)
    {
        var onDev = make(Dev);
        var onCpu = make(Device.Cpu);
        foreach (var t in onDev) if (t is not null) Assert.That(t.Device, Is.EqualTo(Dev));
        op(onDev[outputs[0]]!.Backend, onDev);
        if (reference is not null)
        {
            var expected = reference(onCpu);
            for (int k = 0; k < outputs.Length; k++)
                AssertClose(Host(onDev[outputs[k]]!), expected[k], rtol, atol, $"output {outputs[k]} vs float64 reference");
        }
        op(global::Ember.Cpu.CpuBackend.Instance, onCpu);
        foreach (var k in outputs)
            AssertClose(Host(onDev[k]!), Host(onCpu[k]!), rtol, atol, $"output {k} vs cpu");
    }
}
