namespace Ember;

/// <summary>An export that cannot be written: an op without ONNX conversion, or a shape the graph cannot express.</summary>
/// <param name="message">What failed, naming the op and the modules it was called from.</param>
public sealed class OnnxExportException(string message) : Exception(message);
