using System;
using System.Linq;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The generated inference form (BatchNorm folded, dropout dropped, activations fused) against the training
/// network's evaluation mode.</summary>
public class InferenceFormTests
{
    private static float[] Random(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>|a − b| ≤ tolerance · max(1, |b|) element by element.</summary>
    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void FoldNet_inference_form_matches_evaluation_mode_after_training()
    {
        var net = new FoldNet(16, 3);
        // Train so that γ, β and the running statistics are far from their initial values.
        for (int step = 0; step < 60; step++)
            net.TrainStep(Random(16 * 6, step, 2), Random(16 * 3, 1000 + step));
        Assert.DoesNotContain(0f, net.BatchNorm1RunningMean.ToArray());
        var inference = net.CreateInference(16);
        Assert.True(FoldNet.Inference.ArenaLength < FoldNet.ArenaLength, "two BatchNorm layers fold away");
        foreach (int batch in new[] { 1, 5, 16 })
        {
            float[] x = Random(batch * 6, 77 + batch, 2);
            float[] expected = new float[batch * 3], actual = new float[batch * 3];
            net.Predict(x, expected);
            inference.Predict(x, actual);
            AssertClose(expected, actual, 1e-5);
        }
        // Further training: Update re-folds without allocating, and matches again.
        net.TrainStep(Random(16 * 6, 500, 2), Random(16 * 3, 501));
        float[] y1 = new float[3], y2 = new float[3], x1 = Random(6, 9);
        HotLoop.WarmUp(() => { inference.Update(net); inference.Predict(x1, y2); });
        long before = GC.GetAllocatedBytesForCurrentThread();
        inference.Update(net);
        inference.Predict(x1, y2);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        net.Predict(x1, y1);
        AssertClose(y1, y2, 1e-5);
    }

    [Fact]
    public void Double_inference_form_matches_to_double_rounding()
    {
        var net = new FoldNet.Float64(8, 5);
        var r = new Random(4);
        for (int step = 0; step < 30; step++)
            net.TrainStep(Enumerable.Range(0, 48).Select(_ => r.NextDouble() * 4 - 2).ToArray(), Enumerable.Range(0, 24).Select(_ => r.NextDouble()).ToArray());
        var inference = net.CreateInference(8);
        double[] x = Enumerable.Range(0, 48).Select(_ => r.NextDouble() * 4 - 2).ToArray();
        double[] expected = new double[24], actual = new double[24];
        net.Predict(x, expected);
        inference.Predict(x, actual);
        for (int i = 0; i < 24; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"[{i}] {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void Other_networks_inference_forms_match()
    {
        var norm = new NormNet(4, 1);     // BatchNorm after a dense layer without activation, then Tanh: folded and fused
        var order = new OrderNet(4, 2);   // BatchNorm on the inputs: folded into the first dense layer's input side
        var drop = new DropoutNet(4, 3);  // dropout dropped
        var maxout = new MaxoutNet(4, 4);
        for (int s = 0; s < 20; s++)
        {
            norm.TrainStep(Random(24, s, 3), Random(12, 50 + s));
            order.Forward(Random(24, s, 3)); // no optimizer: training-mode forward passes update the running statistics
            drop.TrainStep(Random(20, s), Random(16, 70 + s));
        }
        Check(norm, norm.CreateInference(4), 6);
        Check(order, order.CreateInference(4), 6);
        Check(drop, drop.CreateInference(4), 5);
        Check(maxout, maxout.CreateInference(4), 6);

        static void Check(INeuralNetwork<float> net, IInferenceNetwork<float> inference, int inputs)
        {
            float[] x = Random(4 * inputs, 123, 2);
            float[] expected = new float[4 * net.OutputSize], actual = new float[4 * net.OutputSize];
            net.Predict(x, expected);
            inference.Predict(x, actual);
            AssertClose(expected, actual, 1e-5);
        }
    }

    [Fact]
    public void Inference_form_validates_its_arguments()
    {
        var net = new FoldNet(4);
        Assert.Throws<ArgumentNullException>(() => new FoldNet.Inference(null!, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.CreateInference(0));
        var inference = net.CreateInference(2);
        Assert.ThrowsAny<ArgumentException>(() => inference.Predict(new float[18], new float[9]));  // batch 3 > 2
        Assert.ThrowsAny<ArgumentException>(() => inference.Predict(new float[7], new float[3]));   // not a whole row
        Assert.ThrowsAny<ArgumentException>(() => inference.Predict(new float[6], new float[4]));   // output length
        float[] bad = new float[6];
        bad[2] = float.NaN;
        Assert.ThrowsAny<ArgumentException>(() => inference.Predict(bad, new float[3]));
    }
}
