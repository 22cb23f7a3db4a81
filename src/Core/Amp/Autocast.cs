namespace Ember;

/// <summary>
/// Automatic mixed precision (PyTorch's <c>torch.autocast</c>): inside an enabled scope, ops on tensors of the scope's
/// device type run in the dtype that <see cref="AutocastPolicies"/> names for them: matrix products, linear and
/// convolutions in the low-precision dtype (float16 or bfloat16), numerically sensitive ops (losses, and on CUDA also
/// softmax, norms, exp/log/pow and sums) in float32, and ops with inputs of several float dtypes in the widest one.
/// </summary>
/// <remarks>
/// <para>Scopes are per logical flow of execution (an <see cref="AsyncLocal{T}"/>, like <see cref="GradMode"/>): a scope
/// on one thread does not affect another. They nest: an inner scope (also <c>enabled: false</c>) replaces the outer
/// one's setting for its device type until it is disposed. Each device type has its own setting, as in PyTorch:
/// <see cref="DeviceType.Cpu"/> uses PyTorch's CPU lists; CUDA, OpenCL and ILGPU's CPU accelerator use PyTorch's CUDA
/// lists (ILGPU's CPU accelerator runs the GPU kernels, and its setting is separate from the CPU's).</para>
/// <para>Casts are ordinary <c>To(dtype)</c> ops recorded by autograd, so the gradient of a float32 parameter used by a
/// bfloat16 matmul comes back in float32 (float32 master weights).</para>
/// <para>Weight-cast cache (PyTorch's <c>cached_cast</c>): within the outermost scope, the low-precision copy of a
/// float32 leaf that requires grad (a parameter, not a partial view) is made once and reused by every later op of the
/// scope, so a weight used several times in a forward pass is cast once and its gradient flows back through one cast
/// node. The cache is dropped when the outermost scope (enabled or not) is disposed. Unlike PyTorch, a cached copy is
/// also remade when the leaf was modified in place since (its version changed), and when it was made without a graph
/// (under no-grad) but is now needed with one, so neither a stale value nor a silently missing gradient can come of
/// it. <c>cacheEnabled: false</c> turns the cache off inside a scope (PyTorch's <c>cache_enabled=False</c>).</para>
/// <example><code>
/// using (Autocast.Enable(DeviceType.Cpu))              // bfloat16 on the CPU, float16 on GPUs by default
///     loss = Functional.CrossEntropy(model.Forward(x), y);   // the linear layers run in bfloat16, the loss in float32
/// loss.Backward();                                     // outside the scope, as PyTorch recommends
/// </code></example>
/// </remarks>
public static class Autocast
{
    private static readonly int DeviceTypes = Enum.GetValues<DeviceType>().Length;

    // The setting of each device type (indexed by DeviceType); immutable, replaced by each scope. Nested scopes share
    // the outermost one's weight-cast cache.
    private sealed class State(bool[] enabled, DType[] dtypes, AutocastCache cache, bool cacheEnabled)
    {
        public readonly bool[] Enabled = enabled;
        public readonly DType[] DTypes = dtypes;
        public readonly AutocastCache Cache = cache;
        public readonly bool CacheEnabled = cacheEnabled;
    }

    private static readonly AsyncLocal<State?> Current = new();

