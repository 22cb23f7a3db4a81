using System.Text.Json.Nodes;

namespace Ember.Hardening.Tests.Fuzz;

/// <summary>Random replacements inside a JSON tree: numbers at the edges of every integer type, wrong types, nesting.</summary>
internal static class JsonMutator
{
    private static readonly string[] Values =
    [
        "0", "-1", "1", "7", "2147483647", "2147483648", "-2147483649", "4294967296", "4611686018427387904",
        "9223372036854775807", "9223372036854775808", "18446744073709551615", "1e300", "-1e300", "1.5", "0.0001",
        "\"\"", "\"x\"", "\"0\"", "\"-1\"", "\"18446744073709551616\"", "\"F32\"", "\"BOOL\"", "\"F16\"",
        "null", "true", "false", "{}", "[]", "[0]", "[0,0]", "[1,0]", "[0,-1]", "[4611686018427387904,4]",
        "[2147483647,2147483647,2147483647]", "[1,1,1,1,1,1,1,1,1]", "[[1]]", "{\"a\":1}", "[\"a\",\"b\"]", "[1e300, 1]",
    ];

    /// <summary>A random JSON value from the pool.</summary>
    public static JsonNode? RandomValue(System.Random r) => JsonNode.Parse(r.Pick(Values));

    /// <summary>Replaces, removes or adds one random node of <paramref name="root"/> (in place).</summary>
    public static void Mutate(JsonNode root, System.Random r)
    {
        var nodes = new List<JsonNode>();
        void Walk(JsonNode? n) { if (n is null) return; nodes.Add(n); if (n is JsonObject o) foreach (var (_, v) in o) Walk(v); else if (n is JsonArray a) foreach (var v in a) Walk(v); }
        Walk(root);
        var containers = nodes.Where(n => n is JsonObject or JsonArray).ToList();
        var target = r.Pick(containers);
        if (target is JsonObject obj)
        {
            var keys = obj.Select(kv => kv.Key).ToList();
            switch (keys.Count == 0 ? 2 : r.Next(3))
            {
                case 0: obj[r.Pick(keys)] = RandomValue(r); break;
                case 1: obj.Remove(r.Pick(keys)); break;
                default: obj[r.Pick(new[] { "x", "dtype", "shape", "data_offsets", "__metadata__", "params", "step" })] = RandomValue(r); break;
            }
        }
        else if (target is JsonArray arr)
        {
            switch (arr.Count == 0 ? 2 : r.Next(3))
            {
                case 0: arr[r.Next(arr.Count)] = RandomValue(r); break;
                case 1: arr.RemoveAt(r.Next(arr.Count)); break;
                default: arr.Add(RandomValue(r)); break;
            }
        }
    }
}
