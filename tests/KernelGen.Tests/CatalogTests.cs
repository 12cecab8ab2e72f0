using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using KernelGen.Catalog;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The catalogue at network level: every layer, activation, loss and penalty gradient-checked against central
/// differences in double; training versus evaluation behaviour; extreme inputs.
/// </summary>
public class CatalogTests
{
    private static Gen<(ulong Seed, int Batch, double[] X, double[] R)> Case(int inputs, int outputs, int minBatch, int maxBatch) =>
        from seed in Gen.ULong
        from batch in Gen.Int[minBatch, maxBatch]
        from x in Gen.Double[-2, 2].Array[batch * inputs]
        from r in Gen.Double[-1, 1].Array[batch * outputs]
        select (seed, batch, x, r);

    /// <summary>The engine's settings for a network built around <paramref name="kind"/>, from the op catalog.</summary>
    private static GradientCheckOptions Options(LayerKind kind, ulong seed) => GradientCheckOptions.From(OpCatalog.Get(kind).Tolerance) with { Seed = seed };

    private static void AssertPassed(GradientCheckReport report, ulong seed) => Assert.True(report.Passed, $"seed {seed}\n{report}");

    [Fact]
    public void Fused_activations_are_gradient_checked() =>
        // LeakyReLU and ELU have kinks at 0 (ELU's, with α = 1, in the second derivative, which the 4-point stencil sees):
        // the engine leaves out the coordinates whose stencil crosses one.
        Case(7, 5, 1, 5).Sample(c =>
            AssertPassed(GradientCheck.Run(new ActivationNet.Float64(5, c.Seed), c.X, Options(LayerKind.Dense, c.Seed) with { FourPointStencil = true, Epsilon = 1e-4 }), c.Seed),
            iter: 30);

    [Fact]
    public void Standalone_and_parameterized_activations_and_softmax_are_gradient_checked() =>
        Case(6, 4, 1, 5).Sample(c =>
            AssertPassed(GradientCheck.Run(new ParameterizedActivationNet.Float64(5, c.Seed), c.X, Options(LayerKind.Activation, c.Seed) with { FourPointStencil = true, Epsilon = 1e-4 }), c.Seed),
            iter: 30);

    [Fact]
    public void Normalization_layers_are_gradient_checked_through_the_whole_batch()
    {
        int checkedCases = 0;
        // Batches of at least 3: with 2 rows every batch-normalized value is exactly ±1 whatever the input, so the input
        // gradient through BatchNorm is 0 in exact arithmetic and the finite difference measures nothing but rounding.
        Case(6, 3, 3, 6).Sample(c =>
        {
            var net = new NormNet.Float64(6, c.Seed);
            // Degenerate batches (a feature that barely varies over the batch) make the normalization's Jacobian huge and
            // any finite difference unreliable: require every batch-normalized feature to have a variance of at least 1e-2.
            var (z, _) = Reference.Dense(c.X, net.Dense1Weights, net.Dense1Bias, c.Batch, 6, 10, Reference.Act.Identity);
            for (int f = 0; f < 10; f++)
            {
                double[] column = Enumerable.Range(0, c.Batch).Select(b => z[b * 10 + f]).ToArray();
                double mean = column.Average();
                if (column.Sum(v => (v - mean) * (v - mean)) / c.Batch < 1e-2) return;
            }
            AssertPassed(GradientCheck.Run(net, c.X, Options(LayerKind.BatchNorm, c.Seed)), c.Seed);
            checkedCases++;
        }, iter: 40, threads: 1);
        Assert.True(checkedCases >= 15, $"only {checkedCases} batches were not degenerate");
    }

    [Fact]
    public void Unusual_layer_orders_are_gradient_checked()
    {
        int checkedCases = 0;
        Case(6, 4, 3, 6).Sample(c =>
        {
            // Skip degenerate batches: an input feature that barely varies makes the leading BatchNorm ill-conditioned.
            for (int f = 0; f < 6; f++)
            {
                double[] column = Enumerable.Range(0, c.Batch).Select(b => c.X[b * 6 + f]).ToArray();
                double mean = column.Average();
                if (column.Sum(v => (v - mean) * (v - mean)) / c.Batch < 1e-2) return;
            }
            AssertPassed(GradientCheck.Run(new OrderNet.Float64(6, c.Seed), c.X, Options(LayerKind.BatchNorm, c.Seed)), c.Seed);
            checkedCases++;
        }, iter: 40, threads: 1);
        Assert.True(checkedCases >= 15, $"only {checkedCases} batches were not degenerate");
    }

