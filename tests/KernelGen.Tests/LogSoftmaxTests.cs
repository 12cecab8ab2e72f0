using System;
using System.Linq;
using CsCheck;
using KernelGen.Kernels;
using Xunit;

namespace KernelGen.Tests;

// The same network three ways: softmax cross-entropy on logits, log-softmax with negative log-likelihood, and the
// latter summed over the batch instead of averaged.
[Network(5)] [Dense(7, Activation.Tanh)] [Dense(4)] [SoftmaxCrossEntropyLoss] [Sgd(0.1)]
public partial class CrossEntropyNet;

[Network(5)] [Dense(7, Activation.Tanh)] [Dense(4)] [LogSoftmax] [NegativeLogLikelihoodLoss] [Sgd(0.1)]
public partial class LogSoftmaxNllNet;

[Network(5)] [Dense(7, Activation.Tanh)] [Dense(4)] [LogSoftmax] [NegativeLogLikelihoodLoss(Reduction = LossReduction.Sum)] [Sgd(0.1)]
public partial class LogSoftmaxNllSumNet;

/// <summary>The log-softmax layer and the negative log-likelihood loss, and loss reductions in training.</summary>
public sealed class LogSoftmaxTests
{
    [Fact]
    public void Log_softmax_is_the_log_of_each_rows_normalized_exponentials() =>
        Gen.Int[1, 4].SelectMany(b => Gen.Int[1, 9].SelectMany(k => Gen.Double[-30, 30].Array[b * k].Select(x => (b, k, x)))).Sample(c =>
        {
            var y = new double[c.x.Length];
            Softmax.LogForward<double>(c.x, y, c.b, c.k);
            for (int b = 0; b < c.b; b++)
            {
                // Independent: the shifted log-sum-exp written out in double.
                double[] row = c.x.Skip(b * c.k).Take(c.k).ToArray();
                double m = row.Max();
                double lse = m + Math.Log(row.Sum(v => Math.Exp(v - m)));
                for (int j = 0; j < c.k; j++) Assert.Equal(row[j] - lse, y[b * c.k + j], 1e-12);
                Assert.Equal(1.0, y.Skip(b * c.k).Take(c.k).Sum(Math.Exp), 1e-12);
            }
        }, iter: 200);

    [Fact]
    public void Log_softmax_stays_finite_where_log_of_softmax_does_not()
    {
        float[] x = [1e4f, -1e4f, 0f];
        var y = new float[3];
        Softmax.LogForward<float>(x, y, 1, 3);
        // lse = 1e4 + log(1 + e^(−2e4) + e^(−1e4)) = 1e4 in float: y = x − 1e4.
        Assert.Equal([0f, -2e4f, -1e4f], y);
        // log(softmax(x)) underflows to −∞ for the small entries.
        var p = new float[3];
        Softmax.Forward<float>(x, p, 1, 3);
        Assert.Equal(float.NegativeInfinity, MathF.Log(p[1]));
    }

    [Fact]
    public void Log_softmax_backward_matches_the_jacobian_written_out() =>
        Gen.Int[1, 8].SelectMany(k => Gen.Double[-3, 3].Array[2 * k].Select(v => (k, v))).Sample(c =>
        {
            double[] x = c.v[..c.k], dy = c.v[c.k..];
            var y = new double[c.k];
            Softmax.LogForward<double>(x, y, 1, c.k);
            double[] p = x.Select(v => Math.Exp(v - x.Max())).ToArray();
            double s = p.Sum();
            // ∂y_i/∂x_j = [i = j] − softmax_j, so dx_j = Σ_i dy_i·([i = j] − softmax_j).
            double[] expected = Enumerable.Range(0, c.k).Select(j => Enumerable.Range(0, c.k).Sum(i => dy[i] * ((i == j ? 1 : 0) - p[j] / s))).ToArray();
            var dx = (double[])dy.Clone();
            Softmax.LogBackward<double>(y, dx, dx, 1, c.k); // in place, as the generated code calls it
            for (int j = 0; j < c.k; j++) Assert.Equal(expected[j], dx[j], 1e-12);
        }, iter: 200);

    [Fact]
    public void Log_softmax_with_nll_trains_as_softmax_cross_entropy_and_sum_scales_by_the_batch()
    {
        var ce = new CrossEntropyNet.Float64(8, seed: 4);
        var nll = new LogSoftmaxNllNet.Float64(8, seed: 4);
        var sum = new LogSoftmaxNllSumNet.Float64(8, seed: 4);
        var random = new KernelRandom(9);
        double[] x = Enumerable.Range(0, 8 * 5).Select(_ => random.NextGaussian()).ToArray();
        int[] labels = Enumerable.Range(0, 8).Select(_ => random.NextInt(4)).ToArray();
        for (int step = 0; step < 5; step++)
        {
            double a = ce.TrainStep(x, labels), b = nll.TrainStep(x, labels);
            Assert.Equal(a, b, 1e-13);
            sum.LearningRate = 0.1 / 8; // Σ over 8 samples with η/8 takes the batch-mean step with η
            Assert.Equal(8 * a, sum.TrainStep(x, labels), 1e-12);
            Assert.Equal(ce.Parameters.ToArray(), nll.Parameters.ToArray(), new Tolerance(1e-13));
            Assert.Equal(ce.Parameters.ToArray(), sum.Parameters.ToArray(), new Tolerance(1e-13));
        }
    }

    private sealed class Tolerance(double epsilon) : System.Collections.Generic.IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= epsilon * Math.Max(1, Math.Abs(a));
        public int GetHashCode(double value) => 0;
    }
}
