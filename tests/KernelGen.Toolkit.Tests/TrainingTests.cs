using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using KernelGen.Data;
using KernelGen.Reporting;
using KernelGen.Training;
using Xunit;

using KernelGen.Demo;

namespace KernelGen.Toolkit.Tests;

/// <summary>The training loop, LSUV, ensembles and random search. Expected values come from independent computations
/// (the network's own spans before and after, manual matrix products), never from the code under test.</summary>
public class TrainingTests
{
    private static Dataset SpiralData(int perClass, ulong seed)
    {
        (float[] x, int[] y) = Spiral.Generate(perClass, 3, seed);
        return new Dataset(x, y, 2, 3);
    }

    private static TrainerOptions Quiet(int epochs, int batch) => new() { Epochs = epochs, BatchSize = batch, };

    [Fact]
    public void Trains_the_spiral_to_high_accuracy_and_records_every_epoch()
    {
        Dataset train = SpiralData(100, 7), validation = SpiralData(50, 8);
        var net = new SpiralClassifier(30, 1);
        TrainingResult result = new Trainer(net, Quiet(150, 30)).Fit(train, validation);
        Assert.Equal(StopReason.Completed, result.Reason);
        Assert.Equal(150, result.EpochsCompleted);
        Assert.Equal(150 * 10, result.Iterations);          // 300 samples / 30 per batch
        Assert.Equal(150, result.History.Epochs.Count);
        Evaluation final = Trainer.Evaluate(net, train);
        Assert.True(final.Accuracy >= 0.95, $"training accuracy {final.Accuracy}");
        Assert.True(result.History.Epochs[^1].TrainingLoss < result.History.Epochs[0].TrainingLoss / 4);
        // Validation data alone restores nothing: the network holds epoch 150's parameters, whose recorded validation
        // loss re-evaluating gives exactly, and the message says so.
        Assert.Equal(150, result.ParametersEpoch);
        Assert.Equal(result.History.Epochs[^1].ValidationLoss, Trainer.Evaluate(net, validation).Loss);
        Assert.EndsWith("The network holds the parameters of epoch 150, the last.", result.Message);
        Assert.Equal(result.History.BestEpoch(ValidationMetric.Loss), result.BestEpoch);
    }

    [Fact]
    public void Parameters_are_restored_only_with_early_stopping_or_when_asked()
    {
        Dataset tiny = SpiralData(4, 3), validation = SpiralData(100, 4);
        // Over-fitting a handful of points: the validation loss bottoms out early, so the best epoch is not the last.
        var kept = new OverfittingNet(12, 5);
        TrainingResult last = new Trainer(kept, Quiet(40, 12)).Fit(tiny, validation);
        Assert.True(last.BestEpoch < 40, $"best epoch {last.BestEpoch}");
        Assert.Equal(40, last.ParametersEpoch);
        Assert.Equal(last.History.Epochs[^1].ValidationLoss, Trainer.Evaluate(kept, validation).Loss);

        var restored = new OverfittingNet(12, 5);
        TrainingResult best = new Trainer(restored, Quiet(40, 12) with { RestoreBestParameters = true }).Fit(tiny, validation);
        Assert.Equal(last.BestEpoch, best.BestEpoch);                  // same seeds, same run
        Assert.Equal(best.BestEpoch, best.ParametersEpoch);
        Assert.Equal(best.History.Epochs[best.BestEpoch - 1].ValidationLoss, Trainer.Evaluate(restored, validation).Loss);
        Assert.Contains($"The network holds the parameters of epoch {best.BestEpoch}.", best.Message);
        Assert.Equal(best.BestEpoch, best.History.Outcome!.ParametersEpoch);

        Assert.Contains("validation data", Assert.Throws<ArgumentException>(() =>
            new Trainer(new OverfittingNet(12, 5), Quiet(2, 12) with { RestoreBestParameters = true }).Fit(tiny)).Message);
    }

    [Fact]
    public void Babysitting_statistics_match_an_independent_computation_on_the_last_batch()
    {
        var net = new SpiralClassifier(30, 2);
        TrainingResult result = new Trainer(net, Quiet(3, 30)).Fit(SpiralData(100, 1));
        Assert.Equal(3 * net.Layers.Count, result.History.LayerRecords.Count);
        // After Fit, LayerOutput still holds the epoch's last training batch: the statistics of epoch 3 describe it.
        for (int i = 0; i < net.Layers.Count; i++)
        {
            float[] a = net.LayerOutput(i).ToArray();
            double mean = a.Average(v => (double)v);
            double std = Math.Sqrt(a.Average(v => (v - mean) * (v - mean)));
            LayerEpochMetrics record = result.History.ForLayer(net.Layers[i].Name)[^1];
            Assert.Equal(3, record.Epoch);
            Assert.Equal(mean, record.ActivationMean, 1e-9);
            Assert.Equal(std, record.ActivationStandardDeviation, 1e-9);
            Assert.Equal(a.Length, record.ActivationHistogram!.Total);
            Assert.InRange(record.UpdateRatio, 1e-6, 1);       // Adam at 0.01 on fresh weights: a visible but bounded update
            Assert.True(record.GradientNorm > 0);
        }
    }

