using BenchmarkDotNet.Attributes;

namespace KernelGen.Benchmarks;

/// <summary>784 → 256 → BatchNorm → ReLU → 128 → BatchNorm → ReLU → 10, Adam: a network whose inference form folds
/// both BatchNorm layers into the dense layers before them and fuses the ReLUs into their epilogues.</summary>
[Network(784)]
[Dense(256)]
[BatchNorm]
[ReLU]
[Dense(128)]
[BatchNorm]
[ReLU]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class BatchNormMlp;

/// <summary>
/// The training network's evaluation-mode Predict (dense, BatchNorm with running statistics, ReLU as separate passes)
/// against its generated inference form (BatchNorm folded, ReLU fused), same weights, same inputs.
/// </summary>
[MemoryDiagnoser]
public class InferenceFormBenchmarks
{
    private const long Weights = 784 * 256 + 256 * 128 + 128 * 10;
    private BatchNormMlp _net = null!;
    private BatchNormMlp.Inference _inference = null!;
    private float[] _inputs = [];
    private float[] _outputs = [];

    /// <summary>Samples per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>Trains a few steps (non-trivial running statistics), then compiles the inference form.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _net = new BatchNormMlp(maxBatchSize: 64, seed: 42);
        var random = new KernelRandom(7);
        var x = new float[64 * 784];
        var y = new int[64];
        for (int step = 0; step < 20; step++)
        {
            for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
            for (int i = 0; i < y.Length; i++) y[i] = random.NextInt(10);
            _net.TrainStep(x, y);
        }
        _inference = _net.CreateInference(64);
        _inputs = x[..(Batch * 784)];
        _outputs = new float[Batch * 10];
    }

    /// <summary>The training network in evaluation mode.</summary>
    [Benchmark(Baseline = true), Flops(PerBatchRow = 2 * Weights)]
    public void Unfolded() => _net.Predict(_inputs, _outputs);

    /// <summary>The generated inference form.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * Weights)]
    public void Folded() => _inference.Predict(_inputs, _outputs);
}
