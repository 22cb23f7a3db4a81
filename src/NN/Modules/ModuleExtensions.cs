namespace Ember.NN;

/// <summary>
/// The chaining members of <see cref="Module"/> that return the caller's own type, as PyTorch's return <c>self</c>:
/// <c>var net = new Net().To(device).Eval();</c> keeps <c>net</c> a <c>Net</c>.
/// </summary>
public static class ModuleExtensions
{
    /// <summary>Sets training mode (default) or evaluation mode on <paramref name="module"/> and every descendant; returns it.</summary>
    public static T Train<T>(this T module, bool mode = true) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        module.TrainCore(mode);
        return module;
    }

    /// <summary>Sets evaluation mode (Dropout off, BatchNorm uses running statistics); returns the module.</summary>
    public static T Eval<T>(this T module) where T : Module => module.Train(false);

    /// <summary>Moves every parameter (with its gradient) and buffer to <paramref name="device"/>; returns the module.</summary>
    public static T To<T>(this T module, Device device) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        module.ToCore(device);
        return module;
    }

    /// <summary>Converts every floating-point parameter and buffer to <paramref name="dtype"/> (integer buffers are kept, as in PyTorch); returns the module.</summary>
    /// <exception cref="ArgumentException">dtype is not floating-point.</exception>
    public static T To<T>(this T module, DType dtype) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        module.ToCore(dtype);
        return module;
    }

    /// <summary>Moves and converts; returns the module.</summary>
    /// <exception cref="ArgumentException">dtype is not floating-point.</exception>
    public static T To<T>(this T module, Device device, DType dtype) where T : Module => module.To(device).To(dtype);

    /// <summary><c>To(DType.Float16)</c> (PyTorch's <c>module.half()</c>): floating-point parameters and buffers become Float16.</summary>
    public static T Half<T>(this T module) where T : Module => module.To(DType.Float16);

    /// <summary><c>To(DType.BFloat16)</c> (PyTorch's <c>module.bfloat16()</c>).</summary>
    public static T BFloat16<T>(this T module) where T : Module => module.To(DType.BFloat16);

    /// <summary><c>To(DType.Float32)</c> (PyTorch's <c>module.float()</c>).</summary>
    public static T Float<T>(this T module) where T : Module => module.To(DType.Float32);

    /// <summary><c>To(DType.Float64)</c> (PyTorch's <c>module.double()</c>).</summary>
    public static T Double<T>(this T module) where T : Module => module.To(DType.Float64);

    /// <summary>Calls <paramref name="fn"/> on every descendant (children first) and then on the module, like PyTorch's apply; returns the module.</summary>
    public static T Apply<T>(this T module, Action<Module> fn) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        module.ApplyCore(fn);
        return module;
    }
}
