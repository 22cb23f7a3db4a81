using System.Runtime.InteropServices;

namespace Ember.Comm;

/// <summary>
/// A thin binding to Open MPI's C library (<c>libmpi.so.40</c>, Open MPI 4.x, Debian's <c>libopenmpi3</c>): the
/// few MPI-3 calls the process group needs, reached through function pointers from <see cref="NativeLibrary.GetExport"/>.
/// </summary>
/// <remarks>
/// <para><b>Why not the MPI.NET package.</b> MPI.NET 1.4.0 is the only MPI package the project's NuGet feed serves
/// (/work/.library/env/packages/nuget.tsv). Its netstandard2.0 <c>MPI.dll</c> binds every call with
/// <c>DllImport("msmpi.dll")</c> (checked with <c>strings</c> on the package) and hard-codes MS-MPI's ABI, where
/// <c>MPI_Comm</c>, <c>MPI_Datatype</c> and <c>MPI_Op</c> are <c>int</c> constants. Open MPI's handles are pointers
/// to exported objects (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>), so the package cannot talk to
/// Open MPI without rebuilding its generated constants from source (its Linux build is an unfinished Mono/autotools
/// port: mpidotnet/MPI.NET PR #9). It also has no MPI-3 non-blocking collectives, which the async work handles
/// need. A binding of ~40 functions is smaller than that dependency.</para>
/// <para><b>Handles.</b> Open MPI's predefined handles are the addresses of exported globals:
/// <c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>, <c>ompi_mpi_double</c>, <c>ompi_mpi_int32_t</c>,
/// <c>ompi_mpi_int64_t</c>, <c>ompi_mpi_op_sum</c>, <c>_max</c>, <c>_min</c>, <c>_prod</c>; <c>MPI_IN_PLACE</c> is
/// <c>(void*)1</c> and <c>MPI_STATUS_IGNORE</c> is <c>NULL</c> (mpi.h of Open MPI 4.1).</para>
/// <para><b>Loading.</b> The library is opened with <c>dlopen(RTLD_NOW | RTLD_GLOBAL)</c>: Open MPI loads its
/// transport components as plug-ins that resolve symbols of libmpi/libopen-pal globally, which a local
/// (<see cref="NativeLibrary.Load(string)"/>) open would hide.</para>
/// </remarks>
internal static unsafe class Mpi
{
    /// <summary>The library's file name (the Open MPI 3.x–4.x ABI).</summary>
    public const string LibraryName = "libmpi.so.40";

    /// <summary>MPI_SUCCESS.</summary>
    public const int Success = 0;
    /// <summary>MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time (the group serializes calls with a lock).</summary>
    public const int ThreadSerialized = 2;
    /// <summary>MPI_IN_PLACE.</summary>
    public static readonly nint InPlace = 1;

    private static nint lib;

    public static nint CommWorld, CommNull, Float, Double, Int32, Int64, OpSum, OpMax, OpMin, OpProd;

    public static delegate* unmanaged<int*, nint, int, int*, int> Init_thread;
    public static delegate* unmanaged<int*, int> Initialized;
    public static delegate* unmanaged<int*, int> Finalized;
    public static delegate* unmanaged<int> Finalize;
    public static delegate* unmanaged<nint, int, int> Abort;
    public static delegate* unmanaged<nint, int*, int> Comm_rank;
    public static delegate* unmanaged<nint, int*, int> Comm_size;
    public static delegate* unmanaged<nint, int, int, nint*, int> Comm_split;
    public static delegate* unmanaged<nint*, int> Comm_free;
    public static delegate* unmanaged<int, byte*, int*, int> Error_string;

    public static delegate* unmanaged<nint, nint, int, nint, nint, nint, int> Allreduce;
    public static delegate* unmanaged<nint, int, nint, int, nint, int> Bcast;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> Allgather;
    public static delegate* unmanaged<nint, nint, int, nint, nint, nint, int> Reduce_scatter_block;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, int> Gather;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, int> Scatter;
    public static delegate* unmanaged<nint, int> Barrier;
    public static delegate* unmanaged<nint, int, nint, int, int, nint, int> Send;
    public static delegate* unmanaged<nint, int, nint, int, int, nint, nint, int> Recv;

    public static delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int> Iallreduce;
    public static delegate* unmanaged<nint, int, nint, int, nint, nint*, int> Ibcast;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, nint, nint*, int> Iallgather;
    public static delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int> Ireduce_scatter_block;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, nint*, int> Igather;
    public static delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, nint*, int> Iscatter;
    public static delegate* unmanaged<nint, nint*, int> Ibarrier;
    public static delegate* unmanaged<nint, int, nint, int, int, nint, nint*, int> Isend;
    public static delegate* unmanaged<nint, int, nint, int, int, nint, nint*, int> Irecv;
    public static delegate* unmanaged<nint*, nint, int> Wait;
    public static delegate* unmanaged<nint*, int*, nint, int> Test;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen(string file, int mode);

