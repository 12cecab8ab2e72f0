using System;
using System.Linq;
using System.Xml.Linq;
using KernelGen.Data;
using KernelGen.Demo;
using KernelGen.Reporting;
using KernelGen.Training;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>The report says what happened: why training stopped, which parameters the network holds, the same best
/// epoch as the trainer, a test section, nothing made up without validation data, schedule-aware checks.</summary>
public class HonestReportTests
{
    private static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";

    private static Dataset SpiralData(int perClass, ulong seed)
    {
        (float[] x, int[] y) = Spiral.Generate(perClass, 3, seed);
        return new Dataset(x, y, 2, 3);
    }

    private static string Html(TrainingHistory history, Evaluation? test = null) => TrainingReport.Build(history, "run", test: test).ToString();

    private static string[] SvgTitles(string html) =>
        XDocument.Parse(html).Descendants(SvgNs + "title").Select(t => t.Value).ToArray();

    [Fact]
    public void An_exploded_run_shows_why_it_stopped_and_warns()
    {
        var net = new SgdSpiral(30, 3);
        net.LearningRate = 1e4f;
        TrainingResult result = new Trainer(net, new TrainerOptions { Epochs = 5, BatchSize = 30 }).Fit(SpiralData(100, 2));
        Assert.Equal(StopReason.Exploded, result.Reason);
        string html = Html(result.History);
        Assert.Contains("The loss exploded", html);
        Assert.Contains("Training stopped early because the loss exploded", html);
        Assert.DoesNotContain("No warnings", html);
    }

    [Fact]
    public void Early_stopping_and_the_restored_epoch_are_shown_with_the_trainers_best_epoch()
    {
        Dataset tiny = SpiralData(4, 3), validation = SpiralData(10, 4);   // 30 validation samples: accuracy ties are common
        var net = new OverfittingNet(12, 5);
        TrainingResult result = new Trainer(net, new TrainerOptions { Epochs = 200, BatchSize = 12, Patience = 8, Monitor = ValidationMetric.Accuracy })
            .Fit(tiny, validation);
        Assert.Equal(StopReason.EarlyStopping, result.Reason);
        string html = Html(result.History);
        Assert.Contains("Early stopping", html);
        Assert.Contains($"Best epoch (by validation accuracy)</dt><dd>{result.BestEpoch}:", html);
        Assert.Contains($"epoch {result.BestEpoch} (the best, restored)", html);
        // The rule the report would apply on its own agrees too.
        Assert.Equal(result.BestEpoch, result.History.BestEpoch(ValidationMetric.Accuracy));
    }

    [Fact]
    public void Best_epoch_ties_keep_the_earlier_epoch_and_accuracy_ties_go_to_the_lower_loss()
    {
        var history = new TrainingHistory();
        history.AddEpoch(1, 1.0, validationLoss: 0.5, validationAccuracy: 0.8);
        history.AddEpoch(2, 0.9, validationLoss: 0.3, validationAccuracy: 0.9);
        history.AddEpoch(3, 0.8, validationLoss: double.NaN, validationAccuracy: double.NaN);
        history.AddEpoch(4, 0.7, validationLoss: 0.3, validationAccuracy: 0.9);   // ties epoch 2 on both
        history.AddEpoch(5, 0.6, validationLoss: 0.25, validationAccuracy: 0.85);
        history.AddEpoch(6, 0.5, validationLoss: 0.28, validationAccuracy: 0.9);  // ties epoch 2's accuracy with a lower loss
        Assert.Equal(5, history.BestEpoch(ValidationMetric.Loss));
        Assert.Equal(6, history.BestEpoch(ValidationMetric.Accuracy));
        Assert.Equal(0, new TrainingHistory().BestEpoch(ValidationMetric.Loss));
    }

