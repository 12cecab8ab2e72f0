using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;

namespace KernelGen.Onnx;

/// <summary>
/// Lowers a network's layer list (<see cref="LayerInfo"/>, evaluation mode) to ONNX opset-17 nodes and initializers.
/// Values flow as 2-D tensors [batch × features]; every layer reads the previous layer's value and produces one.
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
        foreach (PendingNode node in _nodes) nodes.Add(new NodeProto(node.OpType, node.Name, node.Inputs, [node.Output], node.Attributes));
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
        _initializers.Add(new TensorProto(name, _elementType, dims, raw));
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
        _initializers.Add(new TensorProto(name, TensorDataType.Int64, [dims.Length], raw));
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

    // ---- layers ------------------------------------------------------------------------------------------------------

    /// <summary>Gemm: y = x·W + b with W [inputs × outputs] (transB = 0, the network's own layout), b [outputs].</summary>
    public string Gemm(string x, string scope, string weightName, double[] weights, string biasName, double[] bias, int inputs, int outputs)
    {
        string w = Initializer(weightName, weights, inputs, outputs);
        string b = Initializer(biasName, bias, outputs);
        return Node("Gemm", scope, [x, w, b]);
    }

    /// <summary>An element-wise activation as ONNX nodes (none for identity).</summary>
    public string Activation(string x, string scope, Activation activation, double parameter)
    {
        switch (activation)
        {
            case KernelGen.Activation.Identity: return x;
            case KernelGen.Activation.ReLU: return Node("Relu", scope, [x]);
            case KernelGen.Activation.Sigmoid: return Node("Sigmoid", scope, [x]);
            case KernelGen.Activation.Tanh: return Node("Tanh", scope, [x]);
            case KernelGen.Activation.LeakyReLU: return Node("LeakyRelu", scope, [x], AttributeProto.Float("alpha", (float)parameter));
            case KernelGen.Activation.ELU when _elementType == TensorDataType.Double:
            {
                // max(x, 0) + α·(e^min(x, 0) − 1): exactly x for x > 0. ONNX Runtime's CPU provider has no double Elu kernel.
                string negative = Node("Sub", scope, [Node("Exp", scope, [Node("Min", scope, [x, Scalar("Zero", 0.0)])]), Scalar("One", 1.0)]);
                return Node("Add", scope, [Node("Max", scope, [x, Scalar("Zero", 0.0)]), Node("Mul", scope, [negative, Scalar(scope + ".Alpha", parameter)])]);
            }
            case KernelGen.Activation.ELU: return Node("Elu", scope, [x], AttributeProto.Float("alpha", (float)parameter));
            case KernelGen.Activation.Softplus when _elementType == TensorDataType.Double:
            {
                // max(x, 0) + log(1 + e^(−|x|)) (no overflow). ONNX Runtime's CPU provider has no double Softplus kernel.
                string tail = Node("Log", scope, [Node("Add", scope, [Node("Exp", scope, [Node("Neg", scope, [Node("Abs", scope, [x])])]), Scalar("One", 1.0)])]);
                return Node("Add", scope, [Node("Max", scope, [x, Scalar("Zero", 0.0)]), tail]);
            }
            case KernelGen.Activation.Softplus: return Node("Softplus", scope, [x]);
            case KernelGen.Activation.SiLU:
                // x·σ(x): opset 17 has no SiLU/Swish operator.
                return Node("Mul", scope, [x, Node("Sigmoid", scope, [x])]);
            case KernelGen.Activation.GELU when parameter != 0:
            {
                // ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), evaluated as the runtime does: u = c·((0.044715·x·x)·x + x).
                string cubic = Node("Mul", scope, [Node("Mul", scope, [Node("Mul", scope, [x, x]), Scalar("GeluCubic", 0.044715)]), x]);
                string u = Node("Mul", scope, [Node("Add", scope, [cubic, x]), Scalar("Sqrt2OverPi", 0.79788456080286535588)]);
                string onePlus = Node("Add", scope, [Node("Tanh", scope, [u]), Scalar("One", 1.0)]);
                return Node("Mul", scope, [Node("Mul", scope, [x, Scalar("Half", 0.5)]), onePlus]);
            }
            case KernelGen.Activation.GELU:
            {
                // Exact GELU ½x·(1 + erf(x/√2)), with x/√2 as x·(1/√2) like the runtime (opset 17 has no Gelu operator).
                string erf = Node("Mul", scope, [x, Scalar("InvSqrt2", 0.70710678118654752440)]);
                if (_elementType == TensorDataType.Double)
                {
                    // ONNX Runtime's CPU provider has no double Erf kernel: erf is evaluated in float (relative error ≈ 1e-7).
                    erf = Node("Erf", scope, [Node("Cast", scope, [erf], AttributeProto.Int("to", (long)TensorDataType.Float))]);
                    erf = Node("Cast", scope, [erf], AttributeProto.Int("to", (long)TensorDataType.Double));
                }
                else
                {
                    erf = Node("Erf", scope, [erf]);
                }
                string onePlus = Node("Add", scope, [erf, Scalar("One", 1.0)]);
                return Node("Mul", scope, [Node("Mul", scope, [x, Scalar("Half", 0.5)]), onePlus]);
            }
            default:
                throw new NotSupportedException($"Layer {scope}: activation {activation} has no ONNX lowering.");
        }
    }

    /// <summary>BatchNormalization in inference mode (running statistics) on [N × C].</summary>
    public string BatchNormalization(string x, string scope, double[] gamma, double[] beta, double[] mean, double[] variance, double epsilon)
    {
        int c = gamma.Length;
        string[] inputs =
        [
            x, Initializer(scope + ".Gamma", gamma, c), Initializer(scope + ".Beta", beta, c),
            Initializer(scope + ".RunningMean", mean, c), Initializer(scope + ".RunningVariance", variance, c),
        ];
        return Node("BatchNormalization", scope, inputs, AttributeProto.Float("epsilon", (float)epsilon));
    }

    /// <summary>LayerNormalization over the last axis (opset 17).</summary>
    public string LayerNormalization(string x, string scope, double[] gamma, double[] beta, double epsilon)
    {
        int c = gamma.Length;
        return Node("LayerNormalization", scope, [x, Initializer(scope + ".Gamma", gamma, c), Initializer(scope + ".Beta", beta, c)],
            AttributeProto.Int("axis", -1), AttributeProto.Float("epsilon", (float)epsilon));
    }

    /// <summary>
    /// Group normalization from opset-17 primitives (opset 18's GroupNormalization has per-group scale and bias, unlike
    /// PyTorch's per-channel γ and β): Reshape [N, G, C/G]; μ = ReduceMean over the last axis; d = x − μ;
    /// σ² = ReduceMean(d·d); x̂ = d / √(σ² + ε); Reshape [N, C]; y = x̂·γ + β.
    /// </summary>
    public string GroupNormalization(string x, string scope, double[] gamma, double[] beta, int groups, double epsilon)
    {
        int c = gamma.Length;
        string grouped = Node("Reshape", scope, [x, Shape(-1, groups, c / groups)]);
        string mean = Node("ReduceMean", scope, [grouped], AttributeProto.Ints("axes", -1), AttributeProto.Int("keepdims", 1));
        string centred = Node("Sub", scope, [grouped, mean]);
        string variance = Node("ReduceMean", scope, [Node("Mul", scope, [centred, centred])], AttributeProto.Ints("axes", -1), AttributeProto.Int("keepdims", 1));
        string std = Node("Sqrt", scope, [Node("Add", scope, [variance, Scalar(scope + ".Epsilon", epsilon)])]);
        string normalized = Node("Reshape", scope, [Node("Div", scope, [centred, std]), Shape(-1, c)]);
        string scaled = Node("Mul", scope, [normalized, Initializer(scope + ".Gamma", gamma, c)]);
        return Node("Add", scope, [scaled, Initializer(scope + ".Beta", beta, c)]);
    }

    /// <summary>Maxout: Gemm to units·pieces, Reshape [N, units, pieces] (unit u's piece k is column u·pieces + k), ReduceMax over axis 2.</summary>
    public string Maxout(string x, string scope, double[] weights, double[] bias, int inputs, int units, int pieces)
    {
        string linear = Gemm(x, scope, scope + ".Weights", weights, scope + ".Bias", bias, inputs, units * pieces);
        string grouped = Node("Reshape", scope, [linear, Shape(-1, units, pieces)]);
        return Node("ReduceMax", scope, [grouped], AttributeProto.Ints("axes", 2), AttributeProto.Int("keepdims", 0));
    }

    /// <summary>Softmax over each sample's features.</summary>
    public string Softmax(string x, string scope) => Node("Softmax", scope, [x], AttributeProto.Int("axis", -1));
}
