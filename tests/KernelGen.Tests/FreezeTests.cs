using System;
using System.Linq;
using KernelGen.Catalog;
using Xunit;

namespace KernelGen.Tests;

/// <summary>A small convnet to fine-tune: a backbone (convolution, BatchNorm, dense) and a head.</summary>
[Network(2, 5, 5)]
[Conv2D(4, 3, Activation.Tanh, Padding = 1, Name = "Backbone1")]
[BatchNorm(Name = "BackboneNorm")]
[Flatten]
[Dense(8, Activation.Tanh, Name = "Backbone2")]
[Dense(3, Name = "Head")]
[SoftmaxCrossEntropyLoss]
[Sgd(0.05)]
public partial class FreezeNet;

public class FreezeTests
{
    private static double[] Uniform(int n, int seed) { var r = new Random(seed); return [.. Enumerable.Range(0, n).Select(_ => r.NextDouble() * 3 - 1.5)]; }

    private static int[] Labels(int n, int seed) { var r = new Random(seed); return [.. Enumerable.Range(0, n).Select(_ => r.Next(3))]; }

    private static double[] Slice(FreezeNet.Float64 net, string layer, bool gradients) =>
        [.. net.Layers.Single(l => l.Name == layer).Tensors.Where(t => !t.IsState).SelectMany(t => (gradients ? net.Gradients : net.Parameters).Slice(t.Offset, t.Length).ToArray())];

    [Fact]
    public void Frozen_layers_get_zero_gradients_and_trainable_layers_the_same_gradients_as_without_freezing()
    {
        const int batch = 4;
        double[] x = Uniform(batch * 50, 1);
        int[] y = Labels(batch, 2);
        var full = new FreezeNet.Float64(batch, 7);
        full.ComputeGradients(x, y);
        var tuned = new FreezeNet.Float64(batch, 7);
        tuned.SetFrozen("Backbone1");
        tuned.SetFrozen("BackboneNorm");
        tuned.ComputeGradients(x, y);
        Assert.True(tuned.IsFrozen("Backbone1") && !tuned.IsFrozen("Head"));
        Assert.All(Slice(tuned, "Backbone1", true), g => Assert.Equal(0.0, g));
        Assert.All(Slice(tuned, "BackboneNorm", true), g => Assert.Equal(0.0, g));
        Assert.Equal(Slice(full, "Backbone2", true), Slice(tuned, "Backbone2", true)); // bit for bit: the same computation
        Assert.Equal(Slice(full, "Head", true), Slice(tuned, "Head", true));
        Assert.Contains(Slice(full, "Backbone1", true), g => g != 0);
        // Asking for ∂L/∂inputs runs backward all the way down, and it matches the unfrozen network's.
        double[] dxFull = new double[x.Length], dxTuned = new double[x.Length];
        full.Forward(x); tuned.Forward(x);
        double[] dy = Uniform(batch * 3, 3);
        full.Backward(dy, dxFull); tuned.Backward(dy, dxTuned);
        Assert.Equal(dxFull, dxTuned);
        Assert.All(Slice(tuned, "Backbone1", true), g => Assert.Equal(0.0, g));
    }

    [Fact]
    public void The_optimizer_leaves_frozen_layers_alone_and_unfreezing_resumes_training()
    {
        const int batch = 4;
        var net = new FreezeNet.Float64(batch, 3);
        net.SetFrozen("Backbone1");
        net.SetFrozen("Backbone2");
        double[] backbone = Slice(net, "Backbone1", false), backbone2 = Slice(net, "Backbone2", false), head = Slice(net, "Head", false);
        for (int step = 0; step < 5; step++) net.TrainStep(Uniform(batch * 50, step), Labels(batch, 10 + step));
        Assert.Equal(backbone, Slice(net, "Backbone1", false));
        Assert.Equal(backbone2, Slice(net, "Backbone2", false));
        Assert.NotEqual(head, Slice(net, "Head", false));
        net.SetFrozen("Backbone1", false);
        net.TrainStep(Uniform(batch * 50, 99), Labels(batch, 98));
        Assert.NotEqual(backbone, Slice(net, "Backbone1", false));
        Assert.Throws<ArgumentException>(() => net.SetFrozen("NoSuchLayer"));
    }

