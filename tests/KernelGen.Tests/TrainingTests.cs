using System;
using System.Linq;
using KernelGen.Data;
using KernelGen.Optimization;
using Xunit;

using KernelGen.Demo;

namespace KernelGen.Tests;

// The demo's network (2 → 100 ReLU → 3, softmax cross-entropy) with each update rule of the spec.
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [Sgd(0.5, Momentum = 0.9)] public partial class SpiralMomentum;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [Sgd(0.5, Momentum = 0.9, Nesterov = true)] public partial class SpiralNesterov;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [Sgd(0.5, Momentum = 0.9, VelocityForm = true)] public partial class SpiralVelocityForm;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [AdaGrad(0.5)] public partial class SpiralAdaGrad;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [RmsProp(0.01, Centered = true)] public partial class SpiralRmsProp;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [Adam(0.02)] public partial class SpiralAdam;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [AdamW(0.02, WeightDecay = 1e-3)] public partial class SpiralAdamW;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [NAdam(0.02)] public partial class SpiralNAdam;
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss] [AdaDelta(1.0)] public partial class SpiralAdaDelta;

/// <summary>Everything around the update at once: Adam, cosine annealing after a warm-up, and clipping.</summary>
[Network(2)] [Dense(100, Activation.ReLU)] [Dense(3)] [SoftmaxCrossEntropyLoss]
[Adam(0.02, Beta2 = 0.99, WeightDecay = 1e-4)] [CosineAnnealing(400, MinLearningRate = 1e-4)] [LinearWarmup(20, StartFactor = 0.1)] [ClipGradientNorm(5)] [ClipGradientValue(1)]
public partial class SpiralScheduled;

public class TrainingTests
{
    private static readonly (float[] X, int[] Y) Data = Spiral.Generate(100, 3, seed: 7);

    private static (float First, float Last) Train<TNet>(TNet net, int steps) where TNet : ITrainableNetwork<float, int>
    {
        float first = net.Loss(Data.X, Data.Y);
        for (int i = 0; i < steps; i++) net.TrainStep(Data.X, Data.Y);
        return (first, net.Loss(Data.X, Data.Y));
    }

    public static TheoryData<string> Rules() => new() { "momentum", "nesterov", "notes", "adagrad", "rmsprop", "adam", "adamw", "nadam", "adadelta", "scheduled" };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Every_rule_trains_the_demo_network(string rule)
    {
        (float first, float last) = rule switch
        {
            "momentum" => Train(new SpiralMomentum(300, 1), 300),
            "nesterov" => Train(new SpiralNesterov(300, 1), 300),
            "notes" => Train(new SpiralVelocityForm(300, 1), 300),
            "adagrad" => Train(new SpiralAdaGrad(300, 1), 300),
            "rmsprop" => Train(new SpiralRmsProp(300, 1), 300),
            "adam" => Train(new SpiralAdam(300, 1), 300),
            "adamw" => Train(new SpiralAdamW(300, 1), 300),
            "nadam" => Train(new SpiralNAdam(300, 1), 300),
            "adadelta" => Train(new SpiralAdaDelta(300, 1), 300),
            _ => Train(new SpiralScheduled(300, 1), 300),
        };
        Assert.True(last < 0.4f * first, $"{rule}: loss {first} → {last}");
    }

    [Fact]
    public void The_spec_configures_the_optimizer()
    {
        var net = new SpiralScheduled(8, 1);
        OptimizerSettings s = net.Optimizer.Settings;
        Assert.Equal(OptimizerKind.Adam, s.Kind);
        Assert.Equal(0.02, s.LearningRate);
        Assert.Equal(0.99, s.Beta2);
        Assert.Equal(0.9, s.Beta1);      // unset: PyTorch's default
        Assert.Equal(1e-8, s.Epsilon);
        Assert.Equal(1e-4, s.WeightDecay);
        Assert.Equal(LearningRateSchedule.Cosine(400, 1e-4).WithWarmup(20, 0.1), net.Optimizer.Schedule);
        Assert.Equal(new GradientClipping(5, 1), net.Optimizer.Clipping);
        Assert.Equal(0.02f, net.LearningRate);
        Assert.Equal(2, net.Optimizer.StateSlots);

        Assert.Equal(1e-10, new SpiralAdaGrad(1).Optimizer.Settings.Epsilon);     // AdaGrad's own default ε
        Assert.Equal(1e-6, new SpiralAdaDelta(1).Optimizer.Settings.Epsilon);     // AdaDelta's own default ε
        Assert.True(new SpiralNesterov(1).Optimizer.Settings.Nesterov);
        Assert.True(new SpiralRmsProp(1).Optimizer.Settings.Centered);
        Assert.Equal(2, new SpiralRmsProp(1).Optimizer.StateSlots); // square average and gradient average (centered); no momentum buffer
    }

    [Fact]
    public void The_schedule_runs_per_training_step_and_initialize_resets_the_optimizer()
    {
        var net = new SpiralScheduled(300, 1);
        net.TrainStep(Data.X, Data.Y);
        Assert.Equal(0.02 * 0.1, net.Optimizer.CurrentLearningRate, 12); // warm-up step 0
        for (int i = 1; i < 20; i++) net.TrainStep(Data.X, Data.Y);
        Assert.Equal(0.02 * (0.1 + 0.9 * 19 / 20.0), net.Optimizer.CurrentLearningRate, 12);
        net.TrainStep(Data.X, Data.Y);
        Assert.Equal(0.02, net.Optimizer.CurrentLearningRate, 12);        // cosine step 0
        Assert.Equal(21, net.Optimizer.StepCount);
        Assert.True(net.Optimizer.LastGradientNorm > 0);
        Assert.NotEqual(0f, net.Optimizer.State(0)[0] + net.Optimizer.State(0)[1] + net.Optimizer.State(1)[5]);
        net.Initialize(1);
        Assert.Equal(0, net.Optimizer.StepCount);
        Assert.All(net.Optimizer.State(0).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(net.Optimizer.State(1).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Resumed_training_is_bit_identical_when_parameters_and_optimizer_state_are_restored()
    {
        var a = new SpiralAdam(300, 3);
        for (int i = 0; i < 10; i++) a.TrainStep(Data.X, Data.Y);
        // Copy the whole training state into a fresh network, then continue both.
        var b = new SpiralAdam(300, 99);
        a.Parameters.CopyTo(b.Parameters);
        for (int slot = 0; slot < a.Optimizer.StateSlots; slot++) a.Optimizer.State(slot).CopyTo(b.Optimizer.State(slot));
        b.Optimizer.StepCount = a.Optimizer.StepCount;
        for (int i = 0; i < 10; i++) Assert.Equal(a.TrainStep(Data.X, Data.Y), b.TrainStep(Data.X, Data.Y));
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
    }

    [Fact]
    public void Adam_training_allocates_nothing()
    {
        var net = new SpiralScheduled(64, 1);
        var x = Data.X.AsSpan(0, 128).ToArray();
        var y = Data.Y.AsSpan(0, 64).ToArray();
        HotLoop.WarmUp(() => net.TrainStep(x, y));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 30; i++) net.TrainStep(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
