using Ember;
namespace DistributedWorker;

/// <summary>
/// Runs named cases, printing one line per case. Alone, a failing case does not stop the suite; with several ranks it
/// aborts the job (MPI_Abort), because the other ranks may be waiting in a collective this rank will never join — going
/// on would hang the job, as one GPU machine running two ranks showed (rank 1 had no cuda:1, rank 0 waited in NCCL).
/// </summary>
public sealed class CaseRunner(int rank, int worldSize = 1)
{
    public int Passed { get; private set; }
    public int Failed { get; private set; }

    public void Case(string name, Action body)
    {
        try
        {
            body();
            Passed++;
            Console.WriteLine($"CASE {name} OK rank {rank}");
        }
        catch (Exception e)
        {
            Failed++;
            Console.WriteLine($"CASE {name} FAIL rank {rank}: {e.GetType().Name}: {e.Message.Replace('\n', ' ')}");
            if (worldSize > 1)
            {
                Console.WriteLine($"SUMMARY rank {rank} passed {Passed} failed {Failed} (aborting the job: other ranks may be inside a collective)");
                Distributed.Abort(3);
            }
        }
    }

    public static void Equal(double[] expected, double[] actual, string what, double tol = 0)
    {
        if (expected.Length != actual.Length) throw new Exception($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
                throw new Exception($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R}");
    }

    public static void Throws<T>(Action body, string contains) where T : Exception
    {
        try { body(); }
        catch (T e) when (e.Message.Contains(contains)) { return; }
        catch (Exception e) { throw new Exception($"expected {typeof(T).Name} containing \"{contains}\", got {e.GetType().Name}: {e.Message}"); }
        throw new Exception($"expected {typeof(T).Name} containing \"{contains}\", nothing was thrown");
    }
}
