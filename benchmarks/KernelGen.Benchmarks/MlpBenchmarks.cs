using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using KernelGen.Kernels;
using KernelGen.Onnx;
using KernelGen.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace KernelGen.Benchmarks;

/// <summary>One dense layer's parameters: W is [In × Out] row-major (as KernelGen stores it), B is [Out].</summary>
public sealed record DenseLayer(float[] W, float[] B, int In, int Out);

/// <summary>Shared setup of the 784-256-128-10 MLP benchmarks.</summary>
/// <remarks>
/// FLOPs count the matrix multiplies only (2 per multiply-add; weights W = 784·256 + 256·128 + 128·10 = 234,752):
/// Predict is 2·W per row; TrainStep is forward (2·W) + weight gradients (2·W) + input gradients of layers 2 and 3
/// (2·(256·128 + 128·10) = 68,096) per row, plus the SGD update (2 per parameter, 235,146 parameters) per call.
/// Bias, activation and loss work is not counted.
/// </remarks>
internal static class MlpSetup
{
    public const long Weights = 784 * 256 + 256 * 128 + 128 * 10;
    public const long HiddenInputGradient = 2 * (256 * 128 + 128 * 10);
    public const long Parameters = 235_146;

    /// <summary>The generated network (seed 42) with the process-wide kernel thread count set to <paramref name="threads"/>.</summary>
    public static Mlp Network(int batch, int threads)
    {
        KernelParallelism.DegreeOfParallelism = threads;
        return new Mlp(maxBatchSize: batch, seed: 42);
    }

    /// <summary>Copies of the network's dense layers (W [in × out] row-major, b), for the baselines.</summary>
    public static DenseLayer[] Layers(Mlp net)
    {
        var layers = new List<DenseLayer>();
        ReadOnlySpan<float> p = net.Parameters;
        foreach (LayerInfo layer in net.Layers)
            if (layer.HasWeights)
                layers.Add(new DenseLayer(p.Slice(layer.WeightOffset, layer.InputFeatures * layer.DenseOutputs).ToArray(),
                    p.Slice(layer.BiasOffset, layer.DenseOutputs).ToArray(), layer.InputFeatures, layer.DenseOutputs));
        return layers.ToArray();
    }

    /// <summary>Inputs uniform in [0, 1) and labels in [0, 10).</summary>
    public static (float[] Inputs, int[] Labels) Data(int batch)
    {
        var random = new KernelRandom(2024);
        var inputs = new float[batch * Mlp.InputFeatures];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble();
        var labels = new int[batch];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.NextInt(Mlp.OutputFeatures);
        return (inputs, labels);
    }

    /// <summary>max |expected − actual| over the largest |expected|.</summary>
    public static double Difference(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        double worst = 0, scale = 1e-30;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return worst / scale;
    }

    /// <summary>Throws unless <paramref name="actual"/> matches <paramref name="expected"/> to float reordering.</summary>
    public static void CheckSame(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        double worst = 0, scale = 1e-30;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        if (!(worst <= 1e-4 * scale)) throw new InvalidOperationException($"{what} differs from KernelGen by {worst:G3} (largest output {scale:G3}).");
    }
}

/// <summary>
/// One SGD training step of the 784-256-128-10 network (float) at batch 1, 32 and 128, with one or two kernel threads
/// (<see cref="KernelParallelism.DegreeOfParallelism"/>: only batches of at least 64 rows are split, so the batch 1 and
/// 32 rows of the two settings run the same code), against the <see cref="TensorPrimitivesMlp"/> baseline
/// (single-threaded whatever <see cref="Threads"/> says). The measured calls must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class MlpTrainStepBenchmarks
{
    private Mlp _net = null!;
    private TensorPrimitivesMlp _tensorPrimitives = null!;
    private float[] _inputs = [];
    private int[] _labels = [];
    private float _lastLoss;

    /// <summary>Samples per call.</summary>
    [Params(1, 32, 128)]
    public int Batch { get; set; }

    /// <summary>Kernel threads (KernelGen only).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Builds the network, the baseline with the same weights, and the data.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _net = MlpSetup.Network(Batch, Threads);
        _tensorPrimitives = new TensorPrimitivesMlp(MlpSetup.Layers(_net), Batch, 0.01f);
        (_inputs, _labels) = MlpSetup.Data(Batch);
    }

    /// <summary>Reports the last training loss (a finite value shows training stayed sane) and resets the thread count.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        if (_lastLoss != 0) Console.WriteLine($"// MlpTrainStepBenchmarks Batch={Batch} Threads={Threads}: last loss {_lastLoss:G6}");
    }

    /// <summary>The generated network: forward, loss, backward and SGD update on one batch.</summary>
    [Benchmark(Baseline = true), Flops(PerBatchRow = 2 * (2 * MlpSetup.Weights) + MlpSetup.HiddenInputGradient, PerCall = 2 * MlpSetup.Parameters)]
    public float KernelGen() => _lastLoss = _net.TrainStep(_inputs, _labels);

    /// <summary>The same step written with TensorPrimitives.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * (2 * MlpSetup.Weights) + MlpSetup.HiddenInputGradient, PerCall = 2 * MlpSetup.Parameters)]
    public float TensorPrimitives() => _tensorPrimitives.TrainStep(_inputs, _labels, Batch);
}