    [Fact]
    public void Dropout_is_gradient_checked_with_a_fixed_mask() =>
        Case(5, 4, 1, 6).Sample(c =>
        {
            // The engine replays the dropout step of the analytic pass for every evaluation: one fixed mask.
            var net = new DropoutNet.Float64(6, c.Seed) { DropoutStep = 7 };
            AssertPassed(GradientCheck.Run(net, c.X, Options(LayerKind.Dropout, c.Seed)), c.Seed);
            Assert.Equal(7ul, net.DropoutStep);
        }, iter: 30);

    [Fact]
    public void Maxout_is_gradient_checked_with_ties_left_out() =>
        // A change of a unit's winning piece between θ − ε and θ + ε is a kink: the engine leaves it out.
        Case(6, 4, 1, 5).Sample(c =>
            AssertPassed(GradientCheck.Run(new MaxoutNet.Float64(5, c.Seed), c.X, Options(LayerKind.Maxout, c.Seed)), c.Seed), iter: 40);

    /// <summary>Checks ComputeGradients (data loss and penalties, separately) with the engine; also that it reports the same
    /// loss as the evaluation-mode Loss (no BatchNorm or dropout in these networks).</summary>
    private static void CheckLossGradients<TLabel>(ILossNetwork<double, TLabel> net, double[] x, TLabel[] labels, LossKind kind, ulong seed)
        where TLabel : unmanaged
    {
        double loss = net.ComputeGradients(x, labels);
        Assert.Equal(net.Loss(x, labels), loss, 12);
        AssertPassed(GradientCheck.Run(net, x, labels, GradientCheckOptions.From(OpCatalog.Get(kind).Tolerance) with { Epsilon = 1e-5, Seed = seed }), seed);
    }

    [Fact]
    public void Label_smoothed_cross_entropy_KL_hinge_and_BCE_are_gradient_checked()
    {
        Gen.Select(Gen.ULong, Gen.Int[1, 5]).SelectMany(t => Gen.Double[-2, 2].Array[t.Item2 * 4].Select(x => (Seed: t.Item1, Batch: t.Item2, X: x)))
            .Sample(c =>
            {
                var random = new KernelRandom(c.Seed);
                // KL: random target distributions.
                var targets = new double[c.Batch * 5];
                for (int b = 0; b < c.Batch; b++)
                {
                    double sum = 0;
                    for (int j = 0; j < 5; j++) sum += targets[b * 5 + j] = random.NextDouble() + 0.01;
                    for (int j = 0; j < 5; j++) targets[b * 5 + j] /= sum;
                }
                CheckLossGradients(new KlNet.Float64(5, c.Seed), c.X, targets, LossKind.KLDivergence, c.Seed);
                // BCE: targets in [0, 1].
                var probabilities = Enumerable.Range(0, c.Batch * 3).Select(_ => random.NextDouble()).ToArray();
                CheckLossGradients(new BceNet.Float64(5, c.Seed), c.X, probabilities, LossKind.BinaryCrossEntropy, c.Seed);
                // Hinge: a margin crossing 0 between θ − ε and θ + ε is a kink, which the engine leaves out.
                var labels = Enumerable.Range(0, c.Batch).Select(_ => random.NextInt(5)).ToArray();
                CheckLossGradients(new HingeNet.Float64(5, c.Seed), c.X, labels, LossKind.Hinge, c.Seed);
            }, iter: 25);
    }