    [Fact]
    public void Early_stopping_restores_the_best_parameters()
    {
        Dataset tiny = SpiralData(4, 3), validation = SpiralData(100, 4);
        var net = new OverfittingNet(12, 5);
        var options = Quiet(400, 12) with { Patience = 5 };
        TrainingResult result = new Trainer(net, options).Fit(tiny, validation);
        Assert.Equal(StopReason.EarlyStopping, result.Reason);
        Assert.True(result.EpochsCompleted < 400);
        Assert.Equal(result.EpochsCompleted - 5, result.BestEpoch);
        Assert.Equal(result.Best.Loss, Trainer.Evaluate(net, validation).Loss);
        Assert.Equal(result.History.Epochs[result.BestEpoch - 1].ValidationLoss, result.Best.Loss);
        Assert.Contains("Early stopping", result.Message);
    }

    [Fact]
    public void Monitoring_validation_accuracy_restores_the_most_accurate_epoch()
    {
        Dataset tiny = SpiralData(6, 3), validation = SpiralData(100, 4);
        var net = new OverfittingNet(18, 6);
        TrainingResult result = new Trainer(net, Quiet(60, 18) with { Monitor = ValidationMetric.Accuracy, RestoreBestParameters = true }).Fit(tiny, validation);
        double best = result.History.Epochs.Max(e => e.ValidationAccuracy);
        int first = result.History.Epochs.First(e => e.ValidationAccuracy == best).Epoch;
        Assert.Equal(best, result.Best.Accuracy);
        Assert.True(result.BestEpoch >= first);
        Assert.Equal(best, Trainer.Evaluate(net, validation).Accuracy);
        Assert.Equal(result.History.BestEpoch(ValidationMetric.Accuracy), result.BestEpoch);   // the report's rule is the trainer's
    }

    [Fact]
    public void An_exploding_loss_stops_training_and_keeps_the_last_good_parameters()
    {
        var net = new SgdSpiral(30, 3);
        float[] initial = net.Parameters.ToArray();
        net.LearningRate = 1e4f;
        TrainingResult result = new Trainer(net, Quiet(5, 30)).Fit(SpiralData(100, 2));
        Assert.Equal(StopReason.Exploded, result.Reason);
        Assert.Contains("learning rate", result.Message);
        Assert.Equal(0, result.EpochsCompleted);
        Assert.Equal(initial, net.Parameters.ToArray());    // the state at the start of epoch 1
    }

    [Fact]
    public void Stop_requests_and_cancellation_end_after_the_current_batch()
    {
        var net = new SpiralClassifier(30, 4);
        Trainer? trainer = null;
        trainer = new Trainer(net, Quiet(10, 30) with { EpochCompleted = m => { if (m.Epoch == 2) trainer!.RequestStop(); } });
        TrainingResult result = trainer.Fit(SpiralData(100, 2));
        Assert.Equal(StopReason.Cancelled, result.Reason);
        Assert.Equal(2, result.EpochsCompleted);
        Assert.Equal(20, result.Iterations);

        using var source = new CancellationTokenSource();
        source.Cancel();
        TrainingResult none = new Trainer(new SpiralClassifier(30, 4), Quiet(10, 30)).Fit(SpiralData(100, 2), null, source.Token);
        Assert.Equal(StopReason.Cancelled, none.Reason);
        Assert.Equal(0, none.Iterations);
    }

    [Fact]
    public void Iteration_limit_and_bit_identical_reruns()
    {
        var a = new SpiralClassifier(32, 9);
        var b = new SpiralClassifier(32, 9);
        var options = Quiet(100, 32) with { MaxIterations = 25, Seed = 11 };
        TrainingResult ra = new Trainer(a, options).Fit(SpiralData(100, 5));
        TrainingResult rb = new Trainer(b, options).Fit(SpiralData(100, 5));
        Assert.Equal(StopReason.IterationLimit, ra.Reason);
        Assert.Equal(25, ra.Iterations);
        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
        Assert.Equal(ra.History.Epochs.Select(e => e.TrainingLoss), rb.History.Epochs.Select(e => e.TrainingLoss));
    }

