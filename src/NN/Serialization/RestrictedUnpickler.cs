using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Ember.Serialization;

/// <summary>
/// A pickle reader that accepts what <c>torch.load(weights_only=True)</c> accepts and nothing else: the binary opcodes of protocols
/// 2-5 that build primitive values, tuples, lists and dicts, and a fixed list of globals (tensor rebuild functions, storage types,
/// <c>collections.OrderedDict</c>, <c>torch.Size</c>, dtypes). A global is never looked up or called: it is compared with that list
/// by name, and REDUCE on an allowed one runs Ember's own code for it. Every length is checked against the bytes left before
/// anything is allocated.
/// </summary>
/// <remarks>
/// Objects: None → null, bool, int → long (or <see cref="BigInteger"/> beyond 64 bits), float → double, str → string,
/// bytes → byte[], tuple → object?[], list → List&lt;object?&gt;, dict and OrderedDict → OrderedDictionary&lt;object, object?&gt;,
/// tensors → <see cref="TorchTensorRecord"/>, other allowed globals → <see cref="PickleGlobal"/>.
/// </remarks>
internal sealed class RestrictedUnpickler
{
    /// <summary>What is allowed, in the refusal message.</summary>
    public const string AllowedSummary =
        "only what torch.load(weights_only=True) accepts is allowed: the tensor rebuild functions (torch._utils._rebuild_tensor_v2, " +
        "_rebuild_tensor, _rebuild_parameter), torch.*Storage types, collections.OrderedDict, torch.Size, torch dtypes and primitive values " +
        "(None, bool, int, float, str, bytes, tuple, list, dict)";

    private static readonly HashSet<string> ValueGlobals =
    [
        "torch.Tensor", "torch.nn.parameter.Parameter", "torch.Size", "collections.OrderedDict", "torch.serialization._get_layout",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch.float16", "torch.bfloat16", "torch.float32", "torch.float64", "torch.complex32", "torch.complex64", "torch.complex128",
        "torch.uint8", "torch.int8", "torch.int16", "torch.int32", "torch.int64", "torch.bool",
        "torch.FloatTensor", "torch.DoubleTensor", "torch.HalfTensor", "torch.BFloat16Tensor", "torch.LongTensor", "torch.IntTensor",
        "torch.ShortTensor", "torch.CharTensor", "torch.ByteTensor", "torch.BoolTensor",
    ];

    /// <summary>Allowed by PyTorch, but Ember has no such tensors.</summary>
    private static readonly HashSet<string> UnsupportedRebuilds =
        ["torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_sparse_csr_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
         "torch._utils._rebuild_qtensor", "torch._tensor._rebuild_from_type_v2", "torch._utils._rebuild_wrapper_subclass"];

    private const int MaxGlobalLine = 1024;

    private readonly Stream s;
    private readonly string source;
    private readonly Func<object?, Func<string, Exception>, object> persistentLoad;
    private readonly Dictionary<long, object?> memo = [];
    private readonly HashSet<object> orderedDicts = new(ReferenceEqualityComparer.Instance);
    private List<object?> stack = [];
    private readonly Stack<List<object?>> metastack = new();
    private long opStart;

    /// <param name="stream">A seekable stream positioned at the pickle (its length bounds every read).</param>
    /// <param name="source">The file and record, for messages.</param>
    /// <param name="persistentLoad">Resolves a BINPERSID id (the storage tuple) to a <see cref="TorchStorageRef"/>; gets the error factory.</param>
    public RestrictedUnpickler(Stream stream, string source, Func<object?, Func<string, Exception>, object> persistentLoad)
    {
        s = stream;
        this.source = source;
        this.persistentLoad = persistentLoad;
    }

    private InvalidDataException Bad(string msg) => new($"PyTorchCheckpoint: {source}: {msg} (pickle byte {opStart}).");

    private UnsafePickleException Refuse(string what, string? global) =>
        new($"PyTorchCheckpoint: {source}: refused {what} (pickle byte {opStart}): {AllowedSummary}. Nothing from the file was run.", global);

