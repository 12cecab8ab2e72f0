using System;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using KernelGen.Kernels;
using KernelGen.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace KernelGen.Benchmarks;

/// <summary>Shared setup of the convnet benchmarks (<see cref="BenchConvnet"/>).</summary>
/// <remarks>
/// FLOPs count the convolutions and matrix multiplies only (2 per multiply-add), per sample: conv1 2·16·784·9 = 225,792,
/// conv2 2·32·196·144 = 1,806,336, conv3 2·32·196·288 = 3,612,672, dense1 2·1568·128 = 401,408, dense2 2·128·10 = 2,560,
/// in all 6,048,768 for a forward pass. A training step is the forward pass + the weight gradients (the same again) + the
/// input gradients of conv2, conv3 and the two dense layers (5,822,976; conv1's is not needed) = 17,920,512 per sample,
/// plus Adam counted as 2 per parameter (216,330 parameters) per call, as the MLP benchmarks count it. BatchNorm, ReLU,
/// pooling, dropout and loss work is not counted.
/// </remarks>
internal static class ConvnetSetup
{
    public const long ForwardFlops = 225_792 + 1_806_336 + 3_612_672 + 401_408 + 2_560;
    public const long TrainFlops = 2 * ForwardFlops + 1_806_336 + 3_612_672 + 401_408 + 2_560;
    public const long Parameters = BenchConvnet.ParameterCount; // 216,330

    /// <summary>Images uniform in [0, 1) and labels in [0, 10).</summary>
    public static (float[] Inputs, int[] Labels) Data(int batch)
    {
        var random = new KernelRandom(2024);
        var inputs = new float[batch * BenchConvnet.InputFeatures];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble();
        var labels = new int[batch];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.NextInt(BenchConvnet.OutputFeatures);
        return (inputs, labels);
    }
}

/// <summary>
/// One Adam training step of the convnet (float) at batch 64 — the main job's configuration — with one or two kernel
/// threads (<see cref="KernelParallelism.DegreeOfParallelism"/>). The measured calls must allocate nothing. PyTorch's
/// figure for the same step is <c>benchmarks/pytorch_convnet.py</c>'s.
/// </summary>
[MemoryDiagnoser]
public class ConvnetTrainStepBenchmarks
{
    private BenchConvnet _net = null!;
    private float[] _inputs = [];
    private int[] _labels = [];
    private float _lastLoss;

    /// <summary>Samples per call.</summary>
    [Params(64)]
    public int Batch { get; set; }

    /// <summary>Kernel threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Builds the network (seed 42) and the data.</summary>
    [GlobalSetup]
    public void Setup()
    {
        KernelParallelism.DegreeOfParallelism = Threads;
        _net = new BenchConvnet(maxBatchSize: Batch, seed: 42);
        (_inputs, _labels) = ConvnetSetup.Data(Batch);
    }

    /// <summary>Reports the last training loss (finite: training stayed sane) and resets the thread count.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        Console.WriteLine($"// ConvnetTrainStepBenchmarks Batch={Batch} Threads={Threads}: last loss {_lastLoss:G6}");
    }

    /// <summary>Forward (training mode: batch statistics, dropout), loss, backward and Adam update.</summary>
    [Benchmark, Flops(PerBatchRow = ConvnetSetup.TrainFlops, PerCall = 2 * ConvnetSetup.Parameters)]
    public float TrainStep() => _lastLoss = _net.TrainStep(_inputs, _labels);
}

/// <summary>
/// Inference of the convnet (float, one thread) at batch 1 and 64, side by side with ONNX Runtime (the baseline):
/// <c>KernelGen</c> is the training network's <c>Predict</c> (evaluation mode: BatchNorm with running statistics as a
/// separate pass), <c>InferenceFloat</c> its inference form (<c>CreateInference</c>: BatchNorm folded into the
/// convolutions, ReLU fused), and <c>OnnxRuntime</c> Microsoft.ML.OnnxRuntime (CPU provider, IntraOpNumThreads 1,
/// sequential execution, all graph optimizations) on the model <see cref="OnnxExporter.ExportToBytes{T}"/> writes from
/// the same network, with input and output pre-allocated and bound once with an <see cref="OrtIoBinding"/>. The network
/// is trained 20 steps first so the BatchNorm running statistics are not trivial; setup checks that the three produce
/// the same logits. "× ORT" is ONNX Runtime's mean ÷ the row's mean (above 1: faster than ONNX Runtime).
/// </summary>
[MemoryDiagnoser]
[OrtSpeedupColumn]
public class ConvnetPredictBenchmarks
{
    private BenchConvnet _net = null!;
    private BenchConvnet.Inference _inference = null!;
    private float[] _inputs = [], _outputs = [], _ortOutputs = [];
    private InferenceSession _session = null!;
    private SessionOptions _options = null!;
    private RunOptions _runOptions = null!;
    private OrtIoBinding _binding = null!;
    private OrtValue _ortInput = null!, _ortOutput = null!;

