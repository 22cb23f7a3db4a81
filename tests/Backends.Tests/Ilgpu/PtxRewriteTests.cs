using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// <see cref="PtxRewrite"/>: ILGPU's one-scalar local operand slots become registers only where every use is a
/// whole-width load or store through the slot's address register; anything else is left as ILGPU wrote it.
/// </summary>
public class PtxRewriteTests
{
    // The shape ILGPU emits around an inline-PTX instruction (slot 0, a 4-byte operand), plus slots the rewrite must
    // keep: 1 (its address also used in arithmetic), 2 (an array), 3 (read at half width), 4 (address register reused).
    private const string Sample = """
        .visible .entry Kernel_K(
        	.param .align 8 .b8 _p[8]
        )
        {
        	.local .align 4 .b8 __local_depot0[4];
        	.local .align 4 .b8 __local_depot1[4];
        	.local .align 4 .b8 __local_depot2[16];
        	.local .align 4 .b8 __local_depot3[4];
        	.local .align 4 .b8 __local_depot4[4];
        	.reg .b32	%r<9>;
        	.reg .f32	%f<3>;
        	.reg .b64	%rd<9>;

        	mov.b64	%rd1, __local_depot0;
        	mov.b64	%rd2, __local_depot1;
        	mov.b64	%rd3, __local_depot2;
        	mov.b64	%rd4, __local_depot3;
        	mov.b64	%rd5, __local_depot4;
        	st.local.f32	[%rd1], 0f00000000;
        	st.local.f32	[%rd1], %f1;
        	ld.local.f32	%f2, [%rd1];
        	add.u64	%rd6, %rd2, 4;
        	st.local.b32	[%rd2], %r1;
        	st.local.b32	[%rd3], %r1;
        	ld.local.b16	%rs1, [%rd4];
        	st.local.b32	[%rd5], %r2;
        	mov.b64	%rd5, %rd6;
        	ret;
        }
        """;

    [Test]
    public void OnlySlotsUsedWholeThroughTheirAddressBecomeRegisters()
    {
        string ptx = PtxRewrite.PromoteDepots(Sample, out int promoted);
        Assert.That(promoted, Is.EqualTo(1));
        Assert.That(ptx, Does.Contain(".reg .b32 %ldp0;"));
        Assert.That(ptx, Does.Contain("mov.b32\t%ldp0, 0f00000000;").And.Contain("mov.b32\t%ldp0, %f1;").And.Contain("mov.b32\t%f2, %ldp0;"));
        Assert.That(ptx, Does.Not.Contain("__local_depot0").And.Not.Contain("[%rd1]"));
        foreach (int kept in new[] { 1, 2, 3, 4 })
            Assert.That(ptx, Does.Contain($"__local_depot{kept}[").And.Contain($"mov.b64\t%rd{kept + 1}, __local_depot{kept};"), $"slot {kept}");
        Assert.That(ptx, Does.Contain("st.local.b32\t[%rd2], %r1;").And.Contain("ld.local.b16\t%rs1, [%rd4];").And.Contain("st.local.b32\t[%rd5], %r2;"));
    }

    [Test]
    public void LaunchBoundsGoBetweenTheParametersAndTheBody()
    {
        string ptx = PtxRewrite.AddLaunchBounds(Sample, 256, 2);
        Assert.That(ptx, Does.Contain(")\n.maxntid 256, 1, 1\n.minnctapersm 2\n{"));
        Assert.That(PtxRewrite.AddLaunchBounds(ptx, 128, 4), Is.EqualTo(ptx), "bounds already set");
    }

    [Test]
    public void ACompiledKernelsPtxCanBeReplacedBeforeLoading()
    {
        // KernelCache.GroupedTuned falls back to the plain kernel if this ILGPU internal is gone: keep it visible here.
        var method = typeof(MmaKernels).GetMethod(nameof(MmaKernels.GemmPipelined))!
            .MakeGenericMethod(typeof(F16Mma), typeof(MmaKernels.NativePath), typeof(MmaKernels.DirectOutput));
        var compiled = PtxCompiler.CompileGrouped(method);
        string tuned = PtxRewrite.Tune(compiled.PTXAssembly, MmaKernels.Threads, 2);
        PtxRewrite.Replace(compiled, tuned);
        Assert.That(compiled.PTXAssembly, Is.SameAs(tuned));
    }
}
