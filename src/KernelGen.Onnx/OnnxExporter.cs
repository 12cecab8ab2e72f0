namespace KernelGen.Onnx;

/// <summary>Writes a network's inference graph as an ONNX model.</summary>
public static class OnnxExporter
{
}
