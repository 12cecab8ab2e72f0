using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
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

    /// <summary>
    /// Checks ∂(Σ r·y)/∂θ and ∂/∂x of a training-mode forward against a 4-point central-difference stencil
    /// (−f(+2h) + 8f(+h) − 8f(−h) + f(−2h))/12h, evaluated with the same training-mode forward; <paramref name="reset"/>
    /// restores anything random (the dropout step) before every evaluation.
    /// </summary>
    /// <remarks>
    /// The relative error's denominator is floored at <paramref name="floor"/>: behind a batch normalization the input
    /// gradient can vanish (with two rows, x̂ = ±1 whatever x is), and then a ratio of two round-off-sized numbers
    /// says nothing. The floor makes that case an absolute tolerance of floor·tolerance.
    /// </remarks>
    private static void CheckTrainingGradients(INeuralNetwork<double> net, double[] x, double[] r, Action reset, double h = 1e-4, double tolerance = 1e-7, int cap = 60, double floor = 0)
    {
        reset();
        net.Forward(x);
        var dx = new double[x.Length];
        net.Backward(r, dx);
        double[] gradients = net.Gradients.ToArray();

        double L(double[] inputs)
        {
            reset();
            ReadOnlySpan<double> y = net.Forward(inputs);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += r[i] * y[i];
            return s;
        }

        double Stencil(Func<double, double> f) => (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h);

        var analytic = new List<double>();
        var numeric = new List<double>();
        foreach (int i in GradientTests.Coordinates(net, cap, (ulong)x.Length))
        {
            double saved = net.Parameters[i];
            numeric.Add(Stencil(d => { net.Parameters[i] = saved + d; double v = L(x); net.Parameters[i] = saved; return v; }));
            analytic.Add(gradients[i]);
        }
        double error = FlooredError(analytic, numeric, floor);
        Assert.True(error < tolerance, $"{net.GetType().FullName}: parameter-gradient relative error {error:E3}");

        analytic.Clear();
        numeric.Clear();
        var xs = (double[])x.Clone();
        for (int i = 0; i < x.Length && i < cap; i++)
        {
            numeric.Add(Stencil(d => { xs[i] = x[i] + d; double v = L(xs); xs[i] = x[i]; return v; }));
            analytic.Add(dx[i]);
        }
        error = FlooredError(analytic, numeric, floor);
        Assert.True(error < tolerance, $"{net.GetType().FullName}: input-gradient relative error {error:E3} (gradient norm {Math.Sqrt(analytic.Sum(v => v * v)):E2})");
    }

    /// <summary>‖a − n‖ / max(‖a‖ + ‖n‖, floor).</summary>
    private static double FlooredError(List<double> a, List<double> n, double floor)
    {
        double diff = 0, na = 0, nn = 0;
        for (int i = 0; i < a.Count; i++) { diff += (a[i] - n[i]) * (a[i] - n[i]); na += a[i] * a[i]; nn += n[i] * n[i]; }
        double denominator = Math.Max(Math.Sqrt(na) + Math.Sqrt(nn), floor);
        return denominator == 0 ? 0 : Math.Sqrt(diff) / denominator;
    }

    /// <summary>Kink exclusion for the leaky ReLU on the first layer: its pre-activations (reference forward) stay 1e-3 away from 0.</summary>
    private static bool NearKink(double[] x, ReadOnlySpan<double> w, ReadOnlySpan<double> b, int batch, int nIn, int nOut)
    {
        var (_, z) = Reference.Dense(x, w, b, batch, nIn, nOut, Reference.Act.Identity);
        return z.Any(v => Math.Abs(v) < 1e-3);
    }

    [Fact]
    public void Fused_activations_are_gradient_checked() =>
        Case(7, 5, 1, 5).Sample(c =>
        {
            var net = new ActivationNet.Float64(5, c.Seed);
            if (NearKink(c.X, net.Dense1Weights, net.Dense1Bias, c.Batch, 7, 12)) return;
            // ELU (α = 1) is C¹ but not C² at 0, which the 4-point stencil needs: keep Dense2's pre-activations away from 0 too.
            var (z1, _) = Reference.Dense(c.X, net.Dense1Weights, net.Dense1Bias, c.Batch, 7, 12, Reference.Act.Identity);
            double[] h1 = z1.Select(v => v > 0 ? v : 0.01 * v).ToArray();
            if (NearKink(h1, net.Dense2Weights, net.Dense2Bias, c.Batch, 12, 11)) return;
            CheckTrainingGradients(net, c.X, c.R, () => { });
        }, iter: 30);

    [Fact]
    public void Standalone_and_parameterized_activations_and_softmax_are_gradient_checked() =>
        Case(6, 4, 1, 5).Sample(c =>
        {
            var net = new ParameterizedActivationNet.Float64(5, c.Seed);
            if (NearKink(c.X, net.Dense1Weights, net.Dense1Bias, c.Batch, 6, 9)) return;
            // ELU with α = 0.5 has a kink at 0 too (slopes 0.5 and 1): exclude Dense2's pre-activations near 0 as well.
            var (z1, _) = Reference.Dense(c.X, net.Dense1Weights, net.Dense1Bias, c.Batch, 6, 9, Reference.Act.Identity);
            double[] h1 = z1.Select(v => v > 0 ? v : 0.1 * v).ToArray();
            if (NearKink(h1, net.Dense2Weights, net.Dense2Bias, c.Batch, 9, 8)) return;
            CheckTrainingGradients(net, c.X, c.R, () => { });
        }, iter: 30);

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
            CheckTrainingGradients(net, c.X, c.R, () => { }, h: 1e-5, floor: 1e-2);
            checkedCases++;
        }, iter: 60, threads: 1);
        Assert.True(checkedCases >= 20, $"only {checkedCases} batches were not degenerate");
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
            CheckTrainingGradients(new OrderNet.Float64(6, c.Seed), c.X, c.R, () => { }, h: 1e-5, floor: 1e-2);
            checkedCases++;
        }, iter: 60, threads: 1);
        Assert.True(checkedCases >= 15, $"only {checkedCases} batches were not degenerate");
    }

    [Fact]
    public void Dropout_is_gradient_checked_with_a_fixed_mask() =>
        Case(5, 4, 1, 6).Sample(c =>
        {
            var net = new DropoutNet.Float64(6, c.Seed);
            CheckTrainingGradients(net, c.X, c.R, () => net.DropoutStep = 7);
        }, iter: 30);

    [Fact]
    public void Maxout_is_gradient_checked_away_from_ties()
    {
        int checkedCases = 0;
        Case(6, 4, 1, 5).Sample(c =>
        {
            var net = new MaxoutNet.Float64(5, c.Seed);
            // Tie exclusion: skip cases where a unit's two best pieces are within 1e-3 (reference forward of the pieces).
            var (z, _) = Reference.Dense(c.X, net.Maxout1Weights, net.Maxout1Bias, c.Batch, 6, 15, Reference.Act.Identity);
            for (int u = 0; u < z.Length / 3; u++)
            {
                double[] pieces = z.Skip(3 * u).Take(3).OrderDescending().ToArray();
                if (pieces[0] - pieces[1] < 1e-3) return;
            }
            CheckTrainingGradients(net, c.X, c.R, () => { }, h: 1e-6);
            checkedCases++;
        }, iter: 40, threads: 1);
        Assert.True(checkedCases >= 15, $"only {checkedCases} cases were away from ties");
    }

    /// <summary>Checks ComputeGradients (loss + penalties) against central differences of Loss.</summary>
    private static void CheckLossGradients<TLabel>(ILossNetwork<double, TLabel> net, double[] x, TLabel[] labels, double h = 1e-5, double tolerance = 1e-7)
        where TLabel : unmanaged
    {
        double loss = net.ComputeGradients(x, labels);
        Assert.Equal(net.Loss(x, labels), loss, 12);
        double[] gradients = net.Gradients.ToArray();
        var analytic = new List<double>();
        var numeric = new List<double>();
        foreach (int i in GradientTests.Coordinates(net, 60, (ulong)x.Length))
        {
            double saved = net.Parameters[i];
            net.Parameters[i] = saved + h;
            double plus = net.Loss(x, labels);
            net.Parameters[i] = saved - h;
            double minus = net.Loss(x, labels);
            net.Parameters[i] = saved;
            analytic.Add(gradients[i]);
            numeric.Add((plus - minus) / (2 * h));
        }
        double error = Reference.RelativeError(analytic, numeric);
        Assert.True(error < tolerance, $"{net.GetType().FullName}: loss-gradient relative error {error:E3}");
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
                CheckLossGradients(new KlNet.Float64(5, c.Seed), c.X, targets);
                // BCE: targets in [0, 1].
                var probabilities = Enumerable.Range(0, c.Batch * 3).Select(_ => random.NextDouble()).ToArray();
                CheckLossGradients(new BceNet.Float64(5, c.Seed), c.X, probabilities);
                // Hinge: away from margins within 1e-4 (the kink).
                var labels = Enumerable.Range(0, c.Batch).Select(_ => random.NextInt(5)).ToArray();
                var hinge = new HingeNet.Float64(5, c.Seed);
                var scores = new double[c.Batch * 5];
                hinge.Predict(c.X, scores);
                bool nearKink = false;
                for (int b = 0; b < c.Batch; b++)
                    for (int j = 0; j < 5; j++)
                        if (j != labels[b] && Math.Abs(scores[b * 5 + j] - scores[b * 5 + labels[b]] + 0.5) < 1e-4) nearKink = true;
                if (!nearKink) CheckLossGradients(hinge, c.X, labels, h: 1e-7);
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
            // L1 is checked away from its kink: skip cases with an activation or an L1-penalized weight within 1e-3 of 0.
            if (a1.Any(v => Math.Abs(v) < 1e-3) || net.Dense1Weights.ToArray().Any(v => Math.Abs(v) < 1e-3)) return;
            CheckLossGradients(net, c.X, c.R);
            checkedCases++;
        }, iter: 60, threads: 1);
        Assert.True(checkedCases >= 20, $"only {checkedCases} cases were away from the L1 kinks");
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
