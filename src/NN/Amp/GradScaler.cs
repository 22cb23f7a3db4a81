using System.Globalization;
using System.Text.Json.Nodes;
using Ember.Optim;

namespace Ember.Amp;

/// <summary>
/// Dynamic loss scaling for mixed-precision training (PyTorch's <c>torch.amp.GradScaler</c>, same arguments, defaults,
/// state machine and messages). Gradients of a float16 (or bfloat16) forward pass underflow when they are small; scaling
/// the loss by S before <c>Backward()</c> scales every gradient by S, and <see cref="Step"/> divides them by S again
/// before the optimizer runs. When any gradient is ±∞ or NaN (S was too large) the step is skipped and
/// <see cref="Update"/> multiplies S by the backoff factor; after <see cref="GrowthInterval"/> consecutive clean steps it
/// multiplies S by the growth factor.
/// </summary>
/// <example>
/// <code>
/// var scaler = new GradScaler();
/// foreach (var (x, y) in loader)
/// {
///     optimizer.ZeroGrad();
///     Tensor loss;
///     using (Autocast.Enable(Device.Cuda, DType.Float16)) loss = Functional.CrossEntropy(model.Forward(x), y);
///     scaler.Scale(loss).Backward();
///     scaler.Step(optimizer);   // unscales, skips the step on Inf/NaN
///     scaler.Update();
/// }
/// </code>
/// </example>
/// <remarks>
/// The Inf/NaN check and the unscale are one fused pass per device over all of an optimizer's gradients
/// (<see cref="IBackend.NonFiniteCheckAndUnscale"/>); its flag stays on the device, and <see cref="Step"/> reads it once
/// (one host synchronization per step, as in PyTorch). The scale is a float32 value kept on the host.
/// </remarks>
public sealed class GradScaler
{
    private enum Stage { Ready, Unscaled, Stepped }

    private sealed class OptimizerState
    {
        public Stage Stage;
        public List<Tensor> FoundInf = [];   // one Float32 [1] flag per device
        public bool? Found;                  // the flags, once read
    }

    private readonly Dictionary<Optimizer, OptimizerState> states = new(ReferenceEqualityComparer.Instance);
    private float initScale;
    private float? scale;   // null until the first Scale call (PyTorch's lazy _scale)
    private int growthTracker;

    /// <summary>Creates a scaler (PyTorch's arguments and defaults).</summary>
    /// <param name="initScale">The first scale factor, 2¹⁶.</param>
    /// <param name="growthFactor">Multiplies the scale after <paramref name="growthInterval"/> clean steps; must be &gt; 1.</param>
    /// <param name="backoffFactor">Multiplies the scale after a step with Inf/NaN gradients; must be &lt; 1.</param>
    /// <param name="growthInterval">Consecutive clean steps before the scale grows.</param>
    /// <param name="enabled">When false, <see cref="Scale(Tensor)"/> returns its input, <see cref="Step"/> just calls
    /// <c>optimizer.Step()</c> and the other members do nothing.</param>
    /// <exception cref="ArgumentException">Enabled with growthFactor ≤ 1 or backoffFactor ≥ 1 (PyTorch's messages).</exception>
    public GradScaler(double initScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5,
        int growthInterval = 2000, bool enabled = true)
    {
        IsEnabled = enabled;
        if (enabled)
        {
            if (!(growthFactor > 1.0)) throw new ArgumentException("The growth factor must be > 1.0.", nameof(growthFactor));
            if (!(backoffFactor < 1.0)) throw new ArgumentException("The backoff factor must be < 1.0.", nameof(backoffFactor));
        }
        this.initScale = (float)initScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
    }

    /// <summary>Whether scaling is on (PyTorch's <c>is_enabled()</c>).</summary>
    public bool IsEnabled { get; }

    /// <summary>The factor the scale grows by after <see cref="GrowthInterval"/> clean steps.</summary>
    public double GrowthFactor { get; set; }

    /// <summary>The factor the scale shrinks by after a step with Inf/NaN gradients.</summary>
    public double BackoffFactor { get; set; }

    /// <summary>Consecutive clean steps before the scale grows.</summary>
    public int GrowthInterval { get; set; }