/// <summary>
/// Inference of the 784-256-128-10 network (float) at batch 1 and 64 with one or two threads, side by side with ONNX
/// Runtime (the <see cref="Ratio"/> baseline): the generated network's <c>Predict</c>, its inference form in float,
/// bfloat16 and int8 (<see cref="InferencePrecision"/>; <see cref="KernelParallelism"/> splits batch-1 layers over
/// ≥ 192 KB of weights and batch-64 calls), the <see cref="TensorPrimitivesMlp"/> baseline (single-threaded), and ONNX
/// Runtime on the same weights exported by <see cref="OnnxExporter.ExportToBytes{T}"/> (IntraOpNumThreads =
/// <see cref="Threads"/>, sequential execution, all graph optimizations; input and output are pre-allocated OrtValues
/// bound once with an IOBinding). Setup checks that the float implementations produce the same logits and prints how
/// far the reduced precisions are from them.
/// </summary>
[MemoryDiagnoser]
public class MlpPredictBenchmarks
{
    private Mlp _net = null!;
    private Mlp.Inference _float = null!, _bfloat16 = null!, _int8 = null!;
    private TensorPrimitivesMlp _tensorPrimitives = null!;
    private float[] _inputs = [], _outputs = [], _ortOutputs = [];
    private InferenceSession _session = null!;
    private SessionOptions _options = null!;
    private RunOptions _runOptions = null!;
    private OrtIoBinding _binding = null!;
    private OrtValue _ortInput = null!, _ortOutput = null!;

    /// <summary>Samples per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>Kernel threads (KernelGen) and intra-op threads (ONNX Runtime).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Builds the implementations on the same weights and checks they agree.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _net = MlpSetup.Network(Batch, Threads);
        DenseLayer[] layers = MlpSetup.Layers(_net);
        _tensorPrimitives = new TensorPrimitivesMlp(layers, Batch, 0.01f);
        _float = _net.CreateInference(Batch);
        _bfloat16 = _net.CreateInference(Batch);
        _bfloat16.Precision = InferencePrecision.BFloat16;
        _int8 = _net.CreateInference(Batch);
        _int8.Precision = InferencePrecision.Int8;
        _inputs = MlpSetup.Data(Batch).Inputs;
        _outputs = new float[Batch * Mlp.OutputFeatures];
        _ortOutputs = new float[Batch * Mlp.OutputFeatures];

        _options = new SessionOptions
        {
            IntraOpNumThreads = Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(OnnxExporter.ExportToBytes(_net), _options);
        _runOptions = new RunOptions();
        _ortInput = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_inputs), [Batch, Mlp.InputFeatures]);
        _ortOutput = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_ortOutputs), [Batch, Mlp.OutputFeatures]);
        _binding = _session.CreateIoBinding();
        _binding.BindInput("input", _ortInput);
        _binding.BindOutput("output", _ortOutput);

        KernelGen();
        var expected = (float[])_outputs.Clone();
        TensorPrimitives();
        MlpSetup.CheckSame(expected, _outputs, "TensorPrimitives");
        InferenceFloat();
        MlpSetup.CheckSame(expected, _outputs, "the float inference form");
        OnnxRuntime();
        MlpSetup.CheckSame(expected, _ortOutputs, "ONNX Runtime");
        InferenceBFloat16();
        Console.WriteLine($"// Batch={Batch}: bfloat16 logits within {MlpSetup.Difference(expected, _outputs):G3} of float");
        InferenceInt8();
        Console.WriteLine($"// Batch={Batch}: int8 logits within {MlpSetup.Difference(expected, _outputs):G3} of float");
    }

    /// <summary>Releases ONNX Runtime's native objects and resets the thread count.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        _binding.Dispose();
        _ortInput.Dispose();
        _ortOutput.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }

    /// <summary>ONNX Runtime (CPU execution provider) with the IOBinding made in setup.</summary>
    [Benchmark(Baseline = true), Flops(PerBatchRow = 2 * MlpSetup.Weights)]
    public void OnnxRuntime() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>The generated network's Predict (evaluation mode of the training network).</summary>
    [Benchmark, Flops(PerBatchRow = 2 * MlpSetup.Weights)]
    public void KernelGen() => _net.Predict(_inputs, _outputs);

    /// <summary>The generated inference form, float weights.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * MlpSetup.Weights)]
    public void InferenceFloat() => _float.Predict(_inputs, _outputs);

    /// <summary>The generated inference form, bfloat16 weights.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * MlpSetup.Weights)]
    public void InferenceBFloat16() => _bfloat16.Predict(_inputs, _outputs);

    /// <summary>The generated inference form, int8 weights and activations.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * MlpSetup.Weights)]
    public void InferenceInt8() => _int8.Predict(_inputs, _outputs);

    /// <summary>The TensorPrimitives baseline.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * MlpSetup.Weights)]
    public void TensorPrimitives() => _tensorPrimitives.Predict(_inputs, _outputs, Batch);
}
