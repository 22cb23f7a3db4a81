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
    /// the default generator's state when <paramref name="restoreRng"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an Ember checkpoint or is malformed.</exception>
    /// <exception cref="ArgumentException">The state does not fit the model or optimizer.</exception>
    public static CheckpointInfo Load(string path, Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, bool restoreRng = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = Safetensors.Load(path, out var md);
        if (!md.TryGetValue(MetaKey, out var json)) throw new InvalidDataException($"Checkpoint: {path} has no \"{MetaKey}\" metadata; it is not an Ember checkpoint.");
        JsonObject meta;
        try { meta = JsonNode.Parse(json)!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new InvalidDataException($"Checkpoint: {path}: metadata is not a JSON object ({e.Message})."); }
        var modelState = new OrderedDictionary<string, Tensor>();
        var optimState = new Dictionary<int, Dictionary<string, Tensor>>();
        foreach (var (k, t) in tensors)
        {
            if (k.StartsWith("model.", StringComparison.Ordinal)) modelState[k["model.".Length..]] = t;
            else if (k.StartsWith("optim.", StringComparison.Ordinal))
            {
                var parts = k.Split('.', 3);
                if (parts.Length != 3 || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out int idx))
                    throw new InvalidDataException($"Checkpoint: {path}: bad optimizer tensor name \"{k}\".");
                if (!optimState.TryGetValue(idx, out var d)) optimState[idx] = d = [];
                d[parts[2]] = t;
            }
        }
        model.LoadStateDict(modelState, strict: true);
        if (optimizer != null)
        {
            if (meta["optimizer"] is not JsonArray groups) throw new InvalidDataException($"Checkpoint: {path} holds no optimizer state.");
            optimizer.LoadStateDict(new OptimizerStateDict(optimState, (JsonArray)groups.DeepClone()));
        }
        if (scheduler != null)
        {
            if (meta["scheduler"] is not JsonObject s) throw new InvalidDataException($"Checkpoint: {path} holds no scheduler state.");
            scheduler.LoadStateDict(s);
        }
        if (restoreRng && meta["rng"] is JsonObject rng)
            Ember.Random.Default.SetState((ulong.Parse(rng["seed"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
                ulong.Parse(rng["offset"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)));
        var user = new Dictionary<string, string>();
        if (meta["user"] is JsonObject u) foreach (var (k, v) in u) user[k] = v?.GetValue<string>() ?? "";
        return new CheckpointInfo(meta["step"]?.GetValue<long>() ?? 0, user);
    }
}
