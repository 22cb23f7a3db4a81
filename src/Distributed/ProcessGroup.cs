using Ember.Comm;

namespace Ember;

/// <summary>
/// A set of processes that run collectives together (c10d's ProcessGroup). Create the world group with
/// <see cref="Distributed.InitProcessGroup"/> and subgroups with <see cref="NewGroup"/>. Every member must call the
/// same collectives in the same order with tensors of the same shape and dtype (checked across ranks when
/// <see cref="Distributed.DebugMode"/> is on). Ranks in arguments (<c>src</c>, <c>dst</c>) are ranks in this group.
/// </summary>
/// <remarks>
/// Tensors on the CPU (and on <c>ilgpu-cpu</c>, through a host copy) go through Open MPI; CUDA tensors through NCCL
/// (backend "nccl" or "auto"), or through a host copy with backend "mpi". Inputs are validated on each rank before
/// any communication. A non-contiguous tensor is communicated through a contiguous copy and copied back. The
/// synchronous methods return when this rank's part is done; the <c>…Async</c> forms return a <see cref="Work"/>
/// whose <see cref="Work.Wait"/> completes them (outputs must not be touched before).
/// </remarks>
public sealed partial class ProcessGroup : IDisposable
{
    private readonly Communicator host;
    private readonly Dictionary<int, Communicator> nccl = [];
    private readonly int[] globalRanks;

    internal ProcessGroup(Communicator host, int[] globalRanks, string backend)
    {
        this.host = host;
        this.globalRanks = globalRanks;
        Backend = backend;
    }

    /// <summary>This process's rank in the group, in [0, <see cref="Size"/>).</summary>
    public int Rank => host.Rank;

    /// <summary>The number of processes in the group.</summary>
    public int Size => host.Size;

    /// <summary>The world ranks of the members, indexed by group rank.</summary>
    public IReadOnlyList<int> GlobalRanks => globalRanks;

    /// <summary>"mpi", "nccl" or "auto" (MPI for host tensors, NCCL for CUDA tensors).</summary>
    public string Backend { get; }

    internal Communicator Host => host;

    // ---- collectives ------------------------------------------------------------------------------------

    /// <summary>Reduces <paramref name="tensor"/> element-wise over all ranks, in place on every rank: x ← op(x₀, …, x_{n−1}).</summary>
    /// <exception cref="ArgumentException">Unsupported dtype (float32, float64, int32, int64 are), Avg on an integer tensor, or a device the backend cannot serve.</exception>
    public void AllReduce(Tensor tensor, Distributed.ReduceOp op = Distributed.ReduceOp.Sum) => AllReduceCore(tensor, op, false).Wait();

    /// <summary>Starts <see cref="AllReduce"/>; the result is in <paramref name="tensor"/> after <see cref="Work.Wait"/>.</summary>
    public Work AllReduceAsync(Tensor tensor, Distributed.ReduceOp op = Distributed.ReduceOp.Sum) => AllReduceCore(tensor, op, true);

    /// <summary>Copies <paramref name="tensor"/> of rank <paramref name="src"/> into <paramref name="tensor"/> of every rank.</summary>
    /// <exception cref="ArgumentException">src is not a rank of the group, or the tensor is invalid (as for AllReduce).</exception>
    public void Broadcast(Tensor tensor, int src = 0) => BroadcastCore(tensor, src, false).Wait();

    /// <summary>Starts <see cref="Broadcast"/>.</summary>
    public Work BroadcastAsync(Tensor tensor, int src = 0) => BroadcastCore(tensor, src, true);

    /// <summary>outputs[r] ← input of rank r, on every rank (all_gather).</summary>
    /// <exception cref="ArgumentException">outputs does not hold <see cref="Size"/> tensors of the input's shape, dtype and device.</exception>
    public void AllGather(IList<Tensor> outputs, Tensor input) => AllGatherCore(outputs, input, false).Wait();

    /// <summary>Starts <see cref="AllGather(IList{Tensor}, Tensor)"/>.</summary>
    public Work AllGatherAsync(IList<Tensor> outputs, Tensor input) => AllGatherCore(outputs, input, true);

    /// <summary>
    /// The inputs of all ranks concatenated in rank order into <paramref name="output"/> (all_gather_into_tensor):
    /// output.Numel = Size · input.Numel, e.g. [Size·n] for inputs [n], or [Size, …input shape].
    /// </summary>
    /// <exception cref="ArgumentException">output has the wrong number of elements, dtype or device.</exception>
    public void AllGatherIntoTensor(Tensor output, Tensor input) => AllGatherIntoTensorCore(output, input, false).Wait();

    /// <summary>Starts <see cref="AllGatherIntoTensor"/>.</summary>
    public Work AllGatherIntoTensorAsync(Tensor output, Tensor input) => AllGatherIntoTensorCore(output, input, true);

    /// <summary>output ← op over ranks r of inputs[this rank] of rank r (reduce_scatter).</summary>
    /// <exception cref="ArgumentException">inputs does not hold <see cref="Size"/> tensors of output's shape, dtype and device; op invalid for the dtype.</exception>
    public void ReduceScatter(Tensor output, IList<Tensor> inputs, Distributed.ReduceOp op = Distributed.ReduceOp.Sum) => ReduceScatterCore(output, inputs, op, false).Wait();