    /// <summary>Reads one pickle (up to and including STOP) and returns its object; the stream is left just after STOP.</summary>
    /// <exception cref="UnsafePickleException">A global or opcode outside the allowed set.</exception>
    /// <exception cref="InvalidDataException">The pickle is truncated or malformed.</exception>
    /// <exception cref="NotSupportedException">An allowed construct Ember cannot represent (sparse, meta or quantized tensors).</exception>
    public object? Load()
    {
        while (true)
        {
            opStart = s.Position;
            int op = s.ReadByte();
            if (op < 0) throw Bad("unexpected end of data: the pickle has no STOP");
            switch (op)
            {
                case 0x80: // PROTO
                    int proto = ReadU8();
                    if (proto > 5) throw Bad($"pickle protocol {proto} is newer than 5");
                    break;
                case 0x95: Take(8); break; // FRAME: a length hint only
                case '.': return Pop(); // STOP
                case '(': metastack.Push(stack); stack = []; break; // MARK
                case 'c': Push(Global(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop(); var module = Pop();
                    if (module is not string m || name is not string n) throw Bad("STACK_GLOBAL needs two strings");
                    Push(Global(m, n));
                    break;
                }
                case 'R': // REDUCE
                {
                    var args = Pop();
                    var func = Pop();
                    if (func is not PickleGlobal g) throw Refuse("REDUCE on a value that is not an allowed global", null);
                    if (args is not object?[] a) throw Bad($"REDUCE of {g} needs a tuple of arguments");
                    Push(TorchReduce.Call(g, a, orderedDicts, Bad, Refuse));
                    break;
                }
                case 0x81: // NEWOBJ: only torch.nn.Parameter(data, requires_grad), as torch allows
                {
                    var args = Pop();
                    var cls = Pop();
                    if (cls is not PickleGlobal { FullName: "torch.nn.parameter.Parameter" })
                        throw Refuse($"NEWOBJ of {cls}", (cls as PickleGlobal)?.FullName);
                    if (args is not object?[] { Length: >= 1 and <= 2 } a || a[0] is not TorchTensorRecord data)
                        throw Bad("torch.nn.Parameter(data, requires_grad) needs a tensor");
                    data.RequiresGrad = a.Length < 2 || a[1] is true;
                    Push(data);
                    break;
                }
                case 'b': // BUILD: only an OrderedDict's attributes (a state dict's _metadata), which Ember does not need
                {
                    var state = Pop();
                    var inst = Peek();
                    if (inst is null || !orderedDicts.Contains(inst))
                        throw Refuse($"BUILD on {PyTorchCheckpoint.Describe(inst)} (only an OrderedDict's attributes may be set)", null);
                    if (state is not (null or OrderedDictionary<object, object?>)) throw Bad("BUILD state of an OrderedDict must be a dict");
                    break;
                }
                case 'Q': Push(persistentLoad(Pop(), Bad)); break; // BINPERSID
                case 'a': { var v = Pop(); AsList(Peek(), "APPEND").Add(v); break; }
                case 'e': { var items = PopMark(); AsList(Peek(), "APPENDS").AddRange(items); break; }
                case 's': { var v = Pop(); var k = Pop(); SetItem(Peek(), k, v); break; }
                case 'u':
                {
                    var items = PopMark();
                    if (items.Count % 2 != 0) throw Bad("SETITEMS with an odd number of items");
                    var d = Peek();
                    for (int i = 0; i < items.Count; i += 2) SetItem(d, items[i], items[i + 1]);
                    break;
                }
                case 't': Push(PopMark().ToArray()); break; // TUPLE
                case ')': Push(Array.Empty<object?>()); break;
                case 0x85: { var a = Pop(); Push(new[] { a }); break; }
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case ']': Push(new List<object?>()); break;
                case '}': Push(new OrderedDictionary<object, object?>()); break;
                case 'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case 'K': Push((long)ReadU8()); break;
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: // LONG1: little-endian two's complement of n bytes
                {
                    var big = new BigInteger(Take(ReadU8()), isUnsigned: false, isBigEndian: false);
                    Push(big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big);
                    break;
                }
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT is big-endian
                case 'X': Push(Utf8(Take(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break; // BINUNICODE
                case 0x8c: Push(Utf8(Take(ReadU8()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(Take(Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))))); break; // BINUNICODE8
                // Python 2 str: torch.load decodes it with encoding="utf-8".
                case 'U': Push(Utf8(Take(ReadU8()))); break; // SHORT_BINSTRING
                case 'T': // BINSTRING
                {
                    int n = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                    if (n < 0) throw Bad("BINSTRING with a negative length");
                    Push(Utf8(Take(n)));
                    break;
                }
                case 'C': Push(Take(ReadU8()).ToArray()); break; // SHORT_BINBYTES
                case 'B': Push(Take(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break; // BINBYTES
                case 'q': memo[ReadU8()] = Peek(); break; // BINPUT
                case 'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Peek(); break; // MEMOIZE
                case 'h': Push(Get(ReadU8())); break; // BINGET
                case 'j': Push(Get(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                default:
                    throw Refuse($"pickle opcode 0x{op:x2}{(op is >= 0x20 and < 0x7f ? $" ('{(char)op}')" : "")}", null);
            }
        }
    }

    private object Global(string module, string name)
    {
        string full = module + "." + name;
        if (UnsupportedRebuilds.Contains(full))
            throw new NotSupportedException($"PyTorchCheckpoint: {source}: the file holds a tensor rebuilt by {full} (sparse, meta, quantized or " +
                                            "subclassed tensors), which Ember does not support.");
        if (ValueGlobals.Contains(full)) return new PickleGlobal(module, name);
        var g = new PickleGlobal(module, name);
        if (TorchStorageType.Of(g) != null) return g;
        throw Refuse($"global '{full}'", full);
    }

    private void Push(object? o) => stack.Add(o);

    private object? Pop()
    {
        if (stack.Count == 0) throw Bad("stack underflow (malformed pickle)");
        var o = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return o;
    }

    private object? Peek() => stack.Count > 0 ? stack[^1] : throw Bad("stack underflow (malformed pickle)");

    private List<object?> PopMark()
    {
        if (metastack.Count == 0) throw Bad("no MARK before a TUPLE, APPENDS or SETITEMS");
        var items = stack;
        stack = metastack.Pop();
        return items;
    }

    private object? Get(long index) => memo.TryGetValue(index, out var o) ? o : throw Bad($"memo entry {index} is read before it is written");

    private List<object?> AsList(object? o, string op) => o as List<object?> ?? throw Refuse($"{op} to {PyTorchCheckpoint.Describe(o)} (only lists)", null);

    private void SetItem(object? target, object? key, object? value)
    {
        if (target is not OrderedDictionary<object, object?> d) throw Refuse($"SETITEM on {PyTorchCheckpoint.Describe(target)} (only dicts)", null);
        if (key is not (string or long or bool or double or BigInteger))
            throw Bad($"dict key of type {PyTorchCheckpoint.Describe(key)}: only str, int, float and bool keys are supported");
        d[key] = value;
    }

    private int ReadU8()
    {
        int b = s.ReadByte();
        return b >= 0 ? b : throw Bad("unexpected end of data");
    }

    private int Length(ulong n) =>
        n <= (ulong)(s.Length - s.Position) ? (int)n : throw Bad($"a length of {n} bytes runs past the end of the data ({s.Length - s.Position} left)");

    /// <summary>Reads exactly n bytes, after checking that the stream holds them (so a hostile length allocates nothing).</summary>
    private ReadOnlySpan<byte> Take(int n)
    {
        if (n > s.Length - s.Position) throw Bad($"unexpected end of data: {n} bytes needed, {s.Length - s.Position} left");
        var buf = new byte[n];
        s.ReadExactly(buf);
        return buf;
    }

    private string Utf8(ReadOnlySpan<byte> bytes)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Bad("a string is not valid UTF-8"); }
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) throw Bad("unexpected end of data in a GLOBAL name");
            if (b == '\n') return sb.ToString();
            if (b < 0x20 || b >= 0x7f) throw Bad("a GLOBAL name holds a byte that is not printable ASCII");
            if (sb.Length >= MaxGlobalLine) throw Bad($"a GLOBAL name is longer than {MaxGlobalLine} bytes");
            sb.Append((char)b);
        }
    }
}
