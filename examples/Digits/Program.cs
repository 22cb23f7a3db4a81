// The first example: a small MLP learns to read the built-in UCI 8x8 handwritten digits (1,797 images, no download).
//   dotnet run --project examples/Digits -c Release
// It trains for a few seconds, prints loss and test accuracy per epoch, and writes model.safetensors and digits-curves.png.
using System.Diagnostics;
using Ember;
using Ember.Data;
using Ember.Examples;
using Ember.NN;
using Ember.Optim;
using Ember.Serialization;
using Ember.Visualization;

var args_ = new Args(args, "Digits: an MLP (64-128-128-10, ReLU, dropout, Adam with cosine learning-rate decay) on the built-in 8x8 handwritten digits.");
int epochs = args_.Int("epochs", 40, "training epochs");
int batchSize = args_.Int("batch-size", 32, "mini-batch size");
double lr = args_.Double("lr", 1e-3, "Adam learning rate");
int hidden = args_.Int("hidden", 128, "hidden units per layer");
double dropout = args_.Double("dropout", 0.2, "dropout probability after each hidden layer");
int seed = args_.Int("seed", 0, "random seed (split, initialization, shuffling)");
int workers = args_.Int("workers", 0, "DataLoader background workers");
string outDir = args_.Get("out", Path.Combine("runs", "digits"), "folder for model.safetensors and digits-curves.png");
bool progress = !args_.Flag("no-progress", "no progress bar");
if (args_.PrintHelpIfAsked()) return;

Tensor.ManualSeed(seed);
var clock = Stopwatch.StartNew();
var digits = Datasets.Digits();                       // features [1797, 64] in [0, 1], labels Int64
var split = Dataset.RandomSplit(digits, [0.8, 0.2], new Generator((ulong)seed));
// Standardize each pixel with the training images' mean and std (the test images are never looked at for this).
var trainPixels = digits.Data.IndexSelect(0, Tensor.FromArray(split[0].Indices.Select(i => (long)i).ToArray()));
var mean = trainPixels.Mean(0);
var std = trainPixels.Std([0]) + 0.1;                  // + 0.1: border pixels are almost always 0
var standardized = new TensorDataset((digits.Data - mean) / std, digits.Targets);
var train = new Subset<(Tensor Input, Tensor Target)>(standardized, split[0].Indices);
var test = new Subset<(Tensor Input, Tensor Target)>(standardized, split[1].Indices);
Console.WriteLine($"digits: {train.Count} training and {test.Count} test images of 8x8 pixels, 10 classes");

var model = Mlp(hidden, dropout);
Console.WriteLine(model);
var optimizer = new Adam(model.Parameters(), lr: lr);
var schedule = new CosineAnnealingLR(optimizer, tMax: epochs);       // the learning rate decays to 0 over the run
var loader = new DataLoader(train, batchSize: batchSize, shuffle: true, numWorkers: workers, generator: new Generator((ulong)seed + 1));
var testLoader = new DataLoader(test, batchSize: 512);
var curves = new TrainingCurves();

double accuracy = 0;
for (int epoch = 1; epoch <= epochs; epoch++)
{
    model.Train();
    double lossSum = 0; int seen = 0;
    using (var bar = new ProgressBar($"epoch {epoch}/{epochs}", loader.Count, enabled: progress ? null : false))
        foreach (var (x, y) in loader)
        {
            var loss = Functional.CrossEntropy(model.Forward(x), y);
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            lossSum += loss.Item() * x.Shape[0]; seen += (int)x.Shape[0];
            bar.Advance(status: $"loss {lossSum / seen:F4}");
        }
    schedule.Step();
    (double testLoss, accuracy) = Evaluate(model, testLoader);
    curves.Add("train loss", epoch, lossSum / seen);
    curves.Add("test loss", epoch, testLoss);
    curves.Add("test accuracy", epoch, accuracy);
    if (epoch == 1 || epoch % 5 == 0 || epoch == epochs)
        Console.WriteLine($"epoch {epoch,3}: train loss {lossSum / seen:F4}  test loss {testLoss:F4}  test accuracy {accuracy:P2}  ({clock.Elapsed.TotalSeconds:F1} s)");
}

Directory.CreateDirectory(outDir);
var modelPath = Path.Combine(outDir, "model.safetensors");
var curvesPath = Path.Combine(outDir, "digits-curves.png");
Safetensors.Save(modelPath, model.StateDict());
curves.SavePng(curvesPath, title: "Digits MLP");
Console.WriteLine($"test accuracy {accuracy:P2} after {epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s; wrote {modelPath} and {curvesPath}");

// The saved weights load back into the same architecture.
var reloaded = Mlp(hidden, dropout);
reloaded.LoadStateDict(Safetensors.Load(modelPath));
Console.WriteLine($"reloaded model: test accuracy {Evaluate(reloaded, testLoader).Accuracy:P2}");

static Sequential Mlp(int hidden, double dropout) => new(
    new Linear(64, hidden), new ReLU(), new Dropout(dropout),
    new Linear(hidden, hidden), new ReLU(), new Dropout(dropout),
    new Linear(hidden, 10));

static (double Loss, double Accuracy) Evaluate(Module<Tensor, Tensor> model, DataLoader loader)
{
    model.Eval();
    double loss = 0, correct = 0; long n = 0;
    using (Autograd.NoGrad())
        foreach (var (x, y) in loader)
        {
            var logits = model.Forward(x);
            loss += Functional.CrossEntropy(logits, y, reduction: Reduction.Sum).Item();
            correct += logits.ArgMax(1).Eq(y).To(DType.Float32).Sum().Item();
            n += x.Shape[0];
        }
    model.Train();
    return (loss / n, correct / n);
}
