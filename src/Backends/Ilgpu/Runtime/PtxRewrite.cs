using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using ILGPU.Backends.PTX;

namespace Ember.Ilgpu;

/// <summary>
/// Text rewrites of the PTX that ILGPU generates, applied before the CUDA driver compiles it (see
/// <see cref="KernelCache.GroupedTuned{T1, T2, T3, T4}"/>).
/// <para>
/// Why: ILGPU passes every inline-PTX operand (<c>CudaAsm.Emit</c>/<c>EmitRef</c>) through a one-scalar
/// <c>.local</c> variable (a "depot": <c>st.local</c> before the instruction, <c>ld.local</c> after, through a 64-bit
/// register holding the depot's address). ptxas normally turns those into registers, but not in a function that
/// contains any <c>cp.async</c> (checked with ptxas 12.8 on a 20-line kernel: one <c>cp.async</c> anywhere keeps every
/// local variable in memory). So the <c>cp.async</c> GEMM had a 1,800-byte stack frame and local loads and stores around
/// each of its 32 <c>mma</c>s per slab. <see cref="PromoteDepots"/> does ptxas' job here: each depot that is only
/// ever read and written whole becomes a register.
/// </para>
/// </summary>
internal static partial class PtxRewrite
{
    [GeneratedRegex(@"^\s*\.local \.align \d+ \.b8 (__local_depot\d+)\[(\d+)\];\s*$")]
    private static partial Regex DepotDeclaration();

    [GeneratedRegex(@"^\s*mov\.b64\s+(%rd\d+), (__local_depot\d+);\s*$")]
    private static partial Regex DepotAddress();

    [GeneratedRegex(@"^(\s*)st\.local\.[bfsu](\d+)\s+\[(%rd\d+)\], ([^;\[\]]+);\s*$")]
    private static partial Regex DepotStore();

    [GeneratedRegex(@"^(\s*)ld\.local\.[bfsu](\d+)\s+(%\w+), \[(%rd\d+)\];\s*$")]
    private static partial Regex DepotLoad();

    [GeneratedRegex(@"%rd\d+\b|__local_depot\d+\b")]
    private static partial Regex Names();

