using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace KernelGen.Benchmarks;

/// <summary>One dense layer's parameters: W is [In × Out] row-major (as KernelGen stores it), B is [Out].</summary>
public sealed record DenseLayer(float[] W, float[] B, int In, int Out);

/// <summary>
/// A minimal ONNX ModelProto writer for a chain of dense layers (Gemm, then Relu between layers), written field by field
/// with Google.Protobuf's <see cref="CodedOutputStream"/> so the benchmarks need no ONNX schema or exporter. The input is
/// <c>x</c> [N × In₀] and the output <c>y</c> [N × Out_last] with a symbolic batch dimension N; Gemm's B input is the
/// [In × Out] weight matrix as stored (transB = 0), C the bias broadcast over rows.
/// </summary>
/// <remarks>
/// Field numbers from onnx.proto (IR version 8, opset 13): ModelProto ir_version 1, producer_name 2, graph 7,
/// opset_import 8; OperatorSetIdProto version 2; GraphProto node 1, name 2, initializer 5, input 11, output 12;
/// NodeProto input 1, output 2, name 3, op_type 4; TensorProto dims 1, data_type 2 (FLOAT = 1), name 8, raw_data 9
/// (little-endian); ValueInfoProto name 1, type 2; TypeProto tensor_type 1; TypeProto.Tensor elem_type 1, shape 2;
/// TensorShapeProto dim 1; Dimension dim_value 1, dim_param 2.
/// </remarks>
public static class OnnxModel
{
    private const int FloatType = 1;

    /// <summary>The serialized model of x → Gemm → Relu → … → Gemm → y.</summary>
    public static byte[] DenseRelu(IReadOnlyList<DenseLayer> layers)
    {
        byte[] graph = Message(g =>
        {
            string input = "x";
            for (int l = 0; l < layers.Count; l++)
            {
                bool last = l == layers.Count - 1;
                string z = last ? "y" : $"z{l}";
                WriteMessage(g, 1, Node("Gemm", [input, $"W{l}", $"B{l}"], [z], $"gemm{l}"));
                if (!last)
                {
                    WriteMessage(g, 1, Node("Relu", [z], [$"a{l}"], $"relu{l}"));
                    input = $"a{l}";
                }
            }
            WriteString(g, 2, "mlp");
            for (int l = 0; l < layers.Count; l++)
            {
                WriteMessage(g, 5, Tensor($"W{l}", [layers[l].In, layers[l].Out], layers[l].W));
                WriteMessage(g, 5, Tensor($"B{l}", [layers[l].Out], layers[l].B));
            }
            WriteMessage(g, 11, ValueInfo("x", layers[0].In));
            WriteMessage(g, 12, ValueInfo("y", layers[^1].Out));
        });
        return Message(m =>
        {
            m.WriteTag(1, WireFormat.WireType.Varint);
            m.WriteInt64(8); // ir_version
            WriteString(m, 2, "KernelGen.Benchmarks");
            WriteMessage(m, 7, graph);
            WriteMessage(m, 8, Message(o =>
            {
                o.WriteTag(2, WireFormat.WireType.Varint);
                o.WriteInt64(13); // default domain, opset 13
            }));
        });
    }

    private static byte[] Node(string opType, string[] inputs, string[] outputs, string name) => Message(n =>
    {
        foreach (string input in inputs) WriteString(n, 1, input);
        foreach (string output in outputs) WriteString(n, 2, output);
        WriteString(n, 3, name);
        WriteString(n, 4, opType);
    });

    private static byte[] Tensor(string name, long[] dims, float[] data) => Message(t =>
    {
        foreach (long d in dims)
        {
            t.WriteTag(1, WireFormat.WireType.Varint);
            t.WriteInt64(d);
        }
        t.WriteTag(2, WireFormat.WireType.Varint);
        t.WriteInt32(FloatType);
        WriteString(t, 8, name);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian.");
        t.WriteTag(9, WireFormat.WireType.LengthDelimited);
        t.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())));
    });

    /// <summary>A float tensor [N × <paramref name="features"/>] with a symbolic batch dimension.</summary>
    private static byte[] ValueInfo(string name, int features) => Message(v =>
    {
        WriteString(v, 1, name);
        WriteMessage(v, 2, Message(type => WriteMessage(type, 1, Message(tensor =>
        {
            tensor.WriteTag(1, WireFormat.WireType.Varint);
            tensor.WriteInt32(FloatType);
            WriteMessage(tensor, 2, Message(shape =>
            {
                WriteMessage(shape, 1, Message(d => WriteString(d, 2, "N")));
                WriteMessage(shape, 1, Message(d =>
                {
                    d.WriteTag(1, WireFormat.WireType.Varint);
                    d.WriteInt64(features);
                }));
            }));
        }))));
    });

    private static void WriteString(CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    private static void WriteMessage(CodedOutputStream output, int field, byte[] message)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(message));
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true)) write(output);
        return stream.ToArray();
    }
}
