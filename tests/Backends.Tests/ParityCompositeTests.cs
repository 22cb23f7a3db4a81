namespace Ember.Conformance;

/// <summary>
/// The PyTorch-parity composites of issue #14 (sorting, scans, indexing, shape ops, einsum, pointwise) on the device
/// against the CPU: values and gradients, so each composite is shown to run on every backend.
/// </summary>
public abstract class ParityCompositeTests(string device) : DeviceTest(device)
{
    public static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData C(string n, Func<Tensor, Tensor> f) => new TestCaseData(f).SetName("Parity_" + n);
        yield return C("Sort", x => x.Sort(1).Values * 2 + x.Sort(0, descending: true).Indices.To(x.DType));
        yield return C("TopK", x => x.TopK(2, 1).Values);
        yield return C("KthValue", x => x.KthValue(2, 0).Values);
        yield return C("Median", x => x.Median(1).Values);
        yield return C("Quantile", x => x.Quantile(0.3, 1));
        yield return C("Cumsum", x => x.Cumsum(1));
        yield return C("Cumprod", x => x.Cumprod(0));
        yield return C("MaskIndex", x => x[x.Detach() > 0]);
        yield return C("LongIndex", x => x[Tensor.FromArray(new long[] { 2, 0, -1 }).To(x.Device)]);
        yield return C("IndexPut", x => x.IndexPut([Tensor.FromArray(new long[] { 0, 2 }).To(x.Device)], x[1..3] * 3, accumulate: true));
        yield return C("Take", x => x.Take(Tensor.FromArray(new long[] { 0, 7, -1 }).To(x.Device)));
        yield return C("Repeat", x => x.Repeat(2, 3));
        yield return C("Roll", x => x.Roll([1, -2], [0, 1]));
        yield return C("Rot90", x => x.Rot90(1));
        yield return C("Flip", x => x.Flip(0, 1));
        yield return C("Einsum", x => Tensor.Einsum("ij,kj->ik", x, x * 2));
        yield return C("EinsumDiagonalEllipsis", x => Tensor.Einsum("ii->i", x[.., 1..]) + Tensor.Einsum("...j,j->...", x, x[0]));
        yield return C("AdvancedIndexMixed", x => x[Tensor.FromArray(new long[] { 3, 0, 3 }).To(x.Device), 1..4] * x[.., (x.Detach()[0] > 0)].Sum());
        yield return C("Lerp", x => x.Lerp(x * x, 0.3).Addcmul(x, x, 0.5).Addcdiv(x, x.Abs() + 1));
        yield return C("FmodFrac", x => x.Fmod(0.7) + x.Frac() + x.NanToNum());
        // Linalg: the decompositions compute on the host and return on the input's device; SPD a = x·xᵀ + 2I keeps
        // every one defined, and sign-free combinations (U·diag(S)·Vh, V∘V) compare what is unique.
        static Tensor Spd(Tensor x) => x.MatMul(x.mT) + Tensor.Eye(4, dtype: x.DType, device: x.Device) * 2;
        yield return C("LinalgInvSolveDet", x => Linalg.Inv(Spd(x)).MatMul(x) + Linalg.Solve(Spd(x), x) * Linalg.Det(Spd(x)) * 0.01);
        yield return C("LinalgSlogdetCholesky", x => Linalg.Cholesky(Spd(x)) + Linalg.Slogdet(Spd(x)).LogAbsDet);
        yield return C("LinalgEigh", x => { var (l, v) = Linalg.Eigh(Spd(x)); return v * v * l; });
        yield return C("LinalgSvd", x => { var (u, sv, vh) = Linalg.Svd(x, fullMatrices: false); return (u * sv.Unsqueeze(0)).MatMul(vh) + sv.Sum(); });
        yield return C("LinalgQr", x => { var (q, r) = Linalg.Qr(x.mT); return q.MatMul(r).mT + r.Abs().Sum(); });
        yield return C("LinalgPinvNorms", x => Linalg.Pinv(x).mT + Linalg.VectorNorm(x, 3) + Linalg.MatrixNorm(x, "nuc"));
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesCpu(Func<Tensor, Tensor> f)
    {
        var xd = Rnd(Dev, [4, 5], 3).RequiresGrad_();
        var xc = Rnd(Device.Cpu, [4, 5], 3).RequiresGrad_();
        var yd = f(xd);
        var yc = f(xc);
        Assert.That(yd.Device, Is.EqualTo(Dev));
        AssertClose(Host(yd), Host(yc), 1e-5, 1e-5, "value");
        (yd * yd).Sum().Backward();
        (yc * yc).Sum().Backward();
        AssertClose(Host(xd.Grad!), Host(xc.Grad!), 1e-4, 1e-5, "gradient");
    }

    [Test]
    public void UniqueAndAdvancedWritesMatchCpu()
    {
        var results = new List<double[]>();
        foreach (var dev in new[] { Dev, Device.Cpu })
        {
            var x = Ints(dev, [6, 3], 5, 0, 3);
            var (v, inv, counts) = x.Unique(returnInverse: true, returnCounts: true, dim: 0);
            var (cv, _, cc) = x.UniqueConsecutive(returnCounts: true);
            Assert.That(v.Device, Is.EqualTo(dev));
            var y = Rnd(dev, [4, 5, 3], 9);
            y[Tensor.FromArray(new long[] { 1, 3 }), .., 2] = 4.5;   // a CPU index tensor indexes a tensor on any device
            y[TensorIndex.Ellipsis, 0] = -1;
            results.Add([.. Host(v), .. Host(inv!), .. Host(counts!), .. Host(cv), .. Host(cc!), .. Host(y)]);
        }
        AssertEqual(results[0], results[1], "unique and writes");
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class ParityComposites(string device) : ParityCompositeTests(device);
