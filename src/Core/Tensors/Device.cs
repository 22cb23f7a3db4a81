namespace Ember;

/// <summary>The kind of device a tensor lives on.</summary>
public enum DeviceType
{
    /// <summary>Host memory, Ember's SIMD CPU backend (in Ember.Core).</summary>
    Cpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend (Ember.Backends.Ilgpu).</summary>
    Cuda,
    /// <summary>An OpenCL device through ILGPU (Ember.Backends.Ilgpu).</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: runs the GPU kernels on the CPU (for tests without a GPU).</summary>
    IlgpuCpu,
}

/// <summary>
/// A device: a type and an index (<c>cpu</c>, <c>cuda:0</c>, <c>opencl:1</c>, <c>ilgpu-cpu</c>).
/// Value semantics; <see cref="Parse"/> normalizes names ("cuda" is "cuda:0").
/// </summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    /// <summary>The CPU.</summary>
    public static Device Cpu => new(DeviceType.Cpu, 0);
    /// <summary>CUDA GPU number <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);
    /// <summary>OpenCL device number <paramref name="index"/>.</summary>
    public static Device OpenCL(int index = 0) => new(DeviceType.OpenCL, index);
    /// <summary>ILGPU's CPU accelerator.</summary>
    public static Device IlgpuCpu => new(DeviceType.IlgpuCpu, 0);

    /// <summary>
    /// Parses "cpu", "cuda", "cuda:1", "opencl:0", "ilgpu-cpu" (case-insensitive).
    /// </summary>
    /// <exception cref="FormatException">The name is not a device name.</exception>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var s = name.Trim().ToLowerInvariant();
        int index = 0;
        int colon = s.IndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(s[(colon + 1)..], out index) || index < 0)
                throw new FormatException($"Device.Parse: '{name}' has a bad index; expected e.g. 'cuda:0'.");
            s = s[..colon];
        }
        return s switch
        {
            "cpu" => Cpu,
            "cuda" or "gpu" => Cuda(index),
            "opencl" or "cl" => OpenCL(index),
            "ilgpu-cpu" or "ilgpucpu" => IlgpuCpu,
            _ => throw new FormatException(
                $"Device.Parse: unknown device '{name}'; expected cpu, cuda[:N], opencl[:N] or ilgpu-cpu."),
        };
    }

    /// <summary>
    /// The best available device: the first CUDA GPU, then the first OpenCL GPU, else the CPU.
    /// GPUs are seen only when a GPU backend (Ember.Backends.Ilgpu) is registered.
    /// </summary>
    public static Device Best() => Backends.BestDevice();

    /// <summary>
    /// Waits until every kernel and copy queued on this device has finished (PyTorch's
    /// <c>torch.cuda.synchronize(device)</c>). Ember's ops return as soon as their work is queued on a GPU; call this
    /// before timing with a host clock, or read a value (<see cref="Tensor.Item"/>), which waits too. A no-op on the CPU,
    /// whose ops finish before they return.
    /// </summary>
    /// <exception cref="InvalidOperationException">No registered backend runs this device.</exception>
    public void Synchronize() => Backends.For(this).Synchronize(this);

    /// <summary>PyTorch-style name: cpu, cuda:0, opencl:0, ilgpu-cpu.</summary>
    public override string ToString() => Type switch
    {
        DeviceType.Cpu => "cpu",
        DeviceType.Cuda => $"cuda:{Index}",
        DeviceType.OpenCL => $"opencl:{Index}",
        DeviceType.IlgpuCpu => "ilgpu-cpu",
        _ => $"{Type}:{Index}",
    };

    /// <summary>Converts a device name, so <c>x.To("cuda")</c> works.</summary>
    public static implicit operator Device(string name) => Parse(name);
}