    [Fact]
    public void Without_validation_data_there_are_no_NaN_rows_or_empty_legend_entries()
    {
        var net = new SpiralClassifier(30, 1);
        TrainingResult result = new Trainer(net, new TrainerOptions { Epochs = 3, BatchSize = 30 }).Fit(SpiralData(100, 1));
        string html = Html(result.History);
        Assert.DoesNotContain("NaN", html);
        Assert.DoesNotContain("n/a", html);
        Assert.DoesNotContain("Final validation", html);
        Assert.DoesNotContain("Best epoch", html);
        var legend = XDocument.Parse(html).Descendants(SvgNs + "text").Select(t => t.Value).ToArray();
        Assert.DoesNotContain("validation", legend);
        Assert.Contains("training", legend);
        Assert.Contains("epoch 3 (the last)", html);
    }

    [Fact]
    public void A_constant_learning_rate_is_stated_not_drawn()
    {
        var history = new TrainingHistory();
        for (int e = 1; e <= 5; e++) history.AddEpoch(e, 1.0 / e, learningRate: 0.001);
        string html = Html(history);
        Assert.DoesNotContain("Learning rate", SvgTitles(html));
        Assert.Contains("Constant at 0.001 for all 5 epochs", html);

        var decaying = new TrainingHistory();
        for (int e = 1; e <= 5; e++) decaying.AddEpoch(e, 1.0 / e, learningRate: 0.001 / e);
        Assert.Contains("Learning rate", SvgTitles(Html(decaying)));
    }

    [Fact]
    public void Update_ratio_checks_know_the_schedule()
    {
        // A cosine schedule: the rate falls to almost 0 by design, and so does the update ratio; at the peak it was healthy.
        static TrainingHistory Run(double peakRatio)
        {
            var history = new TrainingHistory();
            var statistics = new ActivationStatistics(10, -1, 1);
            statistics.Add([0.1f, -0.2f, 0.3f]);
            for (int e = 1; e <= 10; e++)
            {
                double scale = 0.5 * (1 + Math.Cos(Math.PI * (e - 1) / 10));
                history.AddEpoch(e, 1.0 / e, learningRate: 0.01 * scale);
                history.AddLayer(e, "dense1", statistics, gradientNorm: 1, updateRatio: peakRatio * Math.Max(scale, 1e-3));
            }
            return history;
        }
        string healthy = Html(Run(1e-3));
        Assert.DoesNotContain("probably too low", healthy);
        string tooLow = Html(Run(1e-6));
        Assert.Contains("Layer dense1: update-to-weight ratio 1e-6 at epoch 1, where the learning rate peaked", tooLow);
    }

    [Fact]
    public void A_test_evaluation_gets_its_own_section_with_the_tasks_metrics()
    {
        var net = new SpiralClassifier(30, 1);
        Dataset train = SpiralData(100, 1), test = SpiralData(40, 9);
        TrainingResult result = new Trainer(net, new TrainerOptions { Epochs = 30, BatchSize = 30 }).Fit(train);
        Evaluation evaluation = Trainer.Evaluate(net, test);
        string html = TrainingReport.Build(result.History, "run", test: evaluation, testNames: ["a", "b", "c"]).ToString();
        Assert.Contains("Test set", html);
        Assert.Contains("<dt>Samples</dt><dd>120</dd>", html);
        Assert.Contains("Per-class scores on the test set.", html);
        Assert.Contains($"{evaluation.Classification!.Confusion[1, 1]}", html);
        Assert.DoesNotContain("Test set", Html(result.History));
    }

    [Fact]
    public void Histogram_panels_have_share_axes_and_name_their_range()
    {
        var histogram = new Histogram(-1, 1, [0, 3, 10, 40, 12, 2, 0, 1], underflow: 2, overflow: 5);
        string svg = Svg.HistogramGrid("grid", [("layer", histogram)]);
        string[] text = XElement.Parse(svg).Descendants(SvgNs + "text").Select(t => t.Value).ToArray();
        Assert.Contains("9.3% outside range [−1, 1]", text);        // 2 + 5 of 75 values
        Assert.Contains("0%", text);
        Assert.Contains("53%", text);                                // the tallest bar: 40 of 75
        Assert.Contains("x: value · y: share of the values per bin", text);
        Assert.True(text.Count(t => t is "−1.0" or "−0.5" or "0.0" or "0.5" or "1.0") == 5, string.Join(" | ", text));
    }
}