    [Fact]
    public void The_epoch_loop_allocates_nothing()
    {
        // Two runs differing only in the number of epochs: every allocation outside the epoch loop is the same, so the
        // difference is what the extra epochs allocated (history lists stay within their first capacity).
        Dataset data = SpiralData(100, 6);
        long Run(int epochs)
        {
            var net = new SpiralClassifier(30, 1);
            var trainer = new Trainer(net, Quiet(epochs, 30) with { CollectLayerStatistics = false });
            KernelGen.Tests.HotLoop.WarmUp(() => trainer.Fit(data)); // tiered JIT
            net.Initialize(1);
            long before = GC.GetAllocatedBytesForCurrentThread();
            trainer.Fit(data);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // Code that allocates per epoch does so in every attempt; a JIT tier-up finishing on this thread (likelier while
        // other test classes keep the background compiler busy) shows up in one attempt at most.
        long fewest = long.MaxValue;
        for (int attempt = 0; attempt < 4 && fewest != 0; attempt++) fewest = Math.Min(fewest, Math.Abs(Run(3) - Run(1)));
        Assert.Equal(0, fewest);
    }

    [Fact]
    public void Invalid_data_and_options_are_rejected_clearly()
    {
        var net = new SpiralClassifier(30);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, Quiet(1, 31)));  // batch > MaxBatchSize
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, Quiet(0, 10)));
        var trainer = new Trainer(net, Quiet(1, 10));
        var wrongWidth = new Dataset(new float[30], new int[10], 3, 3);
        Assert.Contains("features", Assert.Throws<ArgumentException>(() => trainer.Fit(wrongWidth)).Message);
        var tooManyClasses = new Dataset(new float[20], Enumerable.Range(0, 10).ToArray(), 2, 10);
        Assert.Contains("labels", Assert.Throws<ArgumentException>(() => trainer.Fit(tooManyClasses)).Message);
        Assert.Throws<ArgumentException>(() => new Trainer(net, Quiet(1, 10) with { Patience = 2 }).Fit(SpiralData(10, 1)));
    }

    /// <summary>Records reports synchronously (Progress&lt;T&gt; would post them to a thread pool).</summary>
    private sealed class Recorder : IProgress<TrainingProgress>
    {
        public readonly List<TrainingProgress> Reports = [];
        public Action<TrainingProgress>? OnReport;
        public void Report(TrainingProgress value) { Reports.Add(value); OnReport?.Invoke(value); }
    }

    [Fact]
    public void Progress_is_reported_through_IProgress_and_nothing_reaches_the_console()
    {
        var recorder = new Recorder();
        TextWriter console = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            new Trainer(new SpiralClassifier(30, 1), Quiet(3, 30) with { Progress = recorder, ProgressInterval = TimeSpan.Zero })
                .Fit(SpiralData(100, 1), SpiralData(20, 2));
        }
        finally { Console.SetOut(console); }
        Assert.Equal("", captured.ToString());

        // 300 samples in batches of 30: ten per epoch, each reported (interval 0), then the epoch's end.
        TrainingProgress[] during = [.. recorder.Reports.Where(r => r.EpochEnd is null)];
        TrainingProgress[] ends = [.. recorder.Reports.Where(r => r.EpochEnd is not null)];
        Assert.Equal(30, during.Length);
        Assert.Equal([1, 2, 3], ends.Select(r => r.Epoch));
        Assert.All(ends, r => Assert.Equal(r.Epoch, r.EpochEnd!.Value.Epoch));
        Assert.All(ends, r => Assert.False(double.IsNaN(r.EpochEnd!.Value.ValidationLoss)));
        Assert.Equal(Enumerable.Range(1, 10), during.Where(r => r.Epoch == 2).Select(r => r.Batch));
        Assert.All(during, r => Assert.True(r.BatchesPerEpoch == 10 && r.Epochs == 3 && double.IsFinite(r.Loss) && r.Loss > 0));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), during.Select(r => r.Iterations));
    }

    [Fact]
    public void Cancelling_the_token_stops_after_the_current_batch()
    {
        using var stop = new CancellationTokenSource();
        var recorder = new Recorder { OnReport = r => { if (r.EpochEnd is { Epoch: 2 }) stop.Cancel(); } };
        var net = new SpiralClassifier(30, 1);
        TrainingResult result = new Trainer(net, Quiet(10, 30) with { Progress = recorder }).Fit(SpiralData(100, 1), null, stop.Token);
        Assert.Equal(StopReason.Cancelled, result.Reason);
        Assert.Equal(2, result.EpochsCompleted);
        Assert.Equal(20, result.Iterations);
    }

    [Fact]
    public void Lsuv_gives_unit_variance_pre_activations_and_leaves_state_alone()
    {
        var net = new LsuvNet(64, 3);
        var random = new Random(2);
        float[] batch = Enumerable.Range(0, 64 * 20).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        float[] statistics = net.RunningStatistics.ToArray();
        ulong step = net.DropoutStep;
        var results = Lsuv.Initialize(net, batch);
        Assert.Equal(3, results.Count);
        Assert.Equal(statistics, net.RunningStatistics.ToArray());
        Assert.Equal(step, net.DropoutStep);
        // Independently: the first layer's pre-activations x·W + b, by a plain triple loop in double.
        float[] w = net.Dense1Weights.ToArray(), b = net.Dense1Bias.ToArray();
        double sum = 0, sumSquares = 0;
        for (int r = 0; r < 64; r++)
            for (int j = 0; j < 64; j++)
            {
                double z = b[j];
                for (int i = 0; i < 20; i++) z += batch[r * 20 + i] * (double)w[i * 64 + j];
                sum += z; sumSquares += z * z;
            }
        double n = 64 * 64, variance = sumSquares / n - (sum / n) * (sum / n);
        Assert.InRange(variance, 0.9, 1.1);
        Assert.All(results, r => Assert.InRange(r.FinalVariance, 0.9, 1.1));
    }

    [Fact]
    public void Ensembles_average_softmax_probabilities()
    {
        var a = new SpiralClassifier(8, 1);
        var b = new SpiralClassifier(8, 2);
        var ensemble = new Ensemble([a, b]);
        float[] x = [0.1f, 0.2f, -0.5f, 0.3f];
        float[] ya = new float[6], yb = new float[6], ye = new float[6];
        a.Predict(x, ya);
        b.Predict(x, yb);
        ensemble.Predict(x, ye);
        for (int r = 0; r < 2; r++)
        {
            double[] pa = Softmax(ya.AsSpan(r * 3, 3)), pb = Softmax(yb.AsSpan(r * 3, 3));
            for (int k = 0; k < 3; k++) Assert.Equal((pa[k] + pb[k]) / 2, ye[r * 3 + k], 1e-6);
        }
        KernelGen.Tests.HotLoop.WarmUp(() => ensemble.Predict(x, ye));
        long before = GC.GetAllocatedBytesForCurrentThread();
        ensemble.Predict(x, ye);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Throws<ArgumentException>(() => new Ensemble([a, new LsuvNet(8)]));

        static double[] Softmax(ReadOnlySpan<float> z)
        {
            double m = Math.Max(z[0], Math.Max(z[1], z[2]));
            double[] e = [Math.Exp(z[0] - m), Math.Exp(z[1] - m), Math.Exp(z[2] - m)];
            double s = e.Sum();
            return e.Select(v => v / s).ToArray();
        }
    }

    [Fact]
    public void Snapshot_ensemble_from_a_cyclic_run()
    {
        var net = new CyclicSpiral(30, 3);
        TrainingResult result = new Trainer(net, Quiet(40, 30) with { SnapshotEveryEpochs = 10 }).Fit(SpiralData(100, 3));
        Assert.Equal(new[] { 10, 20, 30, 40 }, result.Snapshots.Select(s => s.Epoch));
        // Each snapshot is taken at the end of a cosine cycle: the learning rate there is near its minimum.
        Assert.All(result.Snapshots, s => Assert.True(result.History.Epochs[s.Epoch - 1].LearningRate < 0.01, $"epoch {s.Epoch}"));
        Ensemble ensemble = Ensemble.FromSnapshots(result.Snapshots, () => new CyclicSpiral(30));
        Assert.Equal(4, ensemble.Count);
        // The last member is exactly the final network.
        var last = new CyclicSpiral(30);
        result.Snapshots[^1].RestoreTo(last);
        Assert.Equal(net.Parameters.ToArray(), last.Parameters.ToArray());
        Dataset data = SpiralData(100, 3);
        float[] probabilities = new float[300 * 3];
        for (int start = 0; start < 300; start += 30)
            ensemble.Predict(data.Features.AsSpan(start * 2, 60), probabilities.AsSpan(start * 3, 90));
        double accuracy = (double)Trainer.CountCorrect(probabilities, data.Labels, 3) / 300;
        Assert.True(accuracy > 0.8, $"ensemble accuracy {accuracy}");
    }

    [Fact]
    public void Random_search_samples_log_uniformly_and_ranks_on_validation_data()
    {
        var options = new SearchOptions
        {
            Rounds = 2, TrialsPerRound = 4, KeepBest = 2, Seed = 3,
            LearningRate = new LogRange(1e-3, 1e-1), WeightDecay = new LogRange(1e-6, 1e-3), OneMinusBeta = new LogRange(0.05, 0.5),
            Training = new TrainerOptions { Epochs = 3, BatchSize = 30 },
        };
        SearchResult result = RandomSearch.Run(() => new SpiralClassifier(30, 1), SpiralData(60, 1), SpiralData(30, 2), options);
        Assert.Equal(8, result.Ranked.Count);
        foreach (SearchTrial t in result.Ranked.Where(t => t.Round == 1))
        {
            Assert.InRange(t.LearningRate, 1e-3, 1e-1);
            Assert.InRange(t.WeightDecay, 1e-6, 1e-3);
            Assert.InRange(t.OneMinusBeta, 0.05, 0.5);
        }
        for (int i = 1; i < result.Ranked.Count; i++) Assert.True(result.Ranked[i - 1].ValidationAccuracy >= result.Ranked[i].ValidationAccuracy);
        // Ranked by an independent re-evaluation: the best trial's hyperparameters, retrained, give its recorded accuracy.
        SearchTrial best = result.Best;
        var again = new SpiralClassifier(30, 1);
        again.Optimizer.Settings = again.Optimizer.Settings with { WeightDecay = best.WeightDecay, Beta1 = 1 - best.OneMinusBeta };
        again.LearningRate = (float)best.LearningRate;
        new Trainer(again, options.Training).Fit(SpiralData(60, 1), SpiralData(30, 2));
        Assert.Equal(best.ValidationAccuracy, Trainer.Evaluate(again, SpiralData(30, 2)).Accuracy);
        Assert.Contains("learning rate", result.ToTable());
    }

    [Fact]
    public void Fashion_mnist_subset_reaches_the_accuracy_bar()
    {
        // The CI installs the dataset (apt-get install dataset-fashion-mnist); a missing file fails with the loader's message.
        FashionMnistData data = FashionMnist.Load();
        Dataset train = data.Train.Subset(0, 12000), test = data.Test.Subset(0, 5000);
        var net = new SmallFashionNet(500, 1);
        TrainingResult result = new Trainer(net, Quiet(3, 64)).Fit(train);
        Assert.Equal(StopReason.Completed, result.Reason);
        double accuracy = Trainer.Evaluate(net, test).Accuracy;
        Assert.True(accuracy >= 0.80, $"test accuracy {accuracy:F4} after 3 epochs on 12,000 images");
    }

    /// <summary>
    /// An image-shaped declaration ([Network(1, 28, 28)] [Flatten] …) trains on Fashion-MNIST exactly as the flat one
    /// ([Network(784)] …): the same initial parameters, the same loss at every step, bit for bit, and the same accuracy.
    /// </summary>
    [Fact]
    public void An_image_shaped_network_trains_on_fashion_mnist_exactly_as_the_flat_declaration()
    {
        FashionMnistData data = FashionMnist.Load();
        Dataset train = data.Train.Subset(0, 3000), test = data.Test.Subset(0, 1000);
        var flat = new SmallFashionNet(500, 1);
        var image = new ImageFashionNet(500, 1);
        Assert.Equal(new TensorShape(1, 28, 28), image.InputShape);
        Assert.Equal((LayerKind.Flatten, new TensorShape(1, 28, 28), new TensorShape(784)), (image.Layers[0].Kind, image.Layers[0].InputShape, image.Layers[0].OutputShape));
        Assert.Equal(flat.Parameters.ToArray(), image.Parameters.ToArray());

        TrainingResult a = new Trainer(flat, Quiet(2, 64)).Fit(train);
        TrainingResult b = new Trainer(image, Quiet(2, 64)).Fit(train);

        Assert.Equal(a.History.Epochs.Select(e => e.TrainingLoss), b.History.Epochs.Select(e => e.TrainingLoss));
        Assert.Equal(flat.Parameters.ToArray(), image.Parameters.ToArray());
        Assert.Equal(Trainer.Evaluate(flat, test).Accuracy, Trainer.Evaluate(image, test).Accuracy);
        Assert.True(Trainer.Evaluate(image, test).Accuracy > 0.7);
        // The Flatten layer's output is the image's pixels in row-major order.
        image.Forward(train.Features.AsSpan(0, 2 * 784));
        Assert.Equal(train.Features.AsSpan(0, 2 * 784).ToArray(), image.LayerOutput(0).ToArray());
    }
}