    /// <summary>The current scale (the initial one before the first <see cref="Scale(Tensor)"/>), or 1 when disabled.</summary>
    public double GetScale() => IsEnabled ? scale ?? initScale : 1.0;

    /// <summary>Clean steps counted towards the next growth (0 when disabled).</summary>
    public int GrowthTracker => IsEnabled ? growthTracker : 0;

    /// <summary>outputs · scale (the scaled loss to call <c>Backward()</c> on); outputs itself when disabled.</summary>
    /// <remarks>The product keeps the loss's shape and dtype (PyTorch multiplies by a float32 [1] tensor); the scale is a
    /// power of two unless set otherwise, so the product is exact in every float dtype.</remarks>
    public Tensor Scale(Tensor outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (!IsEnabled) return outputs;
        scale ??= initScale;
        return outputs * scale.Value;
    }

    /// <summary>Each output · scale (see <see cref="Scale(Tensor)"/>).</summary>
    public IReadOnlyList<Tensor> Scale(IEnumerable<Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        return outputs.Select(Scale).ToList();
    }

    /// <summary>
    /// Divides the optimizer's gradients by the scale in place and records whether any is ±∞ or NaN (PyTorch's
    /// <c>unscale_</c>). Call it at most once per optimizer between <see cref="Update"/> calls, before <see cref="Step"/>,
    /// e.g. to clip the true gradients; <see cref="Step"/> calls it when you did not.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called twice since the last <see cref="Update"/>, after <see cref="Step"/>,
    /// or before any <see cref="Scale(Tensor)"/>.</exception>
    /// <exception cref="ArgumentException">A gradient is float16 (PyTorch: "Attempting to unscale FP16 gradients."; keep
    /// float32 master weights).</exception>
    public void Unscale(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!IsEnabled) return;
        float s = CheckScale("Unscale");
        var st = State(optimizer);
        if (st.Stage == Stage.Unscaled) throw new InvalidOperationException("Unscale() has already been called on this optimizer since the last Update().");
        if (st.Stage == Stage.Stepped) throw new InvalidOperationException("Unscale() is being called after Step().");
        var grads = optimizer.ParamGroups.SelectMany(g => g.Params).Select(p => p.Grad).OfType<Tensor>().ToList();
        foreach (var g in grads)
        {
            if (g.DType == DType.Float16) throw new ArgumentException("Attempting to unscale FP16 gradients.");
            if (!g.DType.IsFloatingPoint()) throw new ArgumentException($"GradScaler.Unscale: gradients must be floating point, got {g.DType} (shape {g.Shape}).");
        }
        // PyTorch's inv_scale = scale.double().reciprocal().float().
        double inv = (float)(1.0 / s);
        using var untracked = TensorScope.Suspend();   // the flags outlive any Tensor.Scope of the step
        var prev = GradMode.Set(false);
        try
        {
            st.FoundInf = [];
            foreach (var byDevice in grads.GroupBy(g => g.Device))
            {
                var found = Tensor.Zeros([1], DType.Float32, byDevice.Key);
                var list = byDevice.ToList();
                var work = list.Select(g => g.IsContiguous ? g : g.Contiguous()).ToList();
                byDevice.First().Backend.NonFiniteCheckAndUnscale(work, found, inv);
                for (int i = 0; i < list.Count; i++)
                {
                    if (!ReferenceEquals(work[i], list[i])) list[i].Copy_(work[i]);
                    else list[i].Storage.BumpVersion();
                }
                st.FoundInf.Add(found);
            }
        }
        finally { GradMode.Set(prev); }
        st.Found = null;
        st.Stage = Stage.Unscaled;
    }

    /// <summary>
    /// Unscales the gradients (unless <see cref="Unscale"/> was called this iteration) and runs
    /// <c>optimizer.Step()</c> only when none is ±∞ or NaN (PyTorch's <c>step</c>). When disabled, just steps.
    /// </summary>
    /// <returns>True when the optimizer stepped, false when the step was skipped.</returns>
    /// <exception cref="InvalidOperationException">Called twice for the optimizer since the last <see cref="Update"/>, or
    /// before any <see cref="Scale(Tensor)"/>.</exception>
    public bool Step(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!IsEnabled) { optimizer.Step(); return true; }
        CheckScale("Step");
        var st = State(optimizer);
        if (st.Stage == Stage.Stepped) throw new InvalidOperationException("Step() has already been called since the last Update().");
        if (st.Stage == Stage.Ready) Unscale(optimizer);
        bool stepped = !Found(st);
        if (stepped) optimizer.Step();
        st.Stage = Stage.Stepped;
        return stepped;
    }

    /// <summary>
    /// Updates the scale at the end of an iteration (PyTorch's <c>update</c> and its <c>_amp_update_scale_</c>): after a
    /// skipped step scale ·= backoffFactor and the tracker resets; otherwise the tracker counts the clean step and at
    /// growthInterval the scale ·= growthFactor (kept only when finite) and the tracker resets.
    /// </summary>
    /// <param name="newScale">Sets the scale to this value instead (the tracker is left as it is).</param>
    /// <exception cref="InvalidOperationException">No <see cref="Unscale"/>/<see cref="Step"/> was recorded since the last
    /// update, or no <see cref="Scale(Tensor)"/> yet.</exception>
    public void Update(double? newScale = null)
    {
        if (!IsEnabled) return;
        float s = CheckScale("Update");
        if (newScale is { } ns) scale = (float)ns;
        else
        {
            var recorded = states.Values.Where(v => v.FoundInf.Count > 0).ToList();
            if (recorded.Count == 0) throw new InvalidOperationException("No inf checks were recorded prior to Update().");
            if (recorded.Any(Found))
            {
                scale = (float)(s * BackoffFactor);
                growthTracker = 0;
            }
            else if (growthTracker + 1 == GrowthInterval)
            {
                float grown = (float)(s * GrowthFactor);
                if (float.IsFinite(grown)) scale = grown;
                growthTracker = 0;
            }
            else growthTracker++;
        }
        states.Clear();
    }

    /// <summary>
    /// The scaler's state with PyTorch's keys (<c>scale</c>, <c>growth_factor</c>, <c>backoff_factor</c>,
    /// <c>growth_interval</c>, <c>_growth_tracker</c>); empty when disabled.
    /// </summary>
    public JsonObject StateDict() => !IsEnabled ? [] : new JsonObject
    {
        ["scale"] = GetScale(),
        ["growth_factor"] = GrowthFactor,
        ["backoff_factor"] = BackoffFactor,
        ["growth_interval"] = GrowthInterval,
        ["_growth_tracker"] = growthTracker,
    };

    /// <summary>Restores <see cref="StateDict"/> (does nothing when disabled).</summary>
    /// <exception cref="InvalidOperationException">The state is empty (saved from a disabled scaler).</exception>
    /// <exception cref="ArgumentException">A key is missing or not a number (nothing is changed).</exception>
    public void LoadStateDict(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!IsEnabled) return;
        if (state.Count == 0)
            throw new InvalidOperationException("The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler.");
        double s = Number(state, "scale"), gf = Number(state, "growth_factor"), bf = Number(state, "backoff_factor");
        int gi = (int)Number(state, "growth_interval"), gt = (int)Number(state, "_growth_tracker");
        initScale = (float)s;
        if (scale is not null) scale = (float)s;
        (GrowthFactor, BackoffFactor, GrowthInterval, growthTracker) = (gf, bf, gi, gt);
    }

    private static double Number(JsonObject state, string key) =>
        state[key] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue(out double d)
            ? d : throw new ArgumentException($"GradScaler state: \"{key}\" must be a number, got {state[key]?.ToJsonString() ?? "nothing"}.");

    private float CheckScale(string member) => scale ??
        throw new InvalidOperationException($"GradScaler.{member}: the scale is not set yet. Call Scale(loss) earlier in the iteration.");

    private OptimizerState State(Optimizer optimizer)
    {
        if (!states.TryGetValue(optimizer, out var st)) states[optimizer] = st = new OptimizerState();
        return st;
    }

    // Reads the optimizer's per-device flags once: the step's only host synchronization.
    private static bool Found(OptimizerState st) => st.Found ??= st.FoundInf.Any(f => f.Item() != 0);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"GradScaler(scale={GetScale()}, growth_factor={GrowthFactor}, backoff_factor={BackoffFactor}, growth_interval={GrowthInterval}, enabled={IsEnabled})");
}
