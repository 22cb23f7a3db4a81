using Ember.Ilgpu;
using Ember.Ilgpu.Ops;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The Float16/BFloat16 elementwise, column-sum, max-pool, batch-norm, col2im and mixed-add kernels compile for CUDA (PTX code generation only, as
/// <see cref="PtxCompileTests"/>): every float32 operator struct of the registry inside the 16-bit kernels, and the
/// accurate float32 exp/tanh family the backend substitutes, without approximate instructions.
/// </summary>
public class NarrowPtxCompileTests
{
    private static string Ptx(System.Reflection.MethodInfo method) => PtxCompiler.AutoGrouped(method);

    private static string GroupedPtx(System.Reflection.MethodInfo method) => PtxCompiler.Grouped(method);

    private struct OperatorType : Ember.Operators.IUnaryOperatorVisitor, Ember.Operators.IBinaryOperatorVisitor
    {
        public Type? Op;
        public void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, Ember.Operators.IUnaryOperator<T> => Op = typeof(TOp);
        void Ember.Operators.IBinaryOperatorVisitor.Visit<T, TOp>(TOp op) => Op = typeof(TOp);
    }

    private static readonly Type[] Narrow = [typeof(F16), typeof(BF16)];

    [TestCaseSource(typeof(Ember.Conformance.ElementwiseTests), nameof(Ember.Conformance.ElementwiseTests.FloatUnaryOps))]
    public void EveryUnaryOperatorCompilesInTheNarrowKernel(UnaryOp op)
    {
        var found = new OperatorType();
        Assert.That(Ember.Operators.UnaryOperators.TryVisitFloat(op, DType.Float32, 0.5, 2, ref found), Is.True);
        foreach (var n in Narrow)
            Assert.That(Ptx(typeof(NarrowElementwiseKernels).GetMethod(nameof(NarrowElementwiseKernels.Map))!.MakeGenericMethod(n, found.Op!)),
                Does.Contain(".entry"), $"{op} over {n.Name}");
    }

    [TestCase(BinaryOp.Add), TestCase(BinaryOp.Sub), TestCase(BinaryOp.Mul), TestCase(BinaryOp.Div), TestCase(BinaryOp.Pow),
     TestCase(BinaryOp.Maximum), TestCase(BinaryOp.Minimum), TestCase(BinaryOp.Remainder), TestCase(BinaryOp.ReluBackward), TestCase(BinaryOp.GeluBackward)]
    public void EveryBinaryOperatorCompilesInTheNarrowKernel(BinaryOp op)
    {
        var found = new OperatorType();
        Assert.That(Ember.Operators.BinaryOperators.TryVisitFloat(op, DType.Float32, ref found), Is.True);
        foreach (var n in Narrow)
            Assert.That(Ptx(typeof(NarrowElementwiseKernels).GetMethod(nameof(NarrowElementwiseKernels.Combine))!.MakeGenericMethod(n, found.Op!)),
                Does.Contain(".entry"), $"{op} over {n.Name}");
    }

    [Test]
    public void AccurateTranscendentalsColumnSumsAndMaxPoolCompile()
    {
        foreach (var n in Narrow)
        {
            foreach (var op in new[] { typeof(AccurateExpF32), typeof(AccurateTanhF32), typeof(AccurateSigmoidF32), typeof(AccurateSiluF32), typeof(AccurateGeluTanhF32) })
                Assert.That(Ptx(typeof(NarrowElementwiseKernels).GetMethod(nameof(NarrowElementwiseKernels.Map))!.MakeGenericMethod(n, op)),
                    Does.Contain(".entry").And.Not.Contain(".approx"), $"{op.Name} over {n.Name}");
            Assert.That(Ptx(typeof(NarrowPoolKernels).GetMethod(nameof(NarrowPoolKernels.MaxPool))!.MakeGenericMethod(n)), Does.Contain(".entry"), $"MaxPool<{n.Name}>");
            Assert.That(Ptx(typeof(NarrowPoolKernels).GetMethod(nameof(NarrowPoolKernels.MaxPoolBackward))!.MakeGenericMethod(n)), Does.Contain(".entry"),
                $"MaxPoolBackward<{n.Name}>");
            foreach (var name in new[] { nameof(NarrowColumnSumKernels.Partial), nameof(NarrowColumnSumKernels.Finish), nameof(NarrowColumnSumKernels.Whole) })
                Assert.That(Ptx(typeof(NarrowColumnSumKernels).GetMethod(name)!.MakeGenericMethod(n)), Does.Contain(".entry"), $"{name}<{n.Name}>");
            Assert.That(Ptx(typeof(NarrowRowSumKernels).GetMethod(nameof(NarrowRowSumKernels.Partial))!.MakeGenericMethod(n)), Does.Contain(".entry"),
                $"row sums <{n.Name}>");
        }
    }

    [Test]
    public void MixedBatchNormAttentionCol2ImAndMixedAddCompile()
    {
        foreach (var n in Narrow)
        {
            var storage = typeof(Narrowed<>).MakeGenericType(n);
            Type[] args = [typeof(ushort), typeof(float), typeof(F32), storage];
            foreach (var name in new[] { nameof(BatchNormKernels.Forward), nameof(BatchNormKernels.Backward) })
                Assert.That(GroupedPtx(typeof(BatchNormKernels).GetMethod(name)!.MakeGenericMethod(args)), Does.Contain(".entry"), $"BatchNorm {name} over {n.Name}");
            // Autocast's attention on 16-bit storage: float32 in registers and shared memory, no local-memory spills.
            foreach (var name in new[] { nameof(AttentionKernels.Forward), nameof(AttentionKernels.RowsBackward), nameof(AttentionKernels.ColumnsBackward) })
                Assert.That(GroupedPtx(typeof(AttentionKernels).GetMethod(name)!.MakeGenericMethod(args)),
                    Does.Contain(".entry").And.Contain("shfl.sync.idx").And.Not.Contain(".local"), $"Attention {name} over {n.Name}");
            Assert.That(Ptx(typeof(ConvPoolKernels).GetMethod(nameof(ConvPoolKernels.Col2Im))!.MakeGenericMethod(args)), Does.Contain(".entry"), $"Col2Im over {n.Name}");
            Assert.That(Ptx(typeof(ConvPoolKernels).GetMethod(nameof(ConvPoolKernels.Im2ColRows))!.MakeGenericMethod(typeof(ushort))), Does.Contain(".entry"), "Im2ColRows<ushort>");
            foreach (var op in new[] { BinaryOp.Add, BinaryOp.Sub })
            {
                var found = new OperatorType();
                Assert.That(Ember.Operators.BinaryOperators.TryVisitFloat(op, DType.Float32, ref found), Is.True);
                Assert.That(Ptx(typeof(NarrowElementwiseKernels).GetMethod(nameof(NarrowElementwiseKernels.CombineMixed))!.MakeGenericMethod(n, found.Op!)),
                    Does.Contain(".entry"), $"mixed {op} over {n.Name}");
            }
        }
    }
}
