using System.Text.Json.Nodes;
using Ember.NN;
using Ember.Optim;
using Ember.Serialization;

namespace Ember.Hardening.Tests;

/// <summary>Checkpoint.Load validates the whole file against the model, optimizer and scheduler, then applies it: a failure leaves everything untouched.</summary>
public class CheckpointLoadTests
{
    private FileBytes.TempDir dir = null!;
    private int savedEpoch;

    [SetUp]
    public void SetUp() => dir = new FileBytes.TempDir();

    [TearDown]
    public void TearDown() => dir.Dispose();

    private static Sequential NewModel() => new(new Linear(3, 4), new ReLU(), new Linear(4, 2));

    private string SaveTrained()
    {
        var model = NewModel();
        var opt = new Adam(model.Parameters(), lr: 0.1);
        var sched = new StepLR(opt, 2, 0.5);
        opt.ZeroGrad();
        model.Forward(Tensor.Randn(5, 3)).Square().Sum().Backward();
        opt.Step(); sched.Step();
        savedEpoch = sched.LastEpoch;
        var path = Path.Combine(dir.Path, "ckpt.safetensors");
        Checkpoint.Save(path, model, opt, sched, step: 7, new Dictionary<string, string> { ["note"] = "hi" });
        return path;
    }

    private static Dictionary<string, float[]> Snapshot(Module m) => m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());

    [Test]
    public void OptimizerMismatchLeavesTheModelUntouched()
    {
        var path = SaveTrained();
        var model = NewModel();
        var before = Snapshot(model);
        var opt = new Adam(model.Parameters().Take(2), lr: 0.1);   // a group of 2 parameters, the file has 4
        var ex = Assert.Throws<ArgumentException>(() => Checkpoint.Load(path, model, opt));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("\"optimizer\""));
        Assert.That(Snapshot(model), Is.EqualTo(before));
        Assert.That(opt.GetState(model.Parameters().First()), Is.Empty);
    }

    [Test]
    public void SchedulerMismatchLeavesModelAndOptimizerUntouched()
    {
        var path = SaveTrained();
        var (md, tensors) = Read(path);
        var meta = JsonNode.Parse(md["ember"])!.AsObject();
        meta["scheduler"]!["last_epoch"] = "not a number";
        md["ember"] = meta.ToJsonString();
        Safetensors.Save(path, tensors, md);
        var model = NewModel();
        var before = Snapshot(model);
        var opt = new Adam(model.Parameters(), lr: 0.1);
        var sched = new StepLR(opt, 2, 0.5);
        var rng = Random.Default.GetState();
        int epoch = sched.LastEpoch;
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, model, opt, sched));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("scheduler"));
        Assert.That(Snapshot(model), Is.EqualTo(before));
        Assert.That(opt.GetState(model.Parameters().First()), Is.Empty);
        Assert.That(Random.Default.GetState(), Is.EqualTo(rng));
        Assert.That(sched.LastEpoch, Is.EqualTo(epoch));
    }

    private static (Dictionary<string, string>, OrderedDictionary<string, Tensor>) Read(string path)
    {
        var t = Safetensors.Load(path, out var md);
        return (md, t);
    }

    [TestCase("step", "\"abc\"", typeof(InvalidDataException))]
    [TestCase("step", "1.5", typeof(InvalidDataException))]
    [TestCase("rng", "{\"seed\":5,\"offset\":\"0\"}", typeof(InvalidDataException))]
    [TestCase("rng", "{\"seed\":\"x\",\"offset\":\"0\"}", typeof(InvalidDataException))]
    [TestCase("rng", "[1]", typeof(InvalidDataException))]
    [TestCase("user", "{\"a\":1}", typeof(InvalidDataException))]
    [TestCase("user", "[1]", typeof(InvalidDataException))]
    [TestCase("optimizer", "[{\"Lr\":\"x\",\"params\":[0,1,2,3]}]", typeof(ArgumentException))]
    [TestCase("optimizer", "[{\"Lr\":-1,\"params\":[0,1,2,3]}]", typeof(ArgumentException))]
    [TestCase("optimizer", "[{}]", typeof(ArgumentException))]
    [TestCase("optimizer", "{}", typeof(InvalidDataException))]
    [TestCase("optimizer", "[null]", typeof(ArgumentException))]
    [TestCase("scheduler", "{\"last_epoch\":1}", typeof(InvalidDataException))]
    [TestCase("scheduler", "{\"last_epoch\":1,\"base_lrs\":[\"a\"],\"_last_lr\":[0.1]}", typeof(InvalidDataException))]
    public void BadMetadataNamesFileAndKeyAndChangesNothing(string key, string badJson, Type expected)
    {
        var path = SaveTrained();
        var (md, tensors) = Read(path);
        var meta = JsonNode.Parse(md["ember"])!.AsObject();
        meta[key] = JsonNode.Parse(badJson);
        md["ember"] = meta.ToJsonString();
        Safetensors.Save(path, tensors, md);

        var model = NewModel();
        var before = Snapshot(model);
        var opt = new Adam(model.Parameters(), lr: 0.1);
        var sched = new StepLR(opt, 2, 0.5);
        var rng = Random.Default.GetState();
        var ex = Assert.Throws(expected, () => Checkpoint.Load(path, model, opt, sched));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain($"\"{key}\""));
        Assert.That(Snapshot(model), Is.EqualTo(before));
        Assert.That(opt.GetState(model.Parameters().First()), Is.Empty);
        Assert.That(opt.ParamGroups[0].Options.Lr, Is.EqualTo(0.1));
        Assert.That(Random.Default.GetState(), Is.EqualTo(rng));
    }

    [TestCase("null")]
    [TestCase("[]")]
    [TestCase("{")]
    public void MetadataThatIsNotAnObjectIsInvalidData(string json)
    {
        var path = SaveTrained();
        var (md, tensors) = Read(path);
        md["ember"] = json;
        Safetensors.Save(path, tensors, md);
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, NewModel()));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("\"ember\""));
    }

    [Test]
    public void ValidCheckpointStillLoads()
    {
        var path = SaveTrained();
        var model = NewModel();
        var opt = new Adam(model.Parameters(), lr: 0.5);
        var sched = new StepLR(opt, 2, 0.5);
        var info = Checkpoint.Load(path, model, opt, sched);
        Assert.That(info.Step, Is.EqualTo(7));
        Assert.That(info.Metadata["note"], Is.EqualTo("hi"));
        Assert.That(opt.ParamGroups[0].Options.Lr, Is.EqualTo(0.1));
        Assert.That(opt.GetState(model.Parameters().First()), Is.Not.Empty);
        Assert.That(sched.LastEpoch, Is.EqualTo(savedEpoch));
    }
}
