using System.Text.Json;
using System.Text.Json.Nodes;
using Ember.NN;
using Ember.Optim;

namespace Ember.Serialization;

/// <summary>What <see cref="Checkpoint.Load"/> restored besides the tensors.</summary>
/// <param name="Step">The training step saved.</param>
/// <param name="Metadata">The user's metadata.</param>
public sealed record CheckpointInfo(long Step, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// A whole training state in one safetensors file, written atomically: the model's state dict under "model.*", the
/// optimizer's per-parameter state under "optim.{index}.{name}", and in the header metadata key "ember" a JSON object with the
/// step, the default generator's state (<see cref="Ember.Random.Default"/>), the optimizer's param groups, the scheduler's
/// state and the user's metadata. The model part loads in PyTorch with <c>safetensors.torch.load_file</c> after stripping
/// "model.".
/// </summary>
public static class Checkpoint
{
    private const string MetaKey = "ember";

    /// <summary>Saves the state atomically (temp file in the same directory, flushed, renamed over <paramref name="path"/>).</summary>
    /// <exception cref="IOException">The file cannot be written (the previous file, if any, is untouched).</exception>
    public static void Save(string path, Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, long step = 0,
        IReadOnlyDictionary<string, string>? metadata = null) => Save(path, model, optimizer, scheduler, step, metadata, null);

    internal static void Save(string path, Module model, Optimizer? optimizer, LRScheduler? scheduler, long step,
        IReadOnlyDictionary<string, string>? metadata, Action<int>? afterTensorWritten)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = new OrderedDictionary<string, Tensor>();
        foreach (var (k, t) in model.StateDict()) tensors["model." + k] = t;
        var meta = new JsonObject { ["step"] = step };
        var (seed, offset) = Ember.Random.Default.GetState();
        meta["rng"] = new JsonObject { ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture), ["offset"] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (optimizer != null)
        {
            var sd = optimizer.StateDict();
            foreach (var (idx, st) in sd.State)
                foreach (var (name, t) in st) tensors[$"optim.{idx}.{name}"] = t;
            meta["optimizer"] = sd.ParamGroups.DeepClone();
        }
        if (scheduler != null) meta["scheduler"] = scheduler.StateDict();
        var user = new JsonObject();
        if (metadata != null) foreach (var (k, v) in metadata) user[k] = v;
        meta["user"] = user;
        Safetensors.Save(path, tensors, new Dictionary<string, string> { [MetaKey] = meta.ToJsonString() }, afterTensorWritten);
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> (strict), and into the optimizer and scheduler when given; restores
    /// the default generator's state when <paramref name="restoreRng"/>. Everything in the file is validated against the
    /// model, optimizer and scheduler first; only then is anything changed, so a failed load leaves them all as they were.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an Ember checkpoint or is malformed (the message names the file and
    /// the metadata key).</exception>
    /// <exception cref="ArgumentException">The state does not fit the model or the optimizer (for the optimizer, the message
    /// names the file and the metadata key).</exception>
    public static CheckpointInfo Load(string path, Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, bool restoreRng = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = Safetensors.Load(path, out var md);
        InvalidDataException Bad(string key, string what, Exception? inner = null) =>
            new($"Checkpoint: {path}: metadata \"{key}\" {what}", inner);
        if (!md.TryGetValue(MetaKey, out var json)) throw new InvalidDataException($"Checkpoint: {path} has no \"{MetaKey}\" metadata; it is not an Ember checkpoint.");
        JsonObject meta;
        try { meta = JsonNode.Parse(json) as JsonObject ?? throw Bad(MetaKey, "is not a JSON object."); }
        catch (JsonException e) { throw Bad(MetaKey, $"is not valid JSON ({e.Message}).", e); }

        // 1. Parse every metadata key.
        long step = 0;
        if (meta["step"] is { } stepNode && !TryGet(stepNode, out step)) throw Bad("step", "must be an integer.");
        (ulong Seed, ulong Offset)? rngState = null;
        if (meta["rng"] is { } rngNode)
        {
            if (rngNode is not JsonObject rng || !TryParseUlong(rng["seed"], out var seed) || !TryParseUlong(rng["offset"], out var off))
                throw Bad("rng", "must be an object with \"seed\" and \"offset\" as decimal strings.");
            rngState = (seed, off);
        }
        var user = new Dictionary<string, string>();
        if (meta["user"] is { } userNode)
        {
            if (userNode is not JsonObject u) throw Bad("user", "must be an object of strings.");
            foreach (var (k, v) in u)
                user[k] = v is JsonValue jv && jv.TryGetValue(out string? sv) ? sv : throw Bad("user", $"value of \"{k}\" must be a string.");
        }
        var modelState = new OrderedDictionary<string, Tensor>();
        var optimState = new Dictionary<int, Dictionary<string, Tensor>>();
        foreach (var (k, t) in tensors)
        {
            if (k.StartsWith("model.", StringComparison.Ordinal)) modelState[k["model.".Length..]] = t;
            else if (k.StartsWith("optim.", StringComparison.Ordinal))
            {
                var parts = k.Split('.', 3);
                if (parts.Length != 3 || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int idx))
                    throw new InvalidDataException($"Checkpoint: {path}: bad optimizer tensor name \"{k}\".");
                if (!optimState.TryGetValue(idx, out var d)) optimState[idx] = d = [];
                d[parts[2]] = t;
            }
        }

        // 2. Validate against the model and the optimizer, changing nothing.
        var (applyModel, _) = model.PrepareLoadStateDict(modelState, strict: true);
        Action? applyOptimizer = null;
        if (optimizer != null)
        {
            if (meta["optimizer"] is not JsonArray groups) throw Bad("optimizer", "is missing or not an array: the file holds no optimizer state.");
            try { applyOptimizer = optimizer.PrepareLoadStateDict(new OptimizerStateDict(optimState, (JsonArray)groups.DeepClone())); }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Checkpoint: {path}: metadata \"optimizer\" and the optim.* tensors do not fit the optimizer: {e.Message}", e);
            }
        }

        // 3. The scheduler validates its whole state before changing anything (LRScheduler.LoadStateDict), so it goes last.
        if (scheduler != null)
        {
            if (meta["scheduler"] is not JsonObject s) throw Bad("scheduler", "is missing or not an object: the file holds no scheduler state.");
            try { scheduler.LoadStateDict((JsonObject)s.DeepClone()); }
            catch (ArgumentException e) { throw Bad("scheduler", $"does not fit the scheduler ({e.Message}).", e); }
        }

        // 4. Apply (nothing below can fail on a validated state).
        applyModel();
        applyOptimizer?.Invoke();
        if (restoreRng && rngState is { } r) Ember.Random.Default.SetState(r);
        return new CheckpointInfo(step, user);
    }

    private static bool TryGet(JsonNode node, out long value)
    {
        value = 0;
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out value);
    }

    private static bool TryParseUlong(JsonNode? node, out ulong value)
    {
        value = 0;
        return node is JsonValue v && v.TryGetValue(out string? s)
            && ulong.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}
