using System;
using System.Linq;
using CsCheck;
using KernelGen.Data;
using Xunit;

using KernelGen.Demo;

namespace KernelGen.Tests;

/// <summary>Forward results against the independent reference, float against double, determinism and training.</summary>
public class NetworkTests
{
    [Fact]
    public void SmoothNet_forward_matches_the_reference_implementation() =>
        Gen.Select(Gen.ULong, Gen.Int[1, 6]).SelectMany(t => Gen.Double[-3, 3].Array[t.Item2 * 19].Select(x => (Seed: t.Item1, Batch: t.Item2, X: x)))
            .Sample(c =>
            {
                var net = new SmoothNet.Float64(6, c.Seed);
                var p = net.Parameters;
                var (h1, _) = Reference.Dense(c.X, p.Slice(Reference.Offset(net, "Dense1.Weights"), 19 * 37), p.Slice(Reference.Offset(net, "Dense1.Bias"), 37), c.Batch, 19, 37, Reference.Act.Sigmoid);
                var (h2, _) = Reference.Dense(h1, p.Slice(Reference.Offset(net, "Dense2.Weights"), 37 * 70), p.Slice(Reference.Offset(net, "Dense2.Bias"), 70), c.Batch, 37, 70, Reference.Act.Tanh);
                var (y, _) = Reference.Dense(h2, p.Slice(Reference.Offset(net, "Dense3.Weights"), 70 * 5), p.Slice(Reference.Offset(net, "Dense3.Bias"), 5), c.Batch, 70, 5, Reference.Act.Identity);
                double[] forward = net.Forward(c.X).ToArray();
                var predicted = new double[y.Length];
                net.Predict(c.X, predicted);
                Assert.True(Reference.RelativeError(forward, y) < 1e-13, "Forward differs from the reference");
                Assert.Equal(forward, predicted); // same kernels, same order: bit-identical
            }, iter: 50);

    [Fact]
    public void StandaloneNet_forward_matches_the_reference_implementation() =>
        Gen.Select(Gen.ULong, Gen.Int[1, 9]).SelectMany(t => Gen.Double[-3, 3].Array[t.Item2 * 6].Select(x => (Seed: t.Item1, Batch: t.Item2, X: x)))
            .Sample(c =>
            {
                var net = new StandaloneNet.Float64(9, c.Seed);
                var p = net.Parameters;
                double[] a = Reference.Map(c.X, Reference.Act.Tanh);
                var (h, _) = Reference.Dense(a, p.Slice(Reference.Offset(net, "Dense1.Weights"), 6 * 9), p.Slice(Reference.Offset(net, "Dense1.Bias"), 9), c.Batch, 6, 9, Reference.Act.Sigmoid);
                double[] s = Reference.Map(h, Reference.Act.Tanh);
                var (y, _) = Reference.Dense(s, p.Slice(Reference.Offset(net, "Dense2.Weights"), 9 * 4), p.Slice(Reference.Offset(net, "Dense2.Bias"), 4), c.Batch, 9, 4, Reference.Act.Identity);
                Assert.True(Reference.RelativeError(net.Forward(c.X).ToArray(), y) < 1e-13);
            }, iter: 50);

    [Fact]
    public void Parameter_tensors_describe_the_arena()
    {
        var net = new StandaloneNet(1);
        Assert.Equal(new[] { "Dense1.Weights", "Dense1.Bias", "Dense2.Weights", "Dense2.Bias" }, net.ParameterTensors.Select(t => t.Name));
        Assert.Equal(6 * 9 + 9 + 9 * 4 + 4, StandaloneNet.ParameterCount);
        Assert.All(net.ParameterTensors, t => Assert.Equal(0, t.Offset % 16));
        Assert.Equal(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, MnistNet.ParameterCount);
        Assert.Equal(235_146, MnistNet.ParameterCount);
        // The generated views alias the arena.
        var mnist = new MnistNet(1);
        mnist.Dense2Bias[3] = 42f;
        Assert.Equal(42f, mnist.Parameters[Reference.Offset(mnist, "Dense2.Bias") + 3]);
        Assert.Equal(784 * 256, mnist.Dense1Weights.Length);
        Assert.Equal(10, mnist.Dense3BiasGradient.Length);
    }

    [Fact]
    public unsafe void Parameter_and_gradient_arenas_are_64_byte_aligned()
    {
        var f = new MnistNet(2, 1);
        var d = new MnistNet.Float64(2, 1);
        fixed (float* p = f.Parameters) Assert.Equal(0, (long)p % 64);
        fixed (float* p = f.Gradients) Assert.Equal(0, (long)p % 64);
        fixed (double* p = d.Parameters) Assert.Equal(0, (long)p % 64);
        fixed (double* p = d.Gradients) Assert.Equal(0, (long)p % 64);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        fixed (float* p = f.Parameters) Assert.Equal(0, (long)p % 64);
    }