    /// <summary>Starts <see cref="ReduceScatter(Tensor, IList{Tensor}, Distributed.ReduceOp)"/>.</summary>
    public Work ReduceScatterAsync(Tensor output, IList<Tensor> inputs, Distributed.ReduceOp op = Distributed.ReduceOp.Sum) => ReduceScatterCore(output, inputs, op, true);

    /// <summary>
    /// Reduce-scatter of one flat tensor (reduce_scatter_tensor): input.Numel = Size · output.Numel; this rank gets
    /// the reduction of block [Rank·m, (Rank+1)·m) of every rank's input, m = output.Numel.
    /// </summary>
    public void ReduceScatterTensor(Tensor output, Tensor input, Distributed.ReduceOp op = Distributed.ReduceOp.Sum) => ReduceScatterTensorCore(output, input, op, false).Wait();

    /// <summary>Starts <see cref="ReduceScatterTensor"/>.</summary>
    public Work ReduceScatterTensorAsync(Tensor output, Tensor input, Distributed.ReduceOp op = Distributed.ReduceOp.Sum) => ReduceScatterTensorCore(output, input, op, true);

    /// <summary>On rank <paramref name="dst"/>, gatherList[r] ← input of rank r; other ranks pass null (gather).</summary>
    /// <exception cref="ArgumentException">On dst, gatherList does not hold Size tensors like input; elsewhere it is not null/empty; dst out of range.</exception>
    public void Gather(Tensor input, IList<Tensor>? gatherList, int dst = 0) => GatherCore(input, gatherList, dst, false).Wait();

    /// <summary>Starts <see cref="Gather"/>.</summary>
    public Work GatherAsync(Tensor input, IList<Tensor>? gatherList, int dst = 0) => GatherCore(input, gatherList, dst, true);

    /// <summary>output of rank r ← scatterList[r] of rank <paramref name="src"/>; other ranks pass null (scatter).</summary>
    /// <exception cref="ArgumentException">On src, scatterList does not hold Size tensors like output; elsewhere it is not null/empty; src out of range.</exception>
    public void Scatter(Tensor output, IList<Tensor>? scatterList, int src = 0) => ScatterCore(output, scatterList, src, false).Wait();

    /// <summary>Starts <see cref="Scatter"/>.</summary>
    public Work ScatterAsync(Tensor output, IList<Tensor>? scatterList, int src = 0) => ScatterCore(output, scatterList, src, true);

    /// <summary>Returns when every rank of the group has entered the barrier.</summary>
    public void Barrier() => BarrierCore(false).Wait();

    /// <summary>Starts <see cref="Barrier"/>.</summary>
    public Work BarrierAsync() => BarrierCore(true);

    /// <summary>Sends <paramref name="tensor"/> to rank <paramref name="dst"/>, which must post a matching <see cref="Recv"/> (same tag, shape, dtype).</summary>
    /// <exception cref="ArgumentException">dst is out of range or this rank.</exception>
    public void Send(Tensor tensor, int dst, int tag = 0) => PointToPoint("Send", tensor, dst, tag, false).Wait();

    /// <summary>Starts <see cref="Send"/> (isend); the tensor must not change until <see cref="Work.Wait"/>.</summary>
    public Work SendAsync(Tensor tensor, int dst, int tag = 0) => PointToPoint("Send", tensor, dst, tag, true);

    /// <summary>Receives into <paramref name="tensor"/> what rank <paramref name="src"/> sends with the same tag.</summary>
    /// <exception cref="ArgumentException">src is out of range or this rank.</exception>
    public void Recv(Tensor tensor, int src, int tag = 0) => PointToPoint("Recv", tensor, src, tag, false).Wait();

    /// <summary>Starts <see cref="Recv"/> (irecv).</summary>
    public Work RecvAsync(Tensor tensor, int src, int tag = 0) => PointToPoint("Recv", tensor, src, tag, true);

    /// <summary>
    /// Creates a group of the ranks <paramref name="ranks"/> of this group (new_group): every rank of this
    /// group must call it with the same list. The new group's rank r is the r-th smallest listed rank.
    /// </summary>
    /// <returns>The group on its members; null on the other ranks.</returns>
    /// <exception cref="ArgumentException">The list is empty, has duplicates, or ranks outside [0, Size).</exception>
    public ProcessGroup? NewGroup(IReadOnlyCollection<int> ranks)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        var sorted = ranks.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("NewGroup: ranks must not be empty.", nameof(ranks));
        if (sorted.Distinct().Count() != sorted.Length) throw new ArgumentException($"NewGroup: ranks [{string.Join(", ", ranks)}] contain duplicates.", nameof(ranks));
        if (sorted[0] < 0 || sorted[^1] >= Size)
            throw new ArgumentException($"NewGroup: ranks [{string.Join(", ", ranks)}] must be in [0, {Size}).", nameof(ranks));
        int key = Array.IndexOf(sorted, Rank);
        var members = sorted.Select(r => globalRanks[r]).ToArray();
        if (host is MpiCommunicator mpi)
        {
            var sub = mpi.Split(key < 0 ? -1 : 0, Math.Max(key, 0));
            return sub == null ? null : new ProcessGroup(sub, members, Backend);
        }
        return key < 0 ? null : new ProcessGroup(new LocalCommunicator(), members, Backend);
    }

    /// <summary>Frees the group's communicators (the world group is freed by <see cref="Distributed.DestroyProcessGroup"/>).</summary>
    public void Dispose()
    {
        foreach (var c in nccl.Values) c.Dispose();
        nccl.Clear();
        host.Dispose();
    }
}
