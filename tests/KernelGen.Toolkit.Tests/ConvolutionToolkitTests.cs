using System;
using System.IO;
using System.Linq;
using KernelGen.Catalog;
using KernelGen.Checkpoints;
using KernelGen.Data;
using KernelGen.Interop;
using KernelGen.Training;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>A convnet whose convolutions have no fused activation, so each one's layer output is its pre-activation.</summary>
[Network(3, 8, 8)]
[Conv2D(8, 3, Padding = 1, Init = Init.Lsuv)]
[MaxPool2D(2)]
[Conv2D(6, 3, Init = Init.Lsuv, Groups = 2)]
[BatchNorm]
[ReLU]
[Flatten]
[Dense(4, Init = Init.Lsuv)]
[SoftmaxCrossEntropyLoss]
[Adam(0.003)]
public partial class ToolkitConvNet;

/// <summary>The toolkit with convolutions: LSUV over conv layers, checkpoints and weight files, and the trainer's statistics.</summary>
public sealed class ConvolutionToolkitTests
{
    private static float[] Images(int count, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, count * 192).Select(_ => (float)(r.NextDouble() * 2 - 1 + 0.3)).ToArray();
    }

    /// <summary>LSUV rescales each convolution until its output maps have unit variance; checked on the layer outputs with plain loops.</summary>
    [Fact]
    public void Lsuv_gives_convolution_outputs_unit_variance()
    {
        var net = new ToolkitConvNet(32, 3);
        float[] batch = Images(32, 1);
        var results = Lsuv.Initialize(net, batch);
        Assert.Equal(["Conv2D1", "Conv2D2", "Dense1"], results.Select(r => r.Layer));
        net.Forward(batch);
        foreach (int layer in new[] { 0, 2 })
        {
            float[] output = net.LayerOutput(layer).ToArray();
            double mean = output.Average(v => (double)v), variance = output.Average(v => (v - mean) * (v - mean));
            Assert.InRange(variance, 0.9, 1.1);
        }
        Assert.All(results, r => Assert.InRange(r.FinalVariance, 0.9, 1.1));
    }

    /// <summary>A trained convnet survives a checkpoint and a safetensors round trip bit for bit.</summary>
    [Fact]
    public void Checkpoints_and_weight_files_round_trip_a_convnet()
    {
        var net = new ToolkitConvNet(8, 4);
        var r = new Random(2);
        for (int step = 0; step < 5; step++) net.TrainStep(Images(8, 10 + step), Enumerable.Range(0, 8).Select(_ => r.Next(4)).ToArray());
        float[] x = Images(3, 99), expected = new float[12], actual = new float[12];
        net.Predict(x, expected);

        using var stream = new MemoryStream();
        Checkpoint.Save(net, stream);
        stream.Position = 0;
        var restored = new ToolkitConvNet(8, 77);
        Checkpoint.Load(restored, stream);
        restored.Predict(x, actual);
        Assert.Equal(expected, actual);

        using var weights = new MemoryStream();
        SafeTensors.Save(net, weights);
        weights.Position = 0;
        var loaded = new ToolkitConvNet(8, 78);
        SafeTensors.Load(loaded, weights);
        Array.Clear(actual);
        loaded.Predict(x, actual);
        Assert.Equal(expected, actual);
    }

    /// <summary>The trainer's per-layer statistics cover convolution layers: the weight-gradient norm is over the whole
    /// [O, C/groups, k, k] tensor.</summary>
    [Fact]
    public void Trainer_statistics_cover_convolution_layers()
    {
        var r = new Random(5);
        int count = 96;
        float[] features = Images(count, 6);
        int[] labels = Enumerable.Range(0, count).Select(_ => r.Next(4)).ToArray();
        var data = new Dataset(features, labels, 3, 8, 8, classCount: 4);
        var net = new ToolkitConvNet(32, 7);
        var trainer = new Trainer(net, new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 1 });
        TrainingResult result = trainer.Fit(data, data);
        Assert.Equal(2, result.History.Epochs.Count);
        foreach (string layer in new[] { "Conv2D1", "Conv2D2" })
        {
            var stats = result.History.ForLayer(layer);
            Assert.NotEmpty(stats);
            Assert.All(stats, s => Assert.True(double.IsFinite(s.GradientNorm) && s.GradientNorm > 0, $"{layer}: {s.GradientNorm}"));
            // The last epoch's norm is that of the last batch's gradient over exactly the weight tensor.
            LayerTensor weights = net.Layers.Single(l => l.Name == layer).Tensor(TensorRole.Weight)!;
            double norm = Math.Sqrt(net.Gradients.Slice(weights.Offset, weights.Length).ToArray().Sum(g => (double)g * g));
            Assert.Equal(norm, stats[^1].GradientNorm, norm * 1e-6);
        }

        // Per-channel statistics of the image-shaped layers, from the last batch's layer outputs (checked with plain loops).
        LayerEpochMetrics conv = result.History.ForLayer("Conv2D1")[^1];
        Assert.NotNull(conv.Channels);
        Assert.Null(result.History.ForLayer("Dense1")[^1].Channels);
        float[] output = net.LayerOutput(0).ToArray();
        int rows = output.Length / 512;
        for (int c = 0; c < 8; c++)
        {
            double[] v = Enumerable.Range(0, rows).SelectMany(r => output.Skip((r * 8 + c) * 64).Take(64)).Select(x => (double)x).ToArray();
            double mean = v.Average();
            Assert.Equal(mean, conv.Channels!.Means[c], 1e-9);
            Assert.Equal(Math.Sqrt(v.Average(x => (x - mean) * (x - mean))), conv.Channels.StandardDeviations[c], 1e-9);
        }
        // ReLU after BatchNorm: zeros are counted per channel.
        LayerEpochMetrics relu = result.History.ForLayer("ReLU1")[^1];
        Assert.All(relu.Channels!.ZeroFractions, z => Assert.InRange(z, 0.05, 0.95));

        string path = Path.Combine(Path.GetTempPath(), $"kernelgen-conv-report-{Guid.NewGuid():N}.html");
        try
        {
            KernelGen.Reporting.TrainingReport.Write(result.History, path, "conv");
            string html = File.ReadAllText(path);
            Assert.Contains("Activation standard deviation per channel", html);
            Assert.Contains("Share of zero activations per channel", html);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