    /// <summary>
    /// Enables (or, with <paramref name="enabled"/> false, disables) autocast for tensors of <paramref name="deviceType"/>
    /// until the returned scope is disposed.
    /// </summary>
    /// <param name="deviceType">Whose ops are cast: CPU, or CUDA (also OpenCL, ILGPU's CPU accelerator).</param>
    /// <param name="dtype">The low-precision dtype: Float16 or BFloat16; null for PyTorch's default (BFloat16 on the
    /// CPU, Float16 elsewhere).</param>
    /// <param name="enabled">False turns autocast off inside the scope (PyTorch's <c>enabled=False</c>).</param>
    /// <param name="cacheEnabled">Whether low-precision casts of parameters are cached inside the scope (PyTorch's
    /// <c>cache_enabled</c>); see the type's remarks.</param>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is not Float16 or BFloat16.</exception>
    public static IDisposable Enable(DeviceType deviceType, DType? dtype = null, bool enabled = true, bool cacheEnabled = true)
    {
        var d = dtype ?? DefaultDType(deviceType);
        if (!d.IsReducedPrecision())
            throw new ArgumentException($"Autocast.Enable: the low-precision dtype must be Float16 or BFloat16, got {d}.", nameof(dtype));
        var prev = Current.Value;
        var on = prev?.Enabled.ToArray() ?? new bool[DeviceTypes];
        var types = prev?.DTypes.ToArray() ?? [.. Enumerable.Range(0, DeviceTypes).Select(i => DefaultDType((DeviceType)i))];
        on[(int)deviceType] = enabled;
        types[(int)deviceType] = d;
        // The outermost scope owns the cache; inner ones share it, and it is dropped when the outermost one ends.
        var owned = prev is null ? new AutocastCache() : null;
        Current.Value = new State(on, types, prev?.Cache ?? owned!, cacheEnabled);
        return new Scope(prev, owned);
    }

    /// <summary>Same as <see cref="Enable(DeviceType, DType?, bool, bool)"/> with the device's type.</summary>
    public static IDisposable Enable(Device device, DType? dtype = null, bool enabled = true, bool cacheEnabled = true) =>
        Enable(device.Type, dtype, enabled, cacheEnabled);

    /// <summary>Whether the current scope caches the low-precision casts of parameters (PyTorch's
    /// <c>torch.is_autocast_cache_enabled</c>); false outside any scope.</summary>
    public static bool IsCacheEnabled => Current.Value is { CacheEnabled: true };

    /// <summary>Whether autocast is on for tensors of <paramref name="deviceType"/> in the current flow
    /// (PyTorch's <c>torch.is_autocast_enabled</c>).</summary>
    public static bool IsEnabled(DeviceType deviceType) => Current.Value is { } s && s.Enabled[(int)deviceType];

    /// <summary>The low-precision dtype of <paramref name="deviceType"/> (its default outside any scope).</summary>
    public static DType GetDType(DeviceType deviceType) => Current.Value?.DTypes[(int)deviceType] ?? DefaultDType(deviceType);

    /// <summary>
    /// Turns autocast off for every device type until the returned scope is disposed. The autograd engine runs the
    /// backward pass inside one, so backward ops run in the dtypes their forward ops chose (as in PyTorch).
    /// </summary>
    public static IDisposable Suspend()
    {
        var prev = Current.Value;
        Current.Value = null;
        return new Scope(prev, owned: null);
    }

    // Core's kernels and fused ops run their inner tensor ops with autocast off (RecordingOff): an op's inputs were
    // cast once at its dispatch point, and its implementation must not cast again (PyTorch excludes its autocast key
    // below the dispatch point the same way).
    internal static object? SuspendRaw()
    {
        var prev = Current.Value;
        if (prev is not null) Current.Value = null;
        return prev;
    }

    internal static void Restore(object? previous)
    {
        if (previous is not null || Current.Value is not null) Current.Value = (State?)previous;
    }

    /// <summary>PyTorch's default low-precision dtype: BFloat16 on the CPU, Float16 on GPUs.</summary>
    public static DType DefaultDType(DeviceType deviceType) => deviceType == DeviceType.Cpu ? DType.BFloat16 : DType.Float16;

    /// <summary><see cref="Cast(AutocastOp, Tensor?[])"/> for one input; no array is made while autocast is off.</summary>
    /// <exception cref="InvalidOperationException">The op is <see cref="AutocastPolicy.Banned"/> on this device type.</exception>
    public static Tensor?[]? Cast(AutocastOp op, Tensor? a) => Current.Value is null ? null : Cast(op, [a]);

