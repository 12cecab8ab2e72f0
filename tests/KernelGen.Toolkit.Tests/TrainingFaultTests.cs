using System;
using System.Linq;
using System.Runtime.InteropServices;
using KernelGen.Data;
using KernelGen.Training;
using Xunit;
using Xunit.Abstractions;

using KernelGen.Demo;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// The trainer's fault handling: an explosion undoes the whole training state of the epoch, the explosion rule does not
/// fire on a network that starts out well trained, and a remainder batch of one row never reaches BatchNorm. Expected
/// states are the network's own spans captured before the fault.
/// </summary>
public sealed class TrainingFaultTests(ITestOutputHelper output)
{
    private static Dataset SpiralData(int perClass, ulong seed)
    {
        (float[] x, int[] y) = Spiral.Generate(perClass, 3, seed);
        return new Dataset(x, y, 2, 3);
    }

    private static TrainerOptions Quiet(int epochs, int batch) =>
        new() { Epochs = epochs, BatchSize = batch, };

    /// <summary>Everything a step changes, as bytes and numbers.</summary>
    private sealed record Snapshot(byte[] Parameters, byte[] Statistics, byte[] Slots, long StepCount, double MomentumProduct, ulong DropoutStep);

    private static Snapshot Capture(ITrainableNetwork<float, int> net) => new(
        MemoryMarshal.AsBytes(net.Parameters).ToArray(),
        MemoryMarshal.AsBytes(net.RunningStatistics).ToArray(),
        Enumerable.Range(0, net.Optimizer.StateSlots).SelectMany(s => MemoryMarshal.AsBytes(net.Optimizer.State(s)).ToArray()).ToArray(),
        net.Optimizer.StepCount, net.Optimizer.MomentumProduct, net.DropoutStep);

    // ---- explosion recovery ------------------------------------------------------------------------------------------

    [Fact]
    public void An_explosion_restores_the_optimizer_state_with_the_parameters()
    {
        // SGD with momentum 0.9: one healthy epoch, then a learning rate 1e4 times too high from epoch 2 on.
        var net = new SgdSpiral(30, 3);
        Snapshot? afterEpoch1 = null;
        var options = Quiet(5, 30) with
        {
            EpochCompleted = m =>
            {
                if (m.Epoch != 1) return;
                afterEpoch1 = Capture(net);
                net.LearningRate = 1e3f;
            },
        };
        TrainingResult result = new Trainer(net, options).Fit(SpiralData(100, 2));

        Assert.Equal(StopReason.Exploded, result.Reason);
        Assert.Equal(1, result.EpochsCompleted);
        Assert.NotNull(afterEpoch1);
        Snapshot restored = Capture(net);
        Assert.Equal(afterEpoch1.Parameters, restored.Parameters);
        Assert.Equal(afterEpoch1.Statistics, restored.Statistics);
        Assert.True(afterEpoch1.Slots.SequenceEqual(restored.Slots), "the momentum buffer was not restored");
        Assert.Equal(afterEpoch1.StepCount, restored.StepCount);
        Assert.Equal(afterEpoch1.MomentumProduct, restored.MomentumProduct);
        Assert.Equal(afterEpoch1.DropoutStep, restored.DropoutStep);
        Assert.All(MemoryMarshal.Cast<byte, float>(restored.Slots).ToArray(), v => Assert.True(Math.Abs(v) < 100, $"momentum {v}"));
    }

    /// <summary>The symptom: after an explosion, training on at a healthy learning rate must carry on from the
    /// restored state instead of being thrown off by the exploded momentum buffer.</summary>
    [Fact]
    public void Training_resumes_normally_at_a_healthy_learning_rate_after_an_explosion()
    {
        var net = new SgdSpiral(30, 3);
        Dataset data = SpiralData(100, 2);
        float healthy = net.LearningRate;
        double lossAfterEpoch1 = double.NaN;
        var options = Quiet(5, 30) with
        {
            EpochCompleted = m =>
            {
                if (m.Epoch != 1) return;
                lossAfterEpoch1 = Trainer.Evaluate(net, data).Loss;
                net.LearningRate = 1e3f;
            },
        };
        Assert.Equal(StopReason.Exploded, new Trainer(net, options).Fit(data).Reason);

        net.LearningRate = healthy;
        TrainingResult resumed = new Trainer(net, Quiet(5, 30)).Fit(data);
        double lossAfter = Trainer.Evaluate(net, data).Loss;
        output.WriteLine($"loss after epoch 1 {lossAfterEpoch1:G4}; after 5 more healthy epochs {lossAfter:G4} ({resumed.Reason})");
        Assert.Equal(StopReason.Completed, resumed.Reason);
        Assert.True(lossAfter < lossAfterEpoch1, $"loss {lossAfterEpoch1} → {lossAfter}");
    }

