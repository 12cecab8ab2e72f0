using System;
using System.Linq;
using CsCheck;
using KernelGen.Catalog;
using KernelGen.Kernels;
using KernelGen.Operators;
using KernelGen.Runtime;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Every generated gradient is checked with the public <see cref="GradientCheck"/> engine against central differences in
/// double: Backward on L = Σ rᵢ·yᵢ with random r (so errors cannot cancel) and the losses through ComputeGradients, for
/// CsCheck-drawn parameters, inputs and batch sizes. The engine itself is tested too: it must catch a wrong backward
/// pass and report kinks instead of failing on them.
/// </summary>
public class GradientTests
{
    private static readonly GradientCheckOptions Smooth = new() { Epsilon = 1e-5, Tolerance = 1e-7, MaxCoordinatesPerTensor = 24 };

    private static Gen<(ulong Seed, int Batch, double[] X)> Case(int inputs, int maxBatch) =>
        from seed in Gen.ULong
        from batch in Gen.Int[1, maxBatch]
        from x in Gen.Double[-2, 2].Array[batch * inputs]
        select (seed, batch, x);

    private static void AssertPassed(GradientCheckReport report, ulong seed) =>
        Assert.True(report.Passed, $"seed {seed}\n{report}");

    [Fact]
    public void SmoothNet_gradients_match_central_differences() =>
        Case(SmoothNet.InputFeatures, 6).Sample(c =>
            AssertPassed(GradientCheck.Run(new SmoothNet.Float64(maxBatchSize: 6, seed: c.Seed), c.X, Smooth with { Seed = c.Seed }), c.Seed), iter: 25);

    [Fact]
    public void StandaloneNet_gradients_match_central_differences() =>
        Case(StandaloneNet.InputFeatures, 9).Sample(c =>
            AssertPassed(GradientCheck.Run(new StandaloneNet.Float64(maxBatchSize: 9, seed: c.Seed), c.X, Smooth with { Seed = c.Seed }), c.Seed), iter: 30);

    [Fact]
    public void InferenceNet_gradients_match_central_differences() =>
        Case(InferenceNet.InputFeatures, 5).Sample(c =>
            AssertPassed(GradientCheck.Run(new InferenceNet.Float64(maxBatchSize: 5, seed: c.Seed), c.X, Smooth with { Seed = c.Seed }), c.Seed), iter: 30);

    [Fact]
    public void ReluNet_gradients_match_central_differences_with_kinks_left_out() =>
        Case(ReluNet.InputFeatures, 7).Sample(c =>
            AssertPassed(GradientCheck.Run(new ReluNet.Float64(maxBatchSize: 7, seed: c.Seed), c.X,
                GradientCheckOptions.From(OpCatalog.Get(Activation.ReLU).Tolerance) with { Seed = c.Seed }), c.Seed), iter: 30);

    [Fact]
    public void Softmax_cross_entropy_gradient_matches_central_differences() =>
        Gen.Select(Gen.ULong, Gen.Int[1, 7]).SelectMany(t => Gen.Double[-2, 2].Array[t.Item2 * 11].Select(x => (t.Item1, t.Item2, x)))
            .SelectMany(t => Gen.Int[0, 6].Array[t.Item2].Select(labels => (Seed: t.Item1, Batch: t.Item2, X: t.x, Labels: labels)))
            .Sample(c =>
            {
                var net = new ReluNet.Float64(maxBatchSize: 7, seed: c.Seed);
                AssertPassed(GradientCheck.Run(net, c.X, c.Labels, GradientCheckOptions.From(OpCatalog.Get(LossKind.SoftmaxCrossEntropy).Tolerance) with { Seed = c.Seed }), c.Seed);
                // ComputeGradients reports the same mean loss as Loss (no BatchNorm or dropout here).
                Assert.Equal(net.Loss(c.X, c.Labels), net.ComputeGradients(c.X, c.Labels), 12);
            }, iter: 25);

    [Fact]
    public void L2_loss_gradient_matches_central_differences() =>
        Case(SmoothNet.InputFeatures, 6).Select(Gen.Double[-1, 1].Array[6 * SmoothNet.OutputFeatures], (c, t) => (c.Seed, c.Batch, c.X, Targets: t[..(c.Batch * SmoothNet.OutputFeatures)]))
            .Sample(c => AssertPassed(GradientCheck.Run(new SmoothNet.Float64(maxBatchSize: 6, seed: c.Seed), c.X, c.Targets, Smooth with { Seed = c.Seed }), c.Seed), iter: 20);

