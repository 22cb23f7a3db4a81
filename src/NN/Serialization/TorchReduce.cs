namespace Ember.Serialization;

/// <summary>
/// What REDUCE does for each callable global <see cref="RestrictedUnpickler"/> allows: Ember's own code for
/// <c>collections.OrderedDict()</c>, <c>torch.Size(tuple)</c>, <c>torch.serialization._get_layout(name)</c> and the tensor rebuild
/// functions. The arguments come from the file, so each is type-checked here.
/// </summary>
internal static class TorchReduce
{
    public static object? Call(PickleGlobal g, object?[] a, HashSet<object> orderedDicts, Func<string, InvalidDataException> bad,
                               Func<string, string?, UnsafePickleException> refuse)
    {
        switch (g.FullName)
        {
            case "collections.OrderedDict":
                // Pickle writes an OrderedDict as OrderedDict() followed by SETITEMS.
                if (a.Length != 0) throw bad("collections.OrderedDict is called with arguments; the pickle form has none");
                var d = new OrderedDictionary<object, object?>();
                orderedDicts.Add(d);
                return d;
            case "torch.Size":
                if (a is not [object?[] dims] || dims.Any(x => x is not long))
                    throw bad("torch.Size needs one tuple of ints");
                return dims;
            case "torch.serialization._get_layout":
                if (a is not [string layout]) throw bad("torch.serialization._get_layout needs a string");
                return new PickleGlobal("torch", layout.StartsWith("torch.", StringComparison.Ordinal) ? layout[6..] : layout);
            case "torch._utils._rebuild_tensor_v2":
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.Length is < 6 or > 7) throw bad($"{g} takes 6 or 7 arguments, got {a.Length}");
                if (a[4] is not bool rg) throw bad($"{g}: requires_grad must be a bool");
                CheckHooks(g, a[5], bad);
                if (a.Length == 7 && a[6] is not (null or OrderedDictionary<object, object?> { Count: 0 }))
                    throw bad($"{g}: tensor metadata (attributes set on a tensor) is not supported");
                return Tensor(g, a, rg, bad);
            case "torch._utils._rebuild_tensor":
                // (storage, storage_offset, size, stride): the form before requires_grad was saved
                if (a.Length != 4) throw bad($"{g} takes 4 arguments, got {a.Length}");
                return Tensor(g, a, false, bad);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                // (data, requires_grad, backward_hooks[, state])
                bool withState = g.Name.EndsWith("_with_state", StringComparison.Ordinal);
                if (a.Length != (withState ? 4 : 3) || a[0] is not TorchTensorRecord data || a[1] is not bool prg)
                    throw bad($"{g} needs (tensor, requires_grad{(withState ? ", backward_hooks, state" : ", backward_hooks")})");
                CheckHooks(g, a[2], bad);
                if (withState && a[3] is not (null or OrderedDictionary<object, object?> { Count: 0 }))
                    throw bad($"{g}: parameter attributes are not supported");
                data.RequiresGrad = prg;
                return data;
            default:
                throw refuse($"REDUCE on '{g}', which is not a function torch.load(weights_only=True) calls", g.FullName);
        }
    }

    private static void CheckHooks(PickleGlobal g, object? hooks, Func<string, InvalidDataException> bad)
    {
        // PyTorch saves backward hooks only as an (always empty) OrderedDict; it cannot pickle functions in weights_only form.
        if (hooks is not (null or OrderedDictionary<object, object?> { Count: 0 }))
            throw bad($"{g}: backward_hooks must be an empty OrderedDict");
    }

    private static TorchTensorRecord Tensor(PickleGlobal g, object?[] a, bool requiresGrad, Func<string, InvalidDataException> bad)
    {
        if (a[0] is not TorchStorageRef storage) throw bad($"{g}: the first argument must be a storage (a persistent id)");
        if (a[1] is not long offset) throw bad($"{g}: storage_offset must be an int");
        return new TorchTensorRecord(storage, offset, Ints(g, a[2], "size", bad), Ints(g, a[3], "stride", bad), requiresGrad, bad);
    }

    private static long[] Ints(PickleGlobal g, object? o, string what, Func<string, InvalidDataException> bad)
    {
        if (o is not object?[] t) throw bad($"{g}: {what} must be a tuple of ints");
        var r = new long[t.Length];
        for (int i = 0; i < t.Length; i++) r[i] = t[i] is long v ? v : throw bad($"{g}: {what} must be a tuple of ints");
        return r;
    }
}
