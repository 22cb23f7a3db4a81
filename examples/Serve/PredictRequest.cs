using System.Text.Json;

namespace Ember.Examples.Serve;

/// <summary>
/// Parses a prediction request <c>{"instances": [[x0, x1, …], …]}</c> (one row of <c>features</c> finite numbers per
/// instance) into a row-major float array, or says exactly what is wrong (the 400 response's message).
/// </summary>
public static class PredictRequest
{
    public static (float[]? Inputs, int Rows, string? Error) Parse(ReadOnlySpan<byte> body, int features, int maxInstances)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 4 }); }
        catch (JsonException e) { return (null, 0, $"invalid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("instances", out var instances))
                return (null, 0, "expected a JSON object {\"instances\": [[...], ...]}");
            if (instances.ValueKind != JsonValueKind.Array) return (null, 0, "\"instances\" must be an array of arrays of numbers");
            int rows = instances.GetArrayLength();
            if (rows == 0) return (null, 0, "\"instances\" is empty");
            if (rows > maxInstances) return (null, 0, $"\"instances\" has {rows} rows; at most {maxInstances} per request");
            var x = new float[rows * features];
            int r = 0;
            foreach (var row in instances.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Array) return (null, 0, $"instances[{r}] is not an array");
                int n = row.GetArrayLength();
                if (n != features) return (null, 0, $"instances[{r}] has {n} values; the model takes {features} features");
                int c = 0;
                foreach (var v in row.EnumerateArray())
                {
                    if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d) || Math.Abs(d) > float.MaxValue)
                        return (null, 0, $"instances[{r}][{c}] is not a finite number");
                    x[r * features + c++] = (float)d;
                }
                r++;
            }
            return (x, rows, null);
        }
    }
}
