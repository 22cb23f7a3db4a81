using System.Collections;
using System.Runtime.CompilerServices;

namespace Ember.Data;

/// <summary>
/// The default collate function (torch.utils.data.default_collate), directed by the batch type:
/// <list type="bullet">
/// <item>Tensors of one shape → <see cref="Tensor.Stack"/> along a new dim 0 ([B, …]).</item>
/// <item>Numbers → a 1-D tensor [B]: int/long/short/byte → Int64, float → Float32, double → Float64 (as PyTorch
/// turns Python floats into float64), bool → Bool.</item>
/// <item>Arrays of numbers (float[], double[], int[], long[], byte[], bool[]; like NumPy arrays) → [B, length] with the dtype above.</item>
/// <item>Value tuples → a value tuple of the collated positions (e.g. items <c>(Tensor, int)</c> → batch <c>(Tensor, Tensor)</c>);
/// Tensor[] / object[] items → arrays of the collated positions; dictionaries → dictionaries of collated values per key;
/// strings → string[].</item>
/// </list>
/// </summary>
public static class Collate
{
    /// <summary>The default collate function for items of type <typeparamref name="T"/> into batches of type <typeparamref name="TBatch"/>.</summary>
    /// <exception cref="NotSupportedException">(When called) the item or batch type is not one collate knows.</exception>
    public static Func<IReadOnlyList<T>, TBatch> Default<T, TBatch>() =>
        items => (TBatch)CollateAs(typeof(TBatch), Box(items))!;

    /// <summary>Collates <paramref name="items"/> into <typeparamref name="TBatch"/> with the default rules.</summary>
    /// <exception cref="ArgumentException">The items are empty, or their tensors differ in shape, dtype or device, or tuples/arrays differ in length.</exception>
    /// <exception cref="NotSupportedException">The item or batch type is not one collate knows.</exception>
    public static TBatch Apply<T, TBatch>(IReadOnlyList<T> items) => Default<T, TBatch>()(items);

    /// <summary>Collates items whose batch type is inferred from the first item (tensors, numbers, tuples → object[], arrays, dictionaries, strings).</summary>
    public static object? Apply(IReadOnlyList<object?> items) => CollateAs(typeof(object), items);

    private static object?[] Box<T>(IReadOnlyList<T> items)
    {
        var boxed = new object?[items.Count];
        for (int i = 0; i < boxed.Length; i++) boxed[i] = items[i];
        return boxed;
    }

    private static object? CollateAs(Type target, IReadOnlyList<object?> items)
    {
        if (items.Count == 0) throw new ArgumentException("Collate: cannot collate an empty batch.");
        var first = items[0] ?? throw new ArgumentException("Collate: a batch item is null.");

        if (target == typeof(object)) target = Infer(first);

        if (target == typeof(Tensor)) return ToTensor(items);
        if (target == typeof(string[]))
            return items.Select(x => x as string ?? throw new ArgumentException($"Collate: expected strings, got {x?.GetType().Name ?? "null"}.")).ToArray();
        if (target.IsArray && first is IList && first is not Array { Rank: > 1 })
        {
            var elementType = target.GetElementType()!;
            var lists = items.Select(x => x as IList ?? throw new ArgumentException($"Collate: expected arrays, got {x?.GetType().Name ?? "null"}.")).ToArray();
            int len = lists[0].Count;
            if (lists.Any(l => l.Count != len))
                throw new ArgumentException($"Collate: each element in the batch should have the same length, got lengths [{string.Join(", ", lists.Select(l => l.Count))}].");
            var result = Array.CreateInstance(elementType, len);
            for (int k = 0; k < len; k++)
            {
                int kk = k;
                result.SetValue(CollateAs(elementType, lists.Select(l => l[kk]).ToArray()), k);
            }
            return result;
        }
        if (target.IsArray && first is ITuple)
        {
            // Tuples collated into an array of the positions (the batch type of inferred collation).
            var elementType = target.GetElementType()!;
            var tuples = items.Select(x => x as ITuple ?? throw new ArgumentException($"Collate: expected tuples, got {x?.GetType().Name ?? "null"}.")).ToArray();
            int len = tuples[0].Length;
            if (tuples.Any(t => t.Length != len)) throw new ArgumentException($"Collate: expected tuples of {len} elements.");
            var result = Array.CreateInstance(elementType, len);
            for (int k = 0; k < len; k++)
            {
                int kk = k;
                result.SetValue(CollateAs(elementType, tuples.Select(t => t[kk]).ToArray()), k);
            }
            return result;
        }
        if (typeof(ITuple).IsAssignableFrom(target) && target.IsGenericType && target.FullName!.StartsWith("System.ValueTuple`", StringComparison.Ordinal))
        {
            var args = target.GetGenericArguments();
            if (args.Length > 7) throw new NotSupportedException("Collate: value tuples of more than 7 elements are not supported.");
            var tuples = items.Select(x => x as ITuple ?? throw new ArgumentException($"Collate: expected tuples, got {x?.GetType().Name ?? "null"}.")).ToArray();
            if (tuples.Any(t => t.Length != args.Length))
                throw new ArgumentException($"Collate: expected tuples of {args.Length} elements.");
            var values = new object?[args.Length];
            for (int k = 0; k < args.Length; k++)
            {
                int kk = k;
                values[k] = CollateAs(args[k], tuples.Select(t => t[kk]).ToArray());
            }
            return Activator.CreateInstance(target, values);
        }
        if (target.IsGenericType && first is IDictionary firstDict)
        {
            var valueType = target.GetGenericArguments()[^1];
            var keyType = target.GetGenericArguments()[0];
            var dictType = typeof(Dictionary<,>).MakeGenericType(keyType, valueType);
            if (!target.IsAssignableFrom(dictType))
                throw new NotSupportedException($"Collate: cannot produce a batch of type {target.Name} from dictionaries.");
            var result = (IDictionary)Activator.CreateInstance(dictType)!;
            foreach (var key in firstDict.Keys)
                result[key] = CollateAs(valueType, items.Select(x => ((IDictionary)x!)[key]).ToArray());
            return result;
        }
        throw new NotSupportedException($"Collate: the default collate cannot turn items of type {first.GetType().Name} into a batch of type {target.Name}; pass a collate function.");
    }

