using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Optimization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Every update rule against a plain scalar reference written here from the documented formulas (PyTorch's
/// semantics), over a fixed sequence of gradients; convergence on the notes' examples; schedules; clipping; decay
/// scope; denormal flushing.
/// </summary>
public class OptimizerTests
{
    // ---- scalar references (double, one element at a time, straight from the formulas) --------------------------------

    private sealed class ReferenceOptimizer
    {
        private readonly OptimizerSettings _s;
        private readonly double[] _a, _b, _c;
        private double _muProduct = 1;
        private long _t;

        public ReferenceOptimizer(OptimizerSettings s, int n)
        {
            _s = s;
            _a = new double[n];
            _b = new double[n];
            _c = new double[n];
            if (s.Kind == OptimizerKind.AdaGrad) Array.Fill(_a, s.InitialAccumulator);
        }

        /// <summary>One step; <paramref name="isWeight"/> says which elements receive weight decay.</summary>
        public void Step(double[] p, double[] grad, Func<int, bool> isWeight, double lr)
        {
            _t++;
            var s = _s;
            double mu = 0, muNext = 0;
            if (s.Kind == OptimizerKind.NAdam)
            {
                mu = s.Beta1 * (1 - 0.5 * Math.Pow(0.96, _t * s.MomentumDecay));
                muNext = s.Beta1 * (1 - 0.5 * Math.Pow(0.96, (_t + 1) * s.MomentumDecay));
                _muProduct *= mu;
            }
            for (int i = 0; i < p.Length; i++)
            {
                double wd = isWeight(i) ? s.WeightDecay : 0;
                double g = grad[i];
                if (s.Kind != OptimizerKind.AdamW) g += wd * p[i];
                switch (s.Kind)
                {
                    case OptimizerKind.Sgd when s.Momentum == 0:
                        p[i] -= lr * g;
                        break;
                    case OptimizerKind.Sgd when s.VelocityForm:
                    {
                        double vPrev = _a[i];
                        _a[i] = s.Momentum * _a[i] - lr * g;
                        p[i] += s.Nesterov ? -s.Momentum * vPrev + (1 + s.Momentum) * _a[i] : _a[i];
                        break;
                    }
                    case OptimizerKind.Sgd:
                        _a[i] = _t == 1 ? g : s.Momentum * _a[i] + (1 - s.Dampening) * g;
                        p[i] -= lr * (s.Nesterov ? g + s.Momentum * _a[i] : _a[i]);
                        break;
                    case OptimizerKind.AdaGrad:
                        _a[i] += g * g;
                        p[i] -= lr / (1 + (_t - 1) * s.LearningRateDecay) * g / (Math.Sqrt(_a[i]) + s.Epsilon);
                        break;
                    case OptimizerKind.RmsProp:
                    {
                        _a[i] = s.Alpha * _a[i] + (1 - s.Alpha) * g * g;
                        double variance = _a[i];
                        if (s.Centered)
                        {
                            _b[i] = s.Alpha * _b[i] + (1 - s.Alpha) * g;
                            variance -= _b[i] * _b[i];
                        }
                        double d = s.EpsilonInsideSqrt ? Math.Sqrt(variance + s.Epsilon) : Math.Sqrt(variance) + s.Epsilon;
                        if (s.Momentum > 0) { _c[i] = s.Momentum * _c[i] + g / d; p[i] -= lr * _c[i]; }
                        else p[i] -= lr * g / d;
                        break;
                    }
                    case OptimizerKind.Adam:
                    case OptimizerKind.AdamW:
                    {
                        if (s.Kind == OptimizerKind.AdamW) p[i] *= 1 - lr * wd;
                        _a[i] = s.Beta1 * _a[i] + (1 - s.Beta1) * g;
                        _b[i] = s.Beta2 * _b[i] + (1 - s.Beta2) * g * g;
                        double mHat = _a[i] / (1 - Math.Pow(s.Beta1, _t));
                        double vHat = _b[i] / (1 - Math.Pow(s.Beta2, _t));
                        p[i] -= lr * mHat / (Math.Sqrt(vHat) + s.Epsilon);
                        break;
                    }
                    case OptimizerKind.NAdam:
                    {
                        _a[i] = s.Beta1 * _a[i] + (1 - s.Beta1) * g;
                        _b[i] = s.Beta2 * _b[i] + (1 - s.Beta2) * g * g;
                        double d = Math.Sqrt(_b[i] / (1 - Math.Pow(s.Beta2, _t))) + s.Epsilon;
                        p[i] -= lr * (1 - mu) / (1 - _muProduct) * g / d;
                        p[i] -= lr * muNext / (1 - _muProduct * muNext) * _a[i] / d;
                        break;
                    }
                    case OptimizerKind.AdaDelta:
                    {
                        _a[i] = s.Rho * _a[i] + (1 - s.Rho) * g * g;
                        double delta = Math.Sqrt(_b[i] + s.Epsilon) / Math.Sqrt(_a[i] + s.Epsilon) * g;
                        _b[i] = s.Rho * _b[i] + (1 - s.Rho) * delta * delta;
                        p[i] -= lr * delta;
                        break;
                    }
                }
            }
        }
    }

    public static IEnumerable<object[]> Rules()
    {
        yield return new object[] { "sgd", OptimizerSettings.Create(OptimizerKind.Sgd, 0.1) with { WeightDecay = 0.01 } };
        yield return new object[] { "momentum", OptimizerSettings.Create(OptimizerKind.Sgd, 0.05) with { Momentum = 0.9, Dampening = 0.1 } };
        yield return new object[] { "nesterov", OptimizerSettings.Create(OptimizerKind.Sgd, 0.05) with { Momentum = 0.9, Nesterov = true, WeightDecay = 0.001 } };
        yield return new object[] { "notes-momentum", OptimizerSettings.Create(OptimizerKind.Sgd, 0.05) with { Momentum = 0.8, VelocityForm = true } };
        yield return new object[] { "notes-nesterov", OptimizerSettings.Create(OptimizerKind.Sgd, 0.05) with { Momentum = 0.8, VelocityForm = true, Nesterov = true } };
        yield return new object[] { "adagrad", OptimizerSettings.Create(OptimizerKind.AdaGrad, 0.1) with { LearningRateDecay = 0.01, InitialAccumulator = 0.1 } };
        yield return new object[] { "rmsprop", OptimizerSettings.Create(OptimizerKind.RmsProp, 0.01) };
        yield return new object[] { "rmsprop-notes-eps", OptimizerSettings.Create(OptimizerKind.RmsProp, 0.01) with { EpsilonInsideSqrt = true, Epsilon = 1e-6 } };
        yield return new object[] { "rmsprop-centered-momentum", OptimizerSettings.Create(OptimizerKind.RmsProp, 0.01) with { Centered = true, Momentum = 0.9, WeightDecay = 0.01 } };
        yield return new object[] { "adam", OptimizerSettings.Create(OptimizerKind.Adam, 0.01) with { WeightDecay = 0.01 } };
        yield return new object[] { "adamw", OptimizerSettings.Create(OptimizerKind.AdamW, 0.01) with { WeightDecay = 0.1 } };
        yield return new object[] { "nadam", OptimizerSettings.Create(OptimizerKind.NAdam, 0.01) with { WeightDecay = 0.001 } };
        yield return new object[] { "adadelta", OptimizerSettings.Create(OptimizerKind.AdaDelta, 1.0) with { WeightDecay = 0.001 } };
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Trajectory_matches_the_scalar_reference(string name, OptimizerSettings settings)
    {
        // Lengths 0 … 3·16 + 1 cover empty, sub-vector, whole vectors and every tail; two tensors: weights and a bias.
        foreach (int n in new[] { 0, 1, 2, 7, 8, 15, 16, 17, 31, 33, 48, 49 })
        {
            int weights = n / 2 + n % 2, bias = n / 2;
            var tensors = new[] { new ParameterTensor("W", 0, 1, weights, true), new ParameterTensor("b", weights, 1, bias, false) };
            var random = new KernelRandom((ulong)n + 11);
            double[] p0 = Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            // A fixed gradient sequence, including exact zeros (dead units) in some elements.
            double[][] grads = Enumerable.Range(0, 25).Select(step => Enumerable.Range(0, n).Select(i => i % 5 == 4 ? 0.0 : random.NextGaussian() * (1 + step % 3)).ToArray()).ToArray();

            var reference = new ReferenceOptimizer(settings, n);
            double[] expected = (double[])p0.Clone();
            foreach (double[] g in grads) reference.Step(expected, g, i => i < weights, settings.LearningRate);

            var d = new Optimizer<double>(settings, n, tensors);
            double[] pd = (double[])p0.Clone();
            foreach (double[] g in grads) d.Step(pd, g);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(pd[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"{name} double n={n} i={i}: {pd[i]:R} vs {expected[i]:R}");

            var f = new Optimizer<float>(settings, n, tensors);
            float[] pf = p0.Select(v => (float)v).ToArray();
            // The float reference starts from the same float-rounded parameters and gradients.
            var referenceF = new ReferenceOptimizer(settings, n);
            double[] expectedF = pf.Select(v => (double)v).ToArray();
            foreach (double[] g in grads)
            {
                float[] gf = g.Select(v => (float)v).ToArray();
                referenceF.Step(expectedF, gf.Select(v => (double)v).ToArray(), i => i < weights, settings.LearningRate);
                f.Step(pf, gf);
            }
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(pf[i] - expectedF[i]) <= 1e-6 * Math.Max(1, Math.Abs(expectedF[i])), $"{name} float n={n} i={i}: {pf[i]:R} vs {expectedF[i]:R}");
            Assert.Equal(25, f.StepCount);
        }
    }

    // ---- convergence on the notes' examples -------------------------------------------------------------------------

    private static double Beale(double x, double y, out double gx, out double gy)
    {
        double a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y;
        gx = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y * y * y - 1);
        gy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y * y;
        return a * a + b * b + c * c;
    }

    public static IEnumerable<object[]> BealeCases()
    {
        foreach ((double x, double y) in new[] { (2.0, -2.0), (-3.0, 3.0) })
        {
            yield return new object[] { x, y, OptimizerSettings.Create(OptimizerKind.Adam, 0.01) };
            yield return new object[] { x, y, OptimizerSettings.Create(OptimizerKind.AdamW, 0.01) with { WeightDecay = 0 } };
            yield return new object[] { x, y, OptimizerSettings.Create(OptimizerKind.NAdam, 0.01) };
            yield return new object[] { x, y, OptimizerSettings.Create(OptimizerKind.RmsProp, 0.001) };
            yield return new object[] { x, y, OptimizerSettings.Create(OptimizerKind.AdaGrad, 0.3) };
            yield return new object[] { x, y, OptimizerSettings.Create(OptimizerKind.AdaDelta, 1.0) with { Epsilon = 1e-3 } };
        }
        yield return new object[] { 2.0, -2.0, OptimizerSettings.Create(OptimizerKind.Sgd, 1e-4) with { Momentum = 0.9, Nesterov = true } };
    }

    [Theory]
    [MemberData(nameof(BealeCases))]
    public void Adaptive_rules_descend_Beales_function(double x0, double y0, OptimizerSettings settings)
    {
        var tensors = new[] { new ParameterTensor("xy", 0, 1, 2, false) };
        var optimizer = new Optimizer<double>(settings, 2, tensors, clipping: new GradientClipping(100, double.PositiveInfinity));
        double[] p = { x0, y0 };
        var g = new double[2];
        double start = Beale(p[0], p[1], out _, out _);
        for (int step = 0; step < 20_000; step++)
        {
            Beale(p[0], p[1], out g[0], out g[1]);
            optimizer.Step(p, g);
        }
        double end = Beale(p[0], p[1], out _, out _);
        Assert.True(end < 1e-2 * start, $"{settings.Kind}: Beale {start:G4} → {end:G4} at ({p[0]:F3}, {p[1]:F3})");
        // From (2, −2) Adam reaches the global minimum at (3, ½); from (−3, 3) the rules settle in the long flat valley
        // towards x → −∞ (the trajectories the notes' animations show), which the descent check above covers.
        if (settings.Kind == OptimizerKind.Adam && x0 == 2)
        {
            Assert.Equal(3, p[0], 2);
            Assert.Equal(0.5, p[1], 2);
        }
    }

    [Fact]
    public void Momentum_beats_plain_SGD_on_a_badly_conditioned_quadratic()
    {
        // f = ½(x² + 100·y²) from (10, 1): condition number 100. The step size is limited by the steep direction.
        double Run(OptimizerSettings s)
        {
            var optimizer = new Optimizer<double>(s, 2, new[] { new ParameterTensor("xy", 0, 1, 2, false) });
            double[] p = { 10, 1 };
            for (int i = 0; i < 200; i++) optimizer.Step(p, new[] { p[0], 100 * p[1] });
            return 0.5 * (p[0] * p[0] + 100 * p[1] * p[1]);
        }
        // η·λ_max = 1: stable for plain SGD, heavy-ball and Nesterov momentum (μ = 0.9) alike.
        double sgd = Run(OptimizerSettings.Create(OptimizerKind.Sgd, 0.01));
        double momentum = Run(OptimizerSettings.Create(OptimizerKind.Sgd, 0.01) with { Momentum = 0.9 });
        double nesterov = Run(OptimizerSettings.Create(OptimizerKind.Sgd, 0.01) with { Momentum = 0.9, Nesterov = true });
        double adam = Run(OptimizerSettings.Create(OptimizerKind.Adam, 0.1));
        Assert.True(sgd > 0.1, $"sgd {sgd}"); // plain SGD crawls along x: 0.99^200 ≈ 0.13 of the start
        Assert.True(momentum < 1e-4 * sgd, $"momentum {momentum} vs sgd {sgd}");
        Assert.True(nesterov < 1e-4 * sgd, $"nesterov {nesterov} vs sgd {sgd}");
        Assert.True(adam < 1e-3 * 100, $"adam {adam}"); // f starts at ½(10² + 100·1²) = 100; Adam hovers at the scale of η
    }

    // ---- schedules, clipping, decay scope, state --------------------------------------------------------------------

    [Fact]
    public void Schedules_follow_their_closed_forms()
    {
        const double eta = 0.5;
        for (long t = 0; t < 40; t++)
        {
            Assert.Equal(eta, LearningRateSchedule.Constant.LearningRate(eta, t));
            Assert.Equal(eta * Math.Pow(0.5, t / 10), LearningRateSchedule.StepDecay(10, 0.5).LearningRate(eta, t), 15);
            Assert.Equal(eta * Math.Pow(0.9, t), LearningRateSchedule.Exponential(0.9).LearningRate(eta, t), 15);
            Assert.Equal(eta / (1 + 0.1 * t), LearningRateSchedule.InverseTime(0.1).LearningRate(eta, t), 15);
        }
        var cosine = LearningRateSchedule.Cosine(20, 0.1);
        Assert.Equal(eta, cosine.LearningRate(eta, 0), 15);
        Assert.Equal((eta + 0.1) / 2, cosine.LearningRate(eta, 10), 15);
        Assert.Equal(0.1, cosine.LearningRate(eta, 20), 15);
        // Past its period the cosine goes on (PyTorch's CosineAnnealingLR): η_min + ½(η − η_min)(1 + cos(π·35/20)).
        Assert.Equal(0.1 + (eta - 0.1) / 2 * (1 + Math.Cos(Math.PI * 35 / 20)), cosine.LearningRate(eta, 35), 15);

        // SGDR with T0 = 10, m = 2: restarts at 10, 30, 70; midpoints at 5, 20, 50.
        var sgdr = LearningRateSchedule.WarmRestarts(10, 2, 0);
        foreach (long restart in new long[] { 0, 10, 30, 70 }) Assert.Equal(eta, sgdr.LearningRate(eta, restart), 12);
        foreach (long middle in new long[] { 5, 20, 50 }) Assert.Equal(eta / 2, sgdr.LearningRate(eta, middle), 12);
        Assert.True(sgdr.LearningRate(eta, 29) < 0.01 * eta);
        var sgdrFlat = LearningRateSchedule.WarmRestarts(8);
        Assert.Equal(sgdrFlat.LearningRate(eta, 3), sgdrFlat.LearningRate(eta, 19), 15);

        var warm = LearningRateSchedule.StepDecay(10, 0.5).WithWarmup(4, 0.2);
        Assert.Equal(eta * 0.2, warm.LearningRate(eta, 0), 15);
        Assert.Equal(eta * (0.2 + 0.8 * 3 / 4.0), warm.LearningRate(eta, 3), 15);
        Assert.Equal(eta, warm.LearningRate(eta, 4), 15);
        Assert.Equal(eta * 0.5, warm.LearningRate(eta, 14), 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.StepDecay(0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(10).WithWarmup(-1).Validate());
    }

    [Fact]
    public void A_schedule_drives_every_rule_and_notes_momentum_departs_from_PyTorch_only_when_the_rate_changes()
    {
        double[] Run(OptimizerSettings s, LearningRateSchedule schedule)
        {
            var optimizer = new Optimizer<double>(s, 3, new[] { new ParameterTensor("p", 0, 1, 3, true) }, schedule);
            double[] p = { 1, -2, 3 };
            for (int i = 0; i < 30; i++) { optimizer.Step(p, new[] { p[0], 2 * p[1], -1.0 }); }
            return p;
        }
        var pytorch = OptimizerSettings.Create(OptimizerKind.Sgd, 0.05) with { Momentum = 0.9 };
        var notes = pytorch with { VelocityForm = true };
        double[] a = Run(pytorch, LearningRateSchedule.Constant), b = Run(notes, LearningRateSchedule.Constant);
        for (int i = 0; i < 3; i++) Assert.Equal(a[i], b[i], 12);
        double[] c = Run(pytorch, LearningRateSchedule.Exponential(0.8)), d = Run(notes, LearningRateSchedule.Exponential(0.8));
        Assert.True(Math.Abs(c[2] - d[2]) > 1e-3, "with a decaying rate the forms differ");

        var optimizer = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Adam, 0.1), 1, new[] { new ParameterTensor("p", 0, 1, 1, true) }, LearningRateSchedule.StepDecay(2, 0.5));
        var one = new float[1];
        for (int i = 0; i < 5; i++) optimizer.Step(one, new[] { 1f });
        Assert.Equal(0.1 * 0.25, optimizer.CurrentLearningRate, 15); // step t = 4 → ⌊4/2⌋ = 2 halvings
    }

    [Fact]
    public void Gradient_clipping_by_norm_and_by_value()
    {
        var tensors = new[] { new ParameterTensor("p", 0, 1, 2, true) };
        var byNorm = new Optimizer<double>(OptimizerSettings.Create(OptimizerKind.Sgd, 1), 2, tensors, clipping: new GradientClipping(1, double.PositiveInfinity));
        var p = new double[2];
        byNorm.Step(p, new[] { 3.0, 4.0 });
        Assert.Equal(5, byNorm.LastGradientNorm, 12);
        Assert.Equal(-0.6 * 5 / (5 + 1e-6), p[0], 12);
        Assert.Equal(-0.8 * 5 / (5 + 1e-6), p[1], 12);
        byNorm.Step(p, new[] { 0.3, 0.4 }); // under the limit: unchanged gradient
        Assert.Equal(-0.6 * 5 / (5 + 1e-6) - 0.3, p[0], 12);

        var byValue = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Sgd, 1), 2, tensors, clipping: new GradientClipping(double.PositiveInfinity, 0.5));
        var q = new float[2];
        byValue.Step(q, new[] { -3f, 0.25f });
        Assert.Equal(new[] { 0.5f, -0.25f }, q);
        Assert.Throws<ArgumentOutOfRangeException>(() => byValue.Clipping = new GradientClipping(0, 1));
    }

    [Fact]
    public void Weight_decay_reaches_weights_but_not_biases()
    {
        var tensors = new[] { new ParameterTensor("W", 0, 1, 2, true), new ParameterTensor("b", 16, 1, 2, false) };
        var optimizer = new Optimizer<double>(OptimizerSettings.Create(OptimizerKind.Sgd, 0.1) with { WeightDecay = 0.5 }, 18, tensors);
        var p = new double[18];
        p[0] = p[1] = p[16] = p[17] = 2;
        optimizer.Step(p, new double[18]);
        Assert.Equal(2 - 0.1 * 0.5 * 2, p[0], 15);
        Assert.Equal(2, p[16]);
        var adamW = new Optimizer<double>(OptimizerSettings.Create(OptimizerKind.AdamW, 0.1), 18, tensors);
        Assert.Equal(0.01, adamW.Settings.WeightDecay);
        p[0] = p[16] = 2;
        adamW.Step(p, new double[18]);
        Assert.Equal(2 * (1 - 0.1 * 0.01), p[0], 15); // m = v = 0: only the decoupled decay moves it
        Assert.Equal(2, p[16]);
    }

    [Fact]
    public void Dead_units_flush_state_to_zero_instead_of_denormals()
    {
        const int n = 64;
        var tensors = new[] { new ParameterTensor("W", 0, 1, n, true) };
        foreach (var settings in new[] { OptimizerSettings.Create(OptimizerKind.Adam, 1e-3), OptimizerSettings.Create(OptimizerKind.Sgd, 1e-3) with { Momentum = 0.9 },
                     OptimizerSettings.Create(OptimizerKind.RmsProp, 1e-3) with { Centered = true, Momentum = 0.5 } })
        {
            var optimizer = new Optimizer<float>(settings, n, tensors);
            var p = new float[n];
            var g = Enumerable.Repeat(1f, n).ToArray();
            optimizer.Step(p, g);
            Array.Clear(g); // every unit dies: the gradient stays exactly 0 from now on
            for (int i = 0; i < 3000; i++) optimizer.Step(p, g);
            for (int slot = 0; slot < optimizer.StateSlots; slot++)
                foreach (float v in optimizer.State(slot).ToArray())
                    Assert.False(float.IsSubnormal(v), $"{settings.Kind}: subnormal state {v:R}");
            if (settings.Kind != OptimizerKind.RmsProp) // m (Adam) and the momentum buffer decay by 0.9: 0.9^3000 ≪ 1e-30, flushed
                Assert.All(optimizer.State(0).ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Settings_and_lengths_are_validated()
    {
        var tensors = new[] { new ParameterTensor("p", 0, 1, 4, true) };
        Assert.Throws<ArgumentOutOfRangeException>(() => new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Adam, 0.1) with { Beta1 = 1 }, 4, tensors));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Sgd, -1), 4, tensors));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Sgd, 0.1) with { Nesterov = true }, 4, tensors));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Sgd, 0.1), 3, tensors));
        var optimizer = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Adam, 0.1), 4, tensors);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => optimizer.Step(new float[4], new float[3])).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => optimizer.Step(new float[5], new float[5])).ParamName);
        Assert.Equal(0, optimizer.StepCount);
    }

    [Fact]
    public void Optimizer_steps_allocate_nothing()
    {
        const int n = 1000;
        var tensors = new[] { new ParameterTensor("W", 0, 1, 900, true), new ParameterTensor("b", 912, 1, 88, false) };
        foreach ((OptimizerSettings settings, _) in Rules().Select(r => ((OptimizerSettings)r[1], 0)))
        {
            var optimizer = new Optimizer<float>(settings, n, tensors, LearningRateSchedule.WarmRestarts(10, 2).WithWarmup(3), new GradientClipping(1, 0.5));
            var p = new float[n];
            var g = Enumerable.Range(0, n).Select(i => (float)Math.Sin(i)).ToArray();
            HotLoop.WarmUp(() => optimizer.Step(p, g));
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) optimizer.Step(p, g);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
