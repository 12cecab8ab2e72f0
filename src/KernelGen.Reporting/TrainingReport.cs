using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Metrics;
using KernelGen.Training;

namespace KernelGen.Reporting;

/// <summary>
/// Turns a <see cref="TrainingHistory"/> into an HTML page with the checks CS231n's "babysitting the learning
/// process" asks for: a summary, warnings, loss and accuracy curves (training against validation), the learning rate,
/// per-layer activation histograms of the first and last epochs, activation spread per layer, update-to-weight
/// ratios on a log scale against the 1e-3 rule of thumb, and gradient norms.
/// </summary>
public static class TrainingReport
{
    /// <summary>The update-to-weight ratio CS231n recommends aiming for.</summary>
    public const double TargetUpdateRatio = 1e-3;

    /// <summary>Builds the report (add further sections to the result before saving, if you like).</summary>
    /// <param name="history">The recorded run (with its <see cref="TrainingHistory.Outcome"/> when it comes from the
    /// <see cref="Trainer"/>: why it stopped and which epoch's parameters the network holds).</param>
    /// <param name="title">The page title.</param>
    /// <param name="decisionBoundarySvg">An optional <see cref="Svg.DecisionBoundary"/> chart, shown after the curves.</param>
    /// <param name="extraSections">Optional callback that appends more sections at the end.</param>
    /// <param name="test">An optional evaluation on held-out test data (<see cref="Trainer.Evaluate(ILossNetwork{float, int}, Data.Dataset)"/>),
    /// shown in a section of its own with the task's metrics.</param>
    /// <param name="testNames">Class, label or output names for the test section's tables (null: numbered).</param>
    public static HtmlReport Build(TrainingHistory history, string title, string? decisionBoundarySvg = null, Action<HtmlReport>? extraSections = null,
        Evaluation? test = null, IReadOnlyList<string>? testNames = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        var report = new HtmlReport(title);
        var epochs = history.Epochs;

        report.AddHeading("Summary");
        report.AddKeyValues(Summary(history));
        var warnings = Checks(history);
        report.AddHeading("Checks", 3);
        report.AddParagraph(warnings.Count == 0 ? "No warnings." : string.Join("\n", warnings));

        if (epochs.Count > 0)
        {
            double[] x = Column(epochs, e => e.Epoch);
            report.AddHeading("Loss");
            double[] validationLoss = Column(epochs, e => e.ValidationLoss);
            bool validated = AnyFinite(validationLoss);
            report.AddSvg(Svg.LineChart("Loss per epoch", "epoch", "loss", Present(
                new Series("training", x, Column(epochs, e => e.TrainingLoss)),
                new Series("validation", x, validationLoss))),
                validated ? "A validation curve that turns upward while training loss keeps falling signals overfitting."
                          : "Training loss only: no validation data was given, so overfitting cannot be seen here.");

            double[] trainAccuracy = Column(epochs, e => e.TrainingAccuracy), validationAccuracy = Column(epochs, e => e.ValidationAccuracy);
            if (AnyFinite(trainAccuracy) || AnyFinite(validationAccuracy))
            {
                report.AddHeading("Accuracy");
                report.AddSvg(Svg.LineChart("Accuracy per epoch", "epoch", "accuracy", Present(
                    new Series("training", x, trainAccuracy),
                    new Series("validation", x, validationAccuracy))),
                    AnyFinite(validationAccuracy)
                        ? "A large gap between training and validation accuracy means overfitting; no gap at low accuracy suggests more model capacity."
                        : "Training accuracy only (no validation data).");
            }

            double[] rate = Column(epochs, e => e.LearningRate);
            if (AnyFinite(rate))
            {
                report.AddHeading("Learning rate");
                if (IsConstant(rate, out double value))
                {
                    report.AddParagraph($"Constant at {Svg.FormatValue(value)} for all {epochs.Count.ToString(CultureInfo.InvariantCulture)} epochs (no schedule).");
                }
                else
                {
                    var (lo, hi) = PositiveRange(rate);
                    report.AddSvg(Svg.LineChart("Learning rate", "epoch", "learning rate", [new Series("learning rate", x, rate)], logY: lo > 0 && hi / lo > 10));
                }
            }
        }

        if (test is { } t) AddTestSection(report, t, testNames);

        if (decisionBoundarySvg is not null)
        {
            report.AddHeading("Decision boundary");
            report.AddSvg(decisionBoundarySvg);
        }

        if (history.LayerNames.Count > 0) AddLayerSections(report, history);
        extraSections?.Invoke(report);
        return report;
    }