    // ---- the engine ---------------------------------------------------------------------------------------------

    [Fact]
    public void The_engine_catches_a_wrong_backward_pass()
    {
        var random = new KernelRandom(3);
        double[] x = Enumerable.Range(0, 4 * SmoothNet.InputFeatures).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] targets = Enumerable.Range(0, 4 * SmoothNet.OutputFeatures).Select(_ => random.NextDouble()).ToArray();
        var right = new BuggyNet(4, bug: false);
        var wrong = new BuggyNet(4, bug: true);

        GradientCheckReport good = GradientCheck.Run(right, x, targets);
        GradientCheckReport bad = GradientCheck.Run(wrong, x, targets);

        Assert.True(good.Passed, good.ToString());
        Assert.False(bad.Passed, bad.ToString());
        // The bug is in the tanh layer's derivative: the layers below it are wrong, the last layer's tensors are not.
        Assert.All(bad.Tensors.Where(t => t.Tensor.StartsWith("Dense3", StringComparison.Ordinal)), t => Assert.Equal(GradientVerdict.Correct, t.Verdict));
        Assert.Contains(bad.Tensors, t => t.Tensor == "Dense1.Weights" && t.Verdict == GradientVerdict.Wrong);
        Assert.Contains("FAILED", bad.ToString(), StringComparison.Ordinal);
        Assert.Contains("← over the tolerance", bad.ToString(), StringComparison.Ordinal);
        // The Backward check sees it too, in the input gradient as well.
        GradientCheckReport backward = GradientCheck.Run(wrong, x);
        Assert.Contains(backward.Tensors, t => t.Tensor == "inputs" && !t.Passed);
    }

    [Fact]
    public void The_engine_reports_a_kink_crossed_by_the_stencil_instead_of_failing()
    {
        var net = new ReluNet.Float64(maxBatchSize: 1, seed: 5);
        var random = new KernelRandom(8);
        double[] x = Enumerable.Range(0, ReluNet.InputFeatures).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        // Put hidden unit 3's pre-activation 3e-7 from ReLU's kink: ε = 1e-6 perturbations of its bias cross it.
        double z = net.Dense1Bias[3];
        for (int k = 0; k < x.Length; k++) z += x[k] * net.Dense1Weights[k * 40 + 3];
        net.Dense1Bias[3] += 3e-7 - z;
        var options = new GradientCheckOptions { MaxCoordinatesPerTensor = 0 }; // every coordinate

        GradientCheckReport report = GradientCheck.Run(net, x, new[] { 2 }, options);

        Assert.True(report.Passed, report.ToString());
        TensorGradientCheck bias = report.Tensors.Single(t => t.Tensor == "Dense1.Bias");
        Assert.True(bias.Kinks >= 1, report.ToString());
        Assert.Contains(bias.Worst, p => p.Index == 3 && p.Kink);
        Assert.Contains("kinks left out", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_engine_restores_the_network_it_checked()
    {
        var net = new NormNet.Float64(4, seed: 2);
        var random = new KernelRandom(1);
        double[] x = Enumerable.Range(0, 4 * 6).Select(_ => random.NextGaussian()).ToArray();
        double[] t = Enumerable.Range(0, 4 * 3).Select(_ => random.NextGaussian()).ToArray();
        net.TrainStep(x, t); // running statistics away from their initial values
        double[] parameters = net.Parameters.ToArray(), statistics = net.RunningStatistics.ToArray();
        ulong step = net.DropoutStep;

        GradientCheck.Run(net, x, t, new GradientCheckOptions { MaxCoordinatesPerTensor = 5 });

        Assert.Equal(parameters, net.Parameters.ToArray());
        Assert.Equal(statistics, net.RunningStatistics.ToArray());
        Assert.Equal(step, net.DropoutStep);
    }

    [Fact]
    public void RelativeDifference_follows_the_textbook_formula()
    {
        // ‖(1, 2) − (1, 2.5)‖ = 0.5; ‖a‖ + ‖n‖ = √5 + √7.25.
        Assert.Equal(0.5 / (Math.Sqrt(5) + Math.Sqrt(7.25)), GradientCheck.RelativeDifference([1, 2], [1, 2.5]), 15);
        Assert.Equal(0, GradientCheck.RelativeDifference([0, 0], [0, 0]));
        Assert.Equal(1e-12 / 1e-3, GradientCheck.RelativeDifference([0], [1e-12], floor: 1e-3), 15);
    }

    /// <summary>
    /// A test-only network written by hand on the public runtime pieces: SmoothNet's layout (19 → 37 sigmoid → 70 tanh → 5,
    /// L2 loss), with an optional bug in backward: the tanh derivative taken as 1 − y instead of 1 − y².
    /// </summary>
    private sealed class BuggyNet : LossNetworkBase<double, double>
    {
        private static readonly NetworkModel SmoothModel = new SmoothNet.Float64(1).Model;
        private readonly bool _bug;

        public BuggyNet(int maxBatchSize, bool bug) : base(SmoothModel, maxBatchSize)
        {
            _bug = bug;
            Initialize(seed: 11);
        }

        protected override void Infer(ReadOnlySpan<double> inputs, Span<double> outputs, int batch)
        {
            Span<double> h1 = State.Work(Model.LayerOutputRegions[0], batch * 37), h2 = State.Work(Model.LayerOutputRegions[1], batch * 70);
            Forward(inputs, h1, h2, outputs, batch);
        }

        protected override void Train(ReadOnlySpan<double> inputs, int batch) =>
            Forward(inputs, Out(0, batch), Out(1, batch), Out(2, batch), batch);

        private Span<double> Out(int layer, int batch) => State.Work(Model.LayerOutputRegions[layer], batch * Model.Layers[layer].OutputFeatures);

        private void Forward(ReadOnlySpan<double> x, Span<double> h1, Span<double> h2, Span<double> y, int batch)
        {
            Dense.Forward<double, SigmoidOp<double>>(x, P(0, TensorRole.Weight), P(0, TensorRole.Bias), h1, batch, 19, 37);
            Dense.Forward<double, TanhOp<double>>(h1, P(1, TensorRole.Weight), P(1, TensorRole.Bias), h2, batch, 37, 70);
            Dense.Forward<double, IdentityOp<double>>(h2, P(2, TensorRole.Weight), P(2, TensorRole.Bias), y, batch, 70, 5);
        }

        private Span<double> P(int layer, TensorRole role) { LayerTensor t = Model.Layers[layer].Tensor(role)!; return State.Parameters(t.Offset, t.Length); }

        private Span<double> G(int layer, TensorRole role) { LayerTensor t = Model.Layers[layer].Tensor(role)!; return State.Gradients(t.Offset, t.Length); }

        protected override void Propagate(ReadOnlySpan<double> inputs, int batch, Span<double> inputGradient, bool penalties)
        {
            Span<double> dy = State.Work(Model.OutputGradientRegion, batch * 5);
            double[] dh2 = new double[batch * 70], dh1 = new double[batch * 37];
            Dense.BackwardParameters<double>(Out(1, batch), dy, G(2, TensorRole.Weight), G(2, TensorRole.Bias), batch, 70, 5);
            Dense.BackwardInput<double>(dy, P(2, TensorRole.Weight), dh2, batch, 70, 5);
            ReadOnlySpan<double> h2 = Out(1, batch);
            for (int i = 0; i < dh2.Length; i++) dh2[i] *= _bug ? 1 - h2[i] : 1 - h2[i] * h2[i];
            Dense.BackwardParameters<double>(Out(0, batch), dh2, G(1, TensorRole.Weight), G(1, TensorRole.Bias), batch, 37, 70);
            Dense.BackwardInput<double>(dh2, P(1, TensorRole.Weight), dh1, batch, 37, 70);
            Elementwise.BackwardInPlace<double, SigmoidOp<double>>(Out(0, batch), dh1);
            Dense.BackwardParameters<double>(inputs, dh1, G(0, TensorRole.Weight), G(0, TensorRole.Bias), batch, 19, 37);
            if (!inputGradient.IsEmpty) Dense.BackwardInput<double>(dh1, P(0, TensorRole.Weight), inputGradient, batch, 19, 37);
        }

        protected override double EvaluateLoss(ReadOnlySpan<double> outputs, ReadOnlySpan<double> labels, Span<double> gradient, int batch) =>
            KernelGen.Kernels.Loss.L2<double>(outputs, labels, gradient, batch, 5);
    }
}
