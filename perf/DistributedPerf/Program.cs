// Distributed benchmarks (rank 0 prints one line per measurement):
//   mpirun -np 2 dotnet DistributedPerf.dll mlp [steps]        DDP mlp_train_step: 784-1024-1024-10, ReLU, batch 256 per rank, CE, SGD momentum 0.9
//   mpirun -np 2 dotnet DistributedPerf.dll mlp-plain [steps]  the same step without DDP in each process
//   mpirun -np 2 dotnet DistributedPerf.dll allreduce [MB...]  float32 all-reduce (sum) bandwidth (allreduce-async: the non-blocking form)
// Times are medians over repeats, each repeat fenced by barriers; perf/ddp_gloo.py measures the same in PyTorch.
using System.Diagnostics;
using Ember;
using Ember.NN;
using Ember.Optim;

var world = Distributed.InitProcessGroup("mpi");
string mode = args.Length > 0 ? args[0] : "mlp";
if (mode is "mlp" or "mlp-plain") Mlp(world, args.Length > 1 ? int.Parse(args[1]) : 30, ddp: mode == "mlp");
else AllReduce(world, args.Length > 1 ? args.Skip(1).Select(int.Parse).ToArray() : [1, 4, 16, 64, 256], async: mode == "allreduce-async");
Distributed.DestroyProcessGroup();

static void Mlp(ProcessGroup g, int steps, bool ddp)
{
    Ember.Random.Seed(0);
    var model = new Sequential(new Linear(784, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 10));
    // mlp-plain: the same step without DDP in each process (the compute the DDP step contains).
    Module<Tensor, Tensor> net = ddp ? new DistributedDataParallel(model) : model;
    var opt = new SGD(net.Parameters(), lr: 0.01, momentum: 0.9);
    var x = Tensor.Randn([256, 784]);
    var y = Tensor.RandInt(0, 10, [256]);
    var times = new List<double>();
    for (int i = 0; i < steps + 5; i++)
    {
        g.Barrier();
        var sw = Stopwatch.StartNew();
        using (Tensor.Scope())
        {
            var loss = Functional.CrossEntropy(net.Forward(x), y);
            opt.ZeroGrad();
            loss.Backward();
            opt.Step();
            _ = loss.Item();
        }
        g.Barrier();
        if (i >= 5) times.Add(sw.Elapsed.TotalMilliseconds);
    }
    if (g.Rank == 0) Console.WriteLine($"ember {(ddp ? "ddp" : "plain")} mlp_train_step np={g.Size} threads/rank={Ember.Cpu.CpuThreads.Count} median_ms={Median(times):F2} min_ms={times.Min():F2}");
}

static void AllReduce(ProcessGroup g, int[] megabytes, bool async)
{
    foreach (int mb in megabytes)
    {
        long n = mb * 1024L * 1024 / 4;
        var t = Tensor.Ones([n]);
        int repeats = mb >= 64 ? 5 : 20;
        var times = new List<double>();
        for (int i = 0; i < repeats + 2; i++)
        {
            g.Barrier();
            var sw = Stopwatch.StartNew();
            if (async) g.AllReduceAsync(t).Wait(); else g.AllReduce(t);
            if (i >= 2) times.Add(sw.Elapsed.TotalSeconds);
        }
        double med = Median(times);
        if (g.Rank == 0) Console.WriteLine($"ember allreduce{(async ? "-async" : "")} np={g.Size} MB={mb} median_ms={med * 1e3:F2} GB/s={mb * 1024.0 * 1024 / med / 1e9:F2}");
    }
}

static double Median(List<double> v)
{
    var s = v.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}
