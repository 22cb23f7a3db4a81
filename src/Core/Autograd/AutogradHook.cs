using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// What Core needs from an autograd engine. Ember.Autograd implements it and installs itself in
/// <see cref="AutogradHook.Recorder"/>; Core never references Ember.Autograd.
/// </summary>
public interface IAutogradRecorder
{
    /// <summary>
    /// Records that <paramref name="result"/> was produced by <paramref name="op"/> from
    /// <paramref name="inputs"/>: sets result's GradFn and RequiresGrad. Called only when grad mode is on
    /// and an input requires grad.
    /// </summary>
    void Record(OpKind op, Tensor result, OpArgs args, params Tensor[] inputs);
}

/// <summary>The link from Core's ops to the autograd engine.</summary>
public static class AutogradHook
{
    private static IAutogradRecorder? recorder;
    private static bool loadTried;

    /// <summary>The installed engine, or null when Ember.Autograd is not loaded.</summary>
    public static IAutogradRecorder? Recorder
    {
        get => recorder;
        set => recorder = value;
    }

    /// <summary>
    /// Makes sure the autograd engine is installed before a tensor starts requiring grad. Ember.Autograd
    /// installs itself from its module initializer; this runs that initializer through one named type
    /// (not a scan) when nothing of Ember.Autograd was touched yet.
    /// </summary>
    /// <exception cref="InvalidOperationException">Ember.Autograd is not referenced.</exception>
    public static void EnsureLoaded()
    {
        if (recorder != null) return;
        if (!loadTried)
        {
            loadTried = true;
            var t = Type.GetType("Ember.Autograd, Ember.Autograd", throwOnError: false);
            if (t != null) RuntimeHelpers.RunModuleConstructor(t.Module.ModuleHandle);
        }
        if (recorder == null)
            throw new InvalidOperationException(
                "RequiresGrad needs the autograd engine: reference the Ember.Autograd package (Ember.NN brings it).");
    }

    /// <summary>True when an op over these inputs must be recorded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ShouldRecord(Tensor a) => a.RequiresGrad && recorder != null && GradMode.IsEnabled;

    /// <summary>True when an op over these inputs must be recorded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ShouldRecord(Tensor a, Tensor b) =>
        (a.RequiresGrad || b.RequiresGrad) && recorder != null && GradMode.IsEnabled;

    /// <summary>True when an op over these inputs must be recorded.</summary>
    public static bool ShouldRecord(IReadOnlyList<Tensor> inputs)
    {
        if (recorder == null || !GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>Records a unary-input op when needed and returns the result.</summary>
    public static Tensor Record(OpKind op, Tensor result, OpArgs args, Tensor input)
    {
        if (ShouldRecord(input)) recorder!.Record(op, result, args, input);
        return result;
    }

    /// <summary>Records a two-input op when needed and returns the result.</summary>
    public static Tensor Record(OpKind op, Tensor result, OpArgs args, Tensor a, Tensor b)
    {
        if (ShouldRecord(a, b)) recorder!.Record(op, result, args, a, b);
        return result;
    }

    /// <summary>Records an n-input op when needed and returns the result.</summary>
    public static Tensor RecordMany(OpKind op, Tensor result, OpArgs args, Tensor[] inputs)
    {
        if (ShouldRecord(inputs)) recorder!.Record(op, result, args, inputs);
        return result;
    }
}
