using System.Globalization;
using System.Numerics;

namespace Ember.Serialization;

/// <summary>
/// Reads files written by PyTorch's <c>torch.save</c> (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>): the zip layout of PyTorch 1.6 and later
/// and the legacy layout (<c>_use_new_zipfile_serialization=False</c>). Loading never runs code from the file: the pickle is read by
/// a restricted unpickler that accepts only what <c>torch.load(weights_only=True)</c> accepts (tensor rebuild functions, storage
/// types, <c>collections.OrderedDict</c>, <c>torch.Size</c>, dtypes, and None/bool/int/float/str/bytes/tuple/list/dict) and throws
/// <see cref="UnsafePickleException"/>, naming the global, for anything else (a <c>__reduce__</c> to <c>os.system</c>, a pickled class
/// instance, …). Every size and offset is checked against the storage and the file before memory is allocated.
/// </summary>
/// <remarks>
/// <para>Tensors load as contiguous CPU tensors holding a copy of their elements: tensors that share a storage in the file (views,
/// slices) are independent after loading, and a non-contiguous tensor (a transposed one, a stride-0 expansion) is copied in its
/// logical order. <c>requires_grad</c> is kept for floating-point tensors.</para>
/// <para>Dtypes: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 and bool load as themselves; with
/// <c>upcast: true</c> float16/bfloat16 load as float32 and uint8/int8/int16 as int32 (exact). Complex, quantized, sparse and
/// meta tensors are refused.</para>
/// <example><code>
/// var model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
/// model.LoadStateDict(PyTorchCheckpoint.Load("model.pt"));              // torch.save(model.state_dict(), "model.pt")
/// var sd = PyTorchCheckpoint.Load("checkpoint.pth", entry: "model");   // torch.save({"model": m.state_dict(), "epoch": 3}, …)
/// </code></example>
/// </remarks>
public static class PyTorchCheckpoint
{
    /// <summary>Containers nested deeper than this are refused (a legitimate checkpoint nests a few levels).</summary>
    public const int MaxDepth = 100;