    /// <summary>
    /// Replaces every local depot of <paramref name="ptx"/> that is a 2, 4 or 8-byte scalar, whose address register is
    /// set once and used only by whole-width <c>ld.local</c>/<c>st.local</c> (what ILGPU emits for asm operands), by a
    /// register of that width: stores become <c>mov</c>s into it, loads <c>mov</c>s out of it. Any other use of the depot
    /// or of its address register leaves that depot as it was. <paramref name="promoted"/>: how many were replaced.
    /// </summary>
    public static string PromoteDepots(string ptx, out int promoted)
    {
        string[] lines = ptx.Split('\n');
        var size = new Dictionary<string, int>();          // depot → bytes
        var owner = new Dictionary<string, string>();      // address register → depot
        var sets = new Dictionary<string, int>();          // address register → number of lines that set it
        foreach (string line in lines)
        {
            var d = DepotDeclaration().Match(line);
            if (d.Success)
            {
                size[d.Groups[1].Value] = int.Parse(d.Groups[2].Value, CultureInfo.InvariantCulture);
                continue;
            }
            var a = DepotAddress().Match(line);
            if (a.Success)
            {
                owner[a.Groups[1].Value] = a.Groups[2].Value;
                sets[a.Groups[1].Value] = sets.GetValueOrDefault(a.Groups[1].Value) + 1;
            }
        }

        // A depot qualifies if each line naming it or its address register is its declaration, the one address move,
        // or a load/store of exactly its width through that register.
        var bad = new HashSet<string>(size.Keys.Where(k => size[k] is not (2 or 4 or 8)));
        foreach (var (reg, depot) in owner)
            if (sets[reg] != 1 || !size.ContainsKey(depot)) bad.Add(depot);
        foreach (string line in lines)
        {
            if (DepotDeclaration().IsMatch(line) || DepotAddress().IsMatch(line)) continue;
            string? through = null;
            int bits = 0;
            var st = DepotStore().Match(line);
            var ld = st.Success ? Match.Empty : DepotLoad().Match(line);
            if (st.Success) (through, bits) = (st.Groups[3].Value, int.Parse(st.Groups[2].Value, CultureInfo.InvariantCulture));
            else if (ld.Success) (through, bits) = (ld.Groups[4].Value, int.Parse(ld.Groups[2].Value, CultureInfo.InvariantCulture));
            foreach (Match n in Names().Matches(line))
            {
                string name = n.Value;
                if (name.StartsWith("__local_depot", StringComparison.Ordinal)) bad.Add(name);
                else if (owner.TryGetValue(name, out string? depot))
                {
                    // The address register in the brackets of a whole-width access is fine; anywhere else it is not
                    // (a stored value that names it, an offset, a reuse of the register).
                    bool ok = name == through && bits == 8 * size.GetValueOrDefault(depot)
                        && (st.Success ? !st.Groups[4].Value.Contains(name, StringComparison.Ordinal) : ld.Groups[3].Value != name);
                    if (!ok) bad.Add(depot);
                }
            }
        }

        var sb = new StringBuilder(ptx.Length);
        promoted = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            var d = DepotDeclaration().Match(line);
            var a = d.Success ? Match.Empty : DepotAddress().Match(line);
            var st = d.Success || a.Success ? Match.Empty : DepotStore().Match(line);
            var ld = d.Success || a.Success || st.Success ? Match.Empty : DepotLoad().Match(line);
            if (d.Success && !bad.Contains(d.Groups[1].Value))
            {
                sb.Append('\t').Append(".reg .b").Append(8 * size[d.Groups[1].Value]).Append(' ').Append(Register(d.Groups[1].Value)).Append(';');
                promoted++;
            }
            else if (a.Success && !bad.Contains(a.Groups[2].Value))
            {
                // The address is no longer needed: the line is left empty (the line count stays, for diffs).
            }
            else if (st.Success && owner.TryGetValue(st.Groups[3].Value, out string? sd) && !bad.Contains(sd))
                sb.Append(st.Groups[1].Value).Append("mov.b").Append(st.Groups[2].Value).Append('\t').Append(Register(sd)).Append(", ").Append(st.Groups[4].Value).Append(';');
            else if (ld.Success && owner.TryGetValue(ld.Groups[4].Value, out string? lsd) && !bad.Contains(lsd))
                sb.Append(ld.Groups[1].Value).Append("mov.b").Append(ld.Groups[2].Value).Append('\t').Append(ld.Groups[3].Value).Append(", ").Append(Register(lsd)).Append(';');
            else
                sb.Append(line);
            if (i < lines.Length - 1) sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The register that replaces a depot (ILGPU names its registers %r, %rd, %rs, %f, %fd, %p: no clash).</summary>
    private static string Register(string depot) => "%ldp" + depot["__local_depot".Length..];

    /// <summary>
    /// Adds launch bounds to the first <c>.entry</c> of <paramref name="ptx"/>: at most <paramref name="maxThreads"/>
    /// threads per block and at least <paramref name="minBlocks"/> blocks per SM, so ptxas keeps the registers within
    /// 65,536 / (<paramref name="maxThreads"/> · <paramref name="minBlocks"/>) (as CUDA C's <c>__launch_bounds__</c>).
    /// Returns <paramref name="ptx"/> unchanged if it has no entry or already sets bounds.
    /// </summary>
    public static string AddLaunchBounds(string ptx, int maxThreads, int minBlocks)
    {
        int entry = ptx.IndexOf(".entry ", StringComparison.Ordinal);
        if (entry < 0 || ptx.Contains(".maxntid", StringComparison.Ordinal) || ptx.Contains(".minnctapersm", StringComparison.Ordinal)) return ptx;
        // The body opens with a line holding only '{' after the parameter list.
        int body = ptx.IndexOf("\n{", entry, StringComparison.Ordinal);
        if (body < 0) return ptx;
        string bounds = string.Create(CultureInfo.InvariantCulture, $"\n.maxntid {maxThreads}, 1, 1\n.minnctapersm {minBlocks}");
        return ptx.Insert(body, bounds);
    }

    /// <summary>
    /// What <see cref="KernelCache.GroupedTuned{T1, T2, T3, T4}"/> loads: <see cref="PromoteDepots"/>, then
    /// <see cref="AddLaunchBounds"/>.
    /// </summary>
    public static string Tune(string ptx, int maxThreads, int minBlocks) => TargetForSm90Features(AddLaunchBounds(PromoteDepots(ptx, out _), maxThreads, minBlocks));

    /// <summary>
    /// ILGPU 1.5 writes <c>.target sm_80</c> even for an sm_90 device; PTX that uses an sm_90-only instruction
    /// (<c>cvt.rn.tf32.f32</c>, chosen only on such devices: <see cref="IlgpuMmaGemm.Tf32RoundingFor"/>) gets
    /// <c>.target sm_90</c>, else the driver's JIT rejects it; PTX with <c>wgmma</c> gets <c>.target sm_90a</c> and at
    /// least <c>.version 8.0</c>. Other PTX is returned unchanged.
    /// </summary>
    public static string TargetForSm90Features(string ptx)
    {
        if (ptx.Contains("wgmma.", StringComparison.Ordinal))
        {
            // wgmma exists only for the architecture-specific target sm_90a, from PTX ISA 8.0.
            ptx = TargetLine().Replace(ptx, ".target sm_90a", 1);
            var v = VersionLine().Match(ptx);
            if (v.Success && int.Parse(v.Groups[1].Value, CultureInfo.InvariantCulture) < 8)
                ptx = VersionLine().Replace(ptx, ".version 8.0", 1);
            return ptx;
        }
        return ptx.Contains("cvt.rn.tf32.f32", StringComparison.Ordinal) ? ptx.Replace(".target sm_80", ".target sm_90", StringComparison.Ordinal) : ptx;
    }

    [GeneratedRegex(@"\.target sm_\d+a?")]
    private static partial Regex TargetLine();

    [GeneratedRegex(@"\.version (\d+)\.(\d+)")]
    private static partial Regex VersionLine();

    /// <summary>
    /// Replaces the PTX of <paramref name="kernel"/>, a kernel just compiled by a PTX backend and not yet loaded.
    /// ILGPU 1.5 has no public way to build a compiled kernel from PTX text, so the get-only auto-property's backing
    /// field is set.
    /// </summary>
    /// <exception cref="InvalidOperationException">This ILGPU version has no such field.</exception>
    public static void Replace(PTXCompiledKernel kernel, string ptx)
    {
        var field = typeof(PTXCompiledKernel).GetField("<PTXAssembly>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("PTXCompiledKernel has no PTXAssembly backing field in this ILGPU version.");
        field.SetValue(kernel, ptx);
    }
}
