using System.Reflection;
using Ember.Ilgpu;
using Ember.Ilgpu.Ops;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// Compiles kernels with ILGPU's PTX backend (code generation only: no GPU or CUDA driver needed), so that a kernel
/// ILGPU's CUDA backend cannot compile fails in CI and not first on the GPU machine. ILGPU's CPU accelerator runs the
/// kernels' .NET code, so it would not notice.
/// </summary>
public class PtxCompileTests
{
    private static string Ptx(Type owner, string name, params Type[] typeArgs)
    {
        var method = owner.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.MakeGenericMethod(typeArgs);
        return PtxCompiler.Grouped(method);
    }

    /// <summary>Records which operator struct the registry gives a <see cref="UnaryOp"/> or <see cref="BinaryOp"/>.</summary>
    private struct OperatorType : Ember.Operators.IUnaryOperatorVisitor, Ember.Operators.IBinaryOperatorVisitor
    {
        public Type? Op;
        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, Ember.Operators.IUnaryOperator<T> => Op = typeof(TOp);
        void Ember.Operators.IBinaryOperatorVisitor.Visit<T, TOp>(TOp op) => Op = typeof(TOp);
    }

    private static string AutoGroupedPtx(System.Reflection.MethodInfo method) => PtxCompiler.AutoGrouped(method);