    /// <summary>
    /// Loads the tensors of a <c>torch.save</c> file whose object is a dict (a state dict, or a checkpoint dict holding state dicts):
    /// nested dicts, lists and tuples are flattened into dotted keys (<c>{"model": {"fc.weight": t}}</c> → <c>"model.fc.weight"</c>,
    /// list items by index), in file order; values that are not tensors (an epoch number, hyperparameters) are left out.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="entry">A key of the root dict whose value (a dict) is loaded instead of the whole root, e.g. <c>"model"</c> or
    /// <c>"state_dict"</c>; its tensors' keys are then relative to it.</param>
    /// <param name="upcast">Load float16/bfloat16 tensors as float32 and uint8/int8/int16 tensors as int32 (exact) instead of in their own dtypes.</param>
    /// <param name="device">Where the tensors go (CPU when null).</param>
    /// <returns>The tensors by dotted key, ready for <see cref="NN.Module.LoadStateDict"/>.</returns>
    /// <exception cref="UnsafePickleException">The pickle names a global or uses an opcode that <c>torch.load(weights_only=True)</c> refuses.</exception>
    /// <exception cref="NotSupportedException">A tensor's dtype is not an Ember dtype (message names the key and the dtype), or the
    /// file holds sparse/quantized tensors, was written big-endian, or is a pre-0.4 tar archive.</exception>
    /// <exception cref="InvalidDataException">The file is not a torch.save file, is truncated or inconsistent (a tensor reaching past
    /// its storage, a record of the wrong size), the root is not a dict, <paramref name="entry"/> is missing or not a dict, two paths
    /// flatten to the same key, or one container is reachable twice.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static OrderedDictionary<string, Tensor> Load(string path, string? entry = null, bool upcast = false, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = File.OpenRead(path);
        return Load(fs, path, entry, upcast, device);
    }

    /// <summary>Loads the tensors of a <c>torch.save</c> file from a seekable stream; see <see cref="Load(string, string?, bool, Device?)"/>.</summary>
    /// <param name="stream">A readable, seekable stream holding the whole file (left open).</param>
    /// <param name="source">The name used in error messages.</param>
    /// <param name="entry">See <see cref="Load(string, string?, bool, Device?)"/>.</param>
    /// <param name="upcast">See <see cref="Load(string, string?, bool, Device?)"/>.</param>
    /// <param name="device">See <see cref="Load(string, string?, bool, Device?)"/>.</param>
    /// <exception cref="ArgumentException">The stream cannot seek.</exception>
    public static OrderedDictionary<string, Tensor> Load(Stream stream, string source = "stream", string? entry = null, bool upcast = false, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var root = LoadObject(stream, source, upcast);
        InvalidDataException Bad(string msg) => new($"PyTorchCheckpoint.Load: {source}: {msg}");
        if (root is not OrderedDictionary<object, object?> dict)
            throw Bad($"the saved object is {Describe(root)}, not a dict of tensors (use LoadObject to read any object).");
        if (entry != null)
        {
            if (!dict.TryGetValue(entry, out var sub))
                throw Bad($"the root dict has no key \"{entry}\" (its keys: {string.Join(", ", dict.Keys.Select(k => $"\"{KeyText(k)}\""))}).");
            dict = sub as OrderedDictionary<object, object?> ?? throw Bad($"\"{entry}\" is {Describe(sub)}, not a dict.");
        }
        var result = new OrderedDictionary<string, Tensor>();
        Walk(dict, source, refuseRevisits: true, (o, key) =>
        {
            if (o is Tensor t && !result.TryAdd(key, device is { } d && d != Device.Cpu ? t.To(d) : t))
                throw Bad($"two entries flatten to the key \"{key}\".");
        });
        return result;
    }

    /// <summary>
    /// Loads the object a <c>torch.save</c> file holds, whatever it is: None → null, bool, int → <see cref="long"/> (or
    /// <see cref="BigInteger"/> beyond 64 bits), float → <see cref="double"/>, str → <see cref="string"/>, bytes → byte[],
    /// tuple → <c>object?[]</c>, list → <see cref="List{T}"/> of object?, dict and OrderedDict → <see cref="OrderedDictionary{TKey, TValue}"/>
    /// of object to object? (keys are str, int, float or bool), tensors and parameters → CPU <see cref="Tensor"/>, and the allowed
    /// globals that are values (dtypes such as <c>torch.float16</c>) → <see cref="PickleGlobal"/>.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="upcast">See <see cref="Load(string, string?, bool, Device?)"/>.</param>
    /// <exception cref="UnsafePickleException">See <see cref="Load(string, string?, bool, Device?)"/>.</exception>
    /// <exception cref="NotSupportedException">See <see cref="Load(string, string?, bool, Device?)"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a torch.save file, or is truncated or inconsistent.</exception>
    public static object? LoadObject(string path, bool upcast = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = File.OpenRead(path);
        return LoadObject(fs, path, upcast);
    }

    /// <summary>Loads the object of a <c>torch.save</c> file from a seekable stream; see <see cref="LoadObject(string, bool)"/>.</summary>
    /// <param name="stream">A readable, seekable stream holding the whole file (left open).</param>
    /// <param name="source">The name used in error messages.</param>
    /// <param name="upcast">See <see cref="Load(string, string?, bool, Device?)"/>.</param>
    /// <exception cref="ArgumentException">The stream cannot seek.</exception>
    public static object? LoadObject(Stream stream, string source = "stream", bool upcast = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var contents = PyTorchArchive.Read(stream, source);
        using (contents.Owner)
            return Resolve(contents, source, upcast);
    }

    /// <summary>
    /// Replaces every tensor record in the tree by its tensor. All dtypes are checked first (an unsupported one is reported by its key
    /// before any storage is read); each storage is read once, however many tensors view it.
    /// </summary>
    private static object? Resolve(PyTorchArchive.Contents contents, string source, bool upcast)
    {
        var records = new List<(TorchTensorRecord Record, string Path)>();
        var seen = new HashSet<TorchTensorRecord>(ReferenceEqualityComparer.Instance);
        Walk(contents.Root, source, refuseRevisits: false, (o, path) =>
        {
            if (o is TorchTensorRecord r && seen.Add(r)) records.Add((r, path.Length == 0 ? "(root)" : path));
        });

        foreach (var (r, path) in records)
            if (r.Storage.Type.LoadAs(upcast) == null)
                throw new NotSupportedException(
                    $"PyTorchCheckpoint: {source}: tensor \"{path}\" has dtype {r.Storage.Type.TorchDType}, which is not supported: Ember tensors are " +
                    "torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8 or torch.bool" +
                    (r.Storage.Type.UpcastDType is { } up ? $" (pass upcast: true to load it as {up.TorchName()}, exactly)." : "."));

        var bytes = new Dictionary<string, byte[]>();
        foreach (var (r, _) in records)
        {
            if (!bytes.TryGetValue(r.Storage.Key, out var b)) bytes[r.Storage.Key] = b = contents.ReadStorage(r.Storage);
            r.Materialize(b, r.Storage.Type.LoadAs(upcast)!.Value);
        }
        return Replace(contents.Root, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    /// <summary>
    /// Calls <paramref name="leaf"/> for every value that is not a dict, list or tuple, with its dotted path (dict keys, list
    /// indices), depth first in file order. A container reached a second time (a shared or cyclic reference, possible through the
    /// pickle memo) is skipped, or refused with <paramref name="refuseRevisits"/>; nesting deeper than <see cref="MaxDepth"/> is refused.
    /// </summary>
    private static void Walk(object? root, string source, bool refuseRevisits, Action<object?, string> leaf)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        void Visit(object? o, string path, int depth)
        {
            if (o is not (OrderedDictionary<object, object?> or List<object?> or object?[])) { leaf(o, path); return; }
            if (depth > MaxDepth) throw new InvalidDataException($"PyTorchCheckpoint: {source}: containers are nested more than {MaxDepth} deep at \"{path}\".");
            if (!seen.Add(o))
            {
                if (!refuseRevisits) return;
                throw new InvalidDataException($"PyTorchCheckpoint: {source}: the container at \"{path}\" is also reachable under another key (a shared or cyclic reference).");
            }
            string Join(string k) => path.Length == 0 ? k : path + "." + k;
            if (o is OrderedDictionary<object, object?> d)
                foreach (var (k, v) in d) Visit(v, Join(KeyText(k)), depth + 1);
            else
            {
                var items = o as IReadOnlyList<object?> ?? (object?[])o;
                for (int i = 0; i < items.Count; i++) Visit(items[i], Join(i.ToString(CultureInfo.InvariantCulture)), depth + 1);
            }
        }
        Visit(root, "", 0);
    }

    /// <summary>The tree with each record swapped for its tensor, in place (depth was bounded by Walk).</summary>
    private static object? Replace(object? o, HashSet<object> done)
    {
        if (o is TorchTensorRecord r) return r.Result;
        if (o is null || !done.Add(o)) return o;
        switch (o)
        {
            case OrderedDictionary<object, object?> d:
                for (int i = 0; i < d.Count; i++) d.SetAt(i, Replace(d.GetAt(i).Value, done));
                break;
            case List<object?> l:
                for (int i = 0; i < l.Count; i++) l[i] = Replace(l[i], done);
                break;
            case object?[] a:
                for (int i = 0; i < a.Length; i++) a[i] = Replace(a[i], done);
                break;
        }
        return o;
    }

    private static string KeyText(object k) => k switch
    {
        bool b => b ? "True" : "False",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => k.ToString() ?? "",
    };

    /// <summary>A pickled value's kind, in Python's words, for messages.</summary>
    internal static string Describe(object? o) => o switch
    {
        null => "None",
        Tensor or TorchTensorRecord => "a tensor",
        OrderedDictionary<object, object?> => "a dict",
        List<object?> => "a list",
        object?[] => "a tuple",
        PickleGlobal g => g.FullName,
        _ => "a " + o.GetType().Name,
    };
}