    [DllImport("libc", EntryPoint = "dlerror")]
    private static extern nint DlError();

    /// <summary>True once <see cref="Load"/> succeeded.</summary>
    public static bool IsLoaded => lib != 0;

    /// <summary>Opens libmpi and resolves every symbol (idempotent).</summary>
    /// <exception cref="DllNotFoundException">libmpi.so.40 cannot be opened; the message says what to install.</exception>
    public static void Load()
    {
        if (lib != 0) return;
        const int RtldNow = 2, RtldGlobal = 0x100;
        nint h = OperatingSystem.IsLinux() ? DlOpen(LibraryName, RtldNow | RtldGlobal) : 0;
        if (h == 0)
        {
            string why = OperatingSystem.IsLinux() ? Marshal.PtrToStringAnsi(DlError()) ?? "" : "only Linux (Open MPI) is supported";
            throw new DllNotFoundException(
                $"InitProcessGroup: cannot load Open MPI's {LibraryName} ({why}). Install Open MPI 4 (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) and launch with mpirun.");
        }
        nint Sym(string name) => NativeLibrary.GetExport(h, name);
        CommWorld = Sym("ompi_mpi_comm_world"); CommNull = Sym("ompi_mpi_comm_null");
        Float = Sym("ompi_mpi_float"); Double = Sym("ompi_mpi_double");
        Int32 = Sym("ompi_mpi_int32_t"); Int64 = Sym("ompi_mpi_int64_t");
        OpSum = Sym("ompi_mpi_op_sum"); OpMax = Sym("ompi_mpi_op_max"); OpMin = Sym("ompi_mpi_op_min"); OpProd = Sym("ompi_mpi_op_prod");
        Init_thread = (delegate* unmanaged<int*, nint, int, int*, int>)Sym("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Sym("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Sym("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Sym("MPI_Finalize");
        Abort = (delegate* unmanaged<nint, int, int>)Sym("MPI_Abort");
        Comm_rank = (delegate* unmanaged<nint, int*, int>)Sym("MPI_Comm_rank");
        Comm_size = (delegate* unmanaged<nint, int*, int>)Sym("MPI_Comm_size");
        Comm_split = (delegate* unmanaged<nint, int, int, nint*, int>)Sym("MPI_Comm_split");
        Comm_free = (delegate* unmanaged<nint*, int>)Sym("MPI_Comm_free");
        Error_string = (delegate* unmanaged<int, byte*, int*, int>)Sym("MPI_Error_string");
        Allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Sym("MPI_Allreduce");
        Bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Sym("MPI_Bcast");
        Allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)Sym("MPI_Allgather");
        Reduce_scatter_block = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Sym("MPI_Reduce_scatter_block");
        Gather = (delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, int>)Sym("MPI_Gather");
        Scatter = (delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, int>)Sym("MPI_Scatter");
        Barrier = (delegate* unmanaged<nint, int>)Sym("MPI_Barrier");
        Send = (delegate* unmanaged<nint, int, nint, int, int, nint, int>)Sym("MPI_Send");
        Recv = (delegate* unmanaged<nint, int, nint, int, int, nint, nint, int>)Sym("MPI_Recv");
        Iallreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int>)Sym("MPI_Iallreduce");
        Ibcast = (delegate* unmanaged<nint, int, nint, int, nint, nint*, int>)Sym("MPI_Ibcast");
        Iallgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, nint*, int>)Sym("MPI_Iallgather");
        Ireduce_scatter_block = (delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int>)Sym("MPI_Ireduce_scatter_block");
        Igather = (delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, nint*, int>)Sym("MPI_Igather");
        Iscatter = (delegate* unmanaged<nint, int, nint, nint, int, nint, int, nint, nint*, int>)Sym("MPI_Iscatter");
        Ibarrier = (delegate* unmanaged<nint, nint*, int>)Sym("MPI_Ibarrier");
        Isend = (delegate* unmanaged<nint, int, nint, int, int, nint, nint*, int>)Sym("MPI_Isend");
        Irecv = (delegate* unmanaged<nint, int, nint, int, int, nint, nint*, int>)Sym("MPI_Irecv");
        Wait = (delegate* unmanaged<nint*, nint, int>)Sym("MPI_Wait");
        Test = (delegate* unmanaged<nint*, int*, nint, int>)Sym("MPI_Test");
        lib = h;
    }

    /// <summary>Throws when an MPI call returned an error code, with MPI's own text.</summary>
    public static void Check(int rc, string call)
    {
        if (rc == Success) return;
        var buf = stackalloc byte[256];   // MPI_MAX_ERROR_STRING is 256 in Open MPI
        int len = 0;
        string text = Error_string(rc, buf, &len) == Success ? Marshal.PtrToStringAnsi((nint)buf, len) : "unknown error";
        throw new InvalidOperationException($"{call} failed with MPI error {rc}: {text}");
    }
}
