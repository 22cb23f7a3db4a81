namespace Ember;

public static partial class Autograd
{
    private static readonly AsyncLocal<bool> Inference = new();

    /// <summary>
    /// Runs the enclosed code in inference mode until the returned scope is disposed (torch.inference_mode): no graph is
    /// recorded, as under <see cref="NoGrad"/>, and <see cref="IsInferenceModeEnabled"/> is true so layers and user code
    /// can skip training-only work. <c>InferenceMode(false)</c> leaves inference mode (and grad mode) as they were
    /// outside, for a nested region that must record.
    /// </summary>
    /// <param name="enabled">True to enter inference mode; false for a scope that restores grad recording (PyTorch's inference_mode(mode=False)).</param>
    /// <returns>A scope whose Dispose restores the previous grad and inference modes.</returns>
    /// <remarks>
    /// Unlike PyTorch, tensors created inside are ordinary tensors (Ember has no separate inference-tensor kind):
    /// nothing forbids using them in autograd afterwards, they simply have no graph. Per thread and async flow, as
    /// <see cref="NoGrad"/>.
    /// </remarks>
    public static IDisposable InferenceMode(bool enabled = true)
    {
        bool prevInference = Inference.Value;
        bool prevGrad = enabled ? GradMode.Set(false) : GradMode.IsEnabled;
        Inference.Value = enabled;
        return new ModeScope(prevGrad, p => { GradMode.Set(p); Inference.Value = prevInference; });
    }

    /// <summary>True inside an <see cref="InferenceMode"/> scope (torch.is_inference_mode_enabled).</summary>
    public static bool IsInferenceModeEnabled => Inference.Value;
}
