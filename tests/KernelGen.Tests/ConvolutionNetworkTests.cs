using System;
using System.Linq;
using KernelGen.Catalog;
using Xunit;

namespace KernelGen.Tests;

/// <summary>A small convnet with every convolution path: a padded 3×3 convolution, BatchNorm over channels (N·H·W
/// statistics), a depthwise 3×3 convolution with a fused activation, max pooling, a grouped pointwise convolution, global
/// average pooling and a classifier.</summary>
[Network(2, 6, 6)]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm]
[ReLU]
[Conv2D(4, 3, Activation.Tanh, Groups = 4, Padding = 1)]
[MaxPool2D(2)]
[Conv2D(6, 1, Activation.SiLU, Groups = 2)]
[GlobalAveragePool]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class ConvPathsNet;

/// <summary>Conv → BatchNorm pairs that the inference form folds into single convolutions.</summary>
[Network(3, 8, 8)]
[Conv2D(8, 3, Padding = 1)]
[BatchNorm]
[ReLU]
[MaxPool2D(2)]
[Conv2D(8, 3, Stride = 2, PadTop = 1, PadLeft = 0, PadBottom = 2, PadRight = 1)]
[BatchNorm(Momentum = 0.3)]
[Flatten]
[Dense(4)]
[SoftmaxCrossEntropyLoss]
[Adam(0.003)]
public partial class ConvFoldNet;

internal static class LayerInfoExtensions
{
    public static bool HasBias(this LayerInfo layer) => layer.Tensor(TensorRole.Bias) is not null;
}

