using System.Collections.Concurrent;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// Kernels of one accelerator, each compiled and loaded once and then held strongly for the
/// accelerator's lifetime (ILGPU's own cache may drop a launcher; this one never does).
/// The key is the kernel method (generic instantiations are distinct methods) plus the launcher's
/// delegate type, so a method loaded auto-grouped and explicitly grouped gets two entries.
/// Thread-safe; a kernel racing to load on two threads may compile twice, but one launcher wins.
/// </summary>
public sealed class KernelCache
{
    private readonly ConcurrentDictionary<(MethodInfo Method, Type Launcher), Delegate> launchers = new();

    /// <summary>Creates an empty cache for <paramref name="accelerator"/>.</summary>
    public KernelCache(Accelerator accelerator) => Accelerator = accelerator;

    /// <summary>The accelerator whose kernels this cache holds.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Number of kernels loaded so far.</summary>
    public int Count => launchers.Count;

    /// <summary>
    /// The launcher of <paramref name="kernel"/>, created by <paramref name="load"/> the first time
    /// (e.g. <c>static (acc, k) =&gt; acc.LoadAutoGroupedStreamKernel(k)</c>) and cached afterwards.
    /// </summary>
    /// <typeparam name="TKernel">The kernel's delegate type (e.g. <c>Action&lt;Index1D, ArrayView&lt;float&gt;&gt;</c>).</typeparam>
    /// <typeparam name="TLauncher">The launcher's delegate type that <paramref name="load"/> returns.</typeparam>
    /// <exception cref="ArgumentException">The kernel delegate is not a static method.</exception>
    public TLauncher Get<TKernel, TLauncher>(TKernel kernel, Func<Accelerator, TKernel, TLauncher> load)
        where TKernel : Delegate where TLauncher : Delegate
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(load);
        if (kernel.Target is not null || !kernel.Method.IsStatic)
            throw new ArgumentException($"KernelCache.Get: kernel {kernel.Method.Name} must be a static method.", nameof(kernel));
        var key = (kernel.Method, typeof(TLauncher));
        if (launchers.TryGetValue(key, out var cached)) return (TLauncher)cached;
        return (TLauncher)launchers.GetOrAdd(key, _ =>
        {
            // Loads run side by side; IlgpuContext.ClearCompilerCaches waits for them (ILGPU's ClearCache is not safe
            // against a concurrent compile).
            CompileGate.EnterReadLock();
            try
            {
                return Counted(load(Accelerator, kernel));
            }
            finally
            {
                CompileGate.ExitReadLock();
            }
        });
    }

    /// <summary>Held shared by every kernel load and exclusively by <see cref="IlgpuContext.ClearCompilerCaches"/>.</summary>
    internal static readonly ReaderWriterLockSlim CompileGate = new(LockRecursionPolicy.SupportsRecursion);

    private static long launches;

    /// <summary>
    /// Kernel launches made through every <see cref="KernelCache"/> of this process so far (all accelerators; memory
    /// copies and fills done by ILGPU's runtime are not kernels and are not counted).
    /// </summary>
    public static long Launches => Interlocked.Read(ref launches);

    private static void CountLaunch() => Interlocked.Increment(ref launches);

    /// <summary>
    /// <paramref name="launcher"/> behind a delegate of the same type that first counts the launch: built once per
    /// kernel (an expression tree compiled to IL), so a launch costs one interlocked increment and no allocation.
    /// </summary>
    private static TLauncher Counted<TLauncher>(TLauncher launcher) where TLauncher : Delegate
    {
        var invoke = typeof(TLauncher).GetMethod("Invoke")!;
        var ps = invoke.GetParameters().Select(p => System.Linq.Expressions.Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        var body = System.Linq.Expressions.Expression.Block(
            System.Linq.Expressions.Expression.Call(typeof(KernelCache).GetMethod(nameof(CountLaunch), BindingFlags.NonPublic | BindingFlags.Static)!),
            System.Linq.Expressions.Expression.Invoke(System.Linq.Expressions.Expression.Constant(launcher), ps));
        return System.Linq.Expressions.Expression.Lambda<TLauncher>(body, ps).Compile();
    }

    /// <summary>An implicitly grouped kernel with one parameter besides its index, launched on the default stream.</summary>
    public Action<TIndex, T1> AutoGrouped<TIndex, T1>(Action<TIndex, T1> kernel)
        where TIndex : struct, IIndex where T1 : struct =>
        Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>An implicitly grouped kernel with two parameters besides its index, launched on the default stream.</summary>
    public Action<TIndex, T1, T2> AutoGrouped<TIndex, T1, T2>(Action<TIndex, T1, T2> kernel)
        where TIndex : struct, IIndex where T1 : struct where T2 : struct =>
        Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>An implicitly grouped kernel with three parameters besides its index, launched on the default stream.</summary>
    public Action<TIndex, T1, T2, T3> AutoGrouped<TIndex, T1, T2, T3>(Action<TIndex, T1, T2, T3> kernel)
        where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct =>
        Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>An implicitly grouped kernel with four parameters besides its index, launched on the default stream.</summary>
    public Action<TIndex, T1, T2, T3, T4> AutoGrouped<TIndex, T1, T2, T3, T4>(Action<TIndex, T1, T2, T3, T4> kernel)
        where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct =>
        Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>An implicitly grouped kernel with five parameters besides its index, launched on the default stream.</summary>
    public Action<TIndex, T1, T2, T3, T4, T5> AutoGrouped<TIndex, T1, T2, T3, T4, T5>(Action<TIndex, T1, T2, T3, T4, T5> kernel)
        where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct =>
        Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>
    /// An explicitly grouped kernel with four parameters (no index parameter: it reads
    /// <c>Grid</c>/<c>Group</c> indices and may use shared memory and barriers), launched on the
    /// default stream with a <see cref="KernelConfig"/>.
    /// </summary>
    public Action<KernelConfig, T1, T2, T3, T4> Grouped<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct =>
        Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>
    /// As <see cref="Grouped{T1, T2, T3, T4}"/>, but on CUDA the PTX is rewritten before the driver compiles it:
    /// ILGPU's local operand depots become registers (<see cref="PtxRewrite.PromoteDepots"/>) and the entry gets launch
    /// bounds of <paramref name="maxThreads"/> threads and at least <paramref name="minBlocks"/> blocks per SM
    /// (<see cref="PtxRewrite.AddLaunchBounds"/>). Other accelerators, <c>EMBER_PTX_REWRITE=0</c> in the environment,
    /// or a failure to load the rewritten module, give the plain kernel (the last with a trace warning). The cache entry
    /// is the one <see cref="Grouped{T1, T2, T3, T4}"/> would use: load a given kernel through one of the two only.
    /// </summary>
    public Action<KernelConfig, T1, T2, T3, T4> GroupedTuned<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel, int maxThreads, int minBlocks)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct =>
        Get(kernel, (acc, k) =>
        {
            if (acc is not CudaAccelerator cuda || Environment.GetEnvironmentVariable("EMBER_PTX_REWRITE") == "0")
                return acc.LoadStreamKernel(k);
            try
            {
                var compiled = (PTXCompiledKernel)cuda.Backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(k.Method), KernelSpecialization.Empty);
                PtxRewrite.Replace(compiled, PtxRewrite.Tune(compiled.PTXAssembly, maxThreads, minBlocks));
                var loaded = cuda.LoadKernel(compiled);
                var launch = loaded.CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4>>();
                return (config, a, b, c, d) => launch(cuda.DefaultStream, config, a, b, c, d);
            }
            catch (Exception e) when (e is CudaException or InvalidOperationException or NotSupportedException or ArgumentException or FieldAccessException)
            {
                System.Diagnostics.Trace.TraceWarning($"KernelCache.GroupedTuned: {k.Method.Name} loaded without the PTX rewrite ({e.Message}).");
                return acc.LoadStreamKernel(k);
            }
        });

    /// <summary>An explicitly grouped kernel with five parameters, launched with a <see cref="KernelConfig"/>.</summary>
    public Action<KernelConfig, T1, T2, T3, T4, T5> Grouped<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct =>
        Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>An explicitly grouped kernel with three parameters, launched with a <see cref="KernelConfig"/>.</summary>
    public Action<KernelConfig, T1, T2, T3> Grouped<T1, T2, T3>(Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct =>
        Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));
}
