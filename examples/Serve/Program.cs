// Serve: a trained model behind an HTTP API (what TorchServe does), with dynamic batching.
//   dotnet run --project examples/Digits -c Release           # writes runs/digits/model.safetensors
//   dotnet run --project examples/Serve -c Release -- --model runs/digits/model.safetensors
//   curl -s localhost:5000/predict -d '{"instances": [[0, 0, 5, 13, ...64 values]]}'
using System.Diagnostics;
using System.Text.Json;
using Ember;
using Ember.Examples;
using Ember.Examples.Serve;
using Ember.NN;
using Ember.Serialization;

var a = new Args(args, "Serve: answers JSON predictions of an MLP (the Digits example's architecture) over HTTP, batching concurrent requests.");
string modelPath = a.Get("model", "", "weights: .safetensors (Digits writes runs/digits/model.safetensors) or a torch.save state dict (.pt/.pth/.bin); empty: random weights");
int features = a.Int("features", 64, "input features");
int hidden = a.Int("hidden", 128, "hidden units per layer");
int classes = a.Int("classes", 10, "output classes");
int maxBatch = a.Int("max-batch", 32, "most instances per forward pass (1: no batching)");
double maxWaitMs = a.Double("max-wait-ms", 2, "how long a request waits for others to share its forward pass");
int maxInstances = a.Int("max-instances", 256, "most instances in one request");
string urls = a.Get("urls", "http://127.0.0.1:5000", "where to listen");
if (a.PrintHelpIfAsked()) return;

Tensor.ManualSeed(0);
var model = new Sequential(
    new Linear(features, hidden), new ReLU(), new Dropout(0.2),
    new Linear(hidden, hidden), new ReLU(), new Dropout(0.2),
    new Linear(hidden, classes));
if (modelPath.Length > 0)
{
    var state = Path.GetExtension(modelPath).Equals(".safetensors", StringComparison.OrdinalIgnoreCase)
        ? Safetensors.Load(modelPath) : PyTorchCheckpoint.Load(modelPath);
    model.LoadStateDict(state);
}
else Console.WriteLine("no --model given: serving random weights (for load tests)");
model.Eval();

var metrics = new ServeMetrics();
await using var batcher = new DynamicBatcher(model, features, classes, maxBatch, TimeSpan.FromMilliseconds(maxWaitMs), metrics);

var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls(urls);
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 4 << 20);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

app.MapGet("/health", () => Results.Json(new HealthResponse("ok", modelPath.Length > 0 ? modelPath : "(random)", features, classes, maxBatch, maxWaitMs),
                                         ServeJson.Default.HealthResponse));
app.MapGet("/metrics", () => Results.Text(metrics.Render(batcher.QueueDepth), "text/plain; version=0.0.4"));
app.MapPost("/predict", async (HttpRequest request) =>
{
    long start = Stopwatch.GetTimestamp();
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    var (inputs, rows, error) = PredictRequest.Parse(body.GetBuffer().AsSpan(0, (int)body.Length), features, maxInstances);
    if (error != null)
    {
        metrics.RecordBadRequest();
        return Results.Json(new ErrorResponse(error), ServeJson.Default.ErrorResponse, statusCode: 400);
    }
    float[] probs;
    try { probs = await batcher.PredictAsync(inputs!, rows); }
    catch (Exception e) when (e is not OperationCanceledException)
    {
        metrics.RecordFailure();
        return Results.Json(new ErrorResponse("prediction failed: " + e.Message), ServeJson.Default.ErrorResponse, statusCode: 500);
    }
    var predictions = new Prediction[rows];
    for (int r = 0; r < rows; r++)
    {
        var p = probs.AsSpan(r * classes, classes);
        int label = 0;
        for (int c = 1; c < classes; c++) if (p[c] > p[label]) label = c;
        predictions[r] = new Prediction(label, p.ToArray());
    }
    metrics.RecordRequest(rows, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    return Results.Json(new PredictResponse(predictions), ServeJson.Default.PredictResponse);
});
Console.WriteLine($"serving on {urls}: POST /predict, GET /health, GET /metrics (max batch {maxBatch}, max wait {maxWaitMs} ms)");
await app.RunAsync();

/// <summary>GET /health.</summary>
public sealed record HealthResponse(string Status, string Model, int Features, int Classes, int MaxBatch, double MaxWaitMs);
/// <summary>One instance's answer: the most probable class and every class's probability.</summary>
public sealed record Prediction(int Label, float[] Probabilities);
/// <summary>POST /predict's answer, in the order of the request's instances.</summary>
public sealed record PredictResponse(Prediction[] Predictions);
/// <summary>A 4xx/5xx body.</summary>
public sealed record ErrorResponse(string Error);

/// <summary>Source-generated JSON (the slim builder has no reflection-based serializer).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthResponse))]
[System.Text.Json.Serialization.JsonSerializable(typeof(PredictResponse))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class ServeJson : System.Text.Json.Serialization.JsonSerializerContext;
