using System;
using System.Collections.Generic;
using Google.Protobuf;

namespace KernelGen.Onnx;

// Hand-written protobuf serialization of the few ONNX messages the exporter needs, on Google.Protobuf's
// CodedOutputStream (no generated code, no .proto compiler in the build). Field numbers, wire types and enum values
// are those of onnx/onnx.proto (github.com/onnx/onnx, file onnx/onnx.proto: messages ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto,
// StringStringEntryProto; enums AttributeProto.AttributeType and TensorProto.DataType). onnx.proto is proto2, so
// repeated scalars without [packed = true] (TensorProto.dims, AttributeProto.ints) are written unpacked.
//
// Each message computes its encoded size once (cached: messages are immutable once built), so a nested message's
// length prefix costs no second pass over its children.

/// <summary>A protobuf message that knows its encoded size and writes itself.</summary>
internal abstract class ProtoMessage
{
    private int _size = -1;

    /// <summary>The encoded size in bytes (computed on first use).</summary>
    public int Size => _size >= 0 ? _size : _size = ComputeSize();

    protected abstract int ComputeSize();

    public abstract void WriteTo(CodedOutputStream output);

    // ---- shared field helpers ----------------------------------------------------------------------------------------

    protected static int StringField(int field, string? value) =>
        value is null ? 0 : CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeStringSize(value);

    protected static void WriteString(CodedOutputStream output, int field, string? value)
    {
        if (value is null) return;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    protected static int Int64Field(int field, long value) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeInt64Size(value);

    protected static void WriteInt64(CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }

    protected static int MessageField(int field, ProtoMessage? message) =>
        message is null ? 0 : CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(message.Size) + message.Size;

    protected static void WriteMessage(CodedOutputStream output, int field, ProtoMessage? message)
    {
        if (message is null) return;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(message.Size);
        message.WriteTo(output);
    }

    protected static int MessagesField<TMessage>(int field, IReadOnlyList<TMessage> messages) where TMessage : ProtoMessage
    {
        int size = 0;
        foreach (TMessage message in messages) size += MessageField(field, message);
        return size;
    }

    protected static void WriteMessages<TMessage>(CodedOutputStream output, int field, IReadOnlyList<TMessage> messages) where TMessage : ProtoMessage
    {
        foreach (TMessage message in messages) WriteMessage(output, field, message);
    }
}

/// <summary>ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7,
/// opset_import = 8, metadata_props = 14.</summary>
internal sealed class ModelProto(long irVersion, IReadOnlyList<OperatorSetIdProto> opsetImport, string producerName,
    string producerVersion, string? docString, GraphProto graph, IReadOnlyList<StringStringEntryProto> metadata) : ProtoMessage
{
    protected override int ComputeSize() =>
        Int64Field(1, irVersion) + StringField(2, producerName) + StringField(3, producerVersion) + StringField(6, docString) +
        MessageField(7, graph) + MessagesField(8, opsetImport) + MessagesField(14, metadata);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteInt64(output, 1, irVersion);
        WriteString(output, 2, producerName);
        WriteString(output, 3, producerVersion);
        WriteString(output, 6, docString);
        WriteMessage(output, 7, graph);
        WriteMessages(output, 8, opsetImport);
        WriteMessages(output, 14, metadata);
    }
}

/// <summary>OperatorSetIdProto: domain = 1, version = 2.</summary>
internal sealed class OperatorSetIdProto(string domain, long version) : ProtoMessage
{
    protected override int ComputeSize() => StringField(1, domain) + Int64Field(2, version);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, domain);
        WriteInt64(output, 2, version);
    }
}

/// <summary>StringStringEntryProto: key = 1, value = 2.</summary>
internal sealed class StringStringEntryProto(string key, string value) : ProtoMessage
{
    protected override int ComputeSize() => StringField(1, key) + StringField(2, value);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, key);
        WriteString(output, 2, value);
    }
}

/// <summary>GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12.</summary>
internal sealed class GraphProto(string name, string? docString, IReadOnlyList<NodeProto> nodes, IReadOnlyList<TensorProto> initializers,
    IReadOnlyList<ValueInfoProto> inputs, IReadOnlyList<ValueInfoProto> outputs) : ProtoMessage
{
    protected override int ComputeSize() =>
        MessagesField(1, nodes) + StringField(2, name) + MessagesField(5, initializers) + StringField(10, docString) +
        MessagesField(11, inputs) + MessagesField(12, outputs);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteMessages(output, 1, nodes);
        WriteString(output, 2, name);
        WriteMessages(output, 5, initializers);
        WriteString(output, 10, docString);
        WriteMessages(output, 11, inputs);
        WriteMessages(output, 12, outputs);
    }
}

/// <summary>NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5 (domain = 7 left empty: the default "" domain).</summary>
internal sealed class NodeProto(string opType, string name, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
    IReadOnlyList<AttributeProto> attributes) : ProtoMessage
{
    public string OpType => opType;
    public IReadOnlyList<string> Inputs => inputs;
    public IReadOnlyList<string> Outputs => outputs;

    protected override int ComputeSize()
    {
        int size = 0;
        foreach (string input in inputs) size += StringField(1, input);
        foreach (string value in outputs) size += StringField(2, value);
        return size + StringField(3, name) + StringField(4, opType) + MessagesField(5, attributes);
    }

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (string input in inputs) WriteString(output, 1, input);
        foreach (string value in outputs) WriteString(output, 2, value);
        WriteString(output, 3, name);
        WriteString(output, 4, opType);
        WriteMessages(output, 5, attributes);
    }
}

