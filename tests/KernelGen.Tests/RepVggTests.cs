using System;
using System.Linq;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// A RepVGG-style network (Ding et al., "RepVGG: Making VGG-style ConvNets Great Again", 2021): each block sums a 3×3
/// convolution + BatchNorm, a 1×1 convolution + BatchNorm and (stride 1, same channels) a BatchNorm of its input, then
/// ReLU. The inference form re-parameterizes each block into one 3×3 convolution with a bias.
/// </summary>
[Network(3, 8, 8)]
[Conv2D(8, 3, Padding = 1, Name = "Stem")] [BatchNorm] [ReLU(Name = "x1")]
[Conv2D(8, 3, Padding = 1, Bias = false, Name = "B1k3")] [BatchNorm(Name = "B1n3")]
[Conv2D(8, 1, Bias = false, From = "x1", Name = "B1k1")] [BatchNorm(Name = "B1n1")]
[BatchNorm(From = "x1", Name = "B1id")]
[Add("B1n3", "B1n1", "B1id", Name = "Block1")] [ReLU(Name = "x2")]
[Conv2D(16, 3, Padding = 1, Stride = 2, Bias = false, Name = "B2k3")] [BatchNorm(Name = "B2n3")]
[Conv2D(16, 1, Stride = 2, Bias = false, From = "x2", Name = "B2k1")] [BatchNorm(Name = "B2n1")]
[Add("B2n3", "B2n1", Name = "Block2")] [ReLU]
[GlobalAveragePool]
[Dense(4)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class RepVggNet;

public class RepVggTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static float[] Floats(int n, int seed) { var r = new Random(seed); return [.. Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 4 - 2))]; }

    private static double[] Doubles(int n, int seed) { var r = new Random(seed); return [.. Enumerable.Range(0, n).Select(_ => r.NextDouble() * 4 - 2)]; }

    private static int[] Labels(int n, int seed) { var r = new Random(seed); return [.. Enumerable.Range(0, n).Select(_ => r.Next(4))]; }

    [Fact]
    public void Blocks_reparameterize_into_one_convolution_each()
    {
        // Training layers: Stem, BatchNorm1, x1 (ReLU), B1k3, B1n3, B1k1, B1n1, B1id, Block1, x2, B2k3, B2n3, B2k1, B2n1,
        // Block2, ReLU, GlobalAveragePool1, Dense1 = 18. Inference: Stem (BatchNorm folded, ReLU fused), Block1 (ReLU
        // fused), Block2 (ReLU fused), GlobalAveragePool1, Dense1 = 5 steps.
        var net = new RepVggNet(4, 1);
        Assert.Equal(18, net.Layers.Count);
        Assert.Equal(["B1n3", "B1n1", "B1id"], net.Layers.Single(l => l.Name == "Block1").Inputs.Select(i => net.Layers[i].Name));
        var inference = net.CreateInference(4);
        Assert.Equal(5, inference.Model.StepCount);
        // Arenas (each tensor on a 16-element boundary): training 224 + 16 (stem) + 32 (its BatchNorm) + 576 + 64 (block 1's
        // kernels) + 3·32 (its BatchNorms) + 1152 + 128 (block 2's) + 2·32 + 64 + 16 (dense) = 2432; inference 224 + 16 +
        // 576 + 16 (block 1: 8×8×3×3 and a bias) + 1152 + 16 (block 2: 16×8×3×3) + 64 + 16 = 2080.
        Assert.Equal(2432, RepVggNet.ArenaLength);
        Assert.Equal(2080, RepVggNet.Inference.ArenaLength);
    }

    [Fact]
    public void Float_inference_form_equals_evaluation_mode_within_1e_5()
    {
        var net = new RepVggNet(16, 3);
        for (int step = 0; step < 40; step++) net.TrainStep(Floats(16 * 192, step), Labels(16, 100 + step));
        var inference = net.CreateInference(16);
        double worst = 0;
        foreach (int batch in new[] { 1, 7, 16 })
        {
            float[] x = Floats(batch * 192, 900 + batch), expected = new float[batch * 4], actual = new float[batch * 4];
            net.Predict(x, expected);
            inference.Predict(x, actual);
            for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / Math.Max(1, Math.Abs(expected[i])));
        }
        output.WriteLine($"float: largest relative difference between evaluation mode and the re-parameterized form {worst:G3}");
        Assert.True(worst <= 1e-5, $"largest relative difference {worst}");
    }

    [Fact]
    public void Double_inference_form_equals_evaluation_mode_within_1e_12()
    {
        var net = new RepVggNet.Float64(16, 5);
        for (int step = 0; step < 40; step++) net.TrainStep(Doubles(16 * 192, step), Labels(16, 100 + step));
        var inference = net.CreateInference(16);
        double worst = 0;
        foreach (int batch in new[] { 1, 16 })
        {
            double[] x = Doubles(batch * 192, 900 + batch), expected = new double[batch * 4], actual = new double[batch * 4];
            net.Predict(x, expected);
            inference.Predict(x, actual);
            for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / Math.Max(1, Math.Abs(expected[i])));
        }
        output.WriteLine($"double: largest relative difference between evaluation mode and the re-parameterized form {worst:G3}");
        Assert.True(worst <= 1e-12, $"largest relative difference {worst}");
    }

    [Fact]
    public void Refolding_after_training_allocates_nothing_and_matches_again()
    {
        var net = new RepVggNet(8, 2);
        var inference = net.CreateInference(8);
        float[] x = Floats(192, 5), y1 = new float[4], y2 = new float[4];
        net.TrainStep(Floats(8 * 192, 6), Labels(8, 7));
        HotLoop.WarmUp(() => { inference.Update(net); inference.Predict(x, y2); });
        long before = GC.GetAllocatedBytesForCurrentThread();
        inference.Update(net);
        inference.Predict(x, y2);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        net.Predict(x, y1);
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(y1[i] - y2[i]) <= 1e-5 * Math.Max(1, Math.Abs(y1[i])), $"[{i}] {y1[i]} vs {y2[i]}");
    }
}
