using System;
using BenchmarkDotNet.Attributes;
using KernelGen.Kernels;

namespace KernelGen.Benchmarks;

/// <summary>
/// A small RepVGG-style network (Ding et al., "RepVGG: Making VGG-style ConvNets Great Again", 2021) on [1, 28, 28]:
/// stem conv 3×3 ×16 + BatchNorm + ReLU, then four blocks (16 channels stride 1, 32 stride 2, 32 stride 1, 64 stride 2),
/// each summing a 3×3 convolution + BatchNorm, a 1×1 convolution + BatchNorm and, where stride is 1 and the channels
/// match, a BatchNorm of the block's input, then ReLU; global average pooling, 10 logits, softmax cross-entropy, Adam
/// (η = 10⁻³). The inference form re-parameterizes each block into one 3×3 convolution with a bias.
/// </summary>
[Network(1, 28, 28)]
[Conv2D(16, 3, Padding = 1, Name = "Stem")] [BatchNorm] [ReLU(Name = "x1")]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "B1k3")] [BatchNorm(Name = "B1n3")]
[Conv2D(16, 1, Bias = false, From = "x1", Name = "B1k1")] [BatchNorm(Name = "B1n1")]
[BatchNorm(From = "x1", Name = "B1id")]
[Add("B1n3", "B1n1", "B1id", Name = "Block1")] [ReLU(Name = "x2")]
[Conv2D(32, 3, Padding = 1, Stride = 2, Bias = false, Name = "B2k3")] [BatchNorm(Name = "B2n3")]
[Conv2D(32, 1, Stride = 2, Bias = false, From = "x2", Name = "B2k1")] [BatchNorm(Name = "B2n1")]
[Add("B2n3", "B2n1", Name = "Block2")] [ReLU(Name = "x3")]
[Conv2D(32, 3, Padding = 1, Bias = false, Name = "B3k3")] [BatchNorm(Name = "B3n3")]
[Conv2D(32, 1, Bias = false, From = "x3", Name = "B3k1")] [BatchNorm(Name = "B3n1")]
[BatchNorm(From = "x3", Name = "B3id")]
[Add("B3n3", "B3n1", "B3id", Name = "Block3")] [ReLU(Name = "x4")]
[Conv2D(64, 3, Padding = 1, Stride = 2, Bias = false, Name = "B4k3")] [BatchNorm(Name = "B4n3")]
[Conv2D(64, 1, Stride = 2, Bias = false, From = "x4", Name = "B4k1")] [BatchNorm(Name = "B4n1")]
[Add("B4n3", "B4n1", Name = "Block4")] [ReLU]
[GlobalAveragePool]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class BenchRepVgg;

/// <summary>
/// Inference of <see cref="BenchRepVgg"/> (float, one thread) at batch 1 and 64: <c>MultiBranch</c> (the baseline) is the
/// training network's <c>Predict</c> (evaluation mode: every branch convolved, every BatchNorm applied with its running
/// statistics, the branches summed, then ReLU), <c>Reparameterized</c> its inference form (<c>CreateInference</c>: one
/// 3×3 convolution with a bias per block, ReLU fused). The network is trained 20 steps first so the BatchNorm running
/// statistics and scales are not trivial; setup prints the largest |difference| between the two outputs and fails if it
/// exceeds 10⁻⁴ of the largest output. FLOPs (2 per multiply-add, convolutions and dense only) are the folded form's
/// per sample: stem 225,792, block 1 3,612,672, block 2 1,806,336, block 3 3,612,672, block 4 1,806,336, dense 1,280 =
/// 11,065,088; the multi-branch form does 1/9 more in the blocks (the 1×1 branches).
/// </summary>
[MemoryDiagnoser]
public class RepVggPredictBenchmarks
{
    private const long FoldedFlops = 225_792 + 3_612_672 + 1_806_336 + 3_612_672 + 1_806_336 + 1_280;
    private BenchRepVgg _net = null!;
    private BenchRepVgg.Inference _inference = null!;
    private float[] _inputs = [], _outputs = [];

    /// <summary>Samples per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>Trains 20 steps at batch 64, builds the inference form and checks the two outputs agree.</summary>
    [GlobalSetup]
    public void Setup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        _net = new BenchRepVgg(maxBatchSize: 64, seed: 42);
        var random = new KernelRandom(7);
        var x = new float[64 * BenchRepVgg.InputFeatures];
        var y = new int[64];
        for (int step = 0; step < 20; step++)
        {
            for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
            for (int i = 0; i < y.Length; i++) y[i] = random.NextInt(BenchRepVgg.OutputFeatures);
            _net.TrainStep(x, y);
        }
        _inference = _net.CreateInference(Batch);
        _inputs = new float[Batch * BenchRepVgg.InputFeatures];
        for (int i = 0; i < _inputs.Length; i++) _inputs[i] = (float)random.NextDouble();
        _outputs = new float[Batch * BenchRepVgg.OutputFeatures];

        MultiBranch();
        var expected = (float[])_outputs.Clone();
        Reparameterized();
        double scale = 0;
        foreach (float v in expected) scale = Math.Max(scale, Math.Abs(v));
        Console.WriteLine($"// RepVggPredictBenchmarks Batch={Batch}: largest |multi-branch - re-parameterized| = {MlpSetup.Difference(expected, _outputs):G3} (largest |output| {scale:G3})");
        MlpSetup.CheckSame(expected, _outputs, "the re-parameterized inference form");
    }

    /// <summary>The training network in evaluation mode (all branches, BatchNorm with running statistics).</summary>
    [Benchmark(Baseline = true), Flops(PerBatchRow = FoldedFlops)]
    public void MultiBranch() => _net.Predict(_inputs, _outputs);

    /// <summary>The generated inference form: one 3×3 convolution with a bias per block, ReLU fused.</summary>
    [Benchmark, Flops(PerBatchRow = FoldedFlops)]
    public void Reparameterized() => _inference.Predict(_inputs, _outputs);
}
