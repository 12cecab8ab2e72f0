using BenchmarkDotNet.Attributes;
using KernelGen.Kernels;

namespace KernelGen.Benchmarks;

/// <summary>
/// One Adam training step of the 784-256-128-10 network (float, one thread) at batch 1, 32 and 64 — the configuration
/// the PyTorch (728 µs at batch 32, 454 µs at batch 1) and TorchSharp figures were measured in, and the one the
/// main job trains Fashion-MNIST with (batch 64). FLOPs as in <see cref="MlpTrainStepBenchmarks"/>; Adam's update is
/// counted as 2 per parameter like SGD's, although it does more work per parameter.
/// </summary>
[MemoryDiagnoser]
public class MlpAdamBenchmarks
{
    private AdamMlp _net = null!;
    private float[] _inputs = [];
    private int[] _labels = [];

    /// <summary>Samples per call.</summary>
    [Params(1, 32, 64)]
    public int Batch { get; set; }

    /// <summary>Builds the network (seed 42) and the same inputs as the SGD benchmarks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        _net = new AdamMlp(maxBatchSize: Batch, seed: 42);
        (_inputs, _labels) = MlpSetup.Data(Batch);
    }

    /// <summary>Forward, loss, backward and Adam update.</summary>
    [Benchmark, Flops(PerBatchRow = 2 * (2 * MlpSetup.Weights) + MlpSetup.HiddenInputGradient, PerCall = 2 * MlpSetup.Parameters)]
    public float TrainStep() => _net.TrainStep(_inputs, _labels);
}
