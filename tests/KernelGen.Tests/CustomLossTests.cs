using System;
using System.Linq;
using Xunit;

namespace KernelGen.Tests;

/// <summary>Element-wise losses written as ordinary C#: ℓ(y, t), differentiated in y by the generator.</summary>
public static class UserLosses
{
    [LossFunction]
    public static double Huber(double y, double t, double delta)
    {
        var d = y - t;
        var a = Math.Abs(d);
        return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
    }

    // log cosh d = d + log(1 + e^(−2d)) − log 2, without overflow.
    [LossFunction] public static double LogCosh(double y, double t) => y - t + ActivationMath.Softplus(-2 * (y - t)) - Math.Log(2);

    [LossFunction] public static double Pinball(double y, double t, double tau) => t - y > 0 ? tau * (t - y) : (tau - 1) * (t - y);

    [LossFunction] public static double WeightedSquare(double y, double t) => (t > 0 ? 3 : 1) * Math.Pow(y - t, 2);
}

[Network(5)] [Dense(8, Activation.Tanh)] [Dense(3)] [CustomLoss(typeof(UserLosses), nameof(UserLosses.Huber), 0.7)] [Adam(0.01)]
public partial class HuberNet;
[Network(5)] [Dense(8, Activation.Tanh)] [Dense(3)] [CustomLoss(typeof(UserLosses), nameof(UserLosses.LogCosh))] [Adam(0.01)]
public partial class LogCoshNet;
[Network(5)] [Dense(8, Activation.Tanh)] [Dense(3)] [CustomLoss(typeof(UserLosses), nameof(UserLosses.Pinball), 0.9)] [Adam(0.01)]
public partial class PinballNet;
[Network(5)] [Dense(8, Activation.Tanh)] [Dense(3)] [CustomLoss(typeof(UserLosses), nameof(UserLosses.WeightedSquare))] [Adam(0.01)]
public partial class WeightedSquareNet;
[Network(5)] [Dense(8, Activation.Tanh)] [Dense(3)] [CustomLoss(typeof(UserLosses), nameof(UserLosses.Huber), 0.7, Reduction = LossReduction.Sum)] [Adam(0.01)]
public partial class HuberSumNet;
[Network(5)] [Dense(8, Activation.Tanh)] [Dense(3)] [CustomLoss(typeof(UserLosses), nameof(UserLosses.Huber), 0.7, Reduction = LossReduction.Mean)] [Adam(0.01)]
public partial class HuberMeanNet;

public sealed class CustomLossTests
{
    public static TheoryData<string> Losses => ["Huber", "LogCosh", "Pinball", "WeightedSquare"];

    private static Func<double, double, double> Reference(string name) => name switch
    {
        "Huber" => (y, t) => UserLosses.Huber(y, t, 0.7),
        "LogCosh" => UserLosses.LogCosh,
        "Pinball" => (y, t) => UserLosses.Pinball(y, t, 0.9),
        _ => UserLosses.WeightedSquare,
    };

    private static TrainableNetworkBaseOf Create(string name, ulong seed) =>
        new((ITrainableNetwork<double, double>)Activator.CreateInstance(typeof(CustomLossTests).Assembly.GetType($"KernelGen.Tests.{name}Net+Float64", throwOnError: true)!, 8, seed)!);

    private sealed record TrainableNetworkBaseOf(ITrainableNetwork<double, double> Net);

    [Theory]
    [MemberData(nameof(Losses))]
    public void The_loss_is_the_users_method_summed_over_outputs_and_averaged_over_the_batch(string name)
    {
        var net = Create(name, 1).Net;
        var random = new KernelRandom(7);
        double[] x = [.. Enumerable.Range(0, 8 * 5).Select(_ => random.NextGaussian())];
        double[] t = [.. Enumerable.Range(0, 8 * 3).Select(_ => random.NextGaussian())];
        var y = new double[8 * 3];
        net.Predict(x, y);
        Func<double, double, double> l = Reference(name);
        double expected = Enumerable.Range(0, y.Length).Sum(i => l(y[i], t[i])) / 8;
        Assert.Equal(expected, net.Loss(x, t), 12);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void The_derived_gradient_passes_the_gradient_check(string name)
    {
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            var net = Create(name, seed).Net;
            var random = new KernelRandom(seed, 3);
            double[] x = [.. Enumerable.Range(0, 6 * 5).Select(_ => random.NextGaussian() * 2)];
            double[] t = [.. Enumerable.Range(0, 6 * 3).Select(_ => random.NextGaussian())];
            GradientCheckReport report = GradientCheck.Run(net, x, t, new GradientCheckOptions { Seed = seed, Epsilon = 1e-6 });
            Assert.True(report.Passed, $"{name} seed {seed}:\n{report}");
        }
    }

    [Fact]
    public void Reductions_scale_a_users_loss()
    {
        var random = new KernelRandom(5);
        double[] x = [.. Enumerable.Range(0, 8 * 5).Select(_ => random.NextGaussian())];
        double[] t = [.. Enumerable.Range(0, 8 * 3).Select(_ => random.NextGaussian())];
        double batchMean = new HuberNet.Float64(8, 1).Loss(x, t);
        Assert.Equal(8 * batchMean, new HuberSumNet.Float64(8, 1).Loss(x, t), 12);
        Assert.Equal(batchMean / 3, new HuberMeanNet.Float64(8, 1).Loss(x, t), 12);
    }

    [Fact]
    public void Training_with_a_users_loss_allocates_nothing_and_learns()
    {
        var net = new HuberNet(32, seed: 2);
        var random = new KernelRandom(4);
        float[] x = [.. Enumerable.Range(0, 32 * 5).Select(_ => (float)random.NextGaussian())];
        // Targets a smooth function of the inputs.
        float[] t = [.. Enumerable.Range(0, 32 * 3).Select(i => MathF.Tanh(x[(i / 3) * 5 + i % 3] - x[(i / 3) * 5 + 4]))];
        float first = net.TrainStep(x, t);
        for (int i = 0; i < 5; i++) net.TrainStep(x, t);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 300; i++) net.TrainStep(x, t);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(net.Loss(x, t) < first / 5, $"loss {first} → {net.Loss(x, t)}");
        Assert.Equal(LossKind.Custom, ((Runtime.NetworkBase<float>)(object)net).Model.Loss);
        Assert.Equal("UserLosses.Huber(y, t, 0.7)", ((Runtime.NetworkBase<float>)(object)net).Model.CustomLoss);
    }
}
