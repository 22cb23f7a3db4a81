// A bounded load test of examples/Serve on localhost: for each mode (dynamic batching on, off), start the server, check
// that it answers a probe the same way as in the first mode, then run C concurrent clients that each POST one instance
// at a time for D seconds, and report throughput and latency percentiles measured by the clients.
//   dotnet build examples/Serve -c Release && dotnet run --project perf/ServeLoad -c Release -- --seconds 10 --concurrency 32
// Options: --seconds, --warmup, --concurrency, --hidden (the served MLP's width), --port, --server (path to Serve.dll).
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

var opts = args.Select((v, i) => (v, i)).Where(t => t.v.StartsWith("--", StringComparison.Ordinal))
               .ToDictionary(t => t.v[2..], t => t.i + 1 < args.Length ? args[t.i + 1] : "");
string Opt(string name, string d) => opts.TryGetValue(name, out var v) ? v : d;
string server = Opt("server", Path.Combine("examples", "Serve", "bin", "Release", "net10.0", "Serve.dll"));
int concurrency = int.Parse(Opt("concurrency", "32"), CultureInfo.InvariantCulture);
double seconds = double.Parse(Opt("seconds", "10"), CultureInfo.InvariantCulture);
double warmup = double.Parse(Opt("warmup", "2"), CultureInfo.InvariantCulture);
int port = int.Parse(Opt("port", "5091"), CultureInfo.InvariantCulture);
string hidden = Opt("hidden", "128");
if (!File.Exists(server)) { Console.Error.WriteLine($"{server} not found: build examples/Serve -c Release first"); return 1; }

var modes = new (string Name, int MaxBatch, double WaitMs)[] { ("batching (max 32, 2 ms)", 32, 2), ("no batching", 1, 0) };
var rng = new Random(1);
string Instance() => "{\"instances\":[[" + string.Join(",", Enumerable.Range(0, 64).Select(_ => (rng.NextDouble() * 16).ToString("F2", CultureInfo.InvariantCulture))) + "]]}";
var bodies = Enumerable.Range(0, 256).Select(_ => Instance()).ToArray();
string probe = bodies[0];
string? reference = null;
var rows = new List<string>();

foreach (var (name, maxBatch, waitMs) in modes)
{
    var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var s in new[] { server, "--urls", $"http://127.0.0.1:{port}", "--max-batch", maxBatch.ToString(CultureInfo.InvariantCulture),
                              "--max-wait-ms", waitMs.ToString(CultureInfo.InvariantCulture), "--hidden", hidden })
        psi.ArgumentList.Add(s);
    using var proc = Process.Start(psi)!;
    proc.OutputDataReceived += (_, _) => { }; proc.ErrorDataReceived += (_, e) => { if (e.Data != null) Console.Error.WriteLine(e.Data); };
    proc.BeginOutputReadLine(); proc.BeginErrorReadLine();
    try
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var up = Stopwatch.StartNew();
        while (true)
        {
            try { if ((await http.GetAsync("/health")).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
            if (up.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the server did not start in 30 s");
            await Task.Delay(200);
        }
        string answer = await Post(http, probe);
        // The same weights (seeded) and input must give the same probabilities whether the forward pass is batched or not
        // (up to float rounding of a different GEMM blocking).
        reference ??= answer;
        double diff = MaxDiff(reference, answer);
        if (diff > 1e-5) throw new InvalidOperationException($"{name}: the probe's answer differs from the first mode's by {diff}");

        var latencies = new List<double>[concurrency];
        long errors = 0;
        async Task Client(int id, TimeSpan duration, bool record)
        {
            var list = latencies[id] = [];
            var clock = Stopwatch.StartNew();
            int k = id;
            while (clock.Elapsed < duration)
            {
                long t0 = Stopwatch.GetTimestamp();
                try { await Post(http, bodies[k++ % bodies.Length]); }
                catch (HttpRequestException) { Interlocked.Increment(ref errors); continue; }
                if (record) list.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => Client(i, TimeSpan.FromSeconds(warmup), false)));
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => Client(i, TimeSpan.FromSeconds(seconds), true)));
        double elapsed = wall.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double P(double q) => all[(int)Math.Min(all.Length - 1, Math.Floor(q * all.Length))];
        string metrics = await http.GetStringAsync("/metrics");
        double meanBatch = double.Parse(Regex.Match(metrics, @"ember_batch_size_mean (\S+)").Groups[1].Value, CultureInfo.InvariantCulture);
        rows.Add(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {concurrency} | {all.Length} | {all.Length / elapsed:F0} | {P(0.5):F2} | {P(0.99):F2} | {meanBatch:F1} | {errors} |"));
    }
    finally
    {
        proc.Kill(entireProcessTree: true);
        await proc.WaitForExitAsync();
    }
}
Console.WriteLine($"{seconds} s per mode after {warmup} s of warm-up; one instance (64 features) per request; MLP 64-{hidden}-{hidden}-10 on the CPU.");
Console.WriteLine("| mode | clients | requests | requests/s | p50 ms | p99 ms | mean batch | errors |");
Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
foreach (var r in rows) Console.WriteLine(r);
return 0;

static async Task<string> Post(HttpClient http, string body)
{
    using var content = new StringContent(body, Encoding.UTF8);
    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    using var response = await http.PostAsync("/predict", content);
    string text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{(int)response.StatusCode}: {text}");
    return text;
}

static double MaxDiff(string a, string b)
{
    static double[] Numbers(string s) => Regex.Matches(s, @"-?\d+(\.\d+)?([eE][-+]?\d+)?").Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture)).ToArray();
    var x = Numbers(a); var y = Numbers(b);
    return x.Length != y.Length ? double.PositiveInfinity : x.Zip(y, (p, q) => Math.Abs(p - q)).DefaultIfEmpty(0).Max();
}
