using System;
using BenchmarkDotNet.Attributes;

namespace KernelGen.Benchmarks;

/// <summary>
/// The generated 784-256-128-10 network (float): one SGD training step and one inference call, at batch 1 and 32.
/// All buffers are allocated in <see cref="Setup"/>; the measured calls must allocate nothing.
/// </summary>
/// <remarks>
/// FLOPs count the matrix multiplies only (2 per multiply-add; weights W = 784·256 + 256·128 + 128·10 = 234,752):
/// Predict is 2·W per row; TrainStep is forward (2·W) + weight gradients (2·W) + input gradients of layers 2 and 3
/// (2·(256·128 + 128·10) = 68,096) per row, plus the SGD update (2 per parameter, 235,146 parameters) per call.
/// Bias, activation and loss work is not counted.
/// </remarks>
[MemoryDiagnoser]
public class MlpBenchmarks
{
    private const long Weights = 784 * 256 + 256 * 128 + 128 * 10;
    private const long HiddenInputGradient = 2 * (256 * 128 + 128 * 10);

    private Mlp _net = null!;
    private float[] _inputs = [];
    private int[] _labels = [];
    private float[] _outputs = [];
    private float _lastLoss;

    /// <summary>Samples per call.</summary>
    [Params(1, 32)]
    public int Batch { get; set; }

    /// <summary>Builds the network and random inputs in [0, 1) and labels in [0, 10).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _net = new Mlp(maxBatchSize: Batch, seed: 42);
        var random = new KernelRandom(2024);
        _inputs = new float[Batch * Mlp.InputFeatures];
        for (int i = 0; i < _inputs.Length; i++) _inputs[i] = (float)random.NextDouble();
        _labels = new int[Batch];
        for (int i = 0; i < _labels.Length; i++) _labels[i] = random.NextInt(Mlp.OutputFeatures);
        _outputs = new float[Batch * Mlp.OutputFeatures];
    }

    /// <summary>Reports the last training loss in the benchmark log (a finite value shows training stayed sane).</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        if (_lastLoss != 0) Console.WriteLine($"// MlpBenchmarks Batch={Batch}: last TrainStep loss {_lastLoss:G6}");
    }

    /// <summary>Forward, loss, backward and SGD update on one batch.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * (2 * Weights) + HiddenInputGradient, PerCall = 2 * 235_146)]
    public float TrainStep() => _lastLoss = _net.TrainStep(_inputs, _labels);

    /// <summary>Inference on one batch.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * Weights)]
    public void Predict() => _net.Predict(_inputs, _outputs);
}
