using System.Runtime.InteropServices;
using Ember.Comm;
using Ember.NN;

namespace Ember.Tests.Distributed;

/// <summary>Without a launcher the process is a world of one: the same script runs alone and every collective is the identity.</summary>
[TestFixture]
[NonParallelizable]
public class WorldOfOneTests
{
    [SetUp]
    public void Init()
    {
        Assert.That(Ember.Distributed.IsLaunched, Is.False, "the test runner itself must not run under mpirun");
        Ember.Distributed.InitProcessGroup("auto");
    }

    [TearDown]
    public void Destroy() => Ember.Distributed.DestroyProcessGroup();

    [Test]
    public void CollectivesAreTheIdentity()
    {
        var g = Ember.Distributed.World;
        Assert.That((g.Rank, g.Size, Ember.Distributed.Rank, Ember.Distributed.WorldSize), Is.EqualTo((0, 1, 0, 1)));
        var t = Tensor.FromArray(new[] { 1.5, -2, 3 }, 3);
        foreach (var op in Enum.GetValues<Ember.Distributed.ReduceOp>())
        {
            g.AllReduce(t, op);
            Assert.That(t.ToArray<double>(), Is.EqualTo(new[] { 1.5, -2, 3 }), op.ToString());
        }
        var outs = new List<Tensor> { Tensor.Zeros([3], DType.Float64) };
        g.AllGather(outs, t);
        Assert.That(outs[0].ToArray<double>(), Is.EqualTo(t.ToArray<double>()));
        var red = Tensor.Zeros([3], DType.Float64);
        g.ReduceScatterTensorAsync(red, t).Wait();
        Assert.That(red.ToArray<double>(), Is.EqualTo(t.ToArray<double>()));
        g.Barrier();
        Assert.That(() => g.Send(t, 0), Throws.ArgumentException.With.Message.Contains("should not be the same as the rank"));
    }

    [Test]
    public void InitTwiceAndUnknownBackendAreRejected()
    {
        Assert.That(() => Ember.Distributed.InitProcessGroup(), Throws.InvalidOperationException.With.Message.Contains("twice"));
        Assert.That(() => Ember.Distributed.InitProcessGroup("gloo"), Throws.ArgumentException.With.Message.Contains("unknown backend \"gloo\""));
    }

    [Test]
    public void DataParallelOfOneLeavesGradientsAndKeysAsTheyAre()
    {
        Ember.Random.Seed(1);
        var model = new Sequential(new Linear(3, 4, dtype: DType.Float64), new Tanh(), new Linear(4, 2, dtype: DType.Float64));
        Ember.Random.Seed(1);
        var plain = new Sequential(new Linear(3, 4, dtype: DType.Float64), new Tanh(), new Linear(4, 2, dtype: DType.Float64));
        var ddp = new DistributedDataParallel(model, bucketCapMb: 0.0001);
        var x = Tensor.FromArray(Enumerable.Range(0, 6).Select(i => i * 0.3 - 1).ToArray(), 2, 3);
        ddp.Forward(x).Square().Sum().Backward();
        plain.Forward(x).Square().Sum().Backward();
        Assert.That(ddp.StateDict().Keys, Is.EqualTo(plain.StateDict().Keys));
        foreach (var ((name, p), (_, q)) in ddp.NamedParameters().Zip(plain.NamedParameters()))
            Assert.That(p.Grad!.ToArray<double>(), Is.EqualTo(q.Grad!.ToArray<double>()), name);
        Assert.That(ddp.BucketCount, Is.GreaterThan(1));
    }

    [Test]
    public void NcclIsLoadedOrNamedWhenMissing()
    {
        if (NativeLibrary.TryLoad(Nccl.LibraryName, out var h))
        {
            NativeLibrary.Free(h);
            Assert.DoesNotThrow(Nccl.Load);
        }
        else
            Assert.That(() => Nccl.Load(), Throws.TypeOf<DllNotFoundException>().With.Message.Contains("libnccl.so.2"));
    }

    [Test]
    public void NcclBackendRejectsHostTensorsBeforeCommunicating()
    {
        Ember.Distributed.DestroyProcessGroup();
        var g = Ember.Distributed.InitProcessGroup("nccl");
        Assert.That(() => g.AllReduce(Tensor.Ones(3)), Throws.ArgumentException.With.Message.Contains("the nccl backend supports CUDA tensors only"));
    }

    private sealed class Holder : Module<Tensor, Tensor>
    {
        public Holder() => RegisterModule("bn", new BatchNorm1d(3));
        public override Tensor Forward(Tensor x) => ((BatchNorm1d)GetModule("bn")!).Forward(x);
    }

    [Test]
    public void ConvertSyncBatchNormKeepsStateAndNamesUnreplaceableHolders()
    {
        Ember.Random.Seed(2);
        var bn = new BatchNorm1d(3, dtype: DType.Float64);
        var net = new Sequential(new Linear(4, 3, dtype: DType.Float64), bn);
        var x = Tensor.Randn([5, 4], DType.Float64);
        net.Forward(x);   // running statistics move away from their initial values
        var before = net.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        net.Eval();
        var expected = net.Forward(x).ToArray<double>();
        net.Train();
        var converted = (Sequential)SyncBatchNorm.ConvertSyncBatchNorm(net);
        Assert.That(converted[1], Is.TypeOf<SyncBatchNorm>());
        Assert.That(converted.StateDict().Keys, Is.EqualTo(before.Keys));
        foreach (var (k, v) in converted.StateDict())
            Assert.That(v.To(DType.Float64).ToArray<double>(), Is.EqualTo(before[k].To(DType.Float64).ToArray<double>()), k);
        converted.Eval();
        Assert.That(converted.Forward(x).ToArray<double>(), Is.EqualTo(expected).Within(1e-12));
        Assert.That(() => SyncBatchNorm.ConvertSyncBatchNorm(new Holder()),
            Throws.TypeOf<NotSupportedException>().With.Message.Contains("the BatchNorm at \"bn\" is held by Holder"));
    }
}