    // ---- the explosion rule ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(1.1, 3, 1, 3.3)]        // a fresh network: 3 × the initial loss, as before
    [InlineData(0.02, 3, 1, 1.02)]      // a trained one: the absolute margin decides
    [InlineData(0.5, 3, 1, 1.5)]        // where the two meet
    [InlineData(0.02, 3, 0, 0.06)]      // margin 0: the notes' pure 3× rule
    public void The_explosion_threshold_is_the_larger_of_the_factor_and_the_margin(double initial, double factor, double margin, double expected)
    {
        var options = new TrainerOptions { ExplosionFactor = factor, ExplosionMargin = margin };
        Assert.Equal(expected, options.ExplosionThreshold(initial), 12);
        Assert.True(double.IsPositiveInfinity((options with { ExplosionFactor = double.PositiveInfinity }).ExplosionThreshold(initial)));
    }

    /// <summary>Fitting an already-trained network again: its first batch loss is tiny, so mini-batch noise alone used to
    /// exceed 3 × it (one run in five "exploded"). Ten re-fits with different shuffles must all complete.</summary>
    [Fact]
    public void Refitting_a_trained_network_does_not_explode()
    {
        Dataset data = SpiralData(100, 7);
        var net = new SpiralClassifier(30, 1);
        TrainingResult first = new Trainer(net, Quiet(150, 30)).Fit(data);
        Assert.Equal(StopReason.Completed, first.Reason);
        float[] trained = net.Parameters.ToArray();
        int exploded = 0;
        for (ulong seed = 1; seed <= 10; seed++)
        {
            trained.CopyTo(net.Parameters);
            net.Optimizer.Reset();
            TrainingResult again = new Trainer(net, Quiet(3, 30) with { Seed = seed }).Fit(data);
            output.WriteLine($"seed {seed}: {again.Reason} {again.Message}");
            if (again.Reason == StopReason.Exploded) exploded++;
        }
        Assert.Equal(0, exploded);
    }

    [Fact]
    public void A_real_explosion_is_still_detected_from_a_trained_start()
    {
        Dataset data = SpiralData(100, 7);
        var net = new SgdSpiral(30, 5);
        Assert.Equal(StopReason.Completed, new Trainer(net, Quiet(40, 30)).Fit(data).Reason);
        net.LearningRate = 1e3f;
        TrainingResult result = new Trainer(net, Quiet(5, 30)).Fit(data);
        Assert.Equal(StopReason.Exploded, result.Reason);
    }

    [Fact]
    public void The_margin_is_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(new SpiralClassifier(8), new TrainerOptions { BatchSize = 8, ExplosionMargin = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(new SpiralClassifier(8), new TrainerOptions { BatchSize = 8, ExplosionMargin = double.NaN }));
    }

    // ---- a last batch of one row and BatchNorm -----------------------------------------------------------------------

    [Fact]
    public void A_remainder_of_one_row_is_dropped_when_the_network_has_batch_norm()
    {
        // 65 samples in batches of 64: the second batch would hold one row, which BatchNorm cannot normalize.
        Dataset data = SpiralData(22, 3).Subset(0, 65);
        var net = new BatchNormSpiral(64, 1);
        TrainingResult result = new Trainer(net, Quiet(4, 64)).Fit(data);
        Assert.Equal(StopReason.Completed, result.Reason);
        Assert.Equal(4, result.Iterations); // one full batch per epoch; the remainder row is dropped
        Assert.Equal(4, net.Optimizer.StepCount);
    }

    [Fact]
    public void Without_batch_norm_the_remainder_of_one_row_is_trained_on()
    {
        Dataset data = SpiralData(22, 3).Subset(0, 65);
        TrainingResult result = new Trainer(new SpiralClassifier(64, 1), Quiet(4, 64)).Fit(data);
        Assert.Equal(StopReason.Completed, result.Reason);
        Assert.Equal(8, result.Iterations);
    }

    [Fact]
    public void Batch_norm_with_batches_of_one_is_refused_before_training()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(new BatchNormSpiral(8, 1), Quiet(1, 1)));
        Assert.Contains("BatchNorm", e.Message, StringComparison.Ordinal);
        // A remainder of two rows is fine: it reaches BatchNorm as a batch of two.
        TrainingResult result = new Trainer(new BatchNormSpiral(64, 1), Quiet(2, 64)).Fit(SpiralData(22, 3).Subset(0, 66));
        Assert.Equal(4, result.Iterations);
    }
}
