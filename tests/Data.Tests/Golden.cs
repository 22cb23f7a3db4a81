using System.Text.Json;

namespace Ember.Data.Tests;

/// <summary>PyTorch golden values written by tests/golden/data_gen.py.</summary>
internal static class Golden
{
    public static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "data", name))).RootElement;

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
