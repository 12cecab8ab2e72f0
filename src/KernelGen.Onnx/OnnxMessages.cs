using System.Collections.Generic;
using Google.Protobuf;
using KernelGen.Onnx.Proto;

namespace KernelGen.Onnx;

/// <summary>
/// Builds the ONNX messages the exporter writes, on the classes protoc generates from <c>Proto/onnx.proto</c>.
/// </summary>
internal static class OnnxMessages
{
    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An int attribute.</summary>
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An ints attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A tensor whose data are fixed-width little-endian elements in <paramref name="rawData"/> (wrapped, not copied).</summary>
    public static TensorProto Tensor(string name, TensorProto.Types.DataType dataType, long[] dims, byte[] rawData)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)dataType, RawData = UnsafeByteOperations.UnsafeWrap(rawData) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    /// <summary>A node with one or more outputs.</summary>
    public static NodeProto Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, IEnumerable<AttributeProto> attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    /// <summary>A tensor value [batch × sample dimensions…] with a symbolic batch dimension.</summary>
    public static ValueInfoProto TensorValue(string name, TensorProto.Types.DataType elementType, string batchParameter, IReadOnlyList<int> sample)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batchParameter });
        foreach (int size in sample) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = size });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }
}
