// A small CNN on Fashion-MNIST (60,000 + 10,000 grayscale 28x28 images of clothing, 10 classes).
//   apt-get install dataset-fashion-mnist          # puts the IDX files under /usr/share/datasets/fashion-mnist
//   dotnet run --project examples/FashionMnist -c Release [-- --epochs 2 --device cuda --amp bf16]
// The network is DESIGN.md's cnn_train_step workload adapted to 1x28x28 inputs:
// conv3x3(1->32)+BN+ReLU+maxpool2, conv3x3(32->64)+BN+ReLU+maxpool2, flatten, linear 3136->256, ReLU, linear 256->10.
using System.Diagnostics;
using Ember;
using Ember.Amp;
using Ember.Data;
using Ember.Examples;
using Ember.NN;
using Ember.Optim;
using Ember.Serialization;
using Ember.Visualization;

var a = new Args(args, "FashionMnist: a two-block CNN (conv, batch norm, ReLU, max-pool) on Fashion-MNIST.");
string data = a.Get("data", Datasets.FashionMnistDefaultRoot, "folder with the four IDX files (raw or .gz)");
int epochs = a.Int("epochs", 2, "training epochs");
int batchSize = a.Int("batch-size", 64, "mini-batch size");
double lr = a.Double("lr", 1e-3, "Adam learning rate");
int limit = a.Int("limit", 0, "use only the first N training images (0: all)");
int workers = a.Int("workers", 1, "DataLoader background workers");
int seed = a.Int("seed", 0, "random seed");
string deviceName = a.Get("device", "cpu", "cpu, cuda[:N], opencl[:N], ilgpu-cpu or best");
bool augment = a.Flag("augment", "random crops (padding 2) and horizontal flips while training");
string outDir = a.Get("out", Path.Combine("runs", "fashion-mnist"), "folder for fashion-mnist.safetensors and fashion-mnist-curves.png");
bool progress = !a.Flag("no-progress", "no progress bar");
DType? amp = a.Amp();
if (a.PrintHelpIfAsked()) return;

Tensor.ManualSeed(seed);
var device = Args.ResolveDevice(deviceName);
var clock = Stopwatch.StartNew();
TensorDataset train, test;
try
{
    train = Datasets.FashionMnist(data, train: true, limit: limit > 0 ? limit : null);
    test = Datasets.FashionMnist(data, train: false);
}
catch (FileNotFoundException e) { Console.Error.WriteLine(e.Message); Environment.Exit(2); return; }
Console.WriteLine($"fashion-mnist: {train.Count} training and {test.Count} test images, device {device}, loaded in {clock.Elapsed.TotalSeconds:F1} s");

// Normalization with the training set's mean and std (about 0.286 and 0.353).
var normalize = new Normalize([0.2860], [0.3530]);
Transform trainTransform = augment ? new Compose(new RandomCrop(28, padding: 2), new RandomHorizontalFlip(), normalize) : normalize;
// Without augmentation the whole set is normalized once ([N, 1, 28, 28] at a time); with it, per image in the loader's workers.
Dataset<(Tensor Input, Tensor Target)> trainSet = augment
    ? train.Map(p => (trainTransform.Apply(p.Input), p.Target))
    : new TensorDataset(normalize.Apply(train.Data), train.Targets);
var testSet = new TensorDataset(normalize.Apply(test.Data), test.Targets);

var model = new Sequential(
    new Conv2d(1, 32, kernelSize: 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
    new Conv2d(32, 64, kernelSize: 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
    new Flatten(),
    new Linear(64 * 7 * 7, 256), new ReLU(),
    new Linear(256, 10));
model.To(device);
Console.WriteLine(model);
var optimizer = new Adam(model.Parameters(), lr: lr);
var loader = new DataLoader(trainSet, batchSize: batchSize, shuffle: true, numWorkers: workers, generator: new Generator((ulong)seed + 1));
var testLoader = new DataLoader(testSet, batchSize: 500, numWorkers: workers);
var curves = new TrainingCurves();
// Mixed precision (--amp): the forward pass under autocast, float32 master weights; float16 also scales the loss
// (a GradScaler that is disabled for bf16 and float32 passes everything through).
var scaler = new GradScaler(enabled: amp == DType.Float16);
if (amp is { } ampDType) Console.WriteLine($"mixed precision: autocast {ampDType} on {device.Type}");

double accuracy = 0;
for (int epoch = 1; epoch <= epochs; epoch++)
{
    model.Train();
    double lossSum = 0; long seen = 0;
    var epochClock = Stopwatch.StartNew();
    using (var bar = new ProgressBar($"epoch {epoch}/{epochs}", loader.Count, enabled: progress ? null : false))
        foreach (var (x, y) in loader)
        {
            Tensor loss;
            using (amp is { } lowp ? Autocast.Enable(device, lowp) : null)
                loss = Functional.CrossEntropy(model.Forward(x.To(device)), y.To(device));
            optimizer.ZeroGrad();
            scaler.Scale(loss).Backward();
            scaler.Step(optimizer);
            scaler.Update();
            lossSum += loss.Item() * x.Shape[0]; seen += x.Shape[0];
            bar.Advance(status: $"loss {lossSum / seen:F4}");
        }
    (double testLoss, accuracy) = Evaluate(model, testLoader, device, amp);
    curves.Add("train loss", epoch, lossSum / seen);
    curves.Add("test loss", epoch, testLoss);
    curves.Add("test accuracy", epoch, accuracy);
    Console.WriteLine($"epoch {epoch}: train loss {lossSum / seen:F4}  test loss {testLoss:F4}  test accuracy {accuracy:P2}  ({seen / epochClock.Elapsed.TotalSeconds:F0} images/s)");
}

Directory.CreateDirectory(outDir);
Safetensors.Save(Path.Combine(outDir, "fashion-mnist.safetensors"), model.StateDict());
curves.SavePng(Path.Combine(outDir, "fashion-mnist-curves.png"), title: "Fashion-MNIST CNN");
Console.WriteLine($"test accuracy {accuracy:P2} after {epochs} epochs in {clock.Elapsed.TotalSeconds:F0} s; wrote fashion-mnist.safetensors and fashion-mnist-curves.png to {Path.GetFullPath(outDir)}");

static (double Loss, double Accuracy) Evaluate(Module<Tensor, Tensor> model, DataLoader loader, Device device, DType? amp)
{
    model.Eval();
    double loss = 0, correct = 0; long n = 0;
    using (Autograd.NoGrad())
    using (amp is { } lowp ? Autocast.Enable(device, lowp) : null)
        foreach (var (x, y) in loader)
        {
            var logits = model.Forward(x.To(device));
            var target = y.To(device);
            loss += Functional.CrossEntropy(logits, target, reduction: Reduction.Sum).Item();
            correct += logits.ArgMax(1).Eq(target).To(DType.Float32).Sum().Item();
            n += x.Shape[0];
        }
    model.Train();
    return (loss / n, correct / n);
}
