// Ember.Soak: a long-running training program that exercises everything a user's program does over hours, to catch
// crashes and memory growth that short tests miss (issue: "the CUDA test run crashes after ~590 tests").
//   dotnet run -c Release --project perf/Ember.Soak -- --device cuda --seconds 300 --csv soak.csv
// Per epoch over the built-in digits (a small CNN, DataLoader with background workers, AdamW): training steps on the
// device, evaluation under NoGrad, every 3rd epoch a checkpoint saved and loaded back (model + optimizer), every 4th
// epoch a round trip of the model to the CPU (evaluated there) and back, with the optimizer rebuilt from its state
// dict. Every epoch writes one CSV row: live device bytes after a full collection, reserved bytes, managed heap, RSS.
// Exit code 0 only if the run finished and neither live device memory nor the managed heap grew from the second quarter
// of the run to the last (a maximum more than 16 MiB above the second quarter's is a failure).
using System.Diagnostics;
using System.Globalization;
using Ember;
using Ember.Data;
using Ember.Ilgpu;
using Ember.NN;
using Ember.Optim;
using Ember.Serialization;

var opts = new Dictionary<string, string>();
for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
var device = Device.Parse(opts.GetValueOrDefault("device", "ilgpu-cpu"));
if (device.Type != DeviceType.Cpu) IlgpuBackend.Register();
double seconds = double.Parse(opts.GetValueOrDefault("seconds", "60"), CultureInfo.InvariantCulture);
int workers = int.Parse(opts.GetValueOrDefault("workers", "2"), CultureInfo.InvariantCulture);
string csvPath = opts.GetValueOrDefault("csv", "soak.csv");
string checkpointPath = Path.Combine(Path.GetTempPath(), $"ember-soak-{Environment.ProcessId}.safetensors");

Tensor.ManualSeed(0);
var digits = Datasets.Digits(flatten: false);                  // [1797, 1, 8, 8] in [0, 1]
var split = Dataset.RandomSplit(digits, [0.8, 0.2], new Generator(1));
var loader = new DataLoader(split[0], batchSize: 64, shuffle: true, numWorkers: workers, generator: new Generator(2));
var testLoader = new DataLoader(split[1], batchSize: 256, numWorkers: workers);

Module<Tensor, Tensor> model = Cnn().To(device) as Module<Tensor, Tensor> ?? throw new InvalidOperationException();
var optimizer = new AdamW(model.Parameters(), lr: 2e-3);
var allocator = device.Type == DeviceType.Cpu ? null : IlgpuBackend.Open(device).Allocator;

using var csv = new StreamWriter(csvPath);
csv.WriteLine("epoch,seconds,steps,train_loss,test_accuracy,live_device_bytes,reserved_device_bytes,managed_heap_bytes,rss_bytes");
var clock = Stopwatch.StartNew();
var samples = new List<(double Seconds, long Device, long Heap)>();
long steps = 0;
int epoch = 0;
while (clock.Elapsed.TotalSeconds < seconds)
{
    epoch++;
    model.Train();
    double lossSum = 0; int batches = 0;
    foreach (var (x, y) in loader)
    {
        var loss = Functional.CrossEntropy(model.Forward(x.To(device)), y.To(device));
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();
        lossSum += loss.Item(); batches++; steps++;
    }
    double accuracy = Evaluate(model, testLoader, device);
    if (epoch % 3 == 0)
    {
        Checkpoint.Save(checkpointPath, model, optimizer, step: steps);
        var info = Checkpoint.Load(checkpointPath, model, optimizer);
        if (info.Step != steps) throw new InvalidOperationException($"soak: checkpoint step {info.Step} != {steps}");
    }
    if (epoch % 4 == 0)
    {
        var state = optimizer.StateDict();
        model.To(Device.Cpu);
        double cpuAccuracy = Evaluate(model, testLoader, Device.Cpu);
        if (Math.Abs(cpuAccuracy - accuracy) > 0.02)
            throw new InvalidOperationException($"soak: accuracy {accuracy:P2} on {device} but {cpuAccuracy:P2} on cpu");
        model.To(device);
        optimizer = new AdamW(model.Parameters(), lr: 2e-3);   // Module.To makes new parameter tensors
        optimizer.LoadStateDict(state);
    }
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    allocator?.ReclaimFinalized();
    long live = allocator?.MemoryAllocated ?? 0, reserved = allocator?.MemoryReserved ?? 0;
    long heap = GC.GetTotalMemory(false), rss = Environment.WorkingSet;
    double t = clock.Elapsed.TotalSeconds;
    samples.Add((t, live, heap));
    csv.WriteLine(string.Join(',', epoch, t.ToString("F1", CultureInfo.InvariantCulture), steps,
        (lossSum / batches).ToString("F4", CultureInfo.InvariantCulture), accuracy.ToString("F4", CultureInfo.InvariantCulture),
        live, reserved, heap, rss));
    csv.Flush();
    if (epoch == 1 || epoch % 20 == 0)
        Console.WriteLine($"epoch {epoch}: {t:F0} s, {steps} steps, loss {lossSum / batches:F4}, test accuracy {accuracy:P2}, " +
                          $"live {live / 1048576.0:F1} MiB, reserved {reserved / 1048576.0:F1} MiB, heap {heap / 1048576.0:F1} MiB, rss {rss / 1048576.0:F0} MiB");
}
File.Delete(checkpointPath);

// Growth: the last quarter of the run against the second (the first is warm-up: the CPU memory pool and the device
// allocator fill their caches to a plateau there).
double end = clock.Elapsed.TotalSeconds;
var second = samples.Where(s => s.Seconds > end / 4 && s.Seconds <= end / 2).DefaultIfEmpty(samples[0]).ToList();
var last = samples.Where(s => s.Seconds > 3 * end / 4).DefaultIfEmpty(samples[^1]).ToList();
long deviceGrowth = last.Max(s => s.Device) - second.Max(s => s.Device);
long heapGrowth = last.Max(s => s.Heap) - second.Max(s => s.Heap);
const long Allowed = 16L << 20;
Console.WriteLine($"soak: {epoch} epochs, {steps} steps in {clock.Elapsed.TotalSeconds:F0} s on {device}; live device memory " +
                  $"growth {deviceGrowth / 1048576.0:F2} MiB, managed heap growth {heapGrowth / 1048576.0:F2} MiB (allowed {Allowed >> 20} MiB)");
return deviceGrowth > Allowed || heapGrowth > Allowed ? 1 : 0;

static Sequential Cnn() => new(
    new Conv2d(1, 16, 3, padding: 1), new ReLU(), new MaxPool2d(2),
    new Conv2d(16, 32, 3, padding: 1), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(32 * 2 * 2, 64), new ReLU(), new Linear(64, 10));

static double Evaluate(Module<Tensor, Tensor> model, DataLoader loader, Device device)
{
    model.Eval();
    long correct = 0, total = 0;
    using (Autograd.NoGrad())
        foreach (var (x, y) in loader)
        {
            var predicted = model.Forward(x.To(device)).ArgMax(1).To(Device.Cpu);
            correct += (long)predicted.Eq(y).Sum().Item();
            total += y.Shape[0];
        }
    model.Train();
    return (double)correct / total;
}
