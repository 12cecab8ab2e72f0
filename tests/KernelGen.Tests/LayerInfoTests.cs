using System;
using System.Linq;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The layer metadata every generated network exposes (Layers, LayerOutput, Fingerprint) and the extra initializers.</summary>
public class LayerInfoTests
{
    [Fact]
    public void Layers_describe_the_lowered_network_and_match_the_parameter_tensors()
    {
        var net = new NormNet(4, 1);
        // [Dense(10)] [BatchNorm] [Tanh] [Dense(8)] [LayerNorm] [Sigmoid] [Dense(8)] [GroupNorm(4)] [Dense(3)]
        Assert.Equal(new[] { LayerKind.Dense, LayerKind.BatchNorm, LayerKind.Activation, LayerKind.Dense, LayerKind.LayerNorm, LayerKind.Activation, LayerKind.Dense, LayerKind.GroupNorm, LayerKind.Dense },
            net.Layers.Select(l => l.Kind).ToArray());
        Assert.Equal(Enumerable.Range(0, 9), net.Layers.Select(l => l.Index));
        Assert.Equal(6, net.Layers[0].InputFeatures);
        Assert.Equal(3, net.Layers[^1].OutputFeatures);
        for (int i = 1; i < net.Layers.Count; i++) Assert.Equal(net.Layers[i - 1].OutputFeatures, net.Layers[i].InputFeatures);
        Assert.Equal(Activation.Tanh, net.Layers[2].Activation);
        Assert.Equal(4, net.Layers[7].Option("Groups"));
        Assert.Equal(1e-3, net.Layers[7].Option("Epsilon"));
        Assert.Equal(0.1, net.Layers[1].Option("Momentum"));
        foreach (ParameterTensor t in net.ParameterTensors)
        {
            string layer = t.Name[..t.Name.IndexOf('.')];
            LayerInfo info = net.Layers.Single(l => l.Name == layer);
            int expected = t.Name[(layer.Length + 1)..] switch
            {
                "Weights" => info.WeightOffset,
                "Bias" => info.BiasOffset,
                "Gamma" => info.GammaOffset,
                "Beta" => info.BetaOffset,
                _ => throw new InvalidOperationException(t.Name),
            };
            Assert.Equal(t.Offset, expected);
        }
        // The running statistics: mean then variance per BatchNorm layer, initialized to 0 and 1.
        LayerInfo bn = net.Layers[1];
        Assert.All(net.RunningStatistics.Slice(bn.RunningMeanOffset, 10).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(net.RunningStatistics.Slice(bn.RunningVarianceOffset, 10).ToArray(), v => Assert.Equal(1f, v));
        Assert.True(new ReluNet(1).RunningStatistics.IsEmpty);
    }

    [Fact]
    public void LayerOutput_shows_each_training_mode_output_of_the_last_forward_pass()
    {
        var net = new StandaloneNet(3, 5); // [Tanh] [Dense(9)] [Sigmoid] [Tanh] [Dense(4)] [Identity] → 4 layers after fusion
        Assert.Throws<InvalidOperationException>(() => net.LayerOutput(0));
        var random = new Random(3);
        float[] x = Enumerable.Range(0, 3 * 6).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        ReadOnlySpan<float> y = net.Forward(x);
        float[] last = net.LayerOutput(net.Layers.Count - 1).ToArray();
        Assert.Equal(y.ToArray(), last);
        // Layer 0 is the standalone tanh of the inputs: check it independently.
        float[] first = net.LayerOutput(0).ToArray();
        Assert.Equal(18, first.Length);
        for (int i = 0; i < x.Length; i++) Assert.Equal(Math.Tanh(x[i]), first[i], 1e-6);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.LayerOutput(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.LayerOutput(net.Layers.Count));
        net.Initialize(1);
        Assert.Throws<InvalidOperationException>(() => net.LayerOutput(0));
    }

    [Fact]
    public void Fingerprint_is_shared_by_both_element_types_and_differs_between_specs()
    {
        Assert.Equal(MnistNet.SpecFingerprint, new MnistNet.Float64(1).Fingerprint);
        Assert.Equal(MnistNet.SpecFingerprint, new MnistNet(1).Fingerprint);
        ulong[] all = [MnistNet.SpecFingerprint, ReluNet.SpecFingerprint, SmoothNet.SpecFingerprint, NormNet.SpecFingerprint, DropoutNet.SpecFingerprint, MaxoutNet.SpecFingerprint, InitNet.SpecFingerprint];
        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Fact]
    public void Orthogonal_initialization_gives_orthonormal_columns_or_rows()
    {
        var net = new InitNet(1, 42);
        // Dense1: 12 × 30 (wide): rows orthonormal, W·Wᵀ = I₁₂. Dense2: 30 × 8 (tall): columns orthonormal, WᵀW = I₈.
        AssertOrthonormal(net.Dense1Weights.ToArray(), 12, 30, orthonormalRows: true);
        AssertOrthonormal(net.Dense2Weights.ToArray(), 30, 8, orthonormalRows: false);
        AssertOrthonormal(net.Dense4Weights.ToArray(), 5, 4, orthonormalRows: false); // LSUV starts orthogonal
        Assert.All(net.Dense1Bias.ToArray(), b => Assert.Equal(0.01f, b));
        Assert.All(net.Dense2Bias.ToArray(), b => Assert.Equal(0f, b));
        Assert.Equal(Init.Lsuv, net.Layers[3].Init);
        Assert.Equal(0.01, net.Layers[0].Option("BiasInit"));
        Assert.Equal(0.01, net.Layers[0].Tensor(Catalog.TensorRole.Bias)!.InitialValue);
        // Small Gaussian: 0.01·N(0,1) over 40 weights: the sample std lies well inside [0.005, 0.015].
        float[] small = net.Dense3Weights.ToArray();
        double std = Math.Sqrt(small.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.005, 0.015);
        // Deterministic per seed.
        Assert.Equal(net.Parameters.ToArray(), new InitNet(1, 42).Parameters.ToArray());
        Assert.NotEqual(net.Dense1Weights.ToArray(), new InitNet(1, 43).Dense1Weights.ToArray());
    }

    private static void AssertOrthonormal(float[] w, int rows, int columns, bool orthonormalRows)
    {
        int n = orthonormalRows ? rows : columns, length = orthonormalRows ? columns : rows;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
            {
                double dot = 0;
                for (int k = 0; k < length; k++)
                    dot += orthonormalRows ? (double)w[a * columns + k] * w[b * columns + k] : (double)w[k * columns + a] * w[k * columns + b];
                Assert.True(Math.Abs(dot - (a == b ? 1 : 0)) < 1e-5, $"({a},{b}): {dot}");
            }
    }
}