    [Fact]
    public void Weight_and_activity_penalties_enter_the_loss_and_the_gradient()
    {
        int checkedCases = 0;
        Case(5, 3, 1, 5).Sample(c =>
        {
            var net = new RegularizedNet.Float64(5, c.Seed);
            double total = net.Loss(c.X, c.R);
            // Independent penalty: ½·0.03·(‖W1‖² + ‖W2‖²) + 0.002·‖W1‖₁ + 0.01·(1/B)·Σ|tanh(x·W1 + b1)|.
            var (a1, _) = Reference.Dense(c.X, net.Dense1Weights, net.Dense1Bias, c.Batch, 5, 8, Reference.Act.Tanh);
            double penalty = 0.5 * 0.03 * (net.Dense1Weights.ToArray().Sum(w => w * w) + net.Dense2Weights.ToArray().Sum(w => w * w))
                + 0.002 * net.Dense1Weights.ToArray().Sum(Math.Abs) + 0.01 / c.Batch * a1.Sum(Math.Abs);
            Assert.Equal(penalty, total - net.LastDataLoss, 12);
            // The penalties are checked on their own (the engine's second term); L1's kinks at 0 — a weight or an
            // activation crossing it within the stencil — are left out by the engine.
            GradientCheckReport report = GradientCheck.Run(net, c.X, c.R, new GradientCheckOptions { Epsilon = 1e-5, Seed = c.Seed });
            AssertPassed(report, c.Seed);
            Assert.Contains(report.Tensors, t => t.Term == "penalties" && t.Tensor == "Dense1.Weights" && t.AnalyticNorm > 0);
            checkedCases++;
        }, iter: 40, threads: 1);
        Assert.True(checkedCases == 40);
    }

