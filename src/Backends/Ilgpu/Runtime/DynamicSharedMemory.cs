using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// Kernels whose dynamic shared memory exceeds 48 KB. CUDA launches such a kernel only after its
/// <c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c> has been raised to the size, up to the device's opt-in limit
/// (<c>CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN</c>: 227 KB on the H100, 163 KB on the A100). ILGPU 1.5
/// neither sets the attribute nor checks the size (it passes a launch's dynamic size straight to <c>cuLaunchKernel</c>),
/// so this class calls the driver itself, through the library ILGPU binds (<c>libcuda</c>), on the kernel's
/// <see cref="CudaKernel.FunctionPtr"/>.
/// </summary>
internal static partial class DynamicSharedMemory
{
    /// <summary><c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c>.</summary>
    private const int MaxDynamicSharedSizeBytes = 8;
    /// <summary><c>CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT</c> (percent of the unified L1/shared memory).</summary>
    private const int PreferredSharedMemoryCarveout = 9;
    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN</c>.</summary>
    private const int MaxSharedMemoryPerBlockOptin = 97;
    /// <summary>What CUDA grants any kernel without the opt-in (and ILGPU's static limit).</summary>
    public const int DefaultLimit = 48 * 1024;

    // The driver's name as ILGPU's CudaAPI binds it ("cuda" on Linux and macOS, "nvcuda" on Windows).
    [LibraryImport("cuda", EntryPoint = "cuFuncSetAttribute")]
    private static partial int FuncSetAttribute(IntPtr function, int attribute, int value);

