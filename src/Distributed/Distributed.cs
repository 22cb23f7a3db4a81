using System.Runtime.InteropServices;
using Ember.Comm;

namespace Ember;

/// <summary>
/// Multi-process training (torch.distributed): initialization of the world <see cref="ProcessGroup"/> from the
/// launcher's environment, the process's rank, and the job-wide failure handling.
/// </summary>
/// <remarks>
/// Launch with Open MPI: <c>mpirun -np 4 dotnet run --project examples/DistributedDigits</c> (several hosts:
/// <c>mpirun -H host1:2,host2:2 …</c>). The rank, world size and local rank come from <c>OMPI_COMM_WORLD_RANK</c>,
/// <c>OMPI_COMM_WORLD_SIZE</c> and <c>OMPI_COMM_WORLD_LOCAL_RANK</c>; without them the process is a world of one and
/// every collective is the identity, so the same script runs alone.
/// <para>Failures: an unhandled exception on any rank prints <c>[rank r] …</c> to stderr and aborts the whole job
/// (MPI_Abort), so the other ranks never hang in a collective waiting for it and mpirun exits non-zero; the ranks
/// stopped that way print that they were terminated.</para>
/// </remarks>
public static partial class Distributed
{
    /// <summary>The environment variable that turns on <see cref="DebugMode"/> ("1").</summary>
    public const string DebugVariable = "EMBER_DISTRIBUTED_DEBUG";

    private static ProcessGroup? world;
    private static PosixSignalRegistration? sigterm;
    private static readonly object Gate = new();

    /// <summary>
    /// When true, every collective first checks across ranks that all called the same collective with the same
    /// shape, dtype, reduce op and root, and throws on every rank naming the rank that differs. Costs one small
    /// all-gather per collective. Set from <see cref="DebugVariable"/> by <see cref="InitProcessGroup"/>.
    /// </summary>
    public static bool DebugMode { get; set; }

    /// <summary>True after <see cref="InitProcessGroup"/> and before <see cref="DestroyProcessGroup"/>.</summary>
    public static bool IsInitialized => world != null;

    /// <summary>True when the process was started by mpirun (the Open MPI launcher's variables are set).</summary>
    public static bool IsLaunched => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") != null;

    /// <summary>The world group.</summary>
    /// <exception cref="InvalidOperationException">Not initialized.</exception>
    public static ProcessGroup World => world ?? throw new InvalidOperationException(
        "Default process group has not been initialized, please make sure to call Distributed.InitProcessGroup().");

    /// <summary>This process's rank in the world (0 when not initialized).</summary>
    public static int Rank => world?.Rank ?? 0;

    /// <summary>The number of processes (1 when not initialized).</summary>
    public static int WorldSize => world?.Size ?? 1;

    /// <summary>This process's rank among the processes of its host (OMPI_COMM_WORLD_LOCAL_RANK; 0 without a launcher): pick <c>cuda:{LocalRank}</c> with it.</summary>
    public static int LocalRank => int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK"), out int r) ? r : 0;