    [Fact]
    public void Training_with_frozen_layers_allocates_nothing()
    {
        const int batch = 4;
        var net = new FreezeNet(batch, 2);
        net.SetFrozen("Backbone1");
        net.SetEvaluationMode("BackboneNorm");
        net.SetLearningRateMultiplier("Backbone2", 0.1);
        float[] x = [.. Uniform(batch * 50, 12).Select(v => (float)v)];
        int[] y = Labels(batch, 13);
        HotLoop.WarmUp(() => net.TrainStep(x, y));
        long before = GC.GetAllocatedBytesForCurrentThread();
        net.TrainStep(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_learning_rate_multiplier_scales_the_update_exactly()
    {
        // SGD: θ ← θ − η·m·g. A layer at multiplier 0.5 moves exactly as it does in a network whose rate is η·0.5 (the same
        // double product), and a multiplier of 0 leaves it unchanged.
        const int batch = 4;
        double[] x = Uniform(batch * 50, 5);
        int[] y = Labels(batch, 6);
        var half = new FreezeNet.Float64(batch, 11);
        half.SetLearningRateMultiplier("Head", 0.5);
        half.SetLearningRateMultiplier("Backbone2", 0);
        var reference = new FreezeNet.Float64(batch, 11) { LearningRate = 0.05 * 0.5 };
        double[] backbone2 = Slice(half, "Backbone2", false);
        half.TrainStep(x, y);
        reference.TrainStep(x, y);
        Assert.Equal(Slice(reference, "Head", false), Slice(half, "Head", false));
        Assert.Equal(backbone2, Slice(half, "Backbone2", false));
        Assert.Throws<ArgumentOutOfRangeException>(() => half.SetLearningRateMultiplier("Head", -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => half.SetLearningRateMultiplier("Head", double.NaN));
    }

    [Fact]
    public void The_gradient_check_leaves_frozen_layers_out_and_passes_on_the_rest()
    {
        const int batch = 3;
        var net = new FreezeNet.Float64(batch, 4);
        net.SetFrozen("Backbone1");
        double[] x = Uniform(batch * 50, 8);
        GradientCheckOptions options = GradientCheckOptions.From(OpCatalog.Get(LayerKind.BatchNorm).Tolerance) with { Seed = 4 };
        GradientCheckReport report = GradientCheck.Run(net, x, Labels(batch, 9), options);
        Assert.True(report.Passed, report.ToString());
        Assert.DoesNotContain(report.Tensors, t => t.Tensor.StartsWith("Backbone1.", StringComparison.Ordinal));
        Assert.Contains(report.Tensors, t => t.Tensor.StartsWith("Backbone2.", StringComparison.Ordinal) && t.Checked > 0);
        GradientCheckReport backward = GradientCheck.Run(net, x, options);
        Assert.True(backward.Passed, backward.ToString());
        Assert.Contains(backward.Tensors, t => t.Tensor == "inputs" && t.Checked > 0); // ∂L/∂inputs still runs through the frozen layer
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void Batch_norm_kept_in_evaluation_mode_passes_the_gradient_check(ulong seed)
    {
        const int batch = 3;
        var net = new FreezeNet.Float64(batch, seed);
        // Running statistics away from 0 and 1, so the fixed affine map is not the identity.
        for (int step = 0; step < 5; step++) net.TrainStep(Uniform(batch * 50, 40 + step), Labels(batch, 50 + step));
        net.SetEvaluationMode("BackboneNorm");
        double[] statistics = net.RunningStatistics.ToArray();
        double[] x = Uniform(batch * 50, (int)seed);
        GradientCheckOptions options = GradientCheckOptions.From(OpCatalog.Get(LayerKind.BatchNorm).Tolerance) with { Seed = seed };
        GradientCheckReport loss = GradientCheck.Run(net, x, Labels(batch, (int)seed + 3), options);
        Assert.True(loss.Passed, loss.ToString());
        GradientCheckReport backward = GradientCheck.Run(net, x, options);
        Assert.True(backward.Passed, backward.ToString());
        // In evaluation mode training passes leave the running statistics alone, and the training output equals Predict's.
        Assert.Equal(statistics, net.RunningStatistics.ToArray());
        double[] predicted = new double[batch * 3];
        net.Predict(x, predicted);
        Assert.Equal(predicted, net.Forward(x).ToArray());
        Assert.Throws<ArgumentException>(() => net.SetEvaluationMode("Head"));
    }
}
