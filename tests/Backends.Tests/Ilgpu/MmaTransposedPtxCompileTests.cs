using System.Reflection;
using System.Text.RegularExpressions;
using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The PTX of the 64x64 kernel that reads 16-bit operands M/N-major in place
/// (<see cref="MmaKernels.GemmWideTransposed{T, TX, TE, TA, TB}"/>), compiled for sm_90 without a GPU: the transposed
/// <c>ldmatrix</c> for exactly the operands read in place, the copies and <c>mma</c>s of <see cref="MmaKernels.GemmWide{T, TX, TE}"/>,
/// and what CUDA loads without local memory.
/// </summary>
public class MmaTransposedPtxCompileTests
{
    /// <summary>F16 and BF16 with each in-place layout (A M-major, B N-major, both) and each output (also the 128x256 kernel's cases).</summary>
    public static IEnumerable<TestCaseData> Kernels()
    {
        foreach (var (mma, instruction) in new[] { (typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"), (typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32") })
            foreach (var (la, lb) in new[] { (typeof(RMajorVecLayout), typeof(KMajorVecLayout)), (typeof(KMajorVecLayout), typeof(RMajorVecLayout)), (typeof(RMajorVecLayout), typeof(RMajorVecLayout)) })
                foreach (var output in new[] { typeof(MmaKernels.DirectOutput), typeof(MmaKernels.SplitOutput) })
                    yield return new TestCaseData(mma, instruction, la, lb, output).SetArgDisplayNames(mma.Name, la.Name, lb.Name, output.Name);
    }

    internal static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    // The K loop twice (whole slabs without K tests, then the rest): per slab and warp 64 mma and 16 ldmatrix.x4 in
    // each (8 per K step: 4 for A's m-tiles, 4 for B's n-tile pairs), of them .trans the 8 of each operand read
    // M/N-major; 8 cp.async chunks per thread in the prologue and in each loop; one 48 KB
    // allocation; no 32-bit shared loads; after the rewrite no local memory, launch bounds 128 x 2.
    [TestCaseSource(nameof(Kernels))]
    public void TransposedWideKernelCompiles(Type mma, string instruction, Type la, Type lb, Type output)
    {
        var method = typeof(MmaKernels).GetMethod(nameof(MmaKernels.GemmWideTransposed), BindingFlags.Public | BindingFlags.Static)!
            .MakeGenericMethod(mma, typeof(MmaKernels.NativeLdMatrixPath), output, la, lb);
        string ptx = PtxCompiler.Grouped(method);
        int trans = 2 * ((la == typeof(RMajorVecLayout) ? 8 : 0) + (lb == typeof(RMajorVecLayout) ? 8 : 0));
        Assert.That(Count(ptx, instruction), Is.EqualTo(2 * 64), "2 k steps x 32 tiles per slab, two loops");
        Assert.That(Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"), Is.EqualTo(trans));
        Assert.That(Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(32 - trans));
        Assert.That(Count(ptx, "cp.async.cg.shared.global"), Is.EqualTo(24));
        Assert.That(ptx, Does.Contain("cp.async.commit_group;").And.Contain($"cp.async.wait_group {MmaKernels.Stages - 2};"));
        Assert.That(Count(ptx, ".shared .align"), Is.EqualTo(1), "one shared allocation");
        Assert.That(ptx, Does.Contain($"__shared_alloca0[{MmaKernels.Stages * 2 * 128 * 16 * 4}]"));
        Assert.That(ptx, Does.Not.Contain("ld.shared"), "every fragment through ldmatrix");
        foreach (Match m in Regex.Matches(ptx, @"\.local \.align \d+ \.b8 __local_depot\d+\[(\d+)\]"))
            Assert.That(int.Parse(m.Groups[1].Value), Is.LessThanOrEqualTo(4), "an 8-byte inline-PTX operand slot");
        string tuned = PtxRewrite.Tune(ptx, MmaKernels.WideThreads, 2);
        Assert.That(tuned, Does.Not.Contain(".local .align").And.Not.Contain("ld.local").And.Not.Contain("st.local"), "local memory");
        Assert.That(Count(tuned, instruction), Is.EqualTo(2 * 64));
        Assert.That(Count(tuned, "cp.async.cg.shared.global"), Is.EqualTo(24));
        Assert.That(tuned, Does.Contain(".maxntid 128, 1, 1").And.Contain(".minnctapersm 2"));
    }
}