public sealed class ConvolutionNetworkTests
{
    private static double[] Uniform(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (r.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static int[] Labels(int n, int classes, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.Next(classes)).ToArray();
    }

    /// <summary>The whole network, BatchNorm over channels included, against central differences (the public engine, BatchNorm's catalog settings).</summary>
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void Conv_paths_pass_the_gradient_check(ulong seed)
    {
        GradientTolerance tolerance = OpCatalog.Get(LayerKind.BatchNorm).Tolerance;
        const int batch = 3;
        var net = new ConvPathsNet.Float64(batch, seed);
        double[] x = Uniform(batch * net.InputSize, (int)seed, 1.5);
        GradientCheckOptions options = GradientCheckOptions.From(tolerance) with { Seed = seed };
        GradientCheckReport loss = GradientCheck.Run(net, x, Labels(batch, 3, (int)seed + 10), options);
        Assert.True(loss.Passed, loss.ToString());
        Assert.All(loss.Tensors, t => Assert.True(t.Checked > 0, t.Tensor));
        GradientCheckReport backward = GradientCheck.Run(net, x, options);
        Assert.True(backward.Passed, backward.ToString());
    }

    [Theory]
    [InlineData(3UL)]
    [InlineData(4UL)]
    public void Implicit_gemm_convolutions_pass_the_gradient_check(ulong seed)
    {
        const int batch = 3;
        var net = new ImplicitConvNet.Float64(batch, seed);
        Assert.True(Kernels.Conv2DGeometry.Of(net.Layers[0]).IsImplicit && Kernels.Conv2DGeometry.Of(net.Layers[1]).IsImplicit);
        double[] x = Uniform(batch * net.InputSize, (int)seed, 1.5);
        GradientCheckOptions options = GradientCheckOptions.From(GradientTolerance.Default) with { Seed = seed };
        GradientCheckReport loss = GradientCheck.Run(net, x, Labels(batch, 3, (int)seed), options);
        Assert.True(loss.Passed, loss.ToString());
        GradientCheckReport backward = GradientCheck.Run(net, x, options);
        Assert.True(backward.Passed, backward.ToString());
    }

    [Fact]
    public void Shapes_tensors_and_options_follow_pytorch()
    {
        var net = new ConvFoldNet(4, 1);
        LayerInfo conv = net.Layers[0], second = net.Layers.Single(l => l.Name == "Conv2D2");
        Assert.Equal(new TensorShape(3, 8, 8), conv.InputShape);
        Assert.Equal(new TensorShape(8, 8, 8), conv.OutputShape);
        Assert.Equal(new TensorShape(8, 3, 3, 3), conv.Tensor(TensorRole.Weight)!.Shape);
        Assert.Equal(new TensorShape(8), conv.Tensor(TensorRole.Bias)!.Shape);
        // 4×4 input, pads (1, 0, 2, 1), kernel 3, stride 2: ⌊(4 + 3 − 3)/2⌋ + 1 = 3 rows, ⌊(4 + 1 − 3)/2⌋ + 1 = 2 columns.
        Assert.Equal(new TensorShape(8, 3, 2), second.OutputShape);
        Assert.Equal(1, second.Option("PadTop"));
        Assert.Equal(2, second.Option("PadBottom"));
        Assert.Equal(new TensorShape(8), net.Layers.Single(l => l.Name == "BatchNorm1").Tensor(TensorRole.Gamma)!.Shape);
        Assert.Equal(2, net.Layers.Single(l => l.Name == "MaxPool2D1").Option("Stride")); // 0 resolves to the kernel size
        Assert.Equal(8 * 3 * 2, net.Layers.Single(l => l.Name == "Dense1").InputFeatures);
    }

    [Fact]
    public void Same_padding_keeps_the_size_and_puts_the_odd_zero_last()
    {
        var net = new SamePaddingNet(2, 1);
        LayerInfo even = net.Layers[0];
        Assert.Equal(new TensorShape(2, 5, 7), even.OutputShape);
        // Kernel 4: 3 zeros in all, 1 before and 2 after (PyTorch's padding="same").
        Assert.Equal([1.0, 1.0, 2.0, 2.0], new[] { even.Option("PadTop"), even.Option("PadLeft"), even.Option("PadBottom"), even.Option("PadRight") });
    }

    /// <summary>A training-mode BatchNorm over channels normalizes each channel over N·H·W values and keeps PyTorch's
    /// running statistics (unbiased variance with n = N·H·W).</summary>
    [Fact]
    public void BatchNorm_over_channels_uses_all_pixels_of_the_batch()
    {
        var net = new ConvFoldNet.Float64(5, 3);
        const int batch = 5;
        double[] x = Uniform(batch * net.InputSize, 8, 2);
        net.Forward(x);
        LayerInfo conv = net.Layers[0];
        double[] y = net.LayerOutput(0).ToArray(); // the convolution's output [batch, 8, 8, 8]
        double[] normalized = net.LayerOutput(1).ToArray();
        int pixels = 64, channels = 8;
        double momentum = 0.1;
        for (int c = 0; c < channels; c++)
        {
            var values = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(0, pixels).Select(p => y[(b * channels + c) * pixels + p])).ToArray();
            double mean = values.Average(), variance = values.Select(v => (v - mean) * (v - mean)).Average();
            double s = 1 / Math.Sqrt(variance + 1e-5);
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < pixels; p += 13)
                {
                    int at = (b * channels + c) * pixels + p;
                    Assert.Equal((y[at] - mean) * s, normalized[at], 1e-10); // γ = 1, β = 0 at construction
                }
            Assert.Equal(momentum * mean, net.BatchNorm1RunningMean[c], 1e-12);
            Assert.Equal(1 - momentum + momentum * variance * values.Length / (values.Length - 1), net.BatchNorm1RunningVariance[c], 1e-12);
        }
        Assert.Equal(LayerKind.Conv2D, conv.Kind);
    }

    [Fact]
    public void Inference_form_folds_batchnorm_into_the_convolutions()
    {
        var net = new ConvFoldNet(16, 2);
        var random = new Random(5);
        for (int step = 0; step < 40; step++)
            net.TrainStep(Uniform(16 * net.InputSize, step, 2).Select(v => (float)v).ToArray(), Labels(16, 4, 100 + step));
        Assert.DoesNotContain(0f, net.BatchNorm2RunningMean.ToArray());
        var inference = net.CreateInference(16);
        Assert.True(ConvFoldNet.Inference.ArenaLength < ConvFoldNet.ArenaLength, "both BatchNorm layers fold into their convolutions");
        foreach (int batch in new[] { 1, 7, 16 })
        {
            float[] x = Uniform(batch * net.InputSize, 300 + batch, 2).Select(v => (float)v).ToArray();
            float[] expected = new float[batch * 4], actual = new float[batch * 4];
            net.Predict(x, expected);
            inference.Predict(x, actual);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"batch {batch} [{i}] {expected[i]} vs {actual[i]}");
        }

        var wide = new ConvFoldNet.Float64(8, 2);
        for (int step = 0; step < 20; step++) wide.TrainStep(Uniform(8 * wide.InputSize, step, 2), Labels(8, 4, 200 + step));
        var wideInference = wide.CreateInference(8);
        double[] xd = Uniform(8 * wide.InputSize, 9, 2);
        double[] e = new double[32], a = new double[32];
        wide.Predict(xd, e);
        wideInference.Predict(xd, a);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(a[i] - e[i]) <= 1e-12 * Math.Max(1, Math.Abs(e[i])), $"[{i}] {e[i]} vs {a[i]}");
    }

    [Fact]
    public void Inference_form_folds_batchnorm_before_an_unpadded_convolution()
    {
        var net = new ConvBeforeFoldNet.Float64(8, 3);
        for (int step = 0; step < 30; step++) net.TrainStep(Uniform(8 * net.InputSize, 50 + step, 2).Select(v => v + 0.5).ToArray(), Labels(8, 2, 70 + step));
        Assert.DoesNotContain(0.0, net.BatchNorm1RunningMean.ToArray());
        var inference = net.CreateInference(8);
        // Two of the three BatchNorm layers fold (each had γ and β, 16 aligned elements apiece) and the bias-less
        // convolution gains a bias (16); the third BatchNorm (before the padded convolution) stays.
        Assert.False(net.Layers[1].HasBias());
        Assert.Equal(ConvBeforeFoldNet.Float64.ArenaLength - 2 * 32 + 16, ConvBeforeFoldNet.Float64.Inference.ArenaLength);
        double[] x = Uniform(8 * net.InputSize, 5, 2).Select(v => v + 0.5).ToArray();
        double[] expected = new double[16], actual = new double[16];
        net.Predict(x, expected);
        inference.Predict(x, actual);
        for (int i = 0; i < 16; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"[{i}] {expected[i]} vs {actual[i]}");

        var single = new ConvBeforeFoldNet(8, 3);
        for (int step = 0; step < 30; step++) single.TrainStep(Uniform(8 * single.InputSize, 50 + step, 2).Select(v => (float)(v + 0.5)).ToArray(), Labels(8, 2, 70 + step));
        var singleInference = single.CreateInference(8);
        float[] xf = x.Select(v => (float)v).ToArray(), ef = new float[16], af = new float[16];
        single.Predict(xf, ef);
        singleInference.Predict(xf, af);
        for (int i = 0; i < 16; i++) Assert.True(Math.Abs(af[i] - ef[i]) <= 1e-5 * Math.Max(1, Math.Abs(ef[i])), $"[{i}] {ef[i]} vs {af[i]}");
    }

    [Fact]
    public void Training_and_prediction_allocate_nothing_and_repeat_bit_for_bit()
    {
        var net = new ConvPathsNet(8, 11);
        float[] x = Uniform(8 * net.InputSize, 3).Select(v => (float)v).ToArray();
        int[] labels = Labels(8, 3, 4);
        float[] y = new float[8 * net.OutputSize];
        HotLoop.WarmUp(() => { net.TrainStep(x, labels); net.Predict(x, y); });
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) { net.TrainStep(x, labels); net.Predict(x, y); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        var a = new ConvPathsNet(8, 21);
        var b = new ConvPathsNet(8, 21);
        for (int i = 0; i < 5; i++) { a.TrainStep(x, labels); b.TrainStep(x, labels); }
        Assert.True(a.Parameters.SequenceEqual(b.Parameters), "same seed, same steps: bit-identical parameters");
    }

    /// <summary>Channel-wise dropout keeps or zeroes each channel of each sample whole (scaled by 1/(1 − p)), about half of them at p = 0.5.</summary>
    [Fact]
    public void Channelwise_dropout_drops_whole_channels()
    {
        const int batch = 50;
        var net = new ChannelOpsNet.Float64(batch, 3);
        double[] x = Uniform(batch * net.InputSize, 4, 1).Select(v => v + 2).ToArray(); // no zeros in the input
        net.Forward(x);
        double[] y = net.LayerOutput(0).ToArray();
        int dropped = 0;
        for (int plane = 0; plane < batch * 4; plane++)
        {
            double[] values = y.Skip(plane * 25).Take(25).ToArray(), inputs = x.Skip(plane * 25).Take(25).ToArray();
            bool zero = values.All(v => v == 0);
            if (zero) dropped++;
            else for (int i = 0; i < 25; i++) Assert.Equal(2 * inputs[i], values[i], 1e-12);
        }
        Assert.InRange(dropped, 70, 130); // 200 planes, p = 0.5
    }

    /// <summary>InstanceNorm normalizes each channel of each sample over its pixels; GroupNorm(2) each pair of channels; γ = 1, β = 0 at construction.</summary>
    [Fact]
    public void Instance_and_group_norm_normalize_the_right_values()
    {
        const int batch = 3;
        var net = new ChannelOpsNet.Float64(batch, 5);
        double[] x = Uniform(batch * net.InputSize, 6, 3).Select((v, i) => v + i % 7).ToArray();
        net.Forward(x);
        double[] afterDropout = net.LayerOutput(0).ToArray(), normalized = net.LayerOutput(1).ToArray(), grouped = net.LayerOutput(2).ToArray();
        for (int plane = 0; plane < batch * 4; plane++)
        {
            double[] v = afterDropout.Skip(plane * 25).Take(25).ToArray();
            double mean = v.Average(), variance = v.Select(t => (t - mean) * (t - mean)).Average();
            for (int i = 0; i < 25; i++) Assert.Equal((v[i] - mean) / Math.Sqrt(variance + 1e-5), normalized[plane * 25 + i], 1e-9);
        }
        for (int segment = 0; segment < batch * 2; segment++)
        {
            double[] v = normalized.Skip(segment * 50).Take(50).ToArray();
            double mean = v.Average(), variance = v.Select(t => (t - mean) * (t - mean)).Average();
            for (int i = 0; i < 50; i++) Assert.Equal((v[i] - mean) / Math.Sqrt(variance + 1e-5), grouped[segment * 50 + i], 1e-9);
        }
        Assert.Equal(new TensorShape(4), net.Layers[1].Tensor(TensorRole.Gamma)!.Shape);
        Assert.Equal(new TensorShape(4), net.Layers[2].Tensor(TensorRole.Gamma)!.Shape);
    }

    [Fact]
    public void Convolution_weights_start_with_pytorch_fans()
    {
        // He normal before the ReLU: σ = √(2 / fan_in), fan_in = C·k² = 3·9 = 27.
        var net = new ConvFoldNet.Float64(1, 4);
        double[] w = net.Conv2D1Weights.ToArray();
        double variance = w.Select(v => v * v).Average();
        Assert.InRange(variance, 2.0 / 27 * 0.75, 2.0 / 27 * 1.25);
        Assert.Equal(Init.HeNormal, (Init)(int)net.Layers[0].Option("Init"));
    }

    [Fact]
    public void Bad_input_is_rejected_and_nothing_changes()
    {
        var net = new ConvPathsNet(4, 1);
        float[] before = net.Parameters.ToArray();
        Assert.Throws<ArgumentException>(() => net.TrainStep(new float[net.InputSize * 2 + 1], new int[2]));
        float[] x = new float[2 * net.InputSize];
        x[17] = float.NaN;
        Assert.ThrowsAny<ArgumentException>(() => net.TrainStep(x, new int[2]));
        Assert.True(before.AsSpan().SequenceEqual(net.Parameters));
    }
}

