using System;
using System.Linq;
using System.Numerics;
using System.Threading;
using KernelGen;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>A BatchNorm network with Adam and dropout, and a hook that holds a public call open (for the concurrency tests).</summary>
[Network(6)]
[Dense(12, Activation.ReLU)]
[BatchNorm]
[Dropout(0.25)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class GuardNet
{
    /// <summary>Runs <paramref name="action"/> as if inside a public call of this network.</summary>
    public void HoldWhile(Action action)
    {
        bool entered = Enter();
        try { action(); }
        finally { Exit(entered); }
    }
}

/// <summary>
/// Hostile use of a network at run time: finite inputs that overflow the arithmetic never leave non-finite state
/// behind and never yield non-finite outputs silently; a call from a second thread during another thread's call is
/// refused rather than silently wrong.
/// </summary>
public sealed class ReliabilityTests(ITestOutputHelper output)
{
    private static T[] Inputs<T>(int count, double scale, int seed = 1) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => T.CreateTruncating((random.NextDouble() * 2 - 1) * scale))];
    }

    /// <summary>Everything a training step may change, as one array.</summary>
    private static double[] Snapshot<T>(Runtime.TrainableNetworkBase<T, int> net) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var all = net.Parameters.ToArray().Concat(net.RunningStatistics.ToArray()).Select(double.CreateTruncating).ToList();
        for (int s = 0; s < net.Optimizer.StateSlots; s++) all.AddRange(net.Optimizer.State(s).ToArray().Select(double.CreateTruncating));
        all.Add(net.Optimizer.StepCount);
        all.Add(net.DropoutStep);
        return [.. all];
    }

    private static void Warm<T>(Runtime.TrainableNetworkBase<T, int> net) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < 3; i++) net.TrainStep(Inputs<T>(8 * 6, 1, i), [0, 1, 2, 0, 1, 2, 0, 1]);
    }

    [Theory]
    [InlineData(1e19)]   // squares overflow float in the batch variance
    [InlineData(3e38)]   // overflows the first dense layer
    public void A_float_training_step_on_overflowing_inputs_throws_and_changes_nothing(double scale)
    {
        var net = new GuardNet(8, seed: 3);
        Warm(net);
        double[] before = Snapshot(net);
        var e = Assert.Throws<ArithmeticException>(() => net.TrainStep(Inputs<float>(8 * 6, scale), [0, 1, 2, 0, 1, 2, 0, 1]));
        output.WriteLine(e.Message);
        Assert.Equal(before, Snapshot(net));
        Assert.Throws<ArithmeticException>(() => net.Forward(Inputs<float>(8 * 6, scale)));
        Assert.Equal(before, Snapshot(net));
        Assert.Throws<ArithmeticException>(() => net.ComputeGradients(Inputs<float>(8 * 6, scale), [0, 1, 2, 0, 1, 2, 0, 1]));
        Assert.Equal(before[..(net.Parameters.Length + net.RunningStatistics.Length)], Snapshot(net)[..(net.Parameters.Length + net.RunningStatistics.Length)]);

        // Training goes on as if nothing had happened, bit for bit like a twin that never saw the bad batch.
        var twin = new GuardNet(8, seed: 3);
        Warm(twin);
        float[] x = Inputs<float>(8 * 6, 1, 9);
        Assert.Equal(twin.TrainStep(x, [2, 1, 0, 2, 1, 0, 2, 1]), net.TrainStep(x, [2, 1, 0, 2, 1, 0, 2, 1]));
        Assert.Equal(Snapshot(twin), Snapshot(net));
    }

    [Fact]
    public void A_double_training_step_on_overflowing_inputs_throws_and_changes_nothing()
    {
        var net = new GuardNet.Float64(8, seed: 3);
        Warm(net);
        double[] before = Snapshot(net);
        Assert.Throws<ArithmeticException>(() => net.TrainStep(Inputs<double>(8 * 6, 1e160), [0, 1, 2, 0, 1, 2, 0, 1]));
        Assert.Equal(before, Snapshot(net));
    }

    [Fact]
    public void Running_statistics_never_become_infinite_from_finite_inputs()
    {
        // The defect: ±1e19 inputs gave a normal loss while BatchNorm's running variance became ∞, and Predict then
        // returned garbage for every input.
        var net = new GuardNet(8, seed: 5);
        float[] huge = [.. Enumerable.Range(0, 8 * 6).Select(i => i % 2 == 0 ? 1e19f : -1e19f)];
        try { net.TrainStep(huge, [0, 1, 2, 0, 1, 2, 0, 1]); }
        catch (ArithmeticException) { }
        Assert.All(net.RunningStatistics.ToArray(), v => Assert.True(float.IsFinite(v)));
        var y = new float[3];
        net.Predict(Inputs<float>(6, 1), y);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Predict_on_overflowing_inputs_throws_instead_of_returning_non_finite_outputs()
    {
        var net = new MnistNet(2, seed: 1);
        float[] x = [.. Enumerable.Repeat(3e38f, 2 * 784)];
        float[] parameters = net.Parameters.ToArray();
        var e = Assert.Throws<ArithmeticException>(() => net.Predict(x, new float[20]));
        Assert.Contains("output [0, ", e.Message, StringComparison.Ordinal);
        Assert.Equal(parameters, net.Parameters.ToArray());

        var inference = net.CreateInference(2);
        Assert.Throws<ArithmeticException>(() => inference.Predict(x, new float[20]));
        // Ordinary inputs still work afterwards.
        var y = new float[20];
        inference.Predict(Inputs<float>(2 * 784, 1), y);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(1e20f)]    // finite, but its square overflows the optimizer's second moment
    public void ApplyGradients_refuses_gradients_it_cannot_update_with(float bad)
    {
        var net = new GuardNet(8, seed: 2);
        Warm(net);
        double[] before = Snapshot(net);
        net.Gradients[5] = bad;
        var e = Assert.Throws<ArithmeticException>(net.ApplyGradients);
        Assert.Contains("Dense1", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(net));
    }

    [Fact]
    public void The_gradient_scan_finds_the_first_bad_value_at_every_position_and_length()
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e20f, -1e20f, 2f, -2f })
            for (int n = 0; n <= 150; n += n < 70 ? 1 : 7)
            {
                var data = new float[n];
                for (int i = 0; i < n; i++) data[i] = (i % 3 - 1) * 1.9f;
                Assert.Equal(-1, Operators.Elementwise.IndexOfNotBelow<float>(data, 2f));
                for (int p = 0; p < n; p++)
                {
                    float keep = data[p];
                    data[p] = bad;
                    if (p + 1 < n) data[n - 1] = float.NaN; // a later bad value must not win
                    Assert.Equal(p, Operators.Elementwise.IndexOfNotBelow<float>(data, 2f));
                    data[p] = keep;
                    if (p + 1 < n) data[n - 1] = (n - 1) % 3 - 1;
                }
            }
        double[] d = [0, 1, double.NaN, 3];
        Assert.Equal(2, Operators.Elementwise.IndexOfNotBelow<double>(d, 10.0));
    }

    [Fact]
    public void The_sum_of_squares_is_exact_enough_and_non_finite_for_any_bad_element()
    {
        var random = new Random(3);
        for (int n = 0; n <= 300; n += n < 80 ? 1 : 13)
        {
            float[] data = [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
            double reference = data.Sum(v => (double)v * v);
            Assert.True(Math.Abs(Operators.Elementwise.SumOfSquares<float>(data) - reference) <= 1e-5 * (1 + reference), $"n = {n}");
            double[] wide = [.. data.Select(v => (double)v)];
            Assert.True(Math.Abs(Operators.Elementwise.SumOfSquares<double>(wide) - reference) <= 1e-13 * (1 + reference), $"n = {n} (double)");
            for (int p = 0; p < n; p += 1 + n / 7)
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 2e19f })
                {
                    float keep = data[p];
                    data[p] = bad;
                    Assert.False(float.IsFinite(Operators.Elementwise.SumOfSquares<float>(data)), $"n = {n}, p = {p}, {bad}");
                    data[p] = keep;
                }
        }
    }

    [Fact]
    public void A_second_thread_is_refused_while_a_call_is_in_progress()
    {
        var net = new GuardNet(8, seed: 1);
        float[] x = Inputs<float>(8 * 6, 1);
        int[] labels = [0, 1, 2, 0, 1, 2, 0, 1];
        var y = new float[8 * 3];
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() => net.HoldWhile(() => { inside.Set(); release.Wait(); }));
        holder.Start();
        inside.Wait();
        try
        {
            double[] before = Snapshot(net);
            var e = Assert.Throws<InvalidOperationException>(() => net.Predict(x, y));
            Assert.Contains("one thread at a time", e.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidOperationException>(() => net.TrainStep(x, labels));
            Assert.Throws<InvalidOperationException>(() => net.Forward(x));
            Assert.Throws<InvalidOperationException>(() => net.ComputeGradients(x, labels));
            Assert.Throws<InvalidOperationException>(() => net.Loss(x, labels));
            Assert.Throws<InvalidOperationException>(net.ApplyGradients);
            Assert.Throws<InvalidOperationException>(() => net.Initialize(7));
            Assert.Equal(before, Snapshot(net));
        }
        finally
        {
            release.Set();
            holder.Join();
        }
        // Free again; nested calls on one thread are fine.
        net.Predict(x, y);
        net.HoldWhile(() => net.TrainStep(x, labels));
        net.Predict(x, y);
    }

    [Fact]
    public void Two_threads_hammering_one_network_never_get_a_wrong_answer()
    {
        // Without the guard, 12% of overlapping Predict calls returned wrong outputs silently. Now each call either
        // returns exactly the single-threaded answer or throws.
        var net = new MnistNet(16, seed: 4);
        var inference = net.CreateInference(16);
        float[][] inputs = [Inputs<float>(16 * 784, 1, 1), Inputs<float>(16 * 784, 1, 2)];
        float[][] expected = [new float[160], new float[160]], expectedFolded = [new float[160], new float[160]];
        for (int t = 0; t < 2; t++)
        {
            net.Predict(inputs[t], expected[t]);
            inference.Predict(inputs[t], expectedFolded[t]);
        }
        int refused = 0, wrong = 0, calls = 0;
        using var start = new Barrier(2);
        Thread[] workers = [.. Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            var y = new float[160];
            start.SignalAndWait();
            for (int i = 0; i < 1500; i++)
            {
                bool folded = i % 2 == 1;
                try
                {
                    if (folded) inference.Predict(inputs[t], y); else net.Predict(inputs[t], y);
                    Interlocked.Increment(ref calls);
                    if (!y.AsSpan().SequenceEqual(folded ? expectedFolded[t] : expected[t])) Interlocked.Increment(ref wrong);
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }))];
        foreach (Thread w in workers) w.Start();
        foreach (Thread w in workers) w.Join();
        output.WriteLine($"{calls} calls answered, {refused} refused, {wrong} wrong");
        Assert.Equal(0, wrong);
        Assert.Equal(3000, calls + refused);
    }
}

