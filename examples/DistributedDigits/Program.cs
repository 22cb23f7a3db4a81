// Data-parallel training of the Digits MLP on any number of processes. The same program runs alone or under mpirun:
//   dotnet run --project examples/DistributedDigits -c Release
//   mpirun -np 2 dotnet run --project examples/DistributedDigits -c Release          (add --allow-run-as-root as root)
//   mpirun -H host1:2,host2:2 dotnet examples/DistributedDigits/bin/Release/net10.0/DistributedDigits.dll   (several hosts)
// Each rank trains on its own shard of every epoch (DistributedSampler); DistributedDataParallel averages the gradients,
// so the replicas stay identical. Only rank 0 prints and writes the checkpoint; every rank resumes from it (--resume).
using System.Diagnostics;
using Ember;
using Ember.Data;
using Ember.Examples;
using Ember.NN;
using Ember.Optim;
using Ember.Serialization;

var args_ = new Args(args, "DistributedDigits: the Digits MLP trained with DistributedDataParallel on every process mpirun started.");
int epochs = args_.Int("epochs", 30, "training epochs");
int batchSize = args_.Int("batch-size", 32, "mini-batch size per process (the global batch is this × processes)");
double lr = args_.Double("lr", 1e-3, "Adam learning rate");
int seed = args_.Int("seed", 0, "random seed (split, initialization, shuffling)");
string outDir = args_.Get("out", ".", "folder for checkpoint.safetensors");
bool resume = args_.Flag("resume", "continue from checkpoint.safetensors in --out");
if (args_.PrintHelpIfAsked()) return;

var world = Distributed.InitProcessGroup("auto");
int rank = world.Rank, size = world.Size;
void Log(string line) { if (rank == 0) Console.WriteLine(line); }

// Every rank builds the same split (same seed); the model's initialization is broadcast from rank 0 by DDP.
Ember.Random.Seed(seed);
var clock = Stopwatch.StartNew();
var digits = Datasets.Digits();
var split = Dataset.RandomSplit(digits, [0.8, 0.2], new Generator((ulong)seed));
var trainPixels = digits.Data.IndexSelect(0, Tensor.FromArray(split[0].Indices.Select(i => (long)i).ToArray()));
var mean = trainPixels.Mean(0);
var std = trainPixels.Std([0]) + 0.1;
var standardized = new TensorDataset((digits.Data - mean) / std, digits.Targets);
var train = new Subset<(Tensor Input, Tensor Target)>(standardized, split[0].Indices);
var test = new Subset<(Tensor Input, Tensor Target)>(standardized, split[1].Indices);
Log($"{size} process(es); digits: {train.Count} training images ({(train.Count + size - 1) / size} per process per epoch), {test.Count} test images");

var model = new Sequential(new Linear(64, 128), new ReLU(), new Dropout(0.2), new Linear(128, 128), new ReLU(), new Dropout(0.2), new Linear(128, 10));
var ddp = new DistributedDataParallel(model);
var optimizer = new Adam(ddp.Parameters(), lr: lr);
var schedule = new CosineAnnealingLR(optimizer, tMax: epochs);
var checkpointPath = Path.Combine(outDir, "checkpoint.safetensors");
int firstEpoch = 1;
if (resume && File.Exists(checkpointPath))
{
    // Every rank reads the same file: model, optimizer and scheduler state; the state dict keys are the plain model's.
    var info = Checkpoint.Load(checkpointPath, ddp, optimizer, schedule, restoreRng: false);
    firstEpoch = (int)info.Step + 1;
    Log($"resumed from {checkpointPath} after epoch {info.Step}");
}

var sampler = new DistributedSampler(train.Count, numReplicas: size, rank: rank, shuffle: true, seed: (ulong)seed);
var loader = new DataLoader(train, batchSize: batchSize, sampler: sampler);
var testLoader = new DataLoader(test, batchSize: 512);
Ember.Random.Seed(seed + 1000 + rank);   // dropout masks differ between ranks, as they would for different examples

double accuracy = 0;
for (int epoch = firstEpoch; epoch <= epochs; epoch++)
{
    sampler.SetEpoch(epoch);                // a new shuffle each epoch, the same on every rank
    ddp.Train();
    var totals = Tensor.Zeros([2], DType.Float64);   // Σ loss·n and n over this rank's batches
    foreach (var (x, y) in loader)
    {
        var loss = Functional.CrossEntropy(ddp.Forward(x), y);
        optimizer.ZeroGrad();
        loss.Backward();                    // gradients are averaged over the ranks when this returns
        optimizer.Step();
        totals += Tensor.FromArray(new[] { loss.Item() * x.Shape[0], (double)x.Shape[0] }, 2);
    }
    world.AllReduce(totals);                // the global mean training loss
    schedule.Step();
    var t = totals.ToArray<double>();
    if (rank == 0)
    {
        accuracy = Evaluate(model, testLoader);
        Checkpoint.Save(checkpointPath, ddp, optimizer, schedule, step: epoch);
        if (epoch == firstEpoch || epoch % 5 == 0 || epoch == epochs)
            Console.WriteLine($"epoch {epoch,3}: train loss {t[0] / t[1]:F4}  test accuracy {accuracy:P2}  ({clock.Elapsed.TotalSeconds:F1} s)");
    }
}
Log($"test accuracy {accuracy:P2} after {epochs} epochs on {size} process(es) in {clock.Elapsed.TotalSeconds:F1} s; checkpoint {checkpointPath}");
Distributed.DestroyProcessGroup();

static double Evaluate(Module<Tensor, Tensor> model, DataLoader loader)
{
    model.Eval();
    double correct = 0; long n = 0;
    using (Autograd.NoGrad())
        foreach (var (x, y) in loader)
        {
            correct += model.Forward(x).ArgMax(1).Eq(y).To(DType.Float32).Sum().Item();
            n += x.Shape[0];
        }
    model.Train();
    return correct / n;
}