    [Fact]
    public void BatchNorm_trains_on_batch_statistics_and_evaluates_on_running_statistics()
    {
        var net = new NormNet.Float64(8, seed: 3);
        var random = new KernelRandom(5);
        double[] x = Enumerable.Range(0, 8 * 6).Select(_ => random.NextGaussian() * 2 + 1).ToArray();
        var (z, _) = Reference.Dense(x, net.Dense1Weights, net.Dense1Bias, 8, 6, 10, Reference.Act.Identity);
        Assert.All(net.BatchNorm1RunningMean.ToArray(), v => Assert.Equal(0, v));
        Assert.All(net.BatchNorm1RunningVariance.ToArray(), v => Assert.Equal(1, v));
        double[] train = net.Forward(x).ToArray();
        for (int f = 0; f < 10; f++)
        {
            double[] column = Enumerable.Range(0, 8).Select(b => z[b * 10 + f]).ToArray();
            double mean = column.Average();
            double unbiased = column.Sum(v => (v - mean) * (v - mean)) / 7;
            Assert.Equal(0.1 * mean, net.BatchNorm1RunningMean[f], 12);
            Assert.Equal(0.9 + 0.1 * unbiased, net.BatchNorm1RunningVariance[f], 12);
        }
        var eval = new double[8 * 3];
        net.Predict(x, eval);
        Assert.True(Reference.RelativeError(train, eval) > 1e-3, "evaluation must use the running statistics");
        // Predict twice: deterministic, and the running statistics do not move in evaluation.
        double[] mean0 = net.BatchNorm1RunningMean.ToArray();
        var again = new double[8 * 3];
        net.Predict(x, again);
        Assert.Equal(eval, again);
        Assert.Equal(mean0, net.BatchNorm1RunningMean.ToArray());
        // A training batch of one row has no variance to estimate.
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward(x.AsSpan(0, 6)));
        // A batch whose features do not vary gives finite results.
        double[] same = Enumerable.Range(0, 8 * 6).Select(i => (double)(i % 6)).ToArray();
        Assert.All(net.Forward(same).ToArray(), v => Assert.True(double.IsFinite(v)));
        Assert.True(double.IsFinite(new NormNet(8, 1).TrainStep(same.Select(v => (float)v).ToArray(), new float[8 * 3])));
    }

    [Fact]
    public void Dropout_drops_in_training_only_and_replays_its_mask()
    {
        var net = new DropoutNet.Float64(512, seed: 9);
        double[] x = Enumerable.Range(0, 512 * 5).Select(i => 1.0 + i % 7).ToArray();
        var eval1 = new double[512 * 4];
        var eval2 = new double[512 * 4];
        net.Predict(x, eval1);
        net.Predict(x, eval2);
        Assert.Equal(eval1, eval2);
        net.DropoutStep = 3;
        double[] a = net.Forward(x).ToArray();
        net.DropoutStep = 3;
        double[] b = net.Forward(x).ToArray();
        double[] c = net.Forward(x).ToArray(); // step 4: a fresh mask
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, eval1);
        Assert.Equal(5ul, net.DropoutStep);
        // Expected value is preserved: averaged over many masks, training outputs approach evaluation outputs.
        var sum = new double[512 * 4];
        for (int k = 0; k < 200; k++) { double[] y = net.Forward(x).ToArray(); for (int i = 0; i < y.Length; i++) sum[i] += y[i] / 200; }
        Assert.True(Reference.RelativeError(sum, eval1) < 0.1, $"mean of masks {Reference.RelativeError(sum, eval1):F3}");
    }

    [Fact]
    public void Softmax_losses_are_finite_for_huge_logits()
    {
        var ce = new MaxoutNet(2, 1);
        ce.Dense1Bias[0] = 1e4f;
        ce.Dense1Bias[1] = -1e4f;
        float loss = ce.ComputeGradients(new float[12], new[] { 1, 0 });
        Assert.True(float.IsFinite(loss) && loss > 1e3f);
        Assert.All(ce.Gradients.ToArray(), g => Assert.True(float.IsFinite(g)));

        var kl = new KlNet(1, 1);
        kl.Dense2Bias[0] = 1e4f;
        Assert.True(float.IsFinite(kl.ComputeGradients(new float[4], new[] { 0f, 1f, 0f, 0f, 0f })));
        var bce = new BceNet(1, 1);
        bce.Dense2Bias[0] = 1e4f;
        bce.Dense2Bias[1] = -1e4f;
        Assert.True(float.IsFinite(bce.ComputeGradients(new float[4], new[] { 0f, 1f, 0.5f })));
        Assert.Throws<ArgumentException>(() => bce.Loss(new float[4], new[] { 0f, 1.5f, 0f }));
        Assert.Throws<ArgumentException>(() => kl.Loss(new float[4], new[] { 0.5f, 0.1f, 0f, 0f, 0f }));
    }

    [Fact]
    public void The_catalogue_networks_train()
    {
        var random = new KernelRandom(2);
        float[] x = Enumerable.Range(0, 64 * 5).Select(_ => (float)random.NextGaussian()).ToArray();
        float[] p = Enumerable.Range(0, 64 * 3).Select(i => x[(i / 3) * 5 + i % 3] > 0 ? 1f : 0f).ToArray();
        var bce = new BceNet(64, 1);
        float first = bce.Loss(x.Where((_, i) => i % 5 != 4).ToArray().AsSpan(0, 64 * 4), p);
        float[] x4 = x.Where((_, i) => i % 5 != 4).ToArray();
        for (int i = 0; i < 300; i++) bce.TrainStep(x4, p);
        Assert.True(bce.Loss(x4, p) < 0.5f * first);

        var norm = new NormNet(64, 1);
        var t = Enumerable.Range(0, 64 * 3).Select(i => (float)Math.Sin(x[i / 3 * 5 + i % 3])).ToArray();
        float[] x6 = Enumerable.Range(0, 64 * 6).Select(i => x[(i / 6) * 5 + i % 5]).ToArray();
        float start = norm.Loss(x6, t);
        for (int i = 0; i < 300; i++) norm.TrainStep(x6, t);
        Assert.True(norm.Loss(x6, t) < 0.5f * start, $"{start} → {norm.Loss(x6, t)}");

        var drop = new DropoutNet(64, 1);
        float[] t4 = Enumerable.Range(0, 64 * 4).Select(i => (float)Math.Tanh(x[i / 4 * 5 + i % 4])).ToArray();
        float d0 = drop.Loss(x, t4);
        for (int i = 0; i < 300; i++) drop.TrainStep(x, t4);
        Assert.True(drop.Loss(x, t4) < 0.6f * d0, $"{d0} → {drop.Loss(x, t4)}");
    }
}
