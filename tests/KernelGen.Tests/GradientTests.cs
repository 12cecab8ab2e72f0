using System;
using System.Collections.Generic;
using CsCheck;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Every generated parameter gradient and input gradient is checked against central differences in double on
/// L = Σ rᵢ·yᵢ with random r (so errors cannot cancel), for CsCheck-drawn parameters, inputs and batch sizes.
/// </summary>
public class GradientTests
{
    /// <summary>Per-network tolerance record: step size, relative-error bound, coordinate cap, kink band.</summary>
    private sealed record Tolerance(double Step, double MaxRelativeError, int MaxCoordinates, double KinkBand);

    private static readonly Tolerance Smooth = new(1e-5, 1e-7, 80, 0);
    private static readonly Tolerance Kinked = new(1e-6, 1e-7, 80, 1e-3);

    private static Gen<(ulong Seed, int Batch, double[] X, double[] R)> Case(int inputs, int outputs, int maxBatch) =>
        from seed in Gen.ULong
        from batch in Gen.Int[1, maxBatch]
        from x in Gen.Double[-2, 2].Array[batch * inputs]
        from r in Gen.Double[-1, 1].Array[batch * outputs]
        select (seed, batch, x, r);

    [Fact]
    public void SmoothNet_gradients_match_central_differences() =>
        Case(SmoothNet.InputFeatures, SmoothNet.OutputFeatures, 6).Sample(c =>
        {
            var net = new SmoothNet.Float64(maxBatchSize: 6, seed: c.Seed);
            CheckGradients(net, c.X, c.R, Smooth, c.Seed);
        }, iter: 40);

    [Fact]
    public void StandaloneNet_gradients_match_central_differences() =>
        Case(StandaloneNet.InputFeatures, StandaloneNet.OutputFeatures, 9).Sample(c =>
        {
            var net = new StandaloneNet.Float64(maxBatchSize: 9, seed: c.Seed);
            CheckGradients(net, c.X, c.R, Smooth, c.Seed);
        }, iter: 60);

    [Fact]
    public void InferenceNet_gradients_match_central_differences() =>
        Case(InferenceNet.InputFeatures, InferenceNet.OutputFeatures, 5).Sample(c =>
        {
            var net = new InferenceNet.Float64(maxBatchSize: 5, seed: c.Seed);
            CheckGradients(net, c.X, c.R, Smooth, c.Seed);
        }, iter: 60);

    [Fact]
    public void ReluNet_gradients_match_central_differences_away_from_the_kink()
    {
        int checkedCases = 0;
        Case(ReluNet.InputFeatures, ReluNet.OutputFeatures, 7).Sample(c =>
        {
            var net = new ReluNet.Float64(maxBatchSize: 7, seed: c.Seed);
            // Kink exclusion: skip a case whose hidden pre-activations come within the band of 0 (computed by the
            // independent reference forward).
            var p = net.Parameters;
            var (_, z) = Reference.Dense(c.X, p.Slice(Offset(net, "Dense1.Weights"), 11 * 40), p.Slice(Offset(net, "Dense1.Bias"), 40),
                c.Batch, 11, 40, Reference.Act.Identity);
            foreach (double v in z) if (Math.Abs(v) < Kinked.KinkBand) return;
            CheckGradients(net, c.X, c.R, Kinked, c.Seed);
            checkedCases++;
        }, iter: 60, threads: 1);
        Assert.True(checkedCases >= 30, $"only {checkedCases} cases were away from the kink");
    }

    [Fact]
    public void Softmax_cross_entropy_gradient_matches_central_differences() =>
        Gen.Select(Gen.ULong, Gen.Int[1, 7]).SelectMany(t => Gen.Double[-2, 2].Array[t.Item2 * 11].Select(x => (t.Item1, t.Item2, x)))
            .SelectMany(t => Gen.Int[0, 6].Array[t.Item2].Select(labels => (Seed: t.Item1, Batch: t.Item2, X: t.x, Labels: labels)))
            .Sample(c =>
            {
                var net = new ReluNet.Float64(maxBatchSize: 7, seed: c.Seed);
                var p = net.Parameters;
                var (_, z) = Reference.Dense(c.X, p.Slice(Offset(net, "Dense1.Weights"), 11 * 40), p.Slice(Offset(net, "Dense1.Bias"), 40),
                    c.Batch, 11, 40, Reference.Act.Identity);
                foreach (double v in z) if (Math.Abs(v) < 1e-3) return;
                double loss = net.ComputeGradients(c.X, c.Labels);
                Assert.Equal(net.Loss(c.X, c.Labels), loss, 12);
                var analytic = new List<double>();
                var numeric = new List<double>();
                foreach (int i in Coordinates(net, 80, c.Seed))
                {
                    analytic.Add(net.Gradients[i]);
                    double saved = net.Parameters[i];
                    net.Parameters[i] = saved + 1e-6;
                    double plus = net.Loss(c.X, c.Labels);
                    net.Parameters[i] = saved - 1e-6;
                    double minus = net.Loss(c.X, c.Labels);
                    net.Parameters[i] = saved;
                    numeric.Add((plus - minus) / 2e-6);
                }
                double error = Reference.RelativeError(analytic, numeric);
                Assert.True(error < 1e-7, $"softmax cross-entropy: relative error {error:E3}, seed {c.Seed}");
            }, iter: 40);

