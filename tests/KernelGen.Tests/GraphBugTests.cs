using System;
using System.Linq;
using KernelGen.Catalog;
using Xunit;

namespace KernelGen.Tests;

/// <summary>(f) A dropout between a Dense and its activation, the Dense's output also read by the sum.</summary>
[Network(6)]
[Dense(8, Name = "h")]
[Dropout(0.5)]
[ReLU(Name = "r")]
[Add("h", "r")]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.1)]
public partial class GraphDropoutFusionNet;

/// <summary>(g) A dropout between a BatchNorm and the Dense after it, the BatchNorm's output also read by the sum.</summary>
[Network(6)]
[Dense(8, Activation.Tanh, Name = "h")]
[BatchNorm(Name = "n")]
[Dropout(0.5)]
[Dense(8, Name = "d")]
[Add("n", "d")]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.1)]
public partial class GraphDropoutFoldBeforeNet;

/// <summary>(h) A dropout between a Dense and the BatchNorm after it, the Dense's output also read by the sum.</summary>
[Network(6)]
[Dense(8, Name = "h")]
[Dropout(0.5)]
[BatchNorm(Name = "n")]
[Add("h", "n")]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.1)]
public partial class GraphDropoutFoldAfterNet;

/// <summary>
/// Graph cases that fail on the commit that added graphs (see the report of the graph-test branch): evaluation-mode
/// results against a naive evaluation-mode forward pass written here (dropout is the identity, BatchNorm uses the
/// running statistics).
/// </summary>
public sealed class GraphBugTests
{
    private static double[] Uniform(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (r.NextDouble() * 2 - 1) * scale)];
    }

    private static ReadOnlySpan<double> Tensor(INeuralNetwork<double> net, string name, int length) =>
        net.Parameters.Slice(Reference.Offset(net, name), length);

    private static double[] Sum(params double[][] terms)
    {
        var s = new double[terms[0].Length];
        foreach (double[] t in terms) for (int i = 0; i < s.Length; i++) s[i] += t[i];
        return s;
    }

    /// <summary>Moves γ, β and the running statistics of every BatchNorm away from their initial values.</summary>
    private static void Randomize(INeuralNetwork<double> net, int seed)
    {
        var random = new Random(seed);
        foreach (LayerInfo layer in net.Layers.Where(l => l.Kind == LayerKind.BatchNorm))
        {
            int n = layer.Tensor(TensorRole.RunningMean)!.Length;
            for (int j = 0; j < n; j++)
            {
                net.Parameters[layer.Tensor(TensorRole.Gamma)!.Offset + j] = 0.5 + random.NextDouble();
                net.Parameters[layer.Tensor(TensorRole.Beta)!.Offset + j] = random.NextDouble() - 0.5;
                net.RunningStatistics[layer.RunningMeanOffset + j] = random.NextDouble() - 0.5;
                net.RunningStatistics[layer.RunningVarianceOffset + j] = 0.5 + 1.5 * random.NextDouble();
            }
        }
    }

    /// <summary>Evaluation-mode BatchNorm over features: γ·(x − μ)/√(σ² + 1e-5) + β with the running μ and σ².</summary>
    private static double[] BatchNormEval(INeuralNetwork<double> net, string name, double[] x, int batch)
    {
        LayerInfo layer = net.Layers.Single(l => l.Name == name);
        int n = layer.Tensor(TensorRole.RunningMean)!.Length;
        var y = new double[x.Length];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < n; j++)
            {
                double mean = net.RunningStatistics[layer.RunningMeanOffset + j], variance = net.RunningStatistics[layer.RunningVarianceOffset + j];
                double gamma = net.Parameters[layer.Tensor(TensorRole.Gamma)!.Offset + j], beta = net.Parameters[layer.Tensor(TensorRole.Beta)!.Offset + j];
                y[b * n + j] = gamma * (x[b * n + j] - mean) / Math.Sqrt(variance + 1e-5) + beta;
            }
        return y;
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<double> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"{what} [{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    private static void AssertPredictions(INeuralNetwork<double> net, IInferenceNetwork<double> inference, double[] x, double[] expected, int batch)
    {
        var predicted = new double[expected.Length];
        net.Predict(x, predicted);
        AssertClose(expected, predicted, "Predict");
        var folded = new double[expected.Length];
        inference.Predict(x, folded);
        AssertClose(expected, folded, "inference form");
        Assert.Equal(batch * net.OutputSize, expected.Length);
    }

    /// <summary>
    /// Evaluation sums [Add("t", "u", "t")] in place over t's region: Merge.Add(t, u, t) then Merge.AddInto(t, t), whose
    /// source is now t + u, so Predict computes 2t + 2u instead of 2t + u. Training-mode Forward is right.
    /// </summary>
    [Fact]
    public void Graph_evaluation_sum_that_repeats_its_first_input_is_not_computed_in_place()
    {
        const int batch = 4;
        var net = new GraphTripleRead.Float64(batch, 21);
        double[] x = Uniform(batch * 5, 22, 2);
        var (a, _) = Reference.Dense(x, Tensor(net, "a.Weights", 25), Tensor(net, "a.Bias", 5), batch, 5, 5, Reference.Act.Tanh);
        var (b, _) = Reference.Dense(x, Tensor(net, "b.Weights", 25), Tensor(net, "b.Bias", 5), batch, 5, 5, Reference.Act.Identity);
        double[] t = Reference.Map(Sum(x, a, b), Reference.Act.Tanh);
        var (u, _) = Reference.Dense(t, Tensor(net, "u.Weights", 25), Tensor(net, "u.Bias", 5), batch, 5, 5, Reference.Act.Identity);
        var (y, _) = Reference.Dense(Sum(t, u, t), Tensor(net, "Dense4.Weights", 15), Tensor(net, "Dense4.Bias", 3), batch, 5, 3, Reference.Act.Identity);

        AssertPredictions(net, net.CreateInference(batch), x, y, batch);
    }

    /// <summary>
    /// The inference form drops the dropout, then fuses the ReLU into h although h is also read by the sum: the sum then
    /// sees relu(h) twice (relu(h) + relu(h)) instead of h + relu(h).
    /// </summary>
    [Fact]
    public void Graph_inference_form_does_not_fuse_through_a_dropout_into_a_value_a_branch_reads()
    {
        const int batch = 5;
        var net = new GraphDropoutFusionNet.Float64(batch, 3);
        double[] x = Uniform(batch * 6, 4, 2);
        var (h, _) = Reference.Dense(x, Tensor(net, "h.Weights", 48), Tensor(net, "h.Bias", 8), batch, 6, 8, Reference.Act.Identity);
        double[] q = Sum(h, Reference.Map(h, Reference.Act.ReLU));
        var (y, _) = Reference.Dense(q, Tensor(net, "Dense2.Weights", 24), Tensor(net, "Dense2.Bias", 3), batch, 8, 3, Reference.Act.Identity);

        AssertPredictions(net, net.CreateInference(batch), x, y, batch);
    }

    /// <summary>
    /// The inference form folds n (BatchNorm) into d through the dropout although the sum reads n too; the sum's input then
    /// points at the replaced draft, which is no longer in the list (index −1 + 1 = 0: the network input).
    /// </summary>
    [Fact]
    public void Graph_inference_form_does_not_fold_a_batchnorm_through_a_dropout_when_a_branch_reads_it()
    {
        const int batch = 5;
        var net = new GraphDropoutFoldBeforeNet.Float64(batch, 3);
        Randomize(net, 5);
        double[] x = Uniform(batch * 6, 6, 2);
        var (h, _) = Reference.Dense(x, Tensor(net, "h.Weights", 48), Tensor(net, "h.Bias", 8), batch, 6, 8, Reference.Act.Tanh);
        double[] n = BatchNormEval(net, "n", h, batch);
        var (d, _) = Reference.Dense(n, Tensor(net, "d.Weights", 64), Tensor(net, "d.Bias", 8), batch, 8, 8, Reference.Act.Identity);
        var (y, _) = Reference.Dense(Sum(n, d), Tensor(net, "Dense3.Weights", 24), Tensor(net, "Dense3.Bias", 3), batch, 8, 3, Reference.Act.Identity);

        AssertPredictions(net, net.CreateInference(batch), x, y, batch);
    }

    /// <summary>The inference form folds n (BatchNorm) into h through the dropout although the sum reads h too: the sum then
    /// sees n twice.</summary>
    [Fact]
    public void Graph_inference_form_does_not_fold_a_batchnorm_into_a_dense_a_branch_reads()
    {
        const int batch = 5;
        var net = new GraphDropoutFoldAfterNet.Float64(batch, 3);
        Randomize(net, 7);
        double[] x = Uniform(batch * 6, 8, 2);
        var (h, _) = Reference.Dense(x, Tensor(net, "h.Weights", 48), Tensor(net, "h.Bias", 8), batch, 6, 8, Reference.Act.Identity);
        double[] n = BatchNormEval(net, "n", h, batch);
        var (y, _) = Reference.Dense(Sum(h, n), Tensor(net, "Dense2.Weights", 24), Tensor(net, "Dense2.Bias", 3), batch, 8, 3, Reference.Act.Identity);

        AssertPredictions(net, net.CreateInference(batch), x, y, batch);
    }
}
