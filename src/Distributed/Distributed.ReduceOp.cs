namespace Ember;

public static partial class Distributed
{
    /// <summary>The element-wise reduction of a collective (torch.distributed.ReduceOp).</summary>
    public enum ReduceOp
    {
        /// <summary>Σ over ranks.</summary>
        Sum,
        /// <summary>Σ over ranks ÷ world size; floating-point tensors only (as with NCCL's ncclAvg).</summary>
        Avg,
        /// <summary>Π over ranks.</summary>
        Product,
        /// <summary>Minimum over ranks.</summary>
        Min,
        /// <summary>Maximum over ranks.</summary>
        Max,
    }
}
