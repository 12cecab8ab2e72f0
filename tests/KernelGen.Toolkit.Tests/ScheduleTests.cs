using System;
using KernelGen.Optimization;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// Cosine annealing against PyTorch's CosineAnnealingLR closed form, η_t = η_min + ½(η − η_min)(1 + cos(π·t/T)) for
/// every t (periodic past T), and the explicit hold-at-minimum variant. Expected values are the closed form's exact
/// values at its landmarks (cos 0 = 1, cos π/2 = 0, cos π = −1, cos 3π/2 = 0, cos 2π = 1), written out by hand.
/// </summary>
public class ScheduleTests
{
    private const double Eta = 0.5, Minimum = 0.1;
    private const long T = 20;

    [Theory]
    [InlineData(0, Eta)]                              // start
    [InlineData(T / 2, (Eta + Minimum) / 2)]          // half way down
    [InlineData(T, Minimum)]                          // the minimum
    [InlineData(3 * T / 2, (Eta + Minimum) / 2)]      // half way back up: PyTorch does not hold η_min
    [InlineData(2 * T, Eta)]                          // back at η
    [InlineData(5 * T / 2, (Eta + Minimum) / 2)]      // and on, with period 2T
    public void Cosine_follows_pytorchs_closed_form_past_its_period(long t, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.Cosine(T, Minimum).LearningRate(Eta, t), 14);

    [Fact]
    public void Cosine_between_the_landmarks_and_after_a_warm_up()
    {
        // t = T/4 and 7T/4: cos(π/4) = cos(7π/4) = √2/2.
        double quarter = Minimum + 0.5 * (Eta - Minimum) * (1 + Math.Sqrt(0.5));
        Assert.Equal(quarter, LearningRateSchedule.Cosine(T, Minimum).LearningRate(Eta, T / 4), 14);
        Assert.Equal(quarter, LearningRateSchedule.Cosine(T, Minimum).LearningRate(Eta, 7 * T / 4), 14);
        // A warm-up of W steps shifts the cosine by W.
        LearningRateSchedule warm = LearningRateSchedule.Cosine(T, Minimum).WithWarmup(5);
        Assert.Equal(Minimum, warm.LearningRate(Eta, 5 + T), 14);
        Assert.Equal((Eta + Minimum) / 2, warm.LearningRate(Eta, 5 + 3 * T / 2), 14);
        Assert.Equal(Eta, warm.LearningRate(Eta, 5 + 2 * T), 14);
    }

    [Theory]
    [InlineData(0, Eta)]
    [InlineData(T / 2, (Eta + Minimum) / 2)]
    [InlineData(T, Minimum)]
    [InlineData(3 * T / 2, Minimum)]
    [InlineData(2 * T, Minimum)]
    [InlineData(100 * T, Minimum)]
    public void CosineThenMinimum_holds_the_minimum_after_its_period(long t, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.CosineThenMinimum(T, Minimum).LearningRate(Eta, t), 14);

    [Fact]
    public void The_optimizer_uses_the_periodic_schedule_step_by_step()
    {
        var optimizer = new Optimizer<double>(OptimizerSettings.Create(OptimizerKind.Sgd, Eta), 1,
            [new ParameterTensor("w", 0, 1, 1, true)], LearningRateSchedule.Cosine(4, 0));
        var p = new double[1];
        var g = new double[] { 1 };
        // T = 4, η_min = 0: the landmarks fall on even steps t = 0, 2, 4, 6, 8 (the first update is t = 0).
        double[] expected = [Eta, Eta / 2, 0, Eta / 2, Eta];
        for (int t = 0; t <= 8; t++)
        {
            optimizer.Step(p, g);
            if (t % 2 == 0) Assert.Equal(expected[t / 2], optimizer.CurrentLearningRate, 14);
        }
    }

    [Fact]
    public void Both_variants_validate_their_parameters()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.CosineThenMinimum(0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.CosineThenMinimum(10, -1).Validate());
        LearningRateSchedule.CosineThenMinimum(10, 0.01).Validate();
    }
}