    [Fact]
    public void L2_loss_gradient_matches_central_differences() =>
        Case(SmoothNet.InputFeatures, SmoothNet.OutputFeatures, 6).Sample(c =>
        {
            var net = new SmoothNet.Float64(maxBatchSize: 6, seed: c.Seed);
            double[] targets = c.R; // [batch × outputs]
            net.ComputeGradients(c.X, targets);
            var analytic = new List<double>();
            var numeric = new List<double>();
            foreach (int i in Coordinates(net, 60, c.Seed))
            {
                analytic.Add(net.Gradients[i]);
                double saved = net.Parameters[i];
                net.Parameters[i] = saved + 1e-5;
                double plus = net.Loss(c.X, targets);
                net.Parameters[i] = saved - 1e-5;
                double minus = net.Loss(c.X, targets);
                net.Parameters[i] = saved;
                numeric.Add((plus - minus) / 2e-5);
            }
            double error = Reference.RelativeError(analytic, numeric);
            Assert.True(error < 1e-7, $"L2 loss: relative error {error:E3}, seed {c.Seed}");
        }, iter: 30);

    /// <summary>Checks parameter and input gradients of L = Σ r·y against central differences of Predict.</summary>
    private static void CheckGradients(INeuralNetwork<double> net, double[] x, double[] r, Tolerance tolerance, ulong seed)
    {
        int batch = x.Length / net.InputSize;
        net.Forward(x);
        var dx = new double[x.Length];
        net.Backward(r, dx);
        double[] gradients = net.Gradients.ToArray();
        var y = new double[batch * net.OutputSize];

        double L(double[] inputs)
        {
            net.Predict(inputs, y);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += r[i] * y[i];
            return s;
        }

        var analytic = new List<double>();
        var numeric = new List<double>();
        foreach (int i in Coordinates(net, tolerance.MaxCoordinates, seed))
        {
            double saved = net.Parameters[i];
            net.Parameters[i] = saved + tolerance.Step;
            double plus = L(x);
            net.Parameters[i] = saved - tolerance.Step;
            double minus = L(x);
            net.Parameters[i] = saved;
            analytic.Add(gradients[i]);
            numeric.Add((plus - minus) / (2 * tolerance.Step));
        }
        double parameterError = Reference.RelativeError(analytic, numeric);
        Assert.True(parameterError < tolerance.MaxRelativeError,
            $"{net.GetType().FullName}: parameter-gradient relative error {parameterError:E3} (batch {batch}, seed {seed}); first analytic/numeric {analytic[0]:R}/{numeric[0]:R}");

        analytic.Clear();
        numeric.Clear();
        var xs = (double[])x.Clone();
        for (int i = 0; i < x.Length && i < tolerance.MaxCoordinates; i++)
        {
            xs[i] = x[i] + tolerance.Step;
            double plus = L(xs);
            xs[i] = x[i] - tolerance.Step;
            double minus = L(xs);
            xs[i] = x[i];
            analytic.Add(dx[i]);
            numeric.Add((plus - minus) / (2 * tolerance.Step));
        }
        double inputError = Reference.RelativeError(analytic, numeric);
        Assert.True(inputError < tolerance.MaxRelativeError,
            $"{net.GetType().FullName}: input-gradient relative error {inputError:E3} (batch {batch}, seed {seed})");
    }

    /// <summary>Up to <paramref name="cap"/> parameter indices spread over every tensor (never arena padding), always including each tensor's first and last element.</summary>
    internal static IEnumerable<int> Coordinates(INeuralNetwork<double> net, int cap, ulong seed)
    {
        var random = new KernelRandom(seed, 99);
        int perTensor = Math.Max(2, cap / Math.Max(1, net.ParameterTensors.Count));
        foreach (ParameterTensor t in net.ParameterTensors)
        {
            yield return t.Offset;
            yield return t.Offset + t.Length - 1;
            for (int k = 2; k < perTensor && k < t.Length; k++) yield return t.Offset + random.NextInt(t.Length);
        }
    }

    internal static int Offset<T>(INeuralNetwork<T> net, string name) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        foreach (ParameterTensor t in net.ParameterTensors) if (t.Name == name) return t.Offset;
        throw new ArgumentException(name);
    }
}