    [TestCaseSource(typeof(Ember.Conformance.ElementwiseTests), nameof(Ember.Conformance.ElementwiseTests.FloatUnaryOps))]
    public void EveryUnaryOperatorStructCompilesForCuda(UnaryOp op)
    {
        // The one generic kernel instantiated with the registry's struct: what the GPU runs for this op.
        foreach (var (dtype, t) in new[] { (DType.Float32, typeof(float)), (DType.Float64, typeof(double)) })
        {
            var found = new OperatorType();
            Assert.That(Ember.Operators.UnaryOperators.TryVisitFloat(op, dtype, 0.5, 2, ref found), Is.True, $"{op} has a {dtype} struct");
            var kernel = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Map))!.MakeGenericMethod(t, found.Op!);
            Assert.That(AutoGroupedPtx(kernel), Does.Contain(".entry"), $"{op}<{t.Name}>");
        }
    }

    [Test]
    public void Float32TranscendentalKernelsUseNoApproximateInstructions()
    {
        // What CUDA would run for T.Tanh / T.Exp: ILGPU's PTX backend emits tanh.approx.f32 (relative error up to
        // 2^-10.99) and ex2.approx.f32. The backend launches AccurateMath's structs for float32 instead.
        Type map = typeof(ElementwiseKernels);
        string Of(Type op) => AutoGroupedPtx(map.GetMethod(nameof(ElementwiseKernels.Map))!.MakeGenericMethod(typeof(float), op));
        Assert.That(Of(typeof(Ember.Operators.TanhOperator<float>)), Does.Contain("tanh.approx"), "the generic tanh (evidence of the cause)");
        Assert.That(Of(typeof(Ember.Operators.ExpOperator<float>)), Does.Contain("ex2.approx"), "the generic exp (evidence of the cause)");
        foreach (var op in new[] { typeof(AccurateExpF32), typeof(AccurateTanhF32), typeof(AccurateSigmoidF32), typeof(AccurateSiluF32), typeof(AccurateGeluTanhF32) })
            Assert.That(Of(op), Does.Contain(".entry").And.Not.Contain(".approx"), op.Name);
    }

    [TestCaseSource(typeof(Ember.Conformance.ElementwiseTests), nameof(Ember.Conformance.ElementwiseTests.ArithmeticOps))]
    public void EveryBinaryOperatorStructCompilesForCuda(BinaryOp op)
    {
        foreach (var (dtype, t) in new[] { (DType.Float32, typeof(float)), (DType.Float64, typeof(double)) })
        {
            var found = new OperatorType();
            Assert.That(Ember.Operators.BinaryOperators.TryVisitFloat(op, dtype, ref found), Is.True, $"{op} has a {dtype} struct");
            var kernel = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Combine))!.MakeGenericMethod(t, found.Op!);
            Assert.That(AutoGroupedPtx(kernel), Does.Contain(".entry"), $"{op}<{t.Name}>");
        }
    }

    public static IEnumerable<UnaryOp> IntegerUnaryOps =>
        Enum.GetValues<UnaryOp>().Where(op => Ember.Operators.UnaryOperators.TryVisitInteger(op, DType.Int32, 0.5, 2, ref Unused.Value));

    public static IEnumerable<BinaryOp> IntegerBinaryOps =>
        Enum.GetValues<BinaryOp>().Where(op => Ember.Operators.BinaryOperators.TryVisitInteger(op, DType.Int32, ref Unused.Value));

    private static class Unused { public static OperatorType Value; }

    [TestCaseSource(nameof(IntegerUnaryOps))]
    public void EveryIntegerUnaryOperatorStructCompilesForCuda(UnaryOp op)
    {
        // α = 0.5 picks the double path of MulScalar/PowScalar, α = 2 the exact one: both branches are in the struct.
        Assert.That(IntegerUnaryOps.Count(), Is.EqualTo(13), "the integer subset of UnaryOp");
        foreach (var (dtype, t) in new[] { (DType.Int32, typeof(int)), (DType.Int64, typeof(long)) })
        {
            var found = new OperatorType();
            Assert.That(Ember.Operators.UnaryOperators.TryVisitInteger(op, dtype, 0.5, 2, ref found), Is.True, $"{op} has a {dtype} struct");
            var kernel = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Map))!.MakeGenericMethod(t, found.Op!);
            Assert.That(AutoGroupedPtx(kernel), Does.Contain(".entry"), $"{op}<{t.Name}>");
        }
    }

    [TestCaseSource(nameof(IntegerBinaryOps))]
    public void EveryIntegerBinaryOperatorStructCompilesForCuda(BinaryOp op)
    {
        Assert.That(IntegerBinaryOps.Count(), Is.EqualTo(11), "the integer subset of BinaryOp");
        foreach (var (dtype, t) in new[] { (DType.Int32, typeof(int)), (DType.Int64, typeof(long)) })
        {
            var found = new OperatorType();
            Assert.That(Ember.Operators.BinaryOperators.TryVisitInteger(op, dtype, ref found), Is.True, $"{op} has a {dtype} struct");
            var kernel = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Combine))!.MakeGenericMethod(t, found.Op!);
            Assert.That(AutoGroupedPtx(kernel), Does.Contain(".entry"), $"{op}<{t.Name}>");
        }
    }

    [Test]
    public void SortKernelsCompile()
    {
        foreach (var name in new[] { nameof(SortKernels.Init), nameof(SortKernels.Step), nameof(SortKernels.Gather) })
            Assert.That(AutoGroupedPtx(typeof(SortKernels).GetMethod(name)!), Does.Contain(".entry"), name);
    }

    [Test]
    public void NarrowElementConversionsAndComparisonsCompile()
    {
        // Float16/BFloat16 live on the device as ushort bits; their conversions are integer and float32 arithmetic.
        var elements = new[] { (typeof(ushort), typeof(F16)), (typeof(ushort), typeof(BF16)), (typeof(byte), typeof(U8)),
            (typeof(sbyte), typeof(I8)), (typeof(short), typeof(I16)) };
        foreach (var (t, n) in elements)
        {
            foreach (var (t2, n2) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)), (typeof(long), typeof(I64)) })
            {
                var there = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Convert))!.MakeGenericMethod(t, n, t2, n2);
                Assert.That(AutoGroupedPtx(there), Does.Contain(".entry"), $"Convert {n.Name} → {n2.Name}");
                var back = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Convert))!.MakeGenericMethod(t2, n2, t, n);
                Assert.That(AutoGroupedPtx(back), Does.Contain(".entry"), $"Convert {n2.Name} → {n.Name}");
            }
            var compare = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Compare))!.MakeGenericMethod(t, n);
            Assert.That(AutoGroupedPtx(compare), Does.Contain(".entry"), $"Compare<{n.Name}>");
        }
    }

    [Test]
    public void KernelsTakingTheOpEnumAsAParameterCompile()
    {
        // The comparison and classification kernels branch on a BinaryOp/UnaryOp parameter (no integer codes).
        foreach (var (t, n) in new[] { (typeof(int), typeof(I32)), (typeof(long), typeof(I64)) })
        {
            var kernel = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Compare))!.MakeGenericMethod(t, n);
            Assert.That(AutoGroupedPtx(kernel), Does.Contain(".entry"), $"Compare<{t.Name}>");
        }
        var classify = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Classify))!.MakeGenericMethod(typeof(float), typeof(F32));
        Assert.That(AutoGroupedPtx(classify), Does.Contain(".entry"), "Classify<float>");
        var random = typeof(RandomKernels).GetMethod(nameof(RandomKernels.Fill))!.MakeGenericMethod(typeof(double), typeof(F64));
        Assert.That(AutoGroupedPtx(random), Does.Contain(".entry"), "RandomKernels.Fill<double>");
    }

    [Test]
    public void ReductionKernelsCompileWithTheOpAsAnEnumField()
    {
        // ReduceParams carries the ReduceOp itself (no integer codes): the branches on it must compile for CUDA.
        foreach (var (t, r) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)) })
        {
            Assert.That(Ptx(typeof(ReduceKernels), nameof(ReduceKernels.Split), t, r), Does.Contain("bar.sync"), $"Split<{t.Name}>");
            var column = typeof(ReduceKernels).GetMethod(nameof(ReduceKernels.Column))!.MakeGenericMethod(t, r);
            Assert.That(AutoGroupedPtx(column), Does.Contain(".entry"), $"Column<{t.Name}>");
        }
        foreach (var (t, n) in new[] { (typeof(int), typeof(I32)), (typeof(long), typeof(I64)) })
        {
            var rows = typeof(ReduceKernels).GetMethod(nameof(ReduceKernels.IntegerRows))!.MakeGenericMethod(t, n);
            Assert.That(AutoGroupedPtx(rows), Does.Contain(".entry"), $"IntegerRows<{t.Name}>");
        }
        var boolRows = typeof(ReduceKernels).GetMethod(nameof(ReduceKernels.BoolRows))!.MakeGenericMethod(typeof(byte), typeof(B8));
        Assert.That(AutoGroupedPtx(boolRows), Does.Contain(".entry"), "BoolRows<byte>");
    }

    [TestCase(nameof(WarpRowKernels.SoftmaxWarp)), TestCase(nameof(WarpRowKernels.SoftmaxBlock)),
     TestCase(nameof(WarpRowKernels.SoftmaxBackwardWarp)), TestCase(nameof(WarpRowKernels.SoftmaxBackwardBlock)),
     TestCase(nameof(WarpRowKernels.LayerNormParamsFinish))]
    public void WarpSoftmaxKernelsCompileToButterflyShuffles(string kernel)
    {
        foreach (var (t, r) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)) })
        {
            string ptx = Ptx(typeof(WarpRowKernels), kernel, t, r);
            Assert.That(ptx, Does.Contain("shfl.sync.bfly"), $"{kernel}<{t.Name}>: warp shuffles in the PTX");
            // The helpers' ref/out locals must become registers. (Only float32 is checked: the float64 exp of
            // ILGPU.Algorithms is a software routine whose own helpers pass locals by reference.)
            if (t == typeof(float)) Assert.That(ptx, Does.Not.Contain(".local"), $"{kernel}<float>: no local-memory variables");
        }
    }

    [Test]
    public void TheTreeSoftmaxKernelCompilesWithoutShuffles()
    {
        // Control: the shared-memory tree kernel (known to run on CUDA) compiles here too, and has no shuffles.
        string ptx = Ptx(typeof(RowKernels), nameof(RowKernels.Softmax), typeof(float), typeof(F32));
        Assert.That(ptx, Does.Contain("bar.sync"));
        Assert.That(ptx, Does.Not.Contain("shfl.sync"));
    }

    [TestCase(nameof(AttentionKernels.Forward)), TestCase(nameof(AttentionKernels.RowsBackward)),
     TestCase(nameof(AttentionKernels.ColumnsBackward))]
    public void AttentionKernelsCompile(string kernel)
    {
        foreach (var (t, r) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)) })
        {
            string ptx = Ptx(typeof(AttentionKernels), kernel, t, t, r, typeof(Plain<>).MakeGenericType(t));
            Assert.That(ptx, Does.Contain(".entry"), $"{kernel}<{t.Name}>: a kernel entry in the PTX");
            Assert.That(ptx, Does.Contain("shfl.sync.idx"), $"{kernel}<{t.Name}>: weights broadcast by warp shuffles");
            // Every kernel stages chunks of rows (keys/values, or queries/gradients) in shared memory between barriers.
            Assert.That(ptx, Does.Contain("bar.sync"), $"{kernel}<{t.Name}>: barriers");
            Assert.That(ptx, Does.Contain(".shared"), $"{kernel}<{t.Name}>: shared memory");
            if (t == typeof(float)) Assert.That(ptx, Does.Not.Contain(".local"), $"{kernel}<float>: accumulators in registers");
        }
    }

    [TestCase(nameof(CrossEntropyKernels.Forward)), TestCase(nameof(CrossEntropyKernels.Backward))]
    public void CrossEntropyKernelsCompile(string kernel)
    {
        foreach (var (t, r) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)) })
        {
            string ptx = Ptx(typeof(CrossEntropyKernels), kernel, t, r);
            Assert.That(ptx, Does.Contain(".entry"), $"{kernel}<{t.Name}>: a kernel entry in the PTX");
            Assert.That(ptx, Does.Contain("bar.sync"), $"{kernel}<{t.Name}>: the group reductions' barriers");
        }
    }

    [Test]
    public void IndexCheckKernelCompiles()
    {
        // IBackend.CheckIndices on CUDA: one group, a compare-and-swap on the check's flag, the count's reduction.
        foreach (var (t, r) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)) })
        {
            string ptx = Ptx(typeof(IndexCheckKernels), nameof(IndexCheckKernels.Check), t, r);
            Assert.That(ptx, Does.Contain(".entry"), $"Check<{t.Name}>: a kernel entry in the PTX");
            Assert.That(ptx, Does.Match(@"atom(\.global)?\.cas(\.global)?\.b64"), $"Check<{t.Name}>: the flag's compare-and-swap");
            Assert.That(ptx, Does.Contain("bar.sync"), $"Check<{t.Name}>: the count's barriers");
        }
        // IndexSelect reads nothing out of bounds for a bad index (the check reports it later): the guarded read compiles.
        var select = typeof(IndexKernels).GetMethod(nameof(IndexKernels.IndexSelect))!.MakeGenericMethod(typeof(float));
        Assert.That(AutoGroupedPtx(select), Does.Contain(".entry"), "IndexSelect<float>");
    }

    // The tensor-core kernels: the inline PTX is emitted as written (the mma instruction with its operand registers),
    // for every operand type and layout specialization the dispatcher can pick.
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [TestCase(typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void MmaGemmKernelsCompileWithInlinePtx(Type mma, string instruction)
    {
        foreach (var (ta, tb) in new[] { (typeof(KMajorVecLayout), typeof(KMajorVecLayout)), (typeof(KMajorLayout), typeof(RMajorLayout)),
                     (typeof(RMajorLayout), typeof(KMajorLayout)) })
        {
            string ptx = Ptx(typeof(MmaKernels), nameof(MmaKernels.Gemm), mma, ta, tb, typeof(MmaKernels.NativePath), typeof(MmaKernels.DirectOutput));
            // 2 k steps x 16 tiles per slab, each one mma.
            Assert.That(System.Text.RegularExpressions.Regex.Matches(ptx, System.Text.RegularExpressions.Regex.Escape(instruction)).Count,
                Is.EqualTo(32), $"{mma.Name}<{ta.Name}, {tb.Name}>");
        }
    }

    // Split-K (float32 partial products, then the sum with alpha/beta in the output type) and operand packing.
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [TestCase(typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void MmaSplitKAndPackingKernelsCompile(Type mma, string instruction)
    {
        string ptx = Ptx(typeof(MmaKernels), nameof(MmaKernels.Gemm), mma, typeof(KMajorVecLayout), typeof(KMajorVecLayout),
            typeof(MmaKernels.NativePath), typeof(MmaKernels.SplitOutput));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(ptx, System.Text.RegularExpressions.Regex.Escape(instruction)).Count, Is.EqualTo(32));
        Assert.That(ptx, Does.Contain("st.global.f32"), "float32 partial products");
        string sum = AutoGroupedPtx(typeof(MmaPackKernels).GetMethod(nameof(MmaPackKernels.SumSplits))!.MakeGenericMethod(mma, typeof(MmaKernels.NativePath)));
        Assert.That(sum, Does.Contain("ld.global.f32"));
        if (mma == typeof(F16Mma)) Assert.That(sum, Does.Contain("cvt.rn.f16.f32"), "hardware rounding to half");
        foreach (var (element, transform) in new[] { (typeof(ushort), typeof(PackCopy<ushort>)), (typeof(uint), typeof(PackCopy<uint>)), (typeof(uint), typeof(PackTf32)) })
            foreach (var layout in new[] { typeof(KMajorLayout), typeof(RMajorLayout) })
            {
                string pack = Ptx(typeof(MmaPackKernels), nameof(MmaPackKernels.Pack), element, layout, transform);
                Assert.That(pack, Does.Contain("bar.sync"), $"Pack<{element.Name}, {layout.Name}, {transform.Name}>");
                Assert.That(pack, Does.Contain(element == typeof(ushort) ? "st.shared.b16" : "st.shared.b32"), $"Pack<{element.Name}, {layout.Name}>");
                // TF32 rounding clears the low 13 bits of the word it stores.
                Assert.That(pack.Contains("-8192", StringComparison.Ordinal) || pack.Contains("0xFFFFE000", StringComparison.OrdinalIgnoreCase)
                    || pack.Contains("4294959104", StringComparison.Ordinal), Is.EqualTo(transform == typeof(PackTf32)), $"Pack<{element.Name}, {layout.Name}, {transform.Name}> rounding");
            }
    }

    // The ldmatrix variant: 6 ldmatrix.x4 per K step (2 per slab), one shared allocation whose address the kernel
    // takes by ILGPU's name for it (__shared_alloca0), and the default kernel still with its two allocations.
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [TestCase(typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void MmaLdMatrixKernelsCompile(Type mma, string instruction)
    {
        static int Count(string text, string what) =>
            System.Text.RegularExpressions.Regex.Matches(text, System.Text.RegularExpressions.Regex.Escape(what)).Count;
        foreach (var output in new[] { typeof(MmaKernels.DirectOutput), typeof(MmaKernels.SplitOutput) })
        {
            string ptx = Ptx(typeof(MmaKernels), nameof(MmaKernels.Gemm), mma, typeof(KMajorVecLayout), typeof(KMajorVecLayout),
                typeof(MmaKernels.NativeLdMatrixPath), output);
            Assert.That(Count(ptx, instruction), Is.EqualTo(32));
            Assert.That(Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(12));
            Assert.That(Count(ptx, ".shared .align"), Is.EqualTo(1), "one shared allocation");
            Assert.That(ptx, Does.Contain("__shared_alloca0[40960]"), "A's and B's double buffers: 4 x 128 x 20 words");
            Assert.That(ptx, Does.Not.Contain("ld.shared"), "every fragment through ldmatrix");
            AssertNoWideOperandSlots(ptx);
            string tuned = PtxRewrite.Tune(ptx, MmaKernels.Threads, 2);
            AssertNoLocalMemory(tuned);
            Assert.That(Count(tuned, instruction), Is.EqualTo(32));
            Assert.That(Count(tuned, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(12));
        }
        string plain = Ptx(typeof(MmaKernels), nameof(MmaKernels.Gemm), mma, typeof(KMajorVecLayout), typeof(KMajorVecLayout),
            typeof(MmaKernels.NativePath), typeof(MmaKernels.DirectOutput));
        Assert.That(Count(plain, ".shared .align"), Is.EqualTo(2));
        Assert.That(plain, Does.Not.Contain("ldmatrix"));
    }

    // The 16-deep SIMT GEMM: two 16,896-byte shared allocations per operand pair (2 stages x 16 k-rows x 132 floats),
    // 16-byte global loads for aligned layouts, no local memory. Its k steps stay loops in the PTX (8 shared loads in the
    // main loop's trip of two steps, 4 in each of the two loops after it): unrolled by ILGPU, the loads of a whole stage
    // came first and the kernel took 160-168 registers under ptxas 12.8, one block per SM; rolled, 120-124.
    [TestCase(typeof(KMajorVecLayout), typeof(RMajorVecLayout))]
    [TestCase(typeof(KMajorVecLayout), typeof(KMajorVecLayout))]
    [TestCase(typeof(RMajorVecLayout), typeof(RMajorVecLayout))]
    [TestCase(typeof(RMajorVecLayout), typeof(KMajorVecLayout))]
    [TestCase(typeof(KMajorLayout), typeof(RMajorLayout))]
    public void TiledK16GemmKernelCompiles(Type ta, Type tb)
    {
        static int Count(string text, string what) =>
            System.Text.RegularExpressions.Regex.Matches(text, System.Text.RegularExpressions.Regex.Escape(what)).Count;
        string ptx = Ptx(typeof(GemmKernels), nameof(GemmKernels.Tiled16), ta, tb);
        Assert.That(Count(ptx, ".shared .align 16 .b8 __shared_alloca"), Is.EqualTo(2));
        Assert.That(ptx, Does.Contain("__shared_alloca1[16896]"));
        Assert.That(Count(ptx, "ld.shared.v4.f32"), Is.EqualTo(8 + 4 + 4), "the k steps rolled");
        Assert.That(ptx, Does.Not.Contain(".local"));
        if (ta == typeof(KMajorVecLayout) || tb == typeof(RMajorVecLayout))
            Assert.That(ptx, Does.Contain("ld.global.v4.f32"));
    }

    // The cp.async 16-deep SIMT GEMM: per stage and thread, 8 transposing 4-byte copies of a K-contiguous operand or 2
    // 16-byte ones of an M/N-contiguous one (written out: the prologue's loop and the main loop each hold one stage's),
    // one 48 KB allocation addressed by name, the k steps rolled as in TiledK16, and after the rewrite no local memory.
    [TestCase(typeof(KMajorLayout), typeof(RMajorLayout), 8, 2)]
    [TestCase(typeof(KMajorLayout), typeof(KMajorLayout), 16, 0)]
    [TestCase(typeof(RMajorLayout), typeof(RMajorLayout), 0, 4)]
    [TestCase(typeof(RMajorLayout), typeof(KMajorLayout), 8, 2)]
    public void TiledK16AsyncGemmKernelCompiles(Type ta, Type tb, int copies4, int copies16)
    {
        static int Count(string text, string what) =>
            System.Text.RegularExpressions.Regex.Matches(text, System.Text.RegularExpressions.Regex.Escape(what)).Count;
        string ptx = Ptx(typeof(GemmKernels), nameof(GemmKernels.Tiled16Async), ta, tb, typeof(NativeAsyncCopy));
        Assert.That(Count(ptx, "cp.async.ca.shared.global [%"), Is.EqualTo(2 * copies4), "4-byte copies: prologue and main loop");
        Assert.That(Count(ptx, "cp.async.cg.shared.global [%"), Is.EqualTo(2 * copies16), "16-byte copies: prologue and main loop");
        Assert.That(ptx, Does.Contain("cp.async.commit_group;"));
        Assert.That(ptx, Does.Contain($"cp.async.wait_group {GemmKernels.AsyncStages - 2};"));
        Assert.That(ptx, Does.Match(@"mov\.u32\s+%r\d+, __shared_alloca0;"), "the 32-bit shared base by name");
        Assert.That(Count(ptx, ".shared .align"), Is.EqualTo(1), "one shared allocation");
        Assert.That(ptx, Does.Contain($"__shared_alloca0[{GemmKernels.AsyncStages * 2 * 16 * 128 * 4}]"), "stages x (A + B) x 16 k x 128 floats");
        Assert.That(Count(ptx, "ld.shared.v4.f32"), Is.EqualTo(16), "the k steps rolled, four a trip");
        AssertNoWideOperandSlots(ptx);
        string tuned = PtxRewrite.Tune(ptx, GemmKernels.Threads, 2);
        AssertNoLocalMemory(tuned);
        Assert.That(tuned, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
        // Off CUDA: no inline PTX at all.
        string emulated = Ptx(typeof(GemmKernels), nameof(GemmKernels.Tiled16Async), ta, tb, typeof(EmulatedAsyncCopy));
        Assert.That(emulated, Does.Not.Contain("cp.async"));
    }

    // The cp.async pipelined loop: 16-byte asynchronous copies with the zero-fill size operand, one commit group and
    // one wait per slab, the swizzled stages in one 48 KB allocation addressed by name, 32 mma per slab, no local arrays.
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [TestCase(typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void MmaPipelinedKernelsCompile(Type mma, string instruction)
    {
        static int Count(string text, string what) =>
            System.Text.RegularExpressions.Regex.Matches(text, System.Text.RegularExpressions.Regex.Escape(what)).Count;
        foreach (var output in new[] { typeof(MmaKernels.DirectOutput), typeof(MmaKernels.SplitOutput) })
        {
            string ptx = Ptx(typeof(MmaKernels), nameof(MmaKernels.GemmPipelined), mma, typeof(MmaKernels.NativePath), output);
            Assert.That(Count(ptx, instruction), Is.EqualTo(32), "2 k steps x 16 tiles per slab");
            // Two chunks of A and two of B per thread and slab, in the prologue and in the loop.
            Assert.That(Count(ptx, "cp.async.cg.shared.global"), Is.EqualTo(8));
            Assert.That(ptx, Does.Contain("cp.async.commit_group;"));
            Assert.That(ptx, Does.Contain($"cp.async.wait_group {MmaKernels.Stages - 2};"));
            Assert.That(ptx, Does.Contain("mov.b64 emsrc, {"), "the global address joined from two 32-bit operands");
            Assert.That(Count(ptx, ".shared .align"), Is.EqualTo(1), "one shared allocation");
            Assert.That(ptx, Does.Contain($"__shared_alloca0[{MmaKernels.Stages * 2 * 128 * 16 * 4}]"), "stages x (A + B) x 128 rows x 16 words");
            // ILGPU declares a scalar local slot per inline-PTX operand (the existing kernels too; ptxas keeps them in
            // registers): anything larger would be an array in local memory.
            AssertNoWideOperandSlots(ptx);
            Assert.That(ptx, Does.Not.Contain("ldmatrix"));
            string ld = Ptx(typeof(MmaKernels), nameof(MmaKernels.GemmPipelined), mma, typeof(MmaKernels.NativeLdMatrixPath), output);
            Assert.That(Count(ld, instruction), Is.EqualTo(32));
            Assert.That(Count(ld, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(12), "6 per K step");
            Assert.That(Count(ld, "cp.async.cg.shared.global"), Is.EqualTo(8));
            Assert.That(Count(ld, ".shared .align"), Is.EqualTo(1), "one shared allocation");
            AssertNoWideOperandSlots(ld);
            // What CUDA loads: ptxas keeps every local slot in memory in a kernel with cp.async, so the rewrite must
            // leave none (and no local access at all), with the instructions unchanged.
            foreach (string kernel in new[] { ptx, ld })
            {
                string tuned = PtxRewrite.Tune(kernel, MmaKernels.Threads, 2);
                AssertNoLocalMemory(tuned);
                Assert.That(Count(tuned, instruction), Is.EqualTo(32));
                Assert.That(Count(tuned, "cp.async.cg.shared.global"), Is.EqualTo(8));
                Assert.That(tuned, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
            }
        }
    }

    // The 64x64-warp-tile kernel: per slab 64 mma and 16 ldmatrix.x4 per warp (8 per K step), 8 cp.async chunks per
    // thread (in the prologue and in the loop), the same one 48 KB allocation; what CUDA loads has no local memory and
    // launch bounds of 128 threads x 2 blocks per SM (ptxas 12.8: 212-214 registers, no stack, no spills).
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(Tf32FragmentMma<IntegerTf32Rounder>), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(Tf32FragmentMma<CvtTf32Rounder>), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [TestCase(typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void MmaWideKernelsCompile(Type mma, string instruction)
    {
        static int Count(string text, string what) =>
            System.Text.RegularExpressions.Regex.Matches(text, System.Text.RegularExpressions.Regex.Escape(what)).Count;
        foreach (var output in new[] { typeof(MmaKernels.DirectOutput), typeof(MmaKernels.SplitOutput) })
        {
            string ptx = Ptx(typeof(MmaKernels), nameof(MmaKernels.GemmWide), mma, typeof(MmaKernels.NativeLdMatrixPath), output);
            Assert.That(Count(ptx, instruction), Is.EqualTo(64), "2 k steps x 32 tiles per slab");
            Assert.That(Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(16), "8 per K step");
            Assert.That(Count(ptx, "cp.async.cg.shared.global"), Is.EqualTo(16));
            Assert.That(ptx, Does.Contain("cp.async.commit_group;").And.Contain($"cp.async.wait_group {MmaKernels.Stages - 2};"));
            Assert.That(Count(ptx, ".shared .align"), Is.EqualTo(1), "one shared allocation");
            Assert.That(ptx, Does.Contain($"__shared_alloca0[{MmaKernels.Stages * 2 * 128 * 16 * 4}]"));
            if (mma != typeof(Tf32Mma)) Assert.That(ptx, Does.Not.Contain("ld.shared"), "every fragment through ldmatrix (TF32 rounds its chunks in shared memory)");
            else Assert.That(Count(ptx, "st.shared.v4.b32"), Is.EqualTo(8), "8 chunks of 4 words rounded per slab (ties to even, integer ops)");
            AssertNoWideOperandSlots(ptx);
            string tuned = PtxRewrite.Tune(ptx, MmaKernels.WideThreads, 2);
            AssertNoLocalMemory(tuned);
            Assert.That(Count(tuned, instruction), Is.EqualTo(64));
            Assert.That(Count(tuned, "cp.async.cg.shared.global"), Is.EqualTo(16));
            Assert.That(tuned, Does.Contain(".maxntid 128, 1, 1").And.Contain(".minnctapersm 2"));
            // cvt.rn.tf32.f32 exists from sm_90 on, which ILGPU's ".target sm_80" would hide from the JIT.
            bool cvt = mma == typeof(Tf32FragmentMma<CvtTf32Rounder>);
            Assert.That(Count(tuned, "cvt.rn.tf32.f32") > 0, Is.EqualTo(cvt));
            Assert.That(tuned, Does.Contain(cvt ? ".target sm_90" : ".target sm_80"));
        }
    }

    // Stages in dynamic shared memory: the array is declared extern (no static allocation), its address taken by
    // ILGPU's name for it with 32-bit operands, the wait literal matches the stage count; 4 stages of 16 words: the
    // 64x64 kernel's counts; 3 of 32 words: twice the mma, ldmatrix and cp.async per slab. What CUDA loads has no local
    // memory, launch bounds 128 x 2 and the array aligned to 128 bytes (ptxas 12.8: 216-218 registers, no stack or spills).
    [TestCase(typeof(Tf32Mma), "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")]
    [TestCase(typeof(F16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [TestCase(typeof(Bf16Mma), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void MmaDynamicSharedKernelsCompile(Type mma, string instruction)
    {
        static int Count(string text, string what) =>
            System.Text.RegularExpressions.Regex.Matches(text, System.Text.RegularExpressions.Regex.Escape(what)).Count;
        foreach (var output in new[] { typeof(MmaKernels.DirectOutput), typeof(MmaKernels.SplitOutput) })
            foreach (var (stages, deep, wait) in new[] { (typeof(MmaKernels.FourStages), 1, 2), (typeof(MmaKernels.DeepSlabs), 2, 1) })
            {
                string ptx = Ptx(typeof(MmaKernels), nameof(MmaKernels.GemmWideDynamic), mma, typeof(MmaKernels.NativeLdMatrixPath), output, stages, typeof(MmaKernels.Block128x128));
                Assert.That(ptx, Does.Contain(".extern .shared .align").And.Contain(".b8 __dyn_shared_alloca[];"), "the dynamic array");
                Assert.That(ptx, Does.Not.Contain("__shared_alloca0"), "no static allocation");
                Assert.That(System.Text.RegularExpressions.Regex.IsMatch(ptx, @"mov\.u32\s+%r\d+, __dyn_shared_alloca;"), Is.True, "the 32-bit shared base");
                Assert.That(Count(ptx, instruction), Is.EqualTo(64 * deep));
                Assert.That(Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), Is.EqualTo(16 * deep));
                Assert.That(Count(ptx, "cp.async.cg.shared.global"), Is.EqualTo(16 * deep), "prologue and loop");
                Assert.That(ptx, Does.Contain("cp.async.commit_group;").And.Contain($"cp.async.wait_group {wait};"));
                if (mma == typeof(Tf32Mma)) Assert.That(Count(ptx, "st.shared.v4.b32"), Is.EqualTo(8 * deep), "chunks of 4 words rounded in place");
                else Assert.That(ptx, Does.Not.Contain("ld.shared"), "every fragment through ldmatrix");
                AssertNoWideOperandSlots(ptx);
                string tuned = DynamicSharedMemory.AlignDynamic(PtxRewrite.Tune(ptx, MmaKernels.WideThreads, 2));
                AssertNoLocalMemory(tuned);
                Assert.That(tuned, Does.Contain(".extern .shared .align 128 .b8 __dyn_shared_alloca[];"));
                Assert.That(Count(tuned, instruction), Is.EqualTo(64 * deep));
                Assert.That(tuned, Does.Contain(".maxntid 128, 1, 1").And.Contain(".minnctapersm 2"));
            }
    }

    /// <summary>No local slot is declared or accessed (ld.local/st.local) in <paramref name="ptx"/>.</summary>
    private static void AssertNoLocalMemory(string ptx)
    {
        Assert.That(ptx, Does.Not.Contain(".local .align"), "a local slot ptxas would keep in memory");
        Assert.That(ptx, Does.Not.Contain("ld.local").And.Not.Contain("st.local"), "a local access");
    }

    // ILGPU passes every inline-PTX operand through a local slot (__local_depotN). ptxas (CUDA 13, sm_90) promoted the
    // 4-byte slots to registers but kept the 8-byte ones in local memory: 1,848 bytes of stack and ~400 local stores per
    // slab in the first cp.async kernel (35x slower), 104 bytes in the ldmatrix one. Every operand must be 32-bit.
    private static void AssertNoWideOperandSlots(string ptx)
    {
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(ptx, @"\.local \.align \d+ \.b8 __local_depot\d+\[(\d+)\]"))
            Assert.That(int.Parse(m.Groups[1].Value), Is.LessThanOrEqualTo(4), "an 8-byte inline-PTX operand slot (ptxas leaves it in local memory)");
    }

    [TestCase(typeof(RegisterRowKernels), nameof(RegisterRowKernels.Softmax)), TestCase(typeof(RegisterRowKernels), nameof(RegisterRowKernels.SoftmaxBackward)),
     TestCase(typeof(RegisterRowKernels), nameof(RegisterRowKernels.LayerNorm)), TestCase(typeof(RegisterRowKernels), nameof(RegisterRowKernels.LayerNormBackward)),
     TestCase(typeof(RegisterCrossEntropyKernels), nameof(RegisterCrossEntropyKernels.Forward)),
     TestCase(typeof(RegisterCrossEntropyKernels), nameof(RegisterCrossEntropyKernels.Backward))]
    public void RegisterRowKernelsKeepTheRowInRegistersWith128BitAccesses(Type owner, string kernel)
    {
        var method = owner.GetMethod(kernel, BindingFlags.Public | BindingFlags.Static)!;
        string ptx = PtxCompiler.Grouped(method);
        Assert.That(ptx, Does.Contain("shfl.sync.bfly"), "warp shuffles");
        Assert.That(ptx, Does.Contain("ld.global.v4.f32"), "128-bit loads");
        Assert.That(ptx, Does.Not.Contain("bar.sync"), "no barrier");
        Assert.That(ptx, Does.Not.Contain(".local"), "the row's Float4 locals are registers, not local memory");
        if (kernel != nameof(RegisterCrossEntropyKernels.Forward)) Assert.That(ptx, Does.Contain("st.global.v4.f32"), "128-bit stores");
    }

    [Test]
    public void GradScalerUnscaleKernelCompilesForCuda()
    {
        foreach (var (t, r) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)) })
        {
            var kernel = typeof(OptimKernels).GetMethod(nameof(OptimKernels.NonFiniteCheckAndUnscale))!.MakeGenericMethod(t, r);
            Assert.That(AutoGroupedPtx(kernel), Does.Contain(".entry"), $"NonFiniteCheckAndUnscale<{t.Name}>");
        }
    }
    [Test]
    public void ForeachOptimizerKernelsCompileForCuda()
    {
        // The multi-tensor steps take structs of eight ArrayViews (plus offsets) as kernel parameters: what the CPU
        // accelerator runs as .NET code must also lower to PTX, where the views become pointer/length pairs in .param space.
        foreach (var (t, r) in new[] { (typeof(float), typeof(F32)), (typeof(double), typeof(F64)) })
            foreach (var name in new[] { nameof(OptimForeachKernels.Sgd), nameof(OptimForeachKernels.Adam) })
            {
                var kernel = typeof(OptimForeachKernels).GetMethod(name)!.MakeGenericMethod(t, r);
                string ptx = AutoGroupedPtx(kernel);
                Assert.That(ptx, Does.Contain(".entry"), $"{name}<{t.Name}>");
                Assert.That(ptx, Does.Not.Contain(".local"), $"{name}<{t.Name}>: the slot switch selects registers, not a local-memory copy");
            }
    }

    [TestCase(typeof(byte), typeof(U8), "u8"), TestCase(typeof(sbyte), typeof(I8), "u8"), TestCase(typeof(short), typeof(I16), "u16")]
    public void FloatToNarrowIntegerConversionsWrapInsteadOfSaturating(Type element, Type num, string unsigned)
    {
        // (byte)(long)x wraps on the host (-40.0 -> 216); ILGPU folded it into one PTX cvt.rzi.u8.f64, which saturates
        // (-40.0 -> 0), so float -> UInt8/Int8/Int16 copies differed on CUDA only. The conversion now wraps in double
        // first: the only float -> narrow conversion left converts the wrapped value (a sub.f64 result, in range).
        var kernel = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Convert))!.MakeGenericMethod(typeof(double), typeof(F64), element, num);
        string ptx = AutoGroupedPtx(kernel);
        // Each float -> integer cvt and the register it converts. The kernel's other branch (integer sources, through
        // ToL/FromL, exact there) folds into a cvt too; the float branch's must convert a sub.f64 result (the wrap).
        var conversions = System.Text.RegularExpressions.Regex.Matches(ptx, @"cvt\.rzi\.(\w+)\.f64\s+%\w+, (%\w+);");
        Assert.That(conversions.Any(c => c.Groups[1].Value == unsigned
                && System.Text.RegularExpressions.Regex.IsMatch(ptx, @"sub\.f64\s+" + System.Text.RegularExpressions.Regex.Escape(c.Groups[2].Value) + ",")),
            Is.True, $"a cvt.rzi.{unsigned}.f64 of a wrapped (sub.f64) value:\n{ptx}");
    }
}
