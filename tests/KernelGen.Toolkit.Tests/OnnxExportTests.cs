using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text;
using KernelGen.Catalog;
using KernelGen.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// ONNX export checked against ONNX Runtime: every exported model is loaded from its bytes, run on random inputs
/// (batch 1 and batch 7, with ONNX Runtime's graph optimizations on and off) and compared with the network's Predict
/// within |a − b| ≤ 1e-5·max(1, |b|).
/// </summary>
public partial class OnnxExportTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;
    private static readonly int[] Batches = [1, 7];

    // ---- agreement with ONNX Runtime ---------------------------------------------------------------------------------

    [Fact]
    public void Mlp_MatchesPredict()
    {
        var network = new OnnxMlp(7, seed: 1);
        Randomize(network, 11);
        AssertMatchesOnnxRuntime(network, null, nameof(OnnxMlp));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CatalogNet_MatchesPredict(bool fold)
    {
        var network = new OnnxCatalogNet(7, seed: 2);
        Randomize(network, 12);
        byte[] model = AssertMatchesOnnxRuntime(network, new OnnxExportOptions { FoldBatchNorm = fold }, $"{nameof(OnnxCatalogNet)} fold={fold}");
        // Dense1 has no activation, so its BatchNorm folds into the Gemm: the node disappears exactly when folding.
        Assert.Equal(!fold, ContainsAscii(model, "BatchNormalization"));
        Assert.True(ContainsAscii(model, "LayerNormalization"));
        Assert.True(ContainsAscii(model, "ReduceMax"));
        Assert.False(ContainsAscii(model, "Dropout"));
    }

    public static TheoryData<string> CatalogOps => [.. KernelGen.Tests.CatalogCompiler.Networks.Where(e => !e.ClassName.StartsWith("Loss", StringComparison.Ordinal)).Select(e => e.ClassName)];

    /// <summary>
    /// Every layer kind and activation of the op catalog, through its catalog ONNX mapping, in float and in double (where
    /// the catalog's double mapping replaces operators ONNX Runtime lacks double kernels for): a new catalog entry is
    /// exported and checked here with no test code of its own.
    /// </summary>
    [Theory]
    [MemberData(nameof(CatalogOps))]
    public void Every_catalog_op_exports_and_matches_onnx_runtime(string name)
    {
        KernelGen.Tests.CatalogCompiler.Entry entry = KernelGen.Tests.CatalogCompiler.Networks.Single(e => e.ClassName == name);
        INeuralNetwork<float> single = KernelGen.Tests.CatalogCompiler.CreateFloat32(entry, 7, seed: 4);
        Randomize(single, 21);
        AssertMatchesOnnxRuntime(single, null, entry + " (float)");
        INeuralNetwork<double> wide = KernelGen.Tests.CatalogCompiler.CreateFloat64(entry, 7, seed: 4);
        Randomize(wide, 21);
        // ONNX Runtime's CPU provider has no double Conv or AveragePool kernel: such a network's double form is compared
        // through a float model (its weights rounded once), with the float tolerance.
        bool doubleKernels = wide.Layers.All(l => OpCatalog.Get(l.Kind).OnnxRuntimeDouble);
        AssertMatchesOnnxRuntime(wide, new OnnxExportOptions { ElementType = doubleKernels ? OnnxElementType.Double : OnnxElementType.Float },
            entry + (doubleKernels ? " (double)" : " (double network, float model)"));
    }

    /// <summary>A user's activations (fused and standalone, every operator of the grammar) export as primitive ONNX operators
    /// and ONNX Runtime computes what Predict computes, in float and double.</summary>
    [Fact]
    public void User_activations_export_as_primitive_operators()
    {
        var single = new UserActivationExportNet(7, seed: 3);
        Randomize(single, 23);
        byte[] model = AssertMatchesOnnxRuntime(single, null, nameof(UserActivationExportNet) + " (float)");
        foreach (string op in new[] { "Tanh", "Where", "Greater", "Abs", "Sigmoid", "Pow", "Sqrt", "Erf", "Exp", "Log", "Max", "Min" })
            Assert.True(ContainsAscii(model, op), op);
        var wide = new UserActivationExportNet.Float64(7, seed: 3);
        Randomize(wide, 23);
        AssertMatchesOnnxRuntime(wide, new OnnxExportOptions { ElementType = OnnxElementType.Double }, nameof(UserActivationExportNet) + " (double)");
    }

    [Fact]
    public void CatalogNet_AfterTrainingModeForwards_MatchesPredict()
    {
        // Running statistics from real training-mode forward passes rather than random values.
        var network = new OnnxCatalogNet(16, seed: 3);
        var random = new Random(13);
        for (int step = 0; step < 5; step++) network.Forward(RandomInputs<float>(random, 16 * network.InputSize));
        AssertMatchesOnnxRuntime(network, null, $"{nameof(OnnxCatalogNet)} trained statistics");
    }

    [Fact]
    public void FusedActivations_MatchPredict()
    {
        var network = new OnnxFusedActivationNet(7, seed: 4);
        Randomize(network, 14);
        byte[] model = AssertMatchesOnnxRuntime(network, null, nameof(OnnxFusedActivationNet));
        foreach (string op in new[] { "Sigmoid", "Elu", "Softplus", "Tanh", "Relu", "LeakyRelu", "Erf", "Gemm" })
            Assert.True(ContainsAscii(model, op), op);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StandaloneActivations_MatchPredict(bool fold)
    {
        var network = new OnnxStandaloneActivationNet(7, seed: 5);
        Randomize(network, 15);
        AssertMatchesOnnxRuntime(network, new OnnxExportOptions { FoldBatchNorm = fold }, $"{nameof(OnnxStandaloneActivationNet)} fold={fold}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FoldNet_MatchesPredict_FoldedAndExplicit(bool fold)
    {
        var network = new OnnxFoldNet(7, seed: 6);
        Randomize(network, 16);
        byte[] model = AssertMatchesOnnxRuntime(network, new OnnxExportOptions { FoldBatchNorm = fold }, $"{nameof(OnnxFoldNet)} fold={fold}");
        Assert.Equal(!fold, ContainsAscii(model, "BatchNormalization"));
        Assert.Equal(fold, ContainsAscii(model, "Dense1+BatchNorm1.Weights"));
    }

    [Fact]
    public void DropoutOnlyNetwork_IsIdentity()
    {
        var network = new OnnxDropoutOnlyNet(7, seed: 7);
        byte[] model = AssertMatchesOnnxRuntime(network, null, nameof(OnnxDropoutOnlyNet));
        Assert.True(ContainsAscii(model, "Identity"));
    }

    [Theory]
    [InlineData(OnnxElementType.Float)]
    [InlineData(OnnxElementType.Double)]
    public void DoubleNetwork_MatchesPredict(OnnxElementType elementType)
    {
        var network = new OnnxCatalogNet.Float64(7, seed: 8);
        Randomize(network, 18);
        AssertMatchesOnnxRuntime(network, new OnnxExportOptions { ElementType = elementType }, $"{nameof(OnnxCatalogNet)}.Float64 as {elementType}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DoubleNetwork_AsDouble_EveryActivation_MatchesPredict(bool fold)
    {
        var fused = new OnnxFusedActivationNet.Float64(7, seed: 9);
        Randomize(fused, 19);
        AssertMatchesOnnxRuntime(fused, new OnnxExportOptions { ElementType = OnnxElementType.Double, FoldBatchNorm = fold }, "fused activations as Double");
        var standalone = new OnnxStandaloneActivationNet.Float64(7, seed: 10);
        Randomize(standalone, 20);
        AssertMatchesOnnxRuntime(standalone, new OnnxExportOptions { ElementType = OnnxElementType.Double, FoldBatchNorm = fold }, "standalone activations as Double");
    }

    [Fact]
    public void FloatNetwork_AsDouble_MatchesPredict()
    {
        var network = new OnnxFoldNet(7, seed: 21);
        Randomize(network, 21);
        AssertMatchesOnnxRuntime(network, new OnnxExportOptions { ElementType = OnnxElementType.Double }, $"{nameof(OnnxFoldNet)} as Double");
    }

    [Fact]
    public void AppendSoftmax_AddsProbabilitiesOutput()
    {
        var network = new OnnxMlp(7, seed: 22);
        Randomize(network, 22);
        byte[] model = OnnxExporter.ExportToBytes(network, new OnnxExportOptions { AppendSoftmax = true });
        using var session = new InferenceSession(model);
        Assert.Equal(new[] { "output", "probabilities" }, session.OutputMetadata.Keys.OrderBy(k => k, StringComparer.Ordinal));

        var random = new Random(23);
        float[] inputs = RandomInputs<float>(random, 7 * network.InputSize);
        float[] logits = new float[7 * network.OutputSize];
        network.Predict(inputs, logits);
        float[] probabilities = RunOnnx(session, inputs, 7, network.InputSize, "probabilities");
        float[] onnxLogits = RunOnnx(session, inputs, 7, network.InputSize, "output");
        AssertClose(logits, onnxLogits, "MLP logits");
        for (int b = 0; b < 7; b++)
        {
            ReadOnlySpan<float> row = logits.AsSpan(b * 10, 10);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float v in row) max = Math.Max(max, v);
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int j = 0; j < 10; j++)
                Assert.True(Math.Abs(probabilities[b * 10 + j] - Math.Exp(row[j] - max) / sum) <= 1e-6, $"sample {b} class {j}");
        }
    }

    // ---- the model's signature -------------------------------------------------------------------------------------

    [Fact]
    public void Model_HasDynamicBatchInputOutputAndMetadata()
    {
        var network = new OnnxMlp(1, seed: 24);
        byte[] model = OnnxExporter.ExportToBytes(network);
        using var session = new InferenceSession(model);

        NodeMetadata input = Assert.Single(session.InputMetadata, p => p.Key == "input").Value;
        Assert.Equal(TensorElementType.Float, input.ElementDataType);
        Assert.Equal(new[] { -1, 784 }, input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        NodeMetadata result = Assert.Single(session.OutputMetadata, p => p.Key == "output").Value;
        Assert.Equal(new[] { -1, 10 }, result.Dimensions);
        Assert.Equal("batch", result.SymbolicDimensions[0]);

        ModelMetadata metadata = session.ModelMetadata;
        Assert.Equal("KernelGen", metadata.ProducerName);
        Assert.Equal(typeof(OnnxMlp).FullName, metadata.GraphName);
        Assert.Equal("0x" + network.Fingerprint.ToString("X16"), metadata.CustomMetadataMap["kernelgen.fingerprint"]);

        // ir_version is field 1 (varint): the model starts with tag 0x08 and the value 8; opset 17 is written once.
        Assert.Equal(0x08, model[0]);
        Assert.Equal(8, model[1]);
    }

    [Fact]
    public void DoubleElementType_DeclaresDoubleTensors()
    {
        using var session = new InferenceSession(OnnxExporter.ExportToBytes(new OnnxFoldNet.Float64(1), new OnnxExportOptions { ElementType = OnnxElementType.Double }));
        Assert.Equal(TensorElementType.Double, session.InputMetadata["input"].ElementDataType);
        Assert.Equal(TensorElementType.Double, session.OutputMetadata["output"].ElementDataType);
    }

    [Fact]
    public void Export_IsDeterministic_AndStreamMatchesBytes()
    {
        var network = new OnnxCatalogNet(2, seed: 25);
        byte[] first = OnnxExporter.ExportToBytes(network);
        var stream = new MemoryStream();
        OnnxExporter.Export(network, stream);
        Assert.Equal(first, stream.ToArray());
        Assert.Equal(first, OnnxExporter.ExportToBytes(network));
    }

    [Fact]
    public void Export_ToStream_LeavesStreamOpenAtItsPosition()
    {
        var stream = new MemoryStream();
        stream.Write([1, 2, 3]);
        OnnxExporter.Export(new OnnxFoldNet(1), stream);
        Assert.True(stream.CanWrite);
        byte[] written = stream.ToArray();
        Assert.Equal(new byte[] { 1, 2, 3 }, written[..3]);
        Assert.Equal(OnnxExporter.ExportToBytes(new OnnxFoldNet(1)), written[3..]);
    }

    // ---- files -------------------------------------------------------------------------------------------------------

    [Fact]
    public void Export_ToFile_WritesTheModelAndLeavesNoTemporaryFile()
    {
        string directory = Directory.CreateTempSubdirectory("kernelgen-onnx-").FullName;
        try
        {
            string path = Path.Combine(directory, "model.onnx");
            File.WriteAllText(path, "an older model");
            var network = new OnnxFoldNet(1, seed: 26);
            OnnxExporter.Export(network, path);
            Assert.Equal(OnnxExporter.ExportToBytes(network), File.ReadAllBytes(path));
            Assert.Equal(new[] { "model.onnx" }, Directory.GetFiles(directory).Select(Path.GetFileName));
            using var session = new InferenceSession(path);
            Assert.Equal(new[] { "output" }, session.OutputMetadata.Keys);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Export_ToFile_InvalidOptions_LeavesExistingFileUntouched()
    {
        string directory = Directory.CreateTempSubdirectory("kernelgen-onnx-").FullName;
        try
        {
            string path = Path.Combine(directory, "model.onnx");
            File.WriteAllText(path, "keep me");
            Assert.Throws<ArgumentException>("options",
                () => OnnxExporter.Export(new OnnxFoldNet(1), path, new OnnxExportOptions { ElementType = (OnnxElementType)5 }));
            Assert.Equal("keep me", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // ---- invalid arguments -------------------------------------------------------------------------------------------

    [Fact]
    public void Export_NullNetwork_Throws()
    {
        Assert.Throws<ArgumentNullException>("network", () => OnnxExporter.Export((INeuralNetwork<float>)null!, new MemoryStream()));
        Assert.Throws<ArgumentNullException>("network", () => OnnxExporter.Export((INeuralNetwork<float>)null!, "model.onnx"));
        Assert.Throws<ArgumentNullException>("network", () => OnnxExporter.ExportToBytes((INeuralNetwork<double>)null!));
    }

    [Fact]
    public void Export_NullOrEmptyDestination_Throws()
    {
        Assert.Throws<ArgumentNullException>("destination", () => OnnxExporter.Export(new OnnxFoldNet(1), (Stream)null!));
        Assert.Throws<ArgumentNullException>("path", () => OnnxExporter.Export(new OnnxFoldNet(1), (string)null!));
        Assert.Throws<ArgumentException>("path", () => OnnxExporter.Export(new OnnxFoldNet(1), ""));
    }

    [Fact]
    public void Export_NonWritableStream_Throws()
    {
        var readOnly = new MemoryStream(new byte[16], writable: false);
        var e = Assert.Throws<ArgumentException>("destination", () => OnnxExporter.Export(new OnnxFoldNet(1), readOnly));
        Assert.Contains("not writable", e.Message, StringComparison.Ordinal);
        var closed = new MemoryStream();
        closed.Dispose();
        Assert.Throws<ArgumentException>("destination", () => OnnxExporter.Export(new OnnxFoldNet(1), closed));
    }

    [Fact]
    public void Export_UnknownElementType_Throws()
    {
        var e = Assert.Throws<ArgumentException>("options",
            () => OnnxExporter.Export(new OnnxFoldNet(1), new MemoryStream(), new OnnxExportOptions { ElementType = (OnnxElementType)2 }));
        Assert.Contains("element type", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_UnknownLayerKind_ThrowsNotSupported()
    {
        var network = new FakeNetwork(2, 2, [new LayerInfo(0, "Mystery1", (LayerKind)99, TensorShape.Vector(2), TensorShape.Vector(2))]);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.ExportToBytes(network));
        Assert.Contains("Mystery1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_UnknownActivation_ThrowsNotSupported()
    {
        var network = new FakeNetwork(2, 2, [new LayerInfo(0, "Act1", LayerKind.Activation, TensorShape.Vector(2), TensorShape.Vector(2)) { Activation = (Activation)42 }]);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.ExportToBytes(network));
        Assert.Contains("Act1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_InconsistentLayers_ThrowsArgumentException()
    {
        var chain = new FakeNetwork(2, 3, [new LayerInfo(0, "Softmax1", LayerKind.Softmax, TensorShape.Vector(2), TensorShape.Vector(2))]);
        Assert.Contains("3 outputs", Assert.Throws<ArgumentException>("network", () => OnnxExporter.ExportToBytes(chain)).Message, StringComparison.Ordinal);
        var arena = new FakeNetwork(2, 2, [new LayerInfo(0, "Dense1", LayerKind.Dense, TensorShape.Vector(2), TensorShape.Vector(2))
        {
            Tensors =
            [
                new LayerTensor(Catalog.TensorRole.Weight, "Dense1.Weights", "Dense1.weight", new TensorShape(2, 2), Catalog.FileLayout.Transposed, 0, false),
                new LayerTensor(Catalog.TensorRole.Bias, "Dense1.Bias", "Dense1.bias", TensorShape.Vector(2), Catalog.FileLayout.Same, 100, false),
            ],
        }]);
        Assert.Contains("Dense1", Assert.Throws<ArgumentException>("network", () => OnnxExporter.ExportToBytes(arena)).Message, StringComparison.Ordinal);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    /// <summary>Exports <paramref name="network"/>, runs the model with optimizations on and off at batch 1 and 7, and
    /// compares with Predict; logs the largest absolute and relative differences. Returns the model.</summary>
    private byte[] AssertMatchesOnnxRuntime<T>(INeuralNetwork<T> network, OnnxExportOptions? options, string label)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        options ??= OnnxExportOptions.Default;
        byte[] model = OnnxExporter.ExportToBytes(network, options);
        var random = new Random(label.Length * 7919 + 17);
        foreach (GraphOptimizationLevel level in new[] { GraphOptimizationLevel.ORT_ENABLE_ALL, GraphOptimizationLevel.ORT_DISABLE_ALL })
        {
            using var sessionOptions = new SessionOptions { GraphOptimizationLevel = level };
            using var session = new InferenceSession(model, sessionOptions);
            foreach (int batch in Batches)
            {
                T[] inputs = RandomInputs<T>(random, batch * network.InputSize);
                var expected = new T[batch * network.OutputSize];
                network.Predict(inputs, expected);
                double[] actual = options.ElementType == OnnxElementType.Double
                    ? RunOnnx(session, inputs.Select(double.CreateChecked).ToArray(), batch, network.InputSize, "output")
                    : RunOnnx(session, inputs.Select(float.CreateChecked).ToArray(), batch, network.InputSize, "output").Select(v => (double)v).ToArray();
                AssertClose(expected.Select(double.CreateChecked).ToArray(), actual, $"{label}, {level}, batch {batch}");
            }
        }
        return model;
    }

    private void AssertClose(float[] expected, float[] actual, string label) =>
        AssertClose(expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), label);

    private void AssertClose(double[] expected, double[] actual, string label)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxAbsolute = 0, maxScaled = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs(actual[i] - expected[i]);
            double scaled = difference / Math.Max(1, Math.Abs(expected[i]));
            Assert.False(double.IsNaN(actual[i]) || double.IsNaN(expected[i]), $"{label}: NaN at {i}");
            Assert.True(scaled <= Tolerance, $"{label}: element {i}: Predict {expected[i]:R}, ONNX Runtime {actual[i]:R}, difference {difference:E3}");
            maxAbsolute = Math.Max(maxAbsolute, difference);
            maxScaled = Math.Max(maxScaled, scaled);
        }
        output.WriteLine($"{label}: max |Δ| = {maxAbsolute:E3}, max |Δ|/max(1,|y|) = {maxScaled:E3}");
    }

    private static float[] RunOnnx(InferenceSession session, float[] inputs, int batch, int features, string outputName) =>
        RunOnnx<float>(session, inputs, batch, features, outputName);

    private static double[] RunOnnx(InferenceSession session, double[] inputs, int batch, int features, string outputName) =>
        RunOnnx<double>(session, inputs, batch, features, outputName);

    private static TValue[] RunOnnx<TValue>(InferenceSession session, TValue[] inputs, int batch, int features, string outputName)
        where TValue : unmanaged
    {
        // The model's input is [batch, sample dimensions…] (a 4-D tensor for an image-shaped network).
        int[] declared = session.InputMetadata["input"].Dimensions;
        long[] dims = declared.Select((d, i) => i == 0 ? batch : (long)d).ToArray();
        Assert.Equal(features, (int)dims.Skip(1).Aggregate(1L, (a, d) => a * d));
        using var input = OrtValue.CreateTensorValueFromMemory(inputs, dims);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, ["input"], [input], [outputName]);
        OrtValue result = results[0];
        long[] shape = result.GetTensorTypeAndShape().Shape;
        Assert.Equal(2, shape.Length);
        Assert.Equal(batch, shape[0]);
        return result.GetTensorDataAsSpan<TValue>().ToArray();
    }

    /// <summary>Inputs uniform in [−2, 2).</summary>
    private static T[] RandomInputs<T>(Random random, int count) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var values = new T[count];
        for (int i = 0; i < count; i++) values[i] = T.CreateChecked(random.NextDouble() * 4 - 2);
        return values;
    }

    /// <summary>
    /// Makes every parameter matter: biases, γ and β move by U(−0.5, 0.5) (γ stays near 1), weights keep their seeded
    /// initialization; BatchNorm running means are U(−0.5, 0.5) and running variances U(0.5, 2).
    /// </summary>
    internal static void Randomize<T>(INeuralNetwork<T> network, int seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        Span<T> parameters = network.Parameters;
        foreach (ParameterTensor tensor in network.ParameterTensors)
        {
            if (tensor.IsWeight) continue;
            for (int i = 0; i < tensor.Length; i++)
                parameters[tensor.Offset + i] += T.CreateChecked(random.NextDouble() - 0.5);
        }
        Span<T> statistics = network.RunningStatistics;
        foreach (LayerInfo layer in network.Layers)
        {
            if (layer.Kind != LayerKind.BatchNorm) continue;
            for (int j = 0; j < layer.Tensor(TensorRole.RunningMean)!.Length; j++) // per feature, or per channel of an image
            {
                statistics[layer.RunningMeanOffset + j] = T.CreateChecked(random.NextDouble() - 0.5);
                statistics[layer.RunningVarianceOffset + j] = T.CreateChecked(0.5 + 1.5 * random.NextDouble());
            }
        }
    }

    private static bool ContainsAscii(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.ASCII.GetBytes(needle)) >= 0;

    /// <summary>A hand-made network description (no kernels) for the exporter's validation paths.</summary>
    private sealed class FakeNetwork(int inputs, int outputs, LayerInfo[] layers) : INeuralNetwork<float>
    {
        private readonly float[] _parameters = new float[8];
        public int InputSize => inputs;
        public TensorShape InputShape => TensorShape.Vector(inputs);
        public int OutputSize => outputs;
        public int MaxBatchSize => 1;
        public Span<float> Parameters => _parameters;
        public Span<float> Gradients => _parameters;
        public IReadOnlyList<ParameterTensor> ParameterTensors => [];
        public IReadOnlyList<LayerInfo> Layers => layers;
        public Span<float> RunningStatistics => [];
        public ulong Fingerprint => 0;
        public ulong DropoutSeed { get; set; }
        public ulong DropoutStep { get; set; }
        public ReadOnlySpan<float> LayerOutput(int layer) => throw new NotSupportedException();
        public void Initialize(ulong seed) { }
        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs) => throw new NotSupportedException();
        public ReadOnlySpan<float> Forward(ReadOnlySpan<float> inputs) => throw new NotSupportedException();
        public void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient) => throw new NotSupportedException();
    }
}
