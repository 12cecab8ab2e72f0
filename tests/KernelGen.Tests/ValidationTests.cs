using System;
using Xunit;

namespace KernelGen.Tests;

/// <summary>Bad input gets a clear exception that names the argument and the expected size, and nothing is lost.</summary>
public class ValidationTests
{
    private static MnistNet NewNet() => new(maxBatchSize: 4, seed: 1);

    [Fact]
    public void Constructor_rejects_bad_batch_sizes()
    {
        Assert.Equal("maxBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new MnistNet(0)).ParamName);
        Assert.Equal("maxBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new MnistNet(-5)).ParamName);
        Assert.Equal("maxBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new MnistNet(int.MaxValue)).ParamName);
    }

    [Theory]
    [InlineData(0)]        // empty
    [InlineData(783)]      // not a multiple of 784
    [InlineData(784 * 2 + 1)]
    public void Predict_rejects_inputs_that_are_not_whole_rows(int length)
    {
        var net = NewNet();
        var e = Assert.Throws<ArgumentException>(() => net.Predict(new float[length], new float[10]));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("784", e.Message);
    }

    [Fact]
    public void Batches_larger_than_the_maximum_are_rejected()
    {
        var net = NewNet();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => net.Predict(new float[784 * 5], new float[50]));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("at most 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(new float[784 * 5], new int[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward(new float[784 * 5]));
    }

    [Fact]
    public void Output_and_label_lengths_must_match_the_batch()
    {
        var net = NewNet();
        var e = Assert.Throws<ArgumentException>(() => net.Predict(new float[784 * 2], new float[10]));
        Assert.Equal("outputs", e.ParamName);
        Assert.Contains("20", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.TrainStep(new float[784 * 2], new int[3]));
        Assert.Equal("labels", e.ParamName);
        var l2 = new SmoothNet(3);
        e = Assert.Throws<ArgumentException>(() => l2.TrainStep(new float[19 * 2], new float[5 * 2 + 1]));
        Assert.Equal("targets", e.ParamName);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    [InlineData(int.MinValue)]
    public void Labels_outside_the_classes_are_rejected_and_nothing_changes(int label)
    {
        var net = NewNet();
        float[] before = net.Parameters.ToArray();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(new float[784 * 2], new[] { 1, label }));
        Assert.Equal("labels", e.ParamName);
        Assert.Contains("labels[1]", e.Message);
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Loss(new float[784], new[] { label }));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Non_finite_inputs_are_rejected_and_nothing_changes(float bad)
    {
        var net = NewNet();
        float[] before = net.Parameters.ToArray();
        var x = new float[784 * 3];
        x[784 + 500] = bad;
        var e = Assert.Throws<ArgumentException>(() => net.TrainStep(x, new[] { 0, 1, 2 }));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("inputs[1284]", e.Message);
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Throws<ArgumentException>(() => net.Predict(x, new float[30]));
        Assert.Throws<ArgumentException>(() => net.Forward(x));

        var l2 = new SmoothNet(2);
        var targets = new float[5];
        targets[4] = bad;
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => l2.TrainStep(new float[19], targets)).ParamName);
    }

    [Fact]
    public void Backward_needs_a_forward_pass_and_matching_gradients()
    {
        var net = NewNet();
        Assert.Throws<InvalidOperationException>(() => net.Backward(new float[10], default));
        net.Forward(new float[784 * 2]);
        Assert.Equal("outputGradient", Assert.Throws<ArgumentException>(() => net.Backward(new float[10], default)).ParamName);
        Assert.Equal("inputGradient", Assert.Throws<ArgumentException>(() => net.Backward(new float[20], new float[784])).ParamName);
        var g = new float[20];
        g[3] = float.NaN;
        Assert.Equal("outputGradient", Assert.Throws<ArgumentException>(() => net.Backward(g, default)).ParamName);
        net.Backward(new float[20], new float[784 * 2]); // the right sizes work
        // ComputeGradients invalidates the Forward caches (it does not copy its inputs).
        net.ComputeGradients(new float[784], new[] { 1 });
        Assert.Throws<InvalidOperationException>(() => net.Backward(new float[10], default));
    }

    [Fact]
    public void A_diverging_step_throws_and_keeps_the_parameters()
    {
        var net = new SmoothNet(1, seed: 3);
        net.LearningRate = 1e30f;
        var x = new float[19];
        for (int i = 0; i < x.Length; i++) x[i] = 1;
        var t = new float[5];
        for (int step = 0; step < 5; step++)
        {
            float[] before = net.Parameters.ToArray();
            try { net.TrainStep(x, t); }
            catch (ArithmeticException)
            {
                Assert.Equal(before, net.Parameters.ToArray());
                return;
            }
        }
        Assert.Fail("the loss never became non-finite");
    }

    [Fact]
    public void Learning_rate_must_be_positive_and_finite()
    {
        var net = NewNet();
        Assert.Equal(0.1f, net.LearningRate);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.LearningRate = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.LearningRate = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.LearningRate = float.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.LearningRate = float.PositiveInfinity);
        net.LearningRate = 0.5f;
        Assert.Equal(0.5f, net.LearningRate);
    }
}
