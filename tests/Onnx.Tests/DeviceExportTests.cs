using Ember.Ilgpu;
using Ember.NN;
using Google.Protobuf;

namespace Ember.OnnxExport.Tests;

/// <summary>The export reads only recorded ops and tensor values, so a model on the ILGPU backend exports the same file as on the CPU.</summary>
public class DeviceExportTests
{
    [Test]
    public void MlpOnIlgpuCpuExportsTheSameModelAsOnTheCpu()
    {
        IlgpuBackend.Register();
        var axes = new Dictionary<string, IReadOnlyDictionary<int, string>> { ["input"] = new Dictionary<int, string> { [0] = "batch" } };
        Tensor.ManualSeed(5);
        var model = TestModels.Mlp();
        var x = Tensor.Randn(2, 3, 4);
        var onCpu = Onnx.ExportModel(model, [x], 17, axes, null, null).ToByteArray();
        model.To(Device.IlgpuCpu);
        var onDevice = Onnx.ExportModel(model, [x.To(Device.IlgpuCpu)], 17, axes, null, null).ToByteArray();
        Assert.That(onDevice, Is.EqualTo(onCpu));
    }
}
