using System.Globalization;

namespace Ember.Cpu;

/// <summary>
/// What the CPU kernels need to know about the machine, read once at start: the number of physical cores the process
/// may use and the data cache sizes of core 0. On Linux both come from <c>/sys/devices/system/cpu</c>; elsewhere, or when
/// a file is missing or unreadable, the logical processor count and typical cache sizes stand in.
/// </summary>
internal static class CpuTopology
{
    private const string Root = "/sys/devices/system/cpu";

    /// <summary>Physical cores available to this process (logical processors divided by hardware threads per core), at least 1.</summary>
    public static int PhysicalCores { get; } = ReadPhysicalCores(Root, Environment.ProcessorCount);

    /// <summary>Level-1 data cache of one core, in bytes (48 KiB when unknown).</summary>
    public static long L1Bytes { get; } = ReadCacheBytes(Root, 1) ?? 48 << 10;

    /// <summary>Level-2 cache of one core, in bytes (1 MiB when unknown).</summary>
    public static long L2Bytes { get; } = ReadCacheBytes(Root, 2) ?? 1 << 20;

    /// <summary>Level-3 (last-level) cache, in bytes, shared by the cores listed with it (8 MiB when unknown; L2 when there is none).</summary>
    public static long L3Bytes { get; } = ReadCacheBytes(Root, 3) ?? Math.Max(L2Bytes, 8 << 20);

    /// <summary>
    /// Physical cores among the <paramref name="logical"/> processors this process may use: the online CPUs under
    /// <paramref name="root"/> are grouped by (package, core id); logical / (online CPUs per physical core), rounded up.
    /// Returns <paramref name="logical"/> when the topology cannot be read.
    /// </summary>
    internal static int ReadPhysicalCores(string root, int logical)
    {
        logical = Math.Max(1, logical);
        try
        {
            List<int> online = ParseCpuList(File.ReadAllText(Path.Combine(root, "online")));
            if (online.Count == 0) return logical;
            var cores = new HashSet<(string, string)>();
            foreach (int cpu in online)
            {
                string topology = Path.Combine(root, $"cpu{cpu}", "topology");
                cores.Add((File.ReadAllText(Path.Combine(topology, "physical_package_id")).Trim(),
                           File.ReadAllText(Path.Combine(topology, "core_id")).Trim()));
            }
            int perCore = Math.Max(1, online.Count / cores.Count);
            return Math.Max(1, (logical + perCore - 1) / perCore);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return logical;
        }
    }

    /// <summary>Size in bytes of core 0's data or unified cache of <paramref name="level"/> under <paramref name="root"/>; null when unknown.</summary>
    internal static long? ReadCacheBytes(string root, int level)
    {
        try
        {
            string cacheDir = Path.Combine(root, "cpu0", "cache");
            if (!Directory.Exists(cacheDir)) return null;
            foreach (string index in Directory.EnumerateDirectories(cacheDir, "index*"))
            {
                if (File.ReadAllText(Path.Combine(index, "level")).Trim() != level.ToString(CultureInfo.InvariantCulture)) continue;
                if (File.ReadAllText(Path.Combine(index, "type")).Trim() == "Instruction") continue;
                return ParseSize(File.ReadAllText(Path.Combine(index, "size")));
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>Parses a kernel CPU list such as "0-3,8,10-11".</summary>
    internal static List<int> ParseCpuList(string text)
    {
        var cpus = new List<int>();
        foreach (string part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-');
            int first = int.Parse(dash < 0 ? part : part[..dash], CultureInfo.InvariantCulture);
            int last = dash < 0 ? first : int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
            for (int c = first; c <= last; c++) cpus.Add(c);
        }
        return cpus;
    }

    /// <summary>Parses a sysfs cache size such as "48K", "2048K" or "105M" into bytes.</summary>
    internal static long ParseSize(string text)
    {
        text = text.Trim();
        long scale = text.EndsWith('K') ? 1L << 10 : text.EndsWith('M') ? 1L << 20 : text.EndsWith('G') ? 1L << 30 : 1;
        string digits = scale == 1 ? text : text[..^1];
        return long.Parse(digits, CultureInfo.InvariantCulture) * scale;
    }
}