    [LibraryImport("cuda", EntryPoint = "cuDeviceGetAttribute")]
    private static partial int DeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport("nvcuda", EntryPoint = "cuFuncSetAttribute")]
    private static partial int FuncSetAttributeWindows(IntPtr function, int attribute, int value);

    [LibraryImport("nvcuda", EntryPoint = "cuDeviceGetAttribute")]
    private static partial int DeviceGetAttributeWindows(out int value, int attribute, int device);

    private static readonly ConcurrentDictionary<int, int> optIn = new();

    /// <summary>
    /// The most dynamic shared memory one block of <paramref name="cuda"/> may use once a kernel opts in, in bytes
    /// (queried once per device). A failed query counts as <see cref="DefaultLimit"/>: no opt-in.
    /// </summary>
    public static int MaxBytesPerBlock(CudaAccelerator cuda) => optIn.GetOrAdd(cuda.DeviceId, static id =>
    {
        int status, value;
        try
        {
            // The device ordinal is the CUdevice handle, as ILGPU's own attribute queries pass it.
            status = OperatingSystem.IsWindows()
                ? DeviceGetAttributeWindows(out value, MaxSharedMemoryPerBlockOptin, id)
                : DeviceGetAttribute(out value, MaxSharedMemoryPerBlockOptin, id);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            System.Diagnostics.Trace.TraceWarning($"DynamicSharedMemory: the CUDA driver library could not be called ({e.Message}); no more than {DefaultLimit} bytes.");
            return DefaultLimit;
        }
        if (status != 0)
        {
            System.Diagnostics.Trace.TraceWarning($"DynamicSharedMemory: cuDeviceGetAttribute(MAX_SHARED_MEMORY_PER_BLOCK_OPTIN) failed with CUresult {status}; no more than {DefaultLimit} bytes.");
            return DefaultLimit;
        }
        return value;
    });

    /// <summary>True when a kernel on <paramref name="accelerator"/> can get <paramref name="bytes"/> of dynamic shared memory (any size off CUDA).</summary>
    public static bool Fits(Accelerator accelerator, int bytes) =>
        accelerator is not CudaAccelerator cuda || bytes <= DefaultLimit || bytes <= MaxBytesPerBlock(cuda);

    /// <summary>
    /// Raises <paramref name="kernel"/>'s dynamic shared memory limit to <paramref name="bytes"/> and asks for the largest
    /// shared-memory carveout (so that as many blocks fit per SM as the shared memory allows, not fewer for a larger L1).
    /// </summary>
    /// <exception cref="InvalidOperationException">The driver refused (the message names the kernel, the size and the CUresult).</exception>
    public static void Allow(CudaKernel kernel, string name, int bytes)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        Set(kernel.FunctionPtr, MaxDynamicSharedSizeBytes, bytes, name, $"MAX_DYNAMIC_SHARED_SIZE_BYTES = {bytes}");
        // 100: all of the unified memory that can be shared (228 KB of 256 on the H100); the kernels using this copy
        // with cp.async.cg, which bypasses L1.
        Set(kernel.FunctionPtr, PreferredSharedMemoryCarveout, 100, name, "PREFERRED_SHARED_MEMORY_CARVEOUT = 100");
    }

    private static void Set(IntPtr function, int attribute, int value, string name, string what)
    {
        int status = OperatingSystem.IsWindows()
            ? FuncSetAttributeWindows(function, attribute, value)
            : FuncSetAttribute(function, attribute, value);
        if (status != 0)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"cuFuncSetAttribute({what}) failed for kernel {name} with CUresult {status}."));
    }

    [GeneratedRegex(@"\.extern \.shared \.align (\d+) \.b8 __dyn_shared_alloca\[\];")]
    private static partial Regex DynamicDeclaration();

    /// <summary>
    /// <paramref name="ptx"/> with its dynamic shared array aligned to at least 128 bytes (ILGPU aligns it to its element
    /// type; the kernels using this class address 16-byte chunks of it with <c>cp.async</c> and <c>ldmatrix</c>), or
    /// 1024 bytes in PTX with <c>wgmma</c>, whose 128-byte swizzled stages must start at multiples of 1024.
    /// </summary>
    public static string AlignDynamic(string ptx)
    {
        int align = ptx.Contains("wgmma.", StringComparison.Ordinal) ? 1024 : 128;
        return DynamicDeclaration().Replace(ptx, m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) >= align
            ? m.Value : $".extern .shared .align {align} .b8 __dyn_shared_alloca[];");
    }

    /// <summary>
    /// An explicitly grouped kernel using <paramref name="words"/> 32-bit words of dynamic shared memory, loaded once per
    /// accelerator through <paramref name="cache"/>; the launcher adds the dynamic shared memory to the grid and group
    /// the caller passes. On CUDA the PTX is rewritten as <see cref="KernelCache.GroupedTuned{T1, T2, T3, T4}"/> does
    /// (depots to registers, launch bounds <paramref name="maxThreads"/> × <paramref name="minBlocks"/>; not with
    /// <c>EMBER_PTX_REWRITE=0</c>), its dynamic array aligned (<see cref="AlignDynamic"/>), and above 48 KB the kernel
    /// opts in (<see cref="Allow"/>) before it is first launched.
    /// </summary>
    /// <exception cref="InvalidOperationException">The driver refused the size (check <see cref="Fits"/> first).</exception>
    public static Action<KernelConfig, T1, T2, T3, T4> Grouped<T1, T2, T3, T4>(KernelCache cache, Action<T1, T2, T3, T4> kernel,
        int words, int maxThreads, int minBlocks) where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        ArgumentNullException.ThrowIfNull(cache);
        var shared = SharedMemoryConfig.RequestDynamic<uint>(words);
        return cache.Get<Action<T1, T2, T3, T4>, Action<KernelConfig, T1, T2, T3, T4>>(kernel, (acc, k) =>
        {
            if (acc is not CudaAccelerator cuda)
            {
                var plain = acc.LoadStreamKernel(k);
                return (config, a, b, c, d) => plain(new KernelConfig(config.GridDim, config.GroupDim, shared), a, b, c, d);
            }
            var compiled = (PTXCompiledKernel)cuda.Backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(k.Method), KernelSpecialization.Empty);
            string ptx = Environment.GetEnvironmentVariable("EMBER_PTX_REWRITE") == "0"
                ? compiled.PTXAssembly : PtxRewrite.Tune(compiled.PTXAssembly, maxThreads, minBlocks);
            PtxRewrite.Replace(compiled, AlignDynamic(ptx));
            var loaded = (CudaKernel)cuda.LoadKernel(compiled);
            if (4 * words > DefaultLimit) Allow(loaded, k.Method.Name, 4 * words);
            var launch = loaded.CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4>>();
            return (config, a, b, c, d) => launch(cuda.DefaultStream, new KernelConfig(config.GridDim, config.GroupDim, shared), a, b, c, d);
        });
    }
}