    /// <summary>Samples per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>Trains 20 steps, builds the inference form and the ONNX Runtime session, and checks the outputs agree.</summary>
    [GlobalSetup]
    public void Setup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        _net = new BenchConvnet(maxBatchSize: 64, seed: 42);
        var random = new KernelRandom(7);
        var x = new float[64 * BenchConvnet.InputFeatures];
        var y = new int[64];
        for (int step = 0; step < 20; step++)
        {
            for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
            for (int i = 0; i < y.Length; i++) y[i] = random.NextInt(BenchConvnet.OutputFeatures);
            _net.TrainStep(x, y);
        }
        _inference = _net.CreateInference(Batch);
        _inputs = ConvnetSetup.Data(Batch).Inputs;
        _outputs = new float[Batch * BenchConvnet.OutputFeatures];
        _ortOutputs = new float[Batch * BenchConvnet.OutputFeatures];

        _options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(OnnxExporter.ExportToBytes(_net), _options);
        _runOptions = new RunOptions();
        _ortInput = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_inputs), [Batch, 1, 28, 28]);
        _ortOutput = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_ortOutputs), [Batch, BenchConvnet.OutputFeatures]);
        _binding = _session.CreateIoBinding();
        _binding.BindInput("input", _ortInput);
        _binding.BindOutput("output", _ortOutput);

        KernelGen();
        var expected = (float[])_outputs.Clone();
        InferenceFloat();
        MlpSetup.CheckSame(expected, _outputs, "the float inference form");
        OnnxRuntime();
        MlpSetup.CheckSame(expected, _ortOutputs, "ONNX Runtime");
    }

    /// <summary>Releases ONNX Runtime's native objects.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _binding.Dispose();
        _ortInput.Dispose();
        _ortOutput.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }

    /// <summary>ONNX Runtime (CPU execution provider) with the IOBinding made in setup.</summary>
    [Benchmark(Baseline = true), Flops(PerBatchRow = ConvnetSetup.ForwardFlops)]
    public void OnnxRuntime() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>The generated network's Predict (evaluation mode of the training network).</summary>
    [Benchmark, Flops(PerBatchRow = ConvnetSetup.ForwardFlops)]
    public void KernelGen() => _net.Predict(_inputs, _outputs);

    /// <summary>The generated inference form (BatchNorm folded, ReLU fused), float.</summary>
    [Benchmark, Flops(PerBatchRow = ConvnetSetup.ForwardFlops)]
    public void InferenceFloat() => _inference.Predict(_inputs, _outputs);
}

/// <summary>Adds <see cref="OrtSpeedupColumn"/> to a benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class OrtSpeedupColumnAttribute : ColumnConfigBaseAttribute
{
    /// <summary>The attribute.</summary>
    public OrtSpeedupColumnAttribute() : base(OrtSpeedupColumn.Instance) { }
}

/// <summary>The baseline's mean time ÷ this row's mean time in the same run (above 1: this row is faster than the baseline).</summary>
public sealed class OrtSpeedupColumn : IColumn
{
    /// <summary>The shared instance.</summary>
    public static readonly OrtSpeedupColumn Instance = new();

    /// <inheritdoc/>
    public string Id => nameof(OrtSpeedupColumn);
    /// <inheritdoc/>
    public string ColumnName => "× ORT";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 2;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "The baseline's (ONNX Runtime's) mean ÷ this row's mean, same run; above 1: faster than the baseline";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        string? key = summary.GetLogicalGroupKey(benchmarkCase);
        BenchmarkCase? baseline = key is null ? null : summary.GetBaseline(key);
        double? mine = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double? theirs = baseline is null ? null : summary[baseline]?.ResultStatistics?.Mean;
        if (mine is not > 0 || theirs is not > 0) return "-";
        return (theirs.Value / mine.Value).ToString("F2", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public override string ToString() => ColumnName;
}
