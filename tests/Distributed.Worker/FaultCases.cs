using Ember;
using Ember.NN;

namespace DistributedWorker;

/// <summary>Faults that must end the job with a clear error on every rank and a non-zero mpirun exit, never a hang.</summary>
public static class FaultCases
{
    /// <summary>Rank 1's first layer has one more output: DDP's construction check throws on every rank.</summary>
    public static void MismatchedParameterShapes(ProcessGroup g)
    {
        var model = new Sequential(new Linear(4, g.Rank == 1 ? 4 : 3), new Linear(g.Rank == 1 ? 4 : 3, 2));
        _ = new DistributedDataParallel(model, g);
        Console.WriteLine($"rank {g.Rank}: unreachable, the check passed");
    }

    /// <summary>Rank 1 all-reduces 5 elements where the others all-reduce 4; debug mode catches it on every rank.</summary>
    public static void MismatchedCollectiveInDebugMode(ProcessGroup g)
    {
        Distributed.DebugMode = true;
        g.AllReduce(Tensor.Ones(4));   // a matching one first
        g.AllReduce(Tensor.Ones(g.Rank == 1 ? 5 : 4));
        Console.WriteLine($"rank {g.Rank}: unreachable, the check passed");
    }

    /// <summary>Rank 1 throws while the others wait in an all-reduce for it.</summary>
    public static void RankThrows(ProcessGroup g)
    {
        g.Barrier();
        if (g.Rank == 1) throw new InvalidOperationException("deliberate failure on rank 1");
        g.AllReduce(Tensor.Ones(4));
        Console.WriteLine($"rank {g.Rank}: unreachable, the all-reduce completed without rank 1");
    }
}