    /// <summary>Builds the report and saves it atomically to <paramref name="path"/> (parameters as <see cref="Build"/>).</summary>
    public static void Write(TrainingHistory history, string path, string title, string? decisionBoundarySvg = null, Action<HtmlReport>? extraSections = null,
        Evaluation? test = null, IReadOnlyList<string>? testNames = null) =>
        Build(history, title, decisionBoundarySvg, extraSections, test, testNames).Save(path);

    private static void AddTestSection(HtmlReport report, Evaluation test, IReadOnlyList<string>? names)
    {
        report.AddHeading("Test set");
        var pairs = new List<KeyValuePair<string, string>>
        {
            new("Samples", test.Count.ToString(CultureInfo.InvariantCulture)),
            new("Loss", Svg.FormatValue(test.Loss)),
        };
        if (double.IsFinite(test.Accuracy)) pairs.Add(new("Accuracy", Percent(test.Accuracy)));
        if (test.Classification is { } c)
        {
            if (c.TopK > 1 && c.TopK < c.Classes) pairs.Add(new($"Top-{c.TopK.ToString(CultureInfo.InvariantCulture)} accuracy", Percent(c.TopKAccuracy)));
            pairs.Add(new("Log-loss", Svg.FormatValue(c.LogLoss)));
            pairs.Add(new("Macro F1", Svg.FormatValue(c.Confusion.MacroF1)));
            report.AddKeyValues(pairs);
            report.AddTable(["class", "precision", "recall", "F1", "support"], ScoreRows(c.Confusion.Scores(names)), "Per-class scores on the test set.");
            report.AddPreformatted(c.Confusion.ToText(names));
        }
        else if (test.MultiLabel is { } m)
        {
            if (m.Labels > 1) pairs.Add(new("Subset accuracy", Percent(m.SubsetAccuracy)));
            pairs.Add(new("Log-loss", Svg.FormatValue(m.LogLoss)));
            if (m.Labels > 1) pairs.Add(new("Macro F1", Svg.FormatValue(m.MacroF1)));
            report.AddKeyValues(pairs);
            report.AddTable([m.Labels > 1 ? "label" : "output", "precision", "recall", "F1", "support"], ScoreRows(m.Scores(names)), "Scores of the yes decisions on the test set.");
            if (m.Labels == 1) report.AddPreformatted(m.LabelConfusion(0).ToText(["no", "yes"]));
        }
        else if (test.Regression is { } r)
        {
            pairs.Add(new("MSE", Svg.FormatValue(r.MeanSquaredError)));
            pairs.Add(new("RMSE", Svg.FormatValue(r.RootMeanSquaredError)));
            pairs.Add(new("MAE", Svg.FormatValue(r.MeanAbsoluteError)));
            pairs.Add(new("R²", Svg.FormatValue(r.R2)));
            report.AddKeyValues(pairs);
            if (r.Outputs > 1)
            {
                var rows = new List<IReadOnlyList<string>>();
                foreach (var o in r.Scores(names)) rows.Add([o.Name, Svg.FormatValue(o.MeanSquaredError), Svg.FormatValue(o.MeanAbsoluteError), Svg.FormatValue(o.R2)]);
                report.AddTable(["output", "MSE", "MAE", "R²"], rows, "Per-output scores on the test set.");
            }
        }
        else
        {
            report.AddKeyValues(pairs);
        }
    }

    private static List<IReadOnlyList<string>> ScoreRows(ClassScore[] scores)
    {
        var rows = new List<IReadOnlyList<string>>(scores.Length);
        foreach (var s in scores)
            rows.Add([s.Name, Svg.FormatValue(s.Precision), Svg.FormatValue(s.Recall), Svg.FormatValue(s.F1), s.Support.ToString(CultureInfo.InvariantCulture)]);
        return rows;
    }

    // The series that have at least one finite point: a chart never gets an empty legend entry.
    private static List<Series> Present(params Series[] series)
    {
        var present = new List<Series>(series.Length);
        foreach (Series s in series) if (AnyFinite(s.Y)) present.Add(s);
        return present;
    }

