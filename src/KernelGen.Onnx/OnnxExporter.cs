using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using Google.Protobuf;
using KernelGen.Catalog;
using KernelGen.Kernels;
using KernelGen.Runtime;

using KernelGen.Onnx.Proto;
using TensorDataType = KernelGen.Onnx.Proto.TensorProto.Types.DataType;

namespace KernelGen.Onnx;

/// <summary>
/// Writes a network's inference graph (what <see cref="IInferenceNetwork{T}.Predict"/> computes, evaluation mode) as an
/// ONNX model: IR version 8, default-domain opset 17, one input <c>input</c> [batch × InputSize] and one output
/// <c>output</c> [batch × OutputSize] with a symbolic batch dimension <c>batch</c>. Parameters are initializers.
/// </summary>
/// <remarks>
/// <para>Layer mapping (<see cref="LayerKind"/> → ONNX):</para>
/// <list type="bullet">
/// <item>Dense → <c>Gemm</c> (W as [inputs × units], the network's layout, transB = 0; bias [units]) plus its fused activation.</item>
/// <item>Activations: ReLU → <c>Relu</c>, Sigmoid → <c>Sigmoid</c>, Tanh → <c>Tanh</c>, LeakyReLU → <c>LeakyRelu</c>(alpha = slope),
/// ELU → <c>Elu</c>(alpha), Softplus → <c>Softplus</c>, SiLU → <c>Mul</c>(x, <c>Sigmoid</c>(x)), exact GELU → ½x·(1 + <c>Erf</c>(x/√2)),
/// tanh-approximated GELU → ½x·(1 + <c>Tanh</c>(√(2/π)(x + 0.044715x³))) (both from Mul/Add/Erf/Tanh), identity → nothing.</item>
/// <item>BatchNorm → folded into the preceding Gemm when that dense layer has no activation and
/// <see cref="OnnxExportOptions.FoldBatchNorm"/> is set; otherwise <c>BatchNormalization</c> with the running statistics.</item>
/// <item>LayerNorm → <c>LayerNormalization</c>(axis −1, epsilon).</item>
/// <item>GroupNorm → <c>Reshape</c> [N, G, C/G], <c>ReduceMean</c>/<c>Sub</c>/<c>Mul</c>/<c>Add</c>/<c>Sqrt</c>/<c>Div</c> over the
/// last axis, <c>Reshape</c> [N, C], <c>Mul</c> γ, <c>Add</c> β.</item>
/// <item>Maxout → <c>Gemm</c> to units·pieces, <c>Reshape</c> [N, units, pieces], <c>ReduceMax</c>(axes [2], keepdims 0).</item>
/// <item>Dropout → nothing (identity in evaluation). Softmax → <c>Softmax</c>(axis −1).</item>
/// </list>
/// <para>A loss's softmax is not part of Predict and so not of the graph; <see cref="OnnxExportOptions.AppendSoftmax"/> adds it
/// as a second output. The model's metadata holds the network's fingerprint (<c>kernelgen.fingerprint</c>).</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version written (8).</summary>
    public const long IrVersion = 8;

    /// <summary>The default-domain operator set version written (17).</summary>
    public const long OpsetVersion = 17;

    /// <summary>Writes <paramref name="network"/>'s inference graph to <paramref name="destination"/> (left open).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable, <paramref name="options"/> is
    /// invalid, or the network's layer list is inconsistent with its shapes or parameter arena.</exception>
    /// <exception cref="NotSupportedException">The network has a layer kind or activation without an ONNX lowering, or its
    /// parameters exceed the 2 GB a protobuf model can hold.</exception>
    public static void Export<T>(INeuralNetwork<T> network, Stream destination, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite) throw new ArgumentException("The destination stream is not writable.", nameof(destination));
        ModelProto model = BuildModel(network, options ?? OnnxExportOptions.Default);
        Write(model, destination);
    }

    /// <summary>
    /// Writes <paramref name="network"/>'s inference graph to the file <paramref name="path"/>, atomically: the model goes
    /// to a temporary file in the same directory, which then replaces <paramref name="path"/> (the rename made durable where
    /// the OS allows); on failure the temporary file is deleted and an existing file at <paramref name="path"/> is left as
    /// it was.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or as for <see cref="Export{T}(INeuralNetwork{T}, Stream, OnnxExportOptions?)"/>.</exception>
    public static void Export<T>(INeuralNetwork<T> network, string path, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelProto model = BuildModel(network, options ?? OnnxExportOptions.Default);
        // The runtime's atomic save: a temporary file beside the target (stale ones of dead writers cleaned up), flushed,
        // renamed over the target, and the rename made durable where the OS allows.
        using KernelGen.IO.AtomicFile file = KernelGen.IO.AtomicFile.Create(path);
        Write(model, file.Stream);
        file.Commit();
    }

    /// <summary>The model as bytes (what <see cref="Export{T}(INeuralNetwork{T}, Stream, OnnxExportOptions?)"/> writes).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    public static byte[] ExportToBytes<T>(INeuralNetwork<T> network, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        return BuildModel(network, options ?? OnnxExportOptions.Default).ToByteArray();
    }

    // Protobuf messages are limited to 2 GB; leave room for the graph around the initializers.
    private const long MaxInitializerBytes = int.MaxValue - (64L << 20);

    private static void Write(ModelProto model, Stream destination)
    {
        using var output = new CodedOutputStream(destination, leaveOpen: true);
        model.WriteTo(output);
        output.Flush();
    }

    private static GraphProto Graph(string name, string docString, IEnumerable<NodeProto> nodes, IEnumerable<TensorProto> initializers,
        IEnumerable<ValueInfoProto> inputs, IEnumerable<ValueInfoProto> outputs)
    {
        var graph = new GraphProto { Name = name, DocString = docString };
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        graph.Input.AddRange(inputs);
        graph.Output.AddRange(outputs);
        return graph;
    }

    // ---- lowering ----------------------------------------------------------------------------------------------------

    private static ModelProto BuildModel<T>(INeuralNetwork<T> network, OnnxExportOptions options)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (options.ElementType is not (OnnxElementType.Float or OnnxElementType.Double))
            throw new ArgumentException($"Unknown element type {options.ElementType}.", nameof(options));
        var elementType = options.ElementType == OnnxElementType.Float ? TensorDataType.Float : TensorDataType.Double;
        IReadOnlyList<LayerInfo> layers = network.Layers;
        ValidateShapes(network, layers);

        long initializerBytes = (long)(network.Parameters.Length + network.RunningStatistics.Length) * (elementType == TensorDataType.Float ? sizeof(float) : sizeof(double));
        if (initializerBytes > MaxInitializerBytes)
            throw new NotSupportedException($"The network's {initializerBytes} bytes of parameters exceed what one protobuf ONNX model can hold (2 GB); external data is not supported.");
        double[] parameters = ToDouble<T>(network.Parameters);
        double[] statistics = ToDouble<T>(network.RunningStatistics);
        var builder = new OnnxGraphBuilder(elementType);
        // The network is a dataflow graph in layer order: each layer reads the values of its Inputs (−1: the input).
        var results = new string[layers.Count];
        var readers = new int[layers.Count];
        foreach (LayerInfo l in layers) foreach (int input in l.Inputs) if (input >= 0) readers[input]++;
        string x = OnnxGraphBuilder.InputName;
        Dictionary<int, RepVggBlock> blocks = options.Reparameterize ? RepVggBlocks(layers, readers) : [];
        var absorbed = new bool[layers.Count];
        foreach (RepVggBlock block in blocks.Values) foreach (int member in block.Members) absorbed[member] = true;
        for (int i = 0; i < layers.Count; i++)
        {
            LayerInfo layer = layers[i];
            int current = i;
            if (absorbed[i]) continue; // a branch of a re-parameterized block: its Add emits the one Conv
            x = layer.Inputs[0] < 0 ? OnnxGraphBuilder.InputName : results[layer.Inputs[0]];
            if (blocks.TryGetValue(i, out RepVggBlock? repvgg))
            {
                LayerInfo widest = repvgg.Widest;
                int outChannels = widest.OutputShape[0], channels = widest.InputShape[0], k = (int)widest.Option("Kernel");
                double[] w = new double[outChannels * channels * k * k], b = new double[outChannels];
                Folding.FoldBranches<double>(parameters, statistics, repvgg.Branches, outChannels, channels, k, w, b);
                string source = repvgg.Input < 0 ? OnnxGraphBuilder.InputName : results[repvgg.Input];
                var bound = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["x"] = source,
                    ["Weights"] = builder.Initializer(layer.Name + ".Weights", w, outChannels, channels, k, k),
                    ["Bias"] = builder.Initializer(layer.Name + ".Bias", b, outChannels),
                };
                x = OnnxExpression.Evaluate(OpCatalog.Get(LayerKind.Conv2D).Onnx!, builder, layer.Name, bound, Numbers(widest));
                results[i] = ApplyActivation(builder, x, layer, elementType);
                continue;
            }
            if (layer.Kind is LayerKind.Add or LayerKind.Concat)
            {
                string[] inputs = [.. layer.Inputs.Select(v => v < 0 ? OnnxGraphBuilder.InputName : results[v])];
                x = layer.Kind == LayerKind.Add
                    ? builder.Node("Sum", layer.Name, inputs)
                    : builder.Node("Concat", layer.Name, inputs, OnnxMessages.Int("axis", 1));
                results[i] = ApplyActivation(builder, x, layer, elementType);
                continue;
            }
            if (!OpCatalog.IsKnown(layer.Kind)) throw new NotSupportedException($"Layer {layer.Name}: layer kind {layer.Kind} has no ONNX lowering.");
            if (layer.CustomActivation is { } custom && layer.CustomActivationOnnx is null)
                throw new NotSupportedException($"Layer {layer.Name}: the user's activation {custom} has no ONNX lowering.");
            LayerDescriptor descriptor = OpCatalog.Get(layer.Kind);
            if (layer.Kind != LayerKind.Activation)
            {
                if ((layer.InputShape.Rank == 3 ? descriptor.OnnxImage ?? descriptor.Onnx : descriptor.Onnx) is not { } mapping)
                    throw new NotSupportedException($"Layer {layer.Name}: layer kind {layer.Kind} has no ONNX lowering.");
                string scope = layer.Name;
                var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["x"] = x };
                LayerInfo? folded = null;
                if (options.FoldBatchNorm && layer.Kind is LayerKind.Dense or LayerKind.Conv2D && layer.Activation == Activation.Identity
                    && layer.CustomActivation is null && i + 1 < layers.Count && OpCatalog.Get(layers[i + 1].Kind).FoldsIntoDense
                    && layers[i + 1].ReadsPrevious && readers[i] == 1 && !absorbed[i + 1])
                    folded = layers[++i];
                if (folded is not null) scope = layer.Name + "+" + folded.Name;
                if (folded is null)
                    foreach (LayerTensor tensor in layer.Tensors)
                    {
                        double[] data = Slice(tensor.IsState ? statistics : parameters, tensor.Offset, tensor.Length, layer, tensor.Name);
                        values[Suffix(tensor)] = builder.Initializer(scope + "." + Suffix(tensor), data, Dims(tensor.Shape));
                    }
                else if (layer.Kind == LayerKind.Conv2D) values = FoldConvolution(builder, layer, folded, parameters, statistics, scope, x);
                else values = Fold(builder, layer, folded, parameters, statistics, scope, x);
                x = OnnxExpression.Evaluate(mapping, builder, scope, values, Numbers(layer));
                if (folded is not null)
                {
                    results[current] = results[i] = x;
                    continue;
                }
            }
            results[i] = ApplyActivation(builder, x, layer, elementType);
        }
        builder.MarkOutput(layers.Count == 0 ? OnnxGraphBuilder.InputName : results[layers.Count - 1]);

        var outputs = new List<ValueInfoProto> { OnnxMessages.TensorValue(OnnxGraphBuilder.OutputName, elementType, OnnxGraphBuilder.BatchParameter, [network.OutputSize]) };
        if (options.AppendSoftmax)
        {
            builder.OutputNode("Softmax", "Probabilities", [OnnxGraphBuilder.OutputName], OnnxGraphBuilder.ProbabilitiesName, OnnxMessages.Int("axis", -1));
            outputs.Add(OnnxMessages.TensorValue(OnnxGraphBuilder.ProbabilitiesName, elementType, OnnxGraphBuilder.BatchParameter, [network.OutputSize]));
        }

        string typeName = network.GetType().FullName ?? network.GetType().Name;
        string fingerprint = "0x" + network.Fingerprint.ToString("X16", CultureInfo.InvariantCulture);
        GraphProto graph = Graph(options.GraphName ?? typeName,
            $"KernelGen network {typeName} in evaluation mode (BatchNorm running statistics, no dropout); fingerprint {fingerprint}.",
            builder.BuildNodes(), builder.Initializers,
            [OnnxMessages.TensorValue(OnnxGraphBuilder.InputName, elementType, OnnxGraphBuilder.BatchParameter, network.InputShape.Dimensions)], outputs);
        string producerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var model = new ModelProto { IrVersion = IrVersion, ProducerName = "KernelGen", ProducerVersion = producerVersion, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "kernelgen.fingerprint", Value = fingerprint });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "kernelgen.network", Value = typeName });
        return model;
    }

    /// <summary>
    /// Folds inference-mode BatchNorm into the dense layer before it, in double: with s_j = γ_j/√(var_j + ε),
    /// W′[i, j] = W[i, j]·s_j and b′_j = (b_j − μ_j)·s_j + β_j, so x·W′ + b′ = γ·(x·W + b − μ)/√(var + ε) + β.
    /// Returns the bindings of the dense layer's mapping with the folded tensors.
    /// </summary>
    private static Dictionary<string, string> Fold(OnnxGraphBuilder builder, LayerInfo dense, LayerInfo norm, double[] parameters, double[] statistics, string scope, string x)
    {
        int inputs = dense.InputFeatures, units = dense.OutputFeatures;
        if (norm.OutputFeatures != units) throw new ArgumentException($"Layer {norm.Name}: {norm.OutputFeatures} features after a {units}-unit dense layer.", "network");
        double[] w = Slice(parameters, dense.WeightOffset, inputs * units, dense, "weights");
        double[] b = Slice(parameters, dense.BiasOffset, units, dense, "bias");
        double[] gamma = Slice(parameters, norm.GammaOffset, units, norm, "γ");
        double[] beta = Slice(parameters, norm.BetaOffset, units, norm, "β");
        double[] mean = Slice(statistics, norm.RunningMeanOffset, units, norm, "running mean");
        double[] variance = Slice(statistics, norm.RunningVarianceOffset, units, norm, "running variance");
        double epsilon = norm.Option("Epsilon");
        var scale = new double[units];
        for (int j = 0; j < units; j++)
        {
            scale[j] = gamma[j] / Math.Sqrt(variance[j] + epsilon);
            b[j] = (b[j] - mean[j]) * scale[j] + beta[j];
        }
        for (int i = 0; i < inputs; i++)
            for (int j = 0; j < units; j++)
                w[i * units + j] *= scale[j];
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["x"] = x,
            [Suffix(dense.Tensor(TensorRole.Weight)!)] = builder.Initializer(scope + ".Weights", w, inputs, units),
            [Suffix(dense.Tensor(TensorRole.Bias)!)] = builder.Initializer(scope + ".Bias", b, units),
        };
    }

    /// <summary>
    /// Folds an evaluation-mode BatchNorm into the convolution before it (exact whatever the padding): per output channel
    /// W′[o, ·] = W[o, ·]·s_o and b′_o = (b_o − μ_o)·s_o + β_o, through <see cref="Folding.FoldConvolution{T}"/> in double.
    /// </summary>
    private static Dictionary<string, string> FoldConvolution(OnnxGraphBuilder builder, LayerInfo conv, LayerInfo norm, double[] parameters, double[] statistics, string scope, string x)
    {
        LayerTensor weights = conv.Tensor(TensorRole.Weight)!;
        int outputs = weights.Shape[0], patch = weights.Length / outputs, area = weights.Shape[2] * weights.Shape[3];
        double[] w = Slice(parameters, weights.Offset, weights.Length, conv, "weights");
        double[] b = conv.BiasOffset >= 0 ? Slice(parameters, conv.BiasOffset, outputs, conv, "bias") : [];
        double[] gamma = Slice(parameters, norm.GammaOffset, outputs, norm, "γ"), beta = Slice(parameters, norm.BetaOffset, outputs, norm, "β");
        double[] mean = Slice(statistics, norm.RunningMeanOffset, outputs, norm, "running mean");
        double[] variance = Slice(statistics, norm.RunningVarianceOffset, outputs, norm, "running variance");
        double[] foldedW = new double[w.Length], foldedB = new double[outputs];
        Folding.FoldConvolution<double>(w, b, foldedW, foldedB, outputs, patch, area, (int)conv.Option("Groups"),
            default, default, default, default, 0, gamma, beta, mean, variance, norm.Option("Epsilon"));
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["x"] = x,
            ["Weights"] = builder.Initializer(scope + ".Weights", foldedW, Dims(weights.Shape)),
            ["Bias"] = builder.Initializer(scope + ".Bias", foldedB, outputs),
        };
    }

    /// <summary>A RepVGG block: the Add's branches (the fold's input), the convolution of the largest kernel (its options
    /// describe the one Conv), the layer read by every branch, and the layers the Conv replaces.</summary>
    private sealed record RepVggBlock(List<FoldBranch> Branches, LayerInfo Widest, int Input, List<int> Members);

    /// <summary>
    /// The sums that re-parameterize into one convolution, as the generated inference form does: every input of the Add is
    /// a convolution of odd kernel with "same" padding, one group, no dilation and no activation (optionally followed by a
    /// BatchNorm), a BatchNorm of the block's input, or the input itself, all over the same layer and read only by the Add.
    /// </summary>
    private static Dictionary<int, RepVggBlock> RepVggBlocks(IReadOnlyList<LayerInfo> layers, int[] readers)
    {
        static bool BranchConvolution(LayerInfo l) =>
            l.Kind == LayerKind.Conv2D && l.Activation == Activation.Identity && l.CustomActivation is null && l.Option("Groups") == 1 && l.Option("Dilation") == 1
            && l.Option("Kernel") % 2 == 1 && l.Option("PadTop") == (int)l.Option("Kernel") / 2 && l.Option("PadLeft") == (int)l.Option("Kernel") / 2
            && l.Option("PadBottom") == (int)l.Option("Kernel") / 2 && l.Option("PadRight") == (int)l.Option("Kernel") / 2;
        var blocks = new Dictionary<int, RepVggBlock>();
        foreach (LayerInfo add in layers)
        {
            if (add.Kind != LayerKind.Add || add.InputShape.Rank != 3) continue;
            int x = int.MinValue;
            double stride = -1;
            LayerInfo? widest = null;
            var branches = new List<FoldBranch>();
            var members = new List<int>();
            bool ok = true, identity = false;
            foreach (int v in add.Inputs)
            {
                int input;
                LayerInfo? conv = null, norm = null;
                if (v >= 0 && readers[v] == 1 && layers[v].Kind == LayerKind.BatchNorm)
                {
                    norm = layers[v];
                    int u = norm.Inputs[0];
                    if (u >= 0 && readers[u] == 1 && BranchConvolution(layers[u])) conv = layers[u];
                    input = conv is null ? u : conv.Inputs[0];
                }
                else if (v >= 0 && readers[v] == 1 && BranchConvolution(layers[v]))
                {
                    conv = layers[v];
                    input = conv.Inputs[0];
                }
                else input = v;
                if (x != int.MinValue && input != x) { ok = false; break; }
                x = input;
                if (conv is not null)
                {
                    if (stride >= 0 && conv.Option("Stride") != stride) { ok = false; break; }
                    stride = conv.Option("Stride");
                    if (widest is null || conv.Option("Kernel") > widest.Option("Kernel")) widest = conv;
                    members.Add(conv.Index);
                    branches.Add(new FoldBranch(conv.WeightOffset, conv.BiasOffset, (int)conv.Option("Kernel"), norm));
                }
                else
                {
                    identity = true;
                    branches.Add(new FoldBranch(-1, -1, 1, norm));
                }
                if (norm is not null) members.Add(norm.Index);
            }
            if (ok && widest is not null && !(identity && stride != 1)) blocks[add.Index] = new RepVggBlock(branches, widest, x, members);
        }
        return blocks;
    }

    /// <summary>The layer's element-wise activation as ONNX nodes (none for identity), from its catalog entry.</summary>
    private static string ApplyActivation(OnnxGraphBuilder builder, string x, LayerInfo layer, TensorDataType elementType)
    {
        if (layer.CustomActivationOnnx is { } custom)
        {
            // A user's activation: the generator wrote it in primitive ONNX operators (and a double form where one differs).
            string program = (elementType == TensorDataType.Double ? layer.CustomActivationOnnxDouble : null) ?? custom;
            return OnnxExpression.Evaluate(program, builder, layer.Name, new Dictionary<string, string>(StringComparer.Ordinal) { ["x"] = x }, new Dictionary<string, double>());
        }
        if (layer.Activation == KernelGen.Activation.Identity) return x;
        if (!OpCatalog.IsKnown(layer.Activation)) throw new NotSupportedException($"Layer {layer.Name}: activation {layer.Activation} has no ONNX lowering.");
        ActivationDescriptor descriptor = OpCatalog.Get(layer.Activation);
        string mapping = (elementType == TensorDataType.Double ? descriptor.OnnxDouble?.Invoke(layer.ActivationParameter) : null)
            ?? descriptor.Onnx(layer.ActivationParameter);
        var numbers = new Dictionary<string, double>(StringComparer.Ordinal) { ["p"] = layer.ActivationParameter };
        return OnnxExpression.Evaluate(mapping, builder, layer.Name, new Dictionary<string, string>(StringComparer.Ordinal) { ["x"] = x }, numbers);
    }

    /// <summary>The numbers a layer's mapping may use: its options, and its sizes.</summary>
    private static Dictionary<string, double> Numbers(LayerInfo layer)
    {
        var numbers = new Dictionary<string, double>(layer.Options, StringComparer.Ordinal)
        {
            ["Features"] = layer.OutputFeatures,
            ["InputFeatures"] = layer.InputFeatures,
        };
        if (layer.InputShape.Rank == 3)
        {
            numbers["Channels"] = layer.InputShape[0];
            numbers["Height"] = layer.InputShape[1];
            numbers["Width"] = layer.InputShape[2];
        }
        return numbers;
    }

    /// <summary>A tensor's name in the catalog's mappings: its name after the layer's (Weights, Bias, Gamma, …).</summary>
    private static string Suffix(LayerTensor tensor) => tensor.Name.Substring(tensor.Name.IndexOf('.') + 1);

    private static long[] Dims(TensorShape shape)
    {
        var dims = new long[shape.Rank];
        for (int i = 0; i < dims.Length; i++) dims[i] = shape[i];
        return dims;
    }

    private static void ValidateShapes<T>(INeuralNetwork<T> network, IReadOnlyList<LayerInfo> layers)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (network.InputSize <= 0 || network.OutputSize <= 0)
            throw new ArgumentException($"The network has {network.InputSize} inputs and {network.OutputSize} outputs.", nameof(network));
        int features = network.InputSize;
        foreach (LayerInfo layer in layers)
        {
            for (int j = 0; j < layer.Inputs.Count; j++)
            {
                int input = layer.Inputs[j];
                if (input >= layer.Index || input < -1)
                    throw new ArgumentException($"Layer {layer.Name} reads layer {input}, which does not come before it.", nameof(network));
                int received = input < 0 ? network.InputSize : layers[input].OutputFeatures;
                if (j == 0 && layer.InputFeatures != received)
                    throw new ArgumentException($"Layer {layer.Name} takes {layer.InputFeatures} features but receives {received}.", nameof(network));
            }
            features = layer.OutputFeatures;
        }
        if (features != network.OutputSize)
            throw new ArgumentException($"The layers produce {features} features but the network has {network.OutputSize} outputs.", nameof(network));
    }

    private static double[] Slice(double[] source, int offset, int length, LayerInfo layer, string what)
    {
        if (offset < 0 || length < 0 || (long)offset + length > source.Length)
            throw new ArgumentException($"Layer {layer.Name}: its {what} ({length} values at offset {offset}) lie outside the network's arena of {source.Length}.", "network");
        return source.AsSpan(offset, length).ToArray();
    }

    private static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateChecked(values[i]);
        return result;
    }
}
