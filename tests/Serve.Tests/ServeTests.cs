using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Ember.Examples.Serve;
using Ember.NN;

namespace Ember.Serve.Tests;

/// <summary>The serving example's request parsing and dynamic batcher (the HTTP layer is exercised by perf/ServeLoad).</summary>
public class ServeTests
{
    private static (float[]? Inputs, int Rows, string? Error) Parse(string json, int features = 3, int max = 4) =>
        PredictRequest.Parse(Encoding.UTF8.GetBytes(json), features, max);

    [Test]
    public void ParsesInstancesRowMajor()
    {
        var (x, rows, error) = Parse("""{"instances": [[1, 2, 3], [4.5, -5, 6e-1]]}""");
        Assert.That(error, Is.Null);
        Assert.That(rows, Is.EqualTo(2));
        Assert.That(x, Is.EqualTo(new[] { 1f, 2f, 3f, 4.5f, -5f, 0.6f }));
    }

    [TestCase("{bad", "invalid JSON")]
    [TestCase("[1, 2, 3]", "expected a JSON object")]
    [TestCase("""{"inputs": [[1, 2, 3]]}""", "expected a JSON object")]
    [TestCase("""{"instances": 3}""", "must be an array")]
    [TestCase("""{"instances": []}""", "is empty")]
    [TestCase("""{"instances": [[1, 2, 3], [1, 2]]}""", "instances[1] has 2 values; the model takes 3 features")]
    [TestCase("""{"instances": [[1, 2, 3], 4]}""", "instances[1] is not an array")]
    [TestCase("""{"instances": [[1, "2", 3]]}""", "instances[0][1] is not a finite number")]
    [TestCase("""{"instances": [[1, 2, 1e300]]}""", "instances[0][2] is not a finite number")]
    [TestCase("""{"instances": [[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3]]}""", "has 5 rows; at most 4 per request")]
    public void BadRequestsSayWhatIsWrong(string json, string message)
    {
        var (x, _, error) = Parse(json);
        Assert.That(x, Is.Null);
        Assert.That(error, Does.Contain(message));
    }

    private static Sequential Model()
    {
        Tensor.ManualSeed(3);
        var m = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
        m.Eval();
        return m;
    }

    /// <summary>softmax(model(x)) for one row, computed alone.</summary>
    private static float[] Alone(Sequential model, float[] row)
    {
        using (Autograd.NoGrad()) return model.Forward(Tensor.FromArray(row, 1, row.Length)).Softmax(1).ToArray<float>();
    }

    private static double Metric(ServeMetrics m, string name) =>
        double.Parse(Regex.Match(m.Render(0), Regex.Escape(name) + @" (\S+)").Groups[1].Value, CultureInfo.InvariantCulture);

    [Test]
    public async Task ConcurrentRequestsShareForwardPassesAndGetTheirOwnAnswers()
    {
        var model = Model();
        var metrics = new ServeMetrics();
        var rng = new System.Random(5);
        var rows = Enumerable.Range(0, 40).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)rng.NextDouble()).ToArray()).ToArray();
        var expected = rows.Select(r => Alone(model, r)).ToArray();
        float[][] answers;
        await using (var batcher = new DynamicBatcher(model, 4, 3, maxBatch: 16, TimeSpan.FromMilliseconds(200), metrics))
            answers = await Task.WhenAll(rows.Select(r => batcher.PredictAsync(r, 1)));
        for (int i = 0; i < rows.Length; i++)
            Assert.That(answers[i], Is.EqualTo(expected[i]).Within(1e-6f), $"request {i}");
        // 40 requests queued at once, at most 16 per pass: 3 passes when every window fills (a slow start may add one or two).
        Assert.That(Metric(metrics, "ember_batches_total"), Is.InRange(3, 5));
        Assert.That(Metric(metrics, "ember_batch_size_mean"), Is.GreaterThanOrEqualTo(8));
    }

    [Test]
    public async Task MaxBatchOneRunsEveryRequestAlone()
    {
        var model = Model();
        var metrics = new ServeMetrics();
        await using (var batcher = new DynamicBatcher(model, 4, 3, maxBatch: 1, TimeSpan.Zero, metrics))
            await Task.WhenAll(Enumerable.Range(0, 5).Select(i => batcher.PredictAsync([i, 1, 2, 3], 1)));
        Assert.That(Metric(metrics, "ember_batches_total"), Is.EqualTo(5));
        Assert.That(Metric(metrics, "ember_batch_size_mean"), Is.EqualTo(1));
    }

    [Test]
    public async Task RequestLargerThanMaxBatchRunsInOnePass()
    {
        var model = Model();
        var metrics = new ServeMetrics();
        var x = Enumerable.Range(0, 20 * 4).Select(i => i / 80f).ToArray();
        float[] answer;
        await using (var batcher = new DynamicBatcher(model, 4, 3, maxBatch: 8, TimeSpan.FromMilliseconds(1), metrics))
            answer = await batcher.PredictAsync(x, 20);
        Assert.That(answer, Has.Length.EqualTo(60));
        Assert.That(answer[57..], Is.EqualTo(Alone(model, x[76..])).Within(1e-6f));
        Assert.That(Metric(metrics, "ember_batches_total"), Is.EqualTo(1));
    }

    [Test]
    public async Task MalformedInputIsRefusedBeforeItJoinsABatch()
    {
        var model = Model();
        await using var batcher = new DynamicBatcher(model, 4, 3, maxBatch: 8, TimeSpan.FromMilliseconds(1), new ServeMetrics());
        var ex = Assert.Throws<ArgumentException>(() => batcher.PredictAsync([1, 2, 3], 1));
        Assert.That(ex!.Message, Does.Contain("3 values for 1 rows of 4 features"));
        Assert.That(await batcher.PredictAsync([1, 2, 3, 4], 1), Has.Length.EqualTo(3));
    }
}