    private static Type Infer(object first) => first switch
    {
        Tensor or int or long or short or byte or float or double or bool => typeof(Tensor),
        float[] or double[] or int[] or long[] or short[] or byte[] or bool[] => typeof(Tensor),
        string => typeof(string[]),
        IDictionary => typeof(Dictionary<object, object>),
        ITuple or IList => typeof(object[]),
        _ => first.GetType(),
    };

    private static Tensor ToTensor(IReadOnlyList<object?> items)
    {
        switch (items[0])
        {
            case Tensor:
                var tensors = new Tensor[items.Count];
                for (int i = 0; i < tensors.Length; i++)
                    tensors[i] = items[i] as Tensor ?? throw new ArgumentException($"Collate: expected tensors, got {items[i]?.GetType().Name ?? "null"} at position {i}.");
                var shape = tensors[0].Shape;
                for (int i = 1; i < tensors.Length; i++)
                    if (tensors[i].Shape != shape)
                        throw new ArgumentException($"Collate: stack expects each tensor to be equal size, but got {shape} at entry 0 and {tensors[i].Shape} at entry {i}.");
                return Tensor.Stack(tensors);
            case int or long or short or byte:
                return Tensor.FromArray(items.Select(x => Convert.ToInt64(x)).ToArray());
            case float:
                return Tensor.FromArray(items.Select(x => (float)x!).ToArray());
            case double:
                return Tensor.FromArray(items.Select(x => (double)x!).ToArray());
            case bool:
                return Tensor.FromArray(items.Select(x => (bool)x!).ToArray());
            case float[]: return Rows<float, float>(items, v => v);
            case double[]: return Rows<double, double>(items, v => v);
            case int[]: return Rows<int, long>(items, v => v);
            case long[]: return Rows<long, long>(items, v => v);
            case short[]: return Rows<short, long>(items, v => v);
            case byte[]: return Rows<byte, long>(items, v => v);
            case bool[]: return Rows<bool, bool>(items, v => v);
            default:
                throw new NotSupportedException($"Collate: cannot make a tensor from items of type {items[0]?.GetType().Name ?? "null"}.");
        }
    }

    private static Tensor Rows<TIn, TOut>(IReadOnlyList<object?> items, Func<TIn, TOut> convert) where TOut : unmanaged
    {
        var rows = items.Select(x => x as TIn[] ?? throw new ArgumentException($"Collate: expected {typeof(TIn).Name}[] items, got {x?.GetType().Name ?? "null"}.")).ToArray();
        int len = rows[0].Length;
        if (rows.Any(r => r.Length != len))
            throw new ArgumentException($"Collate: each array in the batch should have the same length, got lengths [{string.Join(", ", rows.Select(r => r.Length).Distinct())}].");
        var data = new TOut[(long)rows.Length * len];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < len; j++) data[(long)i * len + j] = convert(rows[i][j]);
        return Tensor.FromArray(data, rows.Length, len);
    }
}
