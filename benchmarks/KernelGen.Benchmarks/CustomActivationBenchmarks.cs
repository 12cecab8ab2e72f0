using System;
using BenchmarkDotNet.Attributes;
using KernelGen.Kernels;

namespace KernelGen.Benchmarks;

/// <summary>SiLU and ReLU written as user code (differentiated and vectorized by the generator).</summary>
public static class UserActivations
{
    [ActivationFunction] public static double Silu(double x) => x * ActivationMath.Sigmoid(x);
    [ActivationFunction] public static double Relu(double x) => Math.Max(x, 0);
}

[Network(784)] [Dense(256, Init = Init.HeNormal)] [CustomActivation(typeof(UserActivations), nameof(UserActivations.Silu))]
[Dense(128, Init = Init.HeNormal)] [CustomActivation(typeof(UserActivations), nameof(UserActivations.Silu))] [Dense(10)]
[SoftmaxCrossEntropyLoss] [Adam(0.001)]
public partial class UserSiluMlp;

[Network(784)] [Dense(256, Activation.SiLU, Init = Init.HeNormal)] [Dense(128, Activation.SiLU, Init = Init.HeNormal)] [Dense(10)]
[SoftmaxCrossEntropyLoss] [Adam(0.001)]
public partial class BuiltInSiluMlp;

[Network(784)] [Dense(256, Init = Init.HeNormal)] [CustomActivation(typeof(UserActivations), nameof(UserActivations.Relu))]
[Dense(128, Init = Init.HeNormal)] [CustomActivation(typeof(UserActivations), nameof(UserActivations.Relu))] [Dense(10)]
[SoftmaxCrossEntropyLoss] [Adam(0.001)]
public partial class UserReluMlp;

[Network(784)] [Dense(256, Activation.ReLU, Init = Init.HeNormal)] [Dense(128, Activation.ReLU, Init = Init.HeNormal)] [Dense(10)]
[SoftmaxCrossEntropyLoss] [Adam(0.001)]
public partial class BuiltInReluMlp;

/// <summary>
/// The 784-256-128-10 MLP with a user-written activation against the same network with the built-in one: an Adam
/// training step and Predict at batch 64 (float, one thread). Compare within one run, as ratios.
/// </summary>
[MemoryDiagnoser]
public class CustomActivationBenchmarks
{
    private ITrainableNetwork<float, int> _net = null!;
    private float[] _inputs = [];
    private int[] _labels = [];
    private float[] _outputs = [];

    /// <summary>Which network.</summary>
    [Params("UserSiLU", "BuiltInSiLU", "UserReLU", "BuiltInReLU")]
    public string Activation { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        _net = Activation switch
        {
            "UserSiLU" => new UserSiluMlp(64, 42),
            "BuiltInSiLU" => new BuiltInSiluMlp(64, 42),
            "UserReLU" => new UserReluMlp(64, 42),
            _ => new BuiltInReluMlp(64, 42),
        };
        (_inputs, _labels) = MlpSetup.Data(64);
        _outputs = new float[64 * 10];
    }

    /// <summary>Forward, loss, backward and Adam update at batch 64.</summary>
    [Benchmark]
    public float TrainStep() => _net.TrainStep(_inputs, _labels);

    /// <summary>Evaluation-mode forward pass at batch 64.</summary>
    [Benchmark]
    public void Predict() => _net.Predict(_inputs, _outputs);
}
