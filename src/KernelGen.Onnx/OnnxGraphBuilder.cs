using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;

using KernelGen.Onnx.Proto;
using TensorDataType = KernelGen.Onnx.Proto.TensorProto.Types.DataType;

namespace KernelGen.Onnx;

/// <summary>
/// Collects the nodes and initializers of an ONNX opset-17 graph: unique node and value names, initializers of the
/// model's element type, shared scalar and shape constants. <see cref="OnnxExpression"/> fills it from the op catalog's
/// mappings.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    internal const string InputName = "input";
    internal const string OutputName = "output";
    internal const string ProbabilitiesName = "probabilities";
    internal const string BatchParameter = "batch";

    private readonly TensorDataType _elementType;
    private readonly List<PendingNode> _nodes = [];
    private readonly List<TensorProto> _initializers = [];
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal) { InputName, OutputName, ProbabilitiesName };

    public OnnxGraphBuilder(TensorDataType elementType) { _elementType = elementType; }

    public IReadOnlyList<TensorProto> Initializers => _initializers;

    /// <summary>The nodes in topological (insertion) order.</summary>
    public List<NodeProto> BuildNodes()
    {
        var nodes = new List<NodeProto>(_nodes.Count);
        foreach (PendingNode node in _nodes) nodes.Add(OnnxMessages.Node(node.OpType, node.Name, node.Inputs, [node.Output], node.Attributes));
        return nodes;
    }

    /// <summary>Makes <paramref name="value"/> (the network's result) the graph output named <see cref="OutputName"/>:
    /// renames the producing node's output, or adds an Identity when the value is the graph input itself.</summary>
    public void MarkOutput(string value)
    {
        if (value == InputName)
        {
            _nodes.Add(new PendingNode("Identity", UniqueName("Identity"), [InputName], OutputName, []));
            return;
        }
        PendingNode last = _nodes[^1];
        if (last.Output != value) throw new InvalidOperationException("The network's result is not the last node's output.");
        last.Output = OutputName;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, string scope, string[] inputs, params AttributeProto[] attributes)
    {
        string name = UniqueName(scope + "/" + opType);
        string output = name + "_output";
        _names.Add(output);
        _nodes.Add(new PendingNode(opType, name, inputs, output, attributes));
        return output;
    }

    /// <summary>Appends a node whose output is a graph output of the given name (no renaming needed later).</summary>
    public void OutputNode(string opType, string scope, string[] inputs, string output, params AttributeProto[] attributes) =>
        _nodes.Add(new PendingNode(opType, UniqueName(scope + "/" + opType), inputs, output, attributes));

    /// <summary>Adds an initializer of the model's element type and returns its name.</summary>
    public string Initializer(string name, ReadOnlySpan<double> values, params long[] dims)
    {
        name = UniqueName(name);
        byte[] raw;
        if (_elementType == TensorDataType.Float)
        {
            raw = new byte[values.Length * sizeof(float)];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), (float)values[i]);
        }
        else
        {
            raw = new byte[values.Length * sizeof(double)];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(i * sizeof(double)), values[i]);
        }
        _initializers.Add(OnnxMessages.Tensor(name, _elementType, dims, raw));
        return name;
    }

    /// <summary>A scalar (rank-0) constant of the element type, shared by every node that uses the same value.</summary>
    public string Scalar(string label, double value)
    {
        string key = "scalar:" + value.ToString("R", CultureInfo.InvariantCulture);
        if (_constants.TryGetValue(key, out string? name)) return name;
        name = Initializer("Const." + label, [value]);
        _constants.Add(key, name);
        return name;
    }

    /// <summary>A 1-D int64 constant (a Reshape target shape), shared by equal shapes.</summary>
    public string Shape(params long[] dims)
    {
        string key = "shape:" + string.Join(",", dims);
        if (_constants.TryGetValue(key, out string? name)) return name;
        name = UniqueName("Shape." + string.Join("x", dims).Replace("-1", "N", StringComparison.Ordinal));
        byte[] raw = new byte[dims.Length * sizeof(long)];
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * sizeof(long)), dims[i]);
        _initializers.Add(OnnxMessages.Tensor(name, TensorDataType.Int64, [dims.Length], raw));
        _constants.Add(key, name);
        return name;
    }

    private string UniqueName(string name)
    {
        if (_names.Add(name)) return name;
        for (int k = 2; ; k++)
        {
            string candidate = name + "_" + k.ToString(CultureInfo.InvariantCulture);
            if (_names.Add(candidate)) return candidate;
        }
    }

    private sealed class PendingNode(string opType, string name, string[] inputs, string output, AttributeProto[] attributes)
    {
        public string OpType { get; } = opType;
        public string Name { get; } = name;
        public string[] Inputs { get; } = inputs;
        public string Output { get; set; } = output;
        public AttributeProto[] Attributes { get; } = attributes;
    }
}
