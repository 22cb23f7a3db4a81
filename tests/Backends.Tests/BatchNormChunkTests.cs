namespace Ember.Conformance;

/// <summary>
/// Batch norm on channels long enough to be cut into several chunks per channel (the ILGPU kernels' partial statistics
/// and their merge): samples longer than a group (one carry per step), shorter ones (a division per step, down to one
/// element per sample as BatchNorm1d), a last chunk shorter than the others, large means; forward and backward against
/// the CPU backend.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class BatchNormChunkTests(string device) : DeviceTest(device)
{
    public static IEnumerable<long[]> Shapes() => [[6, 3, 40, 40], [5000, 3], [9, 2, 1000], [3, 2, 7, 700]];

    [TestCaseSource(nameof(Shapes))]
    public void ForwardMatchesTheCpu(long[] shape)
    {
        long c = shape[1];
        Conform(d => [Rnd(d, shape, 61, scale: 3, shift: 50), Rnd(d, [c], 62), Rnd(d, [c], 63), Tensor.Zeros(shape, DType.Float32, d),
                Tensor.Zeros([c], DType.Float64, d), Tensor.Zeros([c], DType.Float64, d), Tensor.Zeros([c], DType.Float64, d)],
            (be, t) => be.BatchNorm(t[0]!, t[1], t[2], 1e-5, t[3]!, t[4]!, t[5]!, t[6]!), [3, 4, 5, 6], rtol: 1e-4, atol: 1e-5);
    }

    [TestCaseSource(nameof(Shapes))]
    public void BackwardMatchesTheCpu(long[] shape)
    {
        long c = shape[1];
        Conform(d =>
            {
                var x = Rnd(d, shape, 71, scale: 2, shift: 1);
                var (mean, variance, rstd) = (Tensor.Zeros([c], DType.Float64, d), Tensor.Zeros([c], DType.Float64, d), Tensor.Zeros([c], DType.Float64, d));
                x.Backend.BatchNorm(x, null, null, 1e-5, Tensor.Zeros(shape, DType.Float32, d), mean, variance, rstd);
                return [Rnd(d, shape, 72), x, Rnd(d, [c], 73), mean, rstd, Tensor.Zeros(shape, DType.Float32, d), Tensor.Zeros([c], DType.Float32, d), Tensor.Zeros([c], DType.Float32, d)];
            },
            (be, t) => be.BatchNormBackward(t[0]!, t[1]!, t[2], t[3]!, t[4]!, t[5], t[6], t[7]), [5, 6, 7], rtol: 1e-4, atol: 1e-5);
    }
}