    private static bool IsConstant(double[] values, out double value)
    {
        value = double.NaN;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            if (double.IsNaN(value)) value = v;
            else if (v != value) return false;
        }
        return !double.IsNaN(value);
    }

    private static void AddLayerSections(HtmlReport report, TrainingHistory history)
    {
        var layers = history.LayerNames;
        int firstEpoch = int.MaxValue, lastEpoch = int.MinValue;
        foreach (var r in history.LayerRecords)
        {
            if (r.ActivationHistogram is null) continue;
            firstEpoch = Math.Min(firstEpoch, r.Epoch);
            lastEpoch = Math.Max(lastEpoch, r.Epoch);
        }
        if (firstEpoch <= lastEpoch)
        {
            report.AddHeading("Activations");
            report.AddSvg(Svg.HistogramGrid($"Activations per layer, epoch {lastEpoch.ToString(CultureInfo.InvariantCulture)}", Panels(history, lastEpoch)),
                "Each panel: the outputs of one layer on the epoch's last training batch; x is the output value, y the share of the batch's values per bin. "
                + "The bins span the range of the layer's activation ([0, 1] for sigmoid and softmax, [−1, 1] for tanh); an unbounded end (ReLU, no activation) "
                + "is cut at 1.25 × the largest magnitude seen in the first epoch, and the bins stay fixed so epochs compare. Values beyond are counted as \"outside\" under the panel. "
                + "Healthy layers keep a spread-out distribution; a spike at 0 (dead or collapsed units) or at the ends of a bounded activation (saturation) stops gradients.");
            if (firstEpoch != lastEpoch)
                report.AddSvg(Svg.HistogramGrid($"Activations per layer, epoch {firstEpoch.ToString(CultureInfo.InvariantCulture)}", Panels(history, firstEpoch)));
        }

        var std = new List<Series>(layers.Count);
        var ratio = new List<Series>(layers.Count + 1);
        var gradient = new List<Series>(layers.Count);
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity;
        foreach (string layer in layers)
        {
            var records = history.ForLayer(layer);
            double[] x = new double[records.Count];
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = records[i].Epoch;
                xMin = Math.Min(xMin, x[i]);
                xMax = Math.Max(xMax, x[i]);
            }
            std.Add(new Series(layer, x, Column(records, r => r.ActivationStandardDeviation)));
            ratio.Add(new Series(layer, x, Column(records, r => r.UpdateRatio)));
            gradient.Add(new Series(layer, x, Column(records, r => r.GradientNorm)));
        }
        report.AddSvg(Svg.LineChart("Activation standard deviation per layer", "epoch", "std of activations", std));
        AddChannelCharts(report, history);

        report.AddHeading("Updates and gradients");
        if (xMin <= xMax)
            ratio.Add(new Series("target 1e-3", [xMin, xMax], [TargetUpdateRatio, TargetUpdateRatio]) { Dashed = true, Color = "#444444" });
        report.AddSvg(Svg.LineChart("Update-to-weight ratio ‖ΔW‖/‖W‖", "epoch", "ratio", ratio, logY: true),
            "CS231n's rule of thumb: about 1e-3. Far above, the learning rate is probably too high; far below where the learning rate peaks, too low (a schedule that anneals the rate makes the ratio fall by design).");
        report.AddSvg(Svg.LineChart("Weight-gradient norm ‖∂L/∂W‖", "epoch", "L2 norm", gradient, logY: true),
            "Norms that shrink toward the first layers by orders of magnitude mean vanishing gradients; sudden jumps, exploding ones.");
    }

    /// <summary>Image-shaped layers: each channel's activation standard deviation and share of zeros in the last epoch.</summary>
    private static void AddChannelCharts(HtmlReport report, TrainingHistory history)
    {
        var deviations = new List<Series>();
        var zeros = new List<Series>();
        int epoch = int.MinValue, dead = 0;
        var deadLayers = new List<string>();
        foreach (var r in history.LayerRecords) if (r.Channels is not null) epoch = Math.Max(epoch, r.Epoch);
        if (epoch == int.MinValue) return;
        foreach (string layer in history.LayerNames)
            foreach (var r in history.ForLayer(layer))
            {
                if (r.Epoch != epoch || r.Channels is not { } c) continue;
                double[] x = new double[c.Means.Length];
                for (int i = 0; i < x.Length; i++) x[i] = i;
                deviations.Add(new Series(layer, x, c.StandardDeviations));
                zeros.Add(new Series(layer, x, c.ZeroFractions));
                if (c.DeadChannels > 0) deadLayers.Add($"{layer}: {c.DeadChannels.ToString(CultureInfo.InvariantCulture)} of {c.Means.Length.ToString(CultureInfo.InvariantCulture)}");
                dead += c.DeadChannels;
            }
        report.AddSvg(Svg.LineChart($"Activation standard deviation per channel, epoch {epoch.ToString(CultureInfo.InvariantCulture)}", "channel", "std", deviations),
            "Image-shaped layers (convolutions, pooling, normalization over channels): each channel's spread over the last training batch's samples and pixels. A channel near 0 carries no information.");
        report.AddSvg(Svg.LineChart($"Share of zero activations per channel, epoch {epoch.ToString(CultureInfo.InvariantCulture)}", "channel", "share of zeros", zeros),
            dead == 0 ? "No channel is dead (all zeros on the batch)."
                : "Dead channels (every value 0 on the batch; after a ReLU they pass no gradient): " + string.Join("; ", deadLayers) + ".");
    }

    private static List<(string, Histogram)> Panels(TrainingHistory history, int epoch)
    {
        var panels = new List<(string, Histogram)>();
        foreach (string layer in history.LayerNames)
        {
            foreach (var r in history.LayerRecords)
            {
                if (r.Epoch != epoch || r.ActivationHistogram is null || !string.Equals(r.Layer, layer, StringComparison.Ordinal)) continue;
                panels.Add((layer + "\nμ " + Svg.FormatValue(r.ActivationMean) + "  σ " + Svg.FormatValue(r.ActivationStandardDeviation), r.ActivationHistogram));
                break;
            }
        }
        return panels;
    }

    private static List<KeyValuePair<string, string>> Summary(TrainingHistory history)
    {
        var epochs = history.Epochs;
        var pairs = new List<KeyValuePair<string, string>>();
        void Add(string key, string value) => pairs.Add(new KeyValuePair<string, string>(key, value));
        TrainingOutcome? outcome = history.Outcome;
        if (outcome is not null) Add("Stopped", $"{StopText(outcome.Reason)}. {outcome.Message}");
        if (epochs.Count == 0)
        {
            Add("Epochs", "0");
            return pairs;
        }
        var first = epochs[0];
        var last = epochs[^1];
        Add("Epochs", $"{epochs.Count.ToString(CultureInfo.InvariantCulture)} ({first.Epoch.ToString(CultureInfo.InvariantCulture)}–{last.Epoch.ToString(CultureInfo.InvariantCulture)})");
        ValidationMetric monitor = outcome?.Monitor ?? ValidationMetric.Loss;
        int best = outcome?.BestEpoch ?? history.BestEpoch(monitor);
        if (outcome is not null)
        {
            int held = outcome.ParametersEpoch;
            Add("Parameters held", held == 0 ? "the initial ones (no epoch completed)"
                : $"epoch {held.ToString(CultureInfo.InvariantCulture)}" + (held == best && held != last.Epoch ? " (the best, restored)" : held == last.Epoch ? " (the last)" : ""));
        }
        Add("Final training loss", Svg.FormatValue(last.TrainingLoss));
        if (double.IsFinite(last.ValidationLoss)) Add("Final validation loss", Svg.FormatValue(last.ValidationLoss));
        if (AnyFinite(Column(epochs, e => e.TrainingAccuracy))) Add("Final training accuracy", Percent(last.TrainingAccuracy));
        if (double.IsFinite(last.ValidationAccuracy)) Add("Final validation accuracy", Percent(last.ValidationAccuracy));
        if (best > 0 && FindEpoch(epochs, best) is { } b)
        {
            string accuracy = double.IsFinite(b.ValidationAccuracy) ? $", accuracy {Percent(b.ValidationAccuracy)}" : "";
            Add($"Best epoch (by validation {(monitor == ValidationMetric.Loss ? "loss" : "accuracy")})",
                $"{best.ToString(CultureInfo.InvariantCulture)}: loss {Svg.FormatValue(b.ValidationLoss)}{accuracy}");
        }
        double[] rate = Column(epochs, e => e.LearningRate);
        if (IsConstant(rate, out double constant)) Add("Learning rate", $"{Svg.FormatValue(constant)} (constant)");
        else if (AnyFinite(rate))
        {
            var (_, peak) = PositiveRange(rate);
            Add("Learning rate", $"{Svg.FormatValue(first.LearningRate)} → {Svg.FormatValue(last.LearningRate)} (peak {Svg.FormatValue(peak)})");
        }
        double seconds = 0;
        foreach (var e in epochs) if (double.IsFinite(e.Seconds)) seconds += e.Seconds;
        Add("Training time", $"{seconds.ToString("0.##", CultureInfo.InvariantCulture)} s ({(seconds / epochs.Count).ToString("0.###", CultureInfo.InvariantCulture)} s per epoch)");
        if (history.LayerNames.Count > 0) Add("Layers tracked", string.Join(", ", history.LayerNames));
        return pairs;
    }

    private static string StopText(StopReason reason) => reason switch
    {
        StopReason.Completed => "Completed all epochs",
        StopReason.IterationLimit => "Iteration limit reached",
        StopReason.EarlyStopping => "Early stopping",
        StopReason.Exploded => "The loss exploded",
        _ => "Cancelled",
    };

    private static EpochMetrics? FindEpoch(IReadOnlyList<EpochMetrics> epochs, int epoch)
    {
        foreach (var e in epochs) if (e.Epoch == epoch) return e;
        return null;
    }

    // Babysitting checks with fixed, documented thresholds; each finding is one line.
    private static List<string> Checks(TrainingHistory history)
    {
        var warnings = new List<string>();
        var epochs = history.Epochs;
        TrainingOutcome? outcome = history.Outcome;
        if (outcome?.Reason == StopReason.Exploded) warnings.Add($"Training stopped early because the loss exploded: {outcome.Message}");
        foreach (var e in epochs)
        {
            if (double.IsNaN(e.TrainingLoss) || double.IsInfinity(e.TrainingLoss))
            {
                warnings.Add($"Training loss is {Svg.FormatValue(e.TrainingLoss)} at epoch {e.Epoch.ToString(CultureInfo.InvariantCulture)}: training diverged (lower the learning rate).");
                break;
            }
        }
        if (epochs.Count > 0)
        {
            var last = epochs[^1];
            double gap = last.TrainingAccuracy - last.ValidationAccuracy;
            if (gap > 0.1)
                warnings.Add($"Training accuracy exceeds validation accuracy by {Percent(gap)} in the last epoch: likely overfitting (more regularization or data).");
            int best = history.BestEpoch(ValidationMetric.Loss);
            if (best > 0 && outcome?.Reason != StopReason.EarlyStopping && FindEpoch(epochs, best) is { } b
                && last.Epoch - best >= 3 && last.ValidationLoss > b.ValidationLoss * 1.05)
                warnings.Add($"Validation loss was lowest at epoch {best.ToString(CultureInfo.InvariantCulture)} and is {Svg.FormatValue(last.ValidationLoss)} now: consider early stopping.");
        }
        // Update ratios: "too high" is judged on the last epoch; "too low" at the epoch of the highest learning rate, so a
        // schedule that anneals the rate toward zero by design (cosine, step decay) is not mistaken for a rate set too low.
        double[] rates = Column(epochs, e => e.LearningRate);
        var (_, peakRate) = PositiveRange(rates);
        int peakEpoch = 0;
        for (int i = 0; i < epochs.Count; i++) if (rates[i] == peakRate) { peakEpoch = epochs[i].Epoch; break; }
        foreach (string layer in history.LayerNames)
        {
            var records = history.ForLayer(layer);
            double ratio = records[^1].UpdateRatio;
            if (double.IsFinite(ratio) && ratio > 10 * TargetUpdateRatio)
                warnings.Add($"Layer {layer}: update-to-weight ratio {Svg.FormatValue(ratio)} in its last epoch, well above 1e-3 (learning rate probably too high).");
            LayerEpochMetrics atPeak = records[^1];
            if (peakEpoch > 0) foreach (var r in records) if (r.Epoch == peakEpoch) atPeak = r;
            double low = atPeak.UpdateRatio;
            if (double.IsFinite(low) && low > 0 && low < 0.1 * TargetUpdateRatio)
            {
                string when = peakEpoch > 0 && !IsConstant(rates, out _) ? $"at epoch {atPeak.Epoch.ToString(CultureInfo.InvariantCulture)}, where the learning rate peaked" : "in its last epoch";
                warnings.Add($"Layer {layer}: update-to-weight ratio {Svg.FormatValue(low)} {when}, well below 1e-3 (learning rate probably too low).");
            }
        }
        return warnings;
    }

    private static string Percent(double fraction) =>
        double.IsFinite(fraction) ? (100 * fraction).ToString("0.##", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static double[] Column<T>(IReadOnlyList<T> rows, Func<T, double> value)
    {
        var column = new double[rows.Count];
        for (int i = 0; i < column.Length; i++) column[i] = value(rows[i]);
        return column;
    }

    private static bool AnyFinite(double[] values) => Array.Exists(values, double.IsFinite);

    private static (double Min, double Max) PositiveRange(double[] values)
    {
        double lo = double.PositiveInfinity, hi = 0;
        foreach (double v in values)
        {
            if (!double.IsFinite(v) || v <= 0) continue;
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        return hi > 0 ? (lo, hi) : (0, 0);
    }
}