    [Fact]
    public void Initialization_is_seeded_and_follows_the_spec()
    {
        var a = new MnistNet(1, seed: 5);
        var b = new MnistNet(1, seed: 5);
        var c = new MnistNet(1, seed: 6);
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
        Assert.False(a.Parameters.SequenceEqual(c.Parameters));
        Assert.All(a.Dense1Bias.ToArray(), v => Assert.Equal(0f, v));

        // Dense1 (ReLU, Init.Auto) is He normal: std √(2/784). Dense2 (tanh) is Xavier uniform: bound √(6/(256+128)).
        double std = Std(a.Dense1Weights.ToArray());
        Assert.InRange(std, 0.97 * Math.Sqrt(2.0 / 784), 1.03 * Math.Sqrt(2.0 / 784));
        double bound = Math.Sqrt(6.0 / (256 + 128));
        float[] w2 = a.Dense2Weights.ToArray();
        Assert.All(w2, v => Assert.InRange(v, -bound, bound));
        Assert.InRange(w2.Max(), 0.99 * bound, bound);
        Assert.InRange(Std(w2), 0.97 * bound / Math.Sqrt(3), 1.03 * bound / Math.Sqrt(3));

        // Init = XavierNormal on StandaloneNet's second dense layer: std √(2/(9+4)).
        var s = new StandaloneNet.Float64(1, seed: 3);
        var many = Enumerable.Range(0, 400).SelectMany(k => { s.Initialize((ulong)k); return s.Dense2Weights.ToArray(); }).ToArray();
        Assert.InRange(Std(many), 0.97 * Math.Sqrt(2.0 / 13), 1.03 * Math.Sqrt(2.0 / 13));

        // Re-initializing restores the very same parameters.
        a.TrainStep(new float[784], new[] { 3 });
        a.Initialize(5);
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
    }

    private static double Std(float[] v) => Std(v.Select(x => (double)x).ToArray());
    private static double Std(double[] v)
    {
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
    }

    [Fact]
    public void Float_variant_agrees_with_double_variant() =>
        Gen.Select(Gen.ULong, Gen.Int[1, 6]).SelectMany(t => Gen.Double[-2, 2].Array[t.Item2 * 19].Select(x => (Seed: t.Item1, Batch: t.Item2, X: x)))
            // r in steps of 1/1024: exactly representable in float, never denormal, so both variants see the same r.
            .SelectMany(c => Gen.Int[-1024, 1024].Select(i => i / 1024.0).Array[c.Batch * 5].Select(r => (c.Seed, c.Batch, c.X, R: r)))
            .Sample(c =>
            {
                var d = new SmoothNet.Float64(6, c.Seed);
                var f = new SmoothNet(6, c.Seed);
                // Same seed: the float parameters are the double parameters rounded to float.
                for (int i = 0; i < SmoothNet.ArenaLength; i++) Assert.Equal((float)d.Parameters[i], f.Parameters[i]);
                // Run the double network on the float-rounded parameters and inputs, so only arithmetic precision differs.
                for (int i = 0; i < SmoothNet.ArenaLength; i++) d.Parameters[i] = f.Parameters[i];
                float[] xf = c.X.Select(v => (float)v).ToArray();
                double[] xd = xf.Select(v => (double)v).ToArray();
                double[] yd = d.Forward(xd).ToArray();
                double[] yf = f.Forward(xf).ToArray().Select(v => (double)v).ToArray();
                Assert.True(Reference.RelativeError(yd, yf) < 1e-6, "outputs");
                d.Backward(c.R, default);
                f.Backward(c.R.Select(v => (float)v).ToArray(), default);
                double[] gd = d.Gradients.ToArray();
                double[] gf = f.Gradients.ToArray().Select(v => (double)v).ToArray();
                Assert.True(Reference.RelativeError(gd, gf) < 1e-5, $"gradients: {Reference.RelativeError(gd, gf):E2}");
            }, iter: 30);

    [Fact]
    public void Training_is_bit_identical_for_the_same_seed()
    {
        (float[] x, int[] y) = Spiral.Generate(50, 3, seed: 1);
        float[] RunTraining()
        {
            var net = new ReluSpiralNet(30, seed: 9);
            for (int step = 0; step < 50; step++)
            {
                int start = step % 5 * 30;
                net.TrainStep(x.AsSpan(start * 2, 60), y.AsSpan(start, 30));
            }
            return net.Parameters.ToArray();
        }
        Assert.Equal(RunTraining(), RunTraining());
    }

    [Fact]
    public void Training_on_the_spiral_lowers_the_loss_and_separates_the_classes()
    {
        (float[] x, int[] y) = Spiral.Generate(100, 3, seed: 7);
        var net = new ReluSpiralNet(300, seed: 1);
        float initial = net.Loss(x, y);
        for (int epoch = 0; epoch < 300; epoch++) net.TrainStep(x, y);
        float final = net.Loss(x, y);
        Assert.True(final < 0.25f * initial, $"loss {initial} → {final}");
        var logits = new float[300 * 3];
        net.Predict(x, logits);
        int correct = Enumerable.Range(0, 300).Count(i => ArgMax(logits.AsSpan(3 * i, 3)) == y[i]);
        Assert.True(correct >= 270, $"accuracy {correct}/300");
        // A linear classifier cannot exceed ~50% on this data; reaching 90% proves the hidden layer learned.
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    [Fact]
    public void L2_network_fits_a_smooth_target()
    {
        // StandaloneNet has a loss but no optimizer: train it by hand with ComputeGradients and an explicit update.
        var net = new StandaloneNet.Float64(32, seed: 2);
        var random = new KernelRandom(4);
        var x = new double[32 * 6];
        var t = new double[32 * 4];
        for (int i = 0; i < x.Length; i++) x[i] = random.NextDouble() * 2 - 1;
        for (int r = 0; r < 32; r++)
            for (int j = 0; j < 4; j++) t[r * 4 + j] = 0.5 * Math.Sin(x[r * 6 + j] + x[r * 6 + j + 1]);
        double first = net.Loss(x, t);
        for (int step = 0; step < 2000; step++)
        {
            net.ComputeGradients(x, t);
            for (int i = 0; i < net.Parameters.Length; i++) net.Parameters[i] -= 0.5 * net.Gradients[i];
        }
        double last = net.Loss(x, t);
        Assert.True(last < 0.1 * first, $"{first} → {last}");
    }
}

/// <summary>The demo's network shape, declared again here so the tests do not depend on the demo project.</summary>
[Network(2)]
[Dense(100, Activation.ReLU)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(1.0)]
public partial class ReluSpiralNet;
