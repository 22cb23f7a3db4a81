using Ember;
using Ember.NN;
using Ember.Optim;
using ReduceOp = Ember.Distributed.ReduceOp;

namespace DistributedWorker;

/// <summary>
/// Collectives and DDP on tensors of an ILGPU device, against their arithmetic and against one process on the
/// concatenated batch. "cuda" (the GPU machine, not CI): cuda:{local rank}, through NCCL under mpirun (through host
/// copies when started alone, a world of one). "ilgpu-cpu" (CI): through host copies over MPI.
/// </summary>
public static class DeviceCases
{
    private static double Value(int rank, long i) => CollectiveCases.Value(rank, i);

    public static void Run(CaseRunner run, ProcessGroup g, string deviceKind)
    {
        Ember.Ilgpu.IlgpuBackend.Register();
        var device = deviceKind == "cuda" ? Device.Cuda(Distributed.LocalRank) : Device.Parse(deviceKind);
        int n = g.Size, me = g.Rank;
        foreach (var dt in new[] { DType.Float32, DType.Int64 })
            foreach (bool nc in new[] { false, true })
            {
                string tag = $"{dt}/{(nc ? "noncontig" : "contig")}/{device}";
                long count = nc ? 35 : 1001;
                double[] Expect(Func<int, long, double> f, Func<double, double, double> op) =>
                    Enumerable.Range(0, (int)count).Select(i => Enumerable.Range(0, n).Select(r => f(r, i)).Aggregate(op)).ToArray();
                run.Case($"Device.AllReduce.Sum.{tag}", () =>
                {
                    var t = CollectiveCases.Make(dt, nc, i => Value(me, i), device);
                    g.AllReduce(t);
                    CaseRunner.Equal(Expect(Value, (x, y) => x + y), CollectiveCases.Values(t), "AllReduce");
                });
                run.Case($"Device.AllReduce.Max.Async.{tag}", () =>
                {
                    var t = CollectiveCases.Make(dt, nc, i => Value(me, i), device);
                    g.AllReduceAsync(t, ReduceOp.Max).Wait();
                    CaseRunner.Equal(Expect(Value, Math.Max), CollectiveCases.Values(t), "AllReduce.Max");
                });
                run.Case($"Device.Broadcast.{tag}", () =>
                {
                    var t = CollectiveCases.Make(dt, nc, i => Value(me, i), device);
                    g.Broadcast(t, n - 1);
                    CaseRunner.Equal(CollectiveCases.Values(CollectiveCases.Make(dt, nc, i => Value(n - 1, i))), CollectiveCases.Values(t), "Broadcast");
                });
                run.Case($"Device.AllGather.{tag}", () =>
                {
                    var outs = Enumerable.Range(0, n).Select(_ => CollectiveCases.Make(dt, nc, _ => -99, device)).ToList();
                    g.AllGather(outs, CollectiveCases.Make(dt, nc, i => Value(me, i), device));
                    for (int r = 0; r < n; r++)
                        CaseRunner.Equal(CollectiveCases.Values(CollectiveCases.Make(dt, nc, i => Value(r, i))), CollectiveCases.Values(outs[r]), $"AllGather[{r}]");
                });
                run.Case($"Device.GatherScatter.{tag}", () =>
                {
                    var list = me == 0 ? Enumerable.Range(0, n).Select(_ => CollectiveCases.Make(dt, nc, _ => -99, device)).ToList() : null;
                    g.Gather(CollectiveCases.Make(dt, nc, i => Value(me, i), device), list, 0);
                    var back = CollectiveCases.Make(dt, nc, _ => -99, device);
                    g.Scatter(back, list, 0);
                    CaseRunner.Equal(CollectiveCases.Values(CollectiveCases.Make(dt, nc, i => Value(me, i))), CollectiveCases.Values(back), "Gather+Scatter");
                });
            }
        run.Case($"Device.AllReduce.Avg.Float32/{device}", () =>
        {
            var t = Tensor.Full([257], me + 1.0, DType.Float32, device);
            g.AllReduce(t, ReduceOp.Avg);
            CaseRunner.Equal(Enumerable.Repeat((n + 1) / 2.0, 257).ToArray(), CollectiveCases.Values(t), "Avg");
        });
        run.Case($"Device.DistributedDataParallel.SGD/{device}", () =>
        {
            const int local = 8;
            Sequential Net(ulong seed)
            {
                Ember.Random.Seed(seed);
                var m = new Sequential(new Linear(10, 32), new Tanh(), new Linear(32, 4));
                m.To(device);
                return m;
            }
            var ddp = new DistributedDataParallel(Net(3 + (ulong)me), g, bucketCapMb: 0.001);
            var reference = Net(3);
            var o1 = new SGD(ddp.Parameters(), lr: 0.05, momentum: 0.9);
            var o2 = new SGD(reference.Parameters(), lr: 0.05, momentum: 0.9);
            for (int step = 0; step < 10; step++)
            {
                var gen = new Generator(50 + (ulong)step);
                var x = Tensor.Empty([n * local, 10]).Normal_(0, 1, gen).To(device);
                var y = Tensor.Empty([n * local, 4]).Normal_(0, 1, gen).To(device);
                o1.ZeroGrad();
                Functional.MseLoss(ddp.Forward(x.Narrow(0, me * local, local)), y.Narrow(0, me * local, local)).Backward();
                o1.Step();
                o2.ZeroGrad();
                Functional.MseLoss(reference.Forward(x), y).Backward();
                o2.Step();
            }
            var r = reference.StateDict();
            foreach (var (k, v) in ddp.StateDict())
                CaseRunner.Equal(r[k].Cpu().To(DType.Float64).ToArray<double>(), v.Cpu().To(DType.Float64).ToArray<double>(), k, tol: 1e-4);
        });
    }
}
