using System.Runtime.InteropServices;

namespace Ember.Comm;

/// <summary>
/// A thin binding to NCCL (<c>libnccl.so.2</c>, NCCL ≥ 2.10 for ncclAvg): communicator setup from a unique id and
/// the collectives the process group uses, enqueued on a CUDA stream. Resolved lazily, on the first CUDA tensor.
/// </summary>
internal static unsafe class Nccl
{
    /// <summary>The library's file name.</summary>
    public const string LibraryName = "libnccl.so.2";

    /// <summary>sizeof(ncclUniqueId) (NCCL_UNIQUE_ID_BYTES).</summary>
    public const int UniqueIdBytes = 128;

    // ncclDataType_t and ncclRedOp_t values from nccl.h.
    public const int Int32 = 2, Int64 = 4, Float32 = 7, Float64 = 8;
    public const int Sum = 0, Prod = 1, Max = 2, Min = 3, Avg = 4;

    private static nint lib;

    /// <summary>ncclUniqueId: 128 opaque bytes, passed by value to ncclCommInitRank.</summary>
    [StructLayout(LayoutKind.Sequential, Size = UniqueIdBytes)]
    public struct UniqueId { public fixed byte Bytes[UniqueIdBytes]; }

    public static delegate* unmanaged<UniqueId*, int> GetUniqueId;
    public static delegate* unmanaged<nint*, int, UniqueId, int, int> CommInitRank;
    public static delegate* unmanaged<nint, int> CommDestroy;
    public static delegate* unmanaged<int, nint> GetErrorString;
    public static delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> AllReduce;
    public static delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> Broadcast;
    public static delegate* unmanaged<nint, nint, nuint, int, nint, nint, int> AllGather;
    public static delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> ReduceScatter;
    public static delegate* unmanaged<nint, nuint, int, int, nint, nint, int> Send;
    public static delegate* unmanaged<nint, nuint, int, int, nint, nint, int> Recv;
    public static delegate* unmanaged<int> GroupStart;
    public static delegate* unmanaged<int> GroupEnd;

    /// <summary>Opens libnccl and resolves its symbols (idempotent).</summary>
    /// <exception cref="DllNotFoundException">libnccl.so.2 is absent; the message names it.</exception>
    public static void Load()
    {
        if (lib != 0) return;
        if (!NativeLibrary.TryLoad(LibraryName, out var h))
            throw new DllNotFoundException(
                $"CUDA tensors need NCCL, but {LibraryName} cannot be loaded. Install NCCL 2 (libnccl2), put it on LD_LIBRARY_PATH, or use backend \"mpi\" (host copies).");
        nint Sym(string name) => NativeLibrary.GetExport(h, name);
        GetUniqueId = (delegate* unmanaged<UniqueId*, int>)Sym("ncclGetUniqueId");
        CommInitRank = (delegate* unmanaged<nint*, int, UniqueId, int, int>)Sym("ncclCommInitRank");
        CommDestroy = (delegate* unmanaged<nint, int>)Sym("ncclCommDestroy");
        GetErrorString = (delegate* unmanaged<int, nint>)Sym("ncclGetErrorString");
        AllReduce = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Sym("ncclAllReduce");
        Broadcast = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Sym("ncclBroadcast");
        AllGather = (delegate* unmanaged<nint, nint, nuint, int, nint, nint, int>)Sym("ncclAllGather");
        ReduceScatter = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Sym("ncclReduceScatter");
        Send = (delegate* unmanaged<nint, nuint, int, int, nint, nint, int>)Sym("ncclSend");
        Recv = (delegate* unmanaged<nint, nuint, int, int, nint, nint, int>)Sym("ncclRecv");
        GroupStart = (delegate* unmanaged<int>)Sym("ncclGroupStart");
        GroupEnd = (delegate* unmanaged<int>)Sym("ncclGroupEnd");
        lib = h;
    }

    /// <summary>Throws when an NCCL call failed, with NCCL's text.</summary>
    public static void Check(int rc, string call)
    {
        if (rc != 0) throw new InvalidOperationException($"{call} failed with NCCL error {rc}: {Marshal.PtrToStringAnsi(GetErrorString(rc))}");
    }
}