/// <summary>Channel-wise dropout, instance and group normalization over images.</summary>
[Network(4, 5, 5)]
[Dropout(0.5, Channelwise = true)]
[InstanceNorm]
[GroupNorm(2)]
[Flatten]
[Dense(2)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.01)]
public partial class ChannelOpsNet;

/// <summary>Convolutions on the implicit-GEMM path (stride 1, one group, 8 or more channels), one with a dilated kernel and one-sided padding.</summary>
[Network(8, 5, 5)]
[Conv2D(9, 3, Activation.Tanh, Padding = 1)]
[Conv2D(4, 2, Activation.SiLU, Dilation = 2, PadRight = 1, Padding = 0)]
[Flatten]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.1)]
public partial class ImplicitConvNet;

/// <summary>BatchNorm before an unpadded grouped convolution without bias (folds into its input side), after it (folds
/// into its outputs; the folded convolution gains a bias), and before a padded one (stays: the padding's zeros are not
/// normalized values).</summary>
[Network(3, 7, 7)]
[BatchNorm]
[Conv2D(6, 3, Groups = 3, Bias = false)]
[BatchNorm]
[ReLU]
[BatchNorm]
[Conv2D(4, 3, Padding = 1)]
[Flatten]
[Dense(2)]
[SoftmaxCrossEntropyLoss]
[Adam(0.003)]
public partial class ConvBeforeFoldNet;

/// <summary>"Same" padding with an even kernel.</summary>
[Network(3, 5, 7)]
[Conv2D(2, 4, PaddingMode = PaddingMode.Same)]
[Flatten]
[Dense(2)]
public partial class SamePaddingNet;