/// <summary>AttributeProto.AttributeType values used here.</summary>
internal enum AttributeType
{
    Float = 1,
    Int = 2,
    Ints = 7,
}

/// <summary>AttributeProto: name = 1, f = 2 (fixed32), i = 3, ints = 8 (unpacked), type = 20.</summary>
internal sealed class AttributeProto : ProtoMessage
{
    private readonly string _name;
    private readonly AttributeType _type;
    private readonly float _float;
    private readonly long _int;
    private readonly long[] _ints;

    private AttributeProto(string name, AttributeType type, float f, long i, long[] ints)
    {
        _name = name;
        _type = type;
        _float = f;
        _int = i;
        _ints = ints;
    }

    public static AttributeProto Float(string name, float value) => new(name, AttributeType.Float, value, 0, []);
    public static AttributeProto Int(string name, long value) => new(name, AttributeType.Int, 0, value, []);
    public static AttributeProto Ints(string name, params long[] values) => new(name, AttributeType.Ints, 0, 0, values);

    protected override int ComputeSize()
    {
        int size = StringField(1, _name) + Int64Field(20, (long)_type);
        switch (_type)
        {
            case AttributeType.Float: size += CodedOutputStream.ComputeTagSize(2) + CodedOutputStream.ComputeFloatSize(_float); break;
            case AttributeType.Int: size += Int64Field(3, _int); break;
            default: foreach (long value in _ints) size += Int64Field(8, value); break;
        }
        return size;
    }

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, _name);
        switch (_type)
        {
            case AttributeType.Float:
                output.WriteTag(2, WireFormat.WireType.Fixed32);
                output.WriteFloat(_float);
                break;
            case AttributeType.Int: WriteInt64(output, 3, _int); break;
            default: foreach (long value in _ints) WriteInt64(output, 8, value); break;
        }
        WriteInt64(output, 20, (long)_type);
    }
}

/// <summary>TensorProto.DataType values used here.</summary>
internal enum TensorDataType
{
    Float = 1,
    Int64 = 7,
    Double = 11,
}

/// <summary>TensorProto: dims = 1 (unpacked), data_type = 2, name = 8, raw_data = 9 (fixed-width little-endian elements).</summary>
internal sealed class TensorProto(string name, TensorDataType dataType, long[] dims, byte[] rawData) : ProtoMessage
{
    protected override int ComputeSize()
    {
        int size = 0;
        foreach (long dim in dims) size += Int64Field(1, dim);
        return size + Int64Field(2, (long)dataType) + StringField(8, name) +
            CodedOutputStream.ComputeTagSize(9) + CodedOutputStream.ComputeLengthSize(rawData.Length) + rawData.Length;
    }

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (long dim in dims) WriteInt64(output, 1, dim);
        WriteInt64(output, 2, (long)dataType);
        WriteString(output, 8, name);
        output.WriteTag(9, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(rawData)); // length prefix and bytes, no copy
    }
}

/// <summary>ValueInfoProto (name = 1, type = 2) of a tensor [batch × sample dimensions…]: TypeProto.tensor_type = 1 holding
/// TypeProto.Tensor (elem_type = 1, shape = 2), TensorShapeProto.dim = 1, Dimension (dim_value = 1, dim_param = 2).</summary>
internal sealed class ValueInfoProto(string name, TensorDataType elementType, string batchParameter, IReadOnlyList<int> sample) : ProtoMessage
{
    private readonly TypeProto _type = new(new TensorTypeProto(elementType, new TensorShapeProto(Dimensions(batchParameter, sample))));

    private static DimensionProto[] Dimensions(string batchParameter, IReadOnlyList<int> sample)
    {
        var dims = new DimensionProto[sample.Count + 1];
        dims[0] = new DimensionProto(null, batchParameter);
        for (int i = 0; i < sample.Count; i++) dims[i + 1] = new DimensionProto(sample[i], null);
        return dims;
    }

    protected override int ComputeSize() => StringField(1, name) + MessageField(2, _type);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, name);
        WriteMessage(output, 2, _type);
    }

    private sealed class TypeProto(TensorTypeProto tensor) : ProtoMessage
    {
        protected override int ComputeSize() => MessageField(1, tensor);
        public override void WriteTo(CodedOutputStream output) => WriteMessage(output, 1, tensor);
    }

    private sealed class TensorTypeProto(TensorDataType elementType, TensorShapeProto shape) : ProtoMessage
    {
        protected override int ComputeSize() => Int64Field(1, (long)elementType) + MessageField(2, shape);

        public override void WriteTo(CodedOutputStream output)
        {
            WriteInt64(output, 1, (long)elementType);
            WriteMessage(output, 2, shape);
        }
    }

    private sealed class TensorShapeProto(DimensionProto[] dims) : ProtoMessage
    {
        protected override int ComputeSize() => MessagesField(1, dims);
        public override void WriteTo(CodedOutputStream output) => WriteMessages(output, 1, dims);
    }

    private sealed class DimensionProto(long? value, string? parameter) : ProtoMessage
    {
        protected override int ComputeSize() => (value is long v ? Int64Field(1, v) : 0) + StringField(2, parameter);

        public override void WriteTo(CodedOutputStream output)
        {
            if (value is long v) WriteInt64(output, 1, v);
            WriteString(output, 2, parameter);
        }
    }
}