    /// <summary>
    /// Initializes the world group (init_process_group). Under mpirun, initializes MPI and checks that its world
    /// matches the launcher's variables; otherwise creates a world of one process.
    /// </summary>
    /// <param name="backend">"mpi": every tensor through Open MPI (CUDA tensors through host copies); "nccl": CUDA tensors
    /// only, through NCCL; "auto": Open MPI for host tensors and NCCL for CUDA tensors.</param>
    /// <returns>The world group.</returns>
    /// <exception cref="ArgumentException">Unknown backend.</exception>
    /// <exception cref="InvalidOperationException">Already initialized.</exception>
    /// <exception cref="DllNotFoundException">Launched by mpirun but libmpi.so.40 cannot be loaded.</exception>
    public static unsafe ProcessGroup InitProcessGroup(string backend = "auto")
    {
        ArgumentNullException.ThrowIfNull(backend);
        backend = backend.ToLowerInvariant();
        if (backend is not ("mpi" or "nccl" or "auto"))
            throw new ArgumentException($"InitProcessGroup: unknown backend \"{backend}\"; expected \"mpi\", \"nccl\" or \"auto\".", nameof(backend));
        lock (Gate)
        {
            if (world != null) throw new InvalidOperationException("InitProcessGroup: trying to initialize the default process group twice!");
            DebugMode = Environment.GetEnvironmentVariable(DebugVariable)?.Trim() is "1" or "true" or "DETAIL" or "INFO";
            if (!IsLaunched)
            {
                world = new ProcessGroup(new LocalCommunicator(), [0], backend);
                return world;
            }
            Mpi.Load();
            int initialized = 0, provided = 0;
            lock (MpiCommunicator.Lock)
            {
                Mpi.Check(Mpi.Initialized(&initialized), "MPI_Initialized");
                if (initialized == 0) Mpi.Check(Mpi.Init_thread(null, 0, Mpi.ThreadSerialized, &provided), "MPI_Init_thread");
            }
            var comm = new MpiCommunicator(Mpi.CommWorld, owned: false);
            string? envRank = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK"), envSize = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE");
            if (envRank != comm.Rank.ToString() || envSize != comm.Size.ToString())
                throw new InvalidOperationException(
                    $"InitProcessGroup: MPI reports rank {comm.Rank} of {comm.Size} but the launcher set OMPI_COMM_WORLD_RANK={envRank}, OMPI_COMM_WORLD_SIZE={envSize}; is libmpi from another MPI than mpirun?");
            world = new ProcessGroup(comm, Enumerable.Range(0, comm.Size).ToArray(), backend);
            InstallFailureHandling();
            return world;
        }
    }

    /// <summary>Frees the world group and finalizes MPI (destroy_process_group); also done at process exit.</summary>
    public static unsafe void DestroyProcessGroup()
    {
        lock (Gate)
        {
            if (world == null) return;
            bool mpi = world.Host is MpiCommunicator;
            world.Dispose();
            world = null;
            if (!mpi) return;
            int finalized = 0;
            lock (MpiCommunicator.Lock)
            {
                Mpi.Finalized(&finalized);
                if (finalized == 0) Mpi.Check(Mpi.Finalize(), "MPI_Finalize");
            }
        }
    }

    /// <summary>
    /// Stops every process of the job (MPI_Abort): mpirun kills the other ranks and exits with <paramref name="errorCode"/>.
    /// Without a launcher, exits this process.
    /// </summary>
    public static void Abort(int errorCode = 1)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        if (world?.Host is MpiCommunicator) unsafe { Mpi.Abort(Mpi.CommWorld, errorCode); }
        Environment.Exit(errorCode);
    }

    private static void InstallFailureHandling()
    {
        if (sigterm != null) return;   // once per process, however often the group is re-initialized
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DestroyProcessGroup();
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            Console.Out.Flush();
            Console.Error.Flush();
            // The headline first, in one write: mpirun interleaves the ranks' stderr chunk by chunk.
            WriteErrorLine(e.ExceptionObject is Exception ex
                ? $"[rank {Rank}] unhandled exception, aborting the job: {ex.GetType().FullName}: {ex.Message}"
                : $"[rank {Rank}] unhandled exception, aborting the job: {e.ExceptionObject}");
            WriteErrorLine(e.ExceptionObject.ToString() ?? "");
            // Ranks failing in the same collective (a debug-mode mismatch throws on all of them) get a moment
            // to report before the abort takes them down.
            Thread.Sleep(200);
            Abort(1);
        };
        sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ =>
        {
            Console.Error.Flush();
            WriteErrorLine($"[rank {Rank}] terminated by mpirun: another rank failed (see its error) or the job was stopped.");
        });
    }

    /// <summary>
    /// Writes one line to stderr in a single write call. A console writer may split a long line into several writes,
    /// and mpirun forwards each rank's output as it arrives, so another rank's text could land inside the line; a pipe
    /// keeps one write of up to 4 KiB (PIPE_BUF) whole.
    /// </summary>
    private static void WriteErrorLine(string line)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(line + Environment.NewLine);
        using var stderr = Console.OpenStandardError();
        stderr.Write(bytes);
        stderr.Flush();
    }
}