    /// <summary><see cref="Cast(AutocastOp, Tensor?[])"/> for two inputs; no array is made while autocast is off.</summary>
    /// <exception cref="InvalidOperationException">The op is <see cref="AutocastPolicy.Banned"/> on this device type.</exception>
    public static Tensor?[]? Cast(AutocastOp op, Tensor? a, Tensor? b) => Current.Value is null ? null : Cast(op, [a, b]);

    /// <summary><see cref="Cast(AutocastOp, Tensor?[])"/> for three inputs; no array is made while autocast is off.</summary>
    /// <exception cref="InvalidOperationException">The op is <see cref="AutocastPolicy.Banned"/> on this device type.</exception>
    public static Tensor?[]? Cast(AutocastOp op, Tensor? a, Tensor? b, Tensor? c) => Current.Value is null ? null : Cast(op, [a, b, c]);

    /// <summary>
    /// Applies <paramref name="op"/>'s policy to its inputs: null when autocast is off for their device or leaves every
    /// input as it is, else the inputs with the floating-point ones cast (recorded by autograd); null inputs and
    /// non-float inputs are passed through. Ops call it first, and rerun themselves on the cast inputs; a custom op may
    /// call it the same way.
    /// </summary>
    /// <remarks>
    /// <see cref="AutocastPolicy.LowerPrecision"/> casts every float input but Float64 to the scope's dtype (PyTorch's
    /// eligibility rule); <see cref="AutocastPolicy.Float32"/> casts Float16/BFloat16 inputs to Float32;
    /// <see cref="AutocastPolicy.Promote"/> and <see cref="AutocastPolicy.Float32OutputInputDType"/> cast all float
    /// inputs to the widest of their dtypes (Float16 with BFloat16 gives Float32) and Float32 respectively.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The op is <see cref="AutocastPolicy.Banned"/> on this device type.</exception>
    public static Tensor?[]? Cast(AutocastOp op, params Tensor?[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (Current.Value is not { } state) return null;
        var first = Array.Find(inputs, t => t is not null);
        if (first is null || !state.Enabled[(int)first.Device.Type]) return null;
        var policy = AutocastPolicies.For(op, first.Device.Type);
        DType target;
        switch (policy)
        {
            case AutocastPolicy.LowerPrecision:
                target = state.DTypes[(int)first.Device.Type];
                return CastAll(inputs, target, t => t.DType != DType.Float64, state.CacheEnabled ? state.Cache : null);
            case AutocastPolicy.Float32:
            case AutocastPolicy.Float32OutputInputDType:
                return CastAll(inputs, DType.Float32, t => t.DType.IsReducedPrecision());
            case AutocastPolicy.Promote:
                DType? widest = null;
                foreach (var t in inputs)
                    if (t is not null && t.IsFloatingPoint) widest = widest is { } w ? Widest(w, t.DType) : t.DType;
                return widest is { } wd ? CastAll(inputs, wd, _ => true) : null;
            case AutocastPolicy.Banned:
                throw new InvalidOperationException(AutocastPolicies.BannedMessage(op));
            default:
                return null;
        }
    }

    private static Tensor?[]? CastAll(Tensor?[] inputs, DType target, Func<Tensor, bool> eligible, AutocastCache? cache = null)
    {
        Tensor?[]? result = null;
        for (int i = 0; i < inputs.Length; i++)
        {
            var t = inputs[i];
            if (t is null || !t.IsFloatingPoint || t.DType == target || !eligible(t)) continue;
            result ??= (Tensor?[])inputs.Clone();
            result[i] = cache is not null && AutocastCache.Eligible(t) ? cache.Cast(t, target) : t.To(target);
        }
        return result;
    }

    // PyTorch's promotion among floats: Float64 > Float32 > the 16-bit types; Float16 with BFloat16 gives Float32.
    private static DType Widest(DType a, DType b)
    {
        if (a == b) return a;
        if (a == DType.Float64 || b == DType.Float64) return DType.Float64;
        return DType.Float32;
    }

    private sealed class Scope(State? previous, AutocastCache? owned) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            Current.Value = previous;
            owned?.Clear();
        }
    }
}
