using System.Diagnostics;
using Ember.Ilgpu;

namespace Ember.Perf;

/// <summary>
/// Runs mlp_train_step many times with no Dispose call anywhere and samples the device allocator
/// (allocated and reserved bytes) to show that GC-managed device memory stays flat.
/// </summary>
public static class MemoryCurve
{
    /// <summary>Runs up to <paramref name="steps"/> steps (or until <paramref name="maxSeconds"/>), writing "step,allocated,reserved,seconds" rows.</summary>
    public static void Run(Device device, int steps, int every, double maxSeconds, string csvPath)
    {
        var w = new MlpWorkload(device);
        var alloc = IlgpuBackend.Open(device).Allocator;
        using var csv = new StreamWriter(csvPath);
        csv.WriteLine("step,allocated_bytes,live_bytes_after_gc,reserved_bytes,seconds");
        var sw = Stopwatch.StartNew();
        int done = 0;
        for (int s = 1; s <= steps; s++)
        {
            w.Step();
            done = s;
            if (s % every == 0 || s == 1)
            {
                w.Sync();
                long before = alloc.MemoryAllocated;
                // Live bytes: what is still reachable once the GC has finalized the garbage (a leak shows here).
                GC.Collect();
                GC.WaitForPendingFinalizers();
                alloc.ReclaimFinalized();
                csv.WriteLine($"{s},{before},{alloc.MemoryAllocated},{alloc.MemoryReserved},{sw.Elapsed.TotalSeconds:F2}");
                csv.Flush();
                if (sw.Elapsed.TotalSeconds > maxSeconds) break;
            }
        }
        Console.WriteLine($"memory curve: {done} steps in {sw.Elapsed.TotalSeconds:F1} s, allocated now {alloc.MemoryAllocated / 1048576.0:F1} MiB, peak {alloc.MaxMemoryAllocated / 1048576.0:F1} MiB, reserved {alloc.MemoryReserved / 1048576.0:F1} MiB");
    }
}
