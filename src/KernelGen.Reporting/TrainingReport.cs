using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
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
    /// <param name="history">The recorded run.</param>
    /// <param name="title">The page title.</param>
    /// <param name="decisionBoundarySvg">An optional <see cref="Svg.DecisionBoundary"/> chart, shown after the curves.</param>
    /// <param name="extraSections">Optional callback that appends more sections at the end.</param>
    public static HtmlReport Build(TrainingHistory history, string title, string? decisionBoundarySvg = null, Action<HtmlReport>? extraSections = null)
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
            report.AddSvg(Svg.LineChart("Loss per epoch", "epoch", "loss",
            [
                new Series("training", x, Column(epochs, e => e.TrainingLoss)),
                new Series("validation", x, Column(epochs, e => e.ValidationLoss)),
            ]), "A validation curve that turns upward while training loss keeps falling signals overfitting.");

            double[] trainAccuracy = Column(epochs, e => e.TrainingAccuracy), validationAccuracy = Column(epochs, e => e.ValidationAccuracy);
            if (AnyFinite(trainAccuracy) || AnyFinite(validationAccuracy))
            {
                report.AddHeading("Accuracy");
                report.AddSvg(Svg.LineChart("Accuracy per epoch", "epoch", "accuracy",
                [
                    new Series("training", x, trainAccuracy),
                    new Series("validation", x, validationAccuracy),
                ]), "A large gap between training and validation accuracy means overfitting; no gap at low accuracy suggests more model capacity.");
            }

            double[] rate = Column(epochs, e => e.LearningRate);
            if (AnyFinite(rate))
            {
                var (lo, hi) = PositiveRange(rate);
                report.AddHeading("Learning rate");
                report.AddSvg(Svg.LineChart("Learning rate", "epoch", "learning rate", [new Series("learning rate", x, rate)], logY: lo > 0 && hi / lo > 10));
            }
        }

        if (decisionBoundarySvg is not null)
        {
            report.AddHeading("Decision boundary");
            report.AddSvg(decisionBoundarySvg);
        }

        if (history.LayerNames.Count > 0) AddLayerSections(report, history);
        extraSections?.Invoke(report);
        return report;
    }

    /// <summary>Builds the report and saves it atomically to <paramref name="path"/>.</summary>
    public static void Write(TrainingHistory history, string path, string title, string? decisionBoundarySvg = null, Action<HtmlReport>? extraSections = null) =>
        Build(history, title, decisionBoundarySvg, extraSections).Save(path);

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
                "Healthy layers keep a spread-out distribution; a spike at 0 (dead or collapsed units) or at the ends of a bounded activation (saturation) stops gradients.");
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

        report.AddHeading("Updates and gradients");
        if (xMin <= xMax)
            ratio.Add(new Series("target 1e-3", [xMin, xMax], [TargetUpdateRatio, TargetUpdateRatio]) { Dashed = true, Color = "#444444" });
        report.AddSvg(Svg.LineChart("Update-to-weight ratio ‖ΔW‖/‖W‖", "epoch", "ratio", ratio, logY: true),
            "CS231n's rule of thumb: about 1e-3. Far above, the learning rate is probably too high; far below, too low.");
        report.AddSvg(Svg.LineChart("Weight-gradient norm ‖∂L/∂W‖", "epoch", "L2 norm", gradient, logY: true),
            "Norms that shrink toward the first layers by orders of magnitude mean vanishing gradients; sudden jumps, exploding ones.");
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
        if (epochs.Count == 0)
        {
            Add("Epochs", "0");
            return pairs;
        }
        var first = epochs[0];
        var last = epochs[^1];
        Add("Epochs", $"{epochs.Count.ToString(CultureInfo.InvariantCulture)} ({first.Epoch.ToString(CultureInfo.InvariantCulture)}–{last.Epoch.ToString(CultureInfo.InvariantCulture)})");
        Add("Final training loss", Svg.FormatValue(last.TrainingLoss));
        Add("Final validation loss", Svg.FormatValue(last.ValidationLoss));
        int best = BestIndex(epochs, e => e.ValidationLoss, lowest: true);
        if (best >= 0) Add("Best validation loss", $"{Svg.FormatValue(epochs[best].ValidationLoss)} (epoch {epochs[best].Epoch.ToString(CultureInfo.InvariantCulture)})");
        Add("Final training accuracy", Percent(last.TrainingAccuracy));
        Add("Final validation accuracy", Percent(last.ValidationAccuracy));
        best = BestIndex(epochs, e => e.ValidationAccuracy, lowest: false);
        if (best >= 0) Add("Best validation accuracy", $"{Percent(epochs[best].ValidationAccuracy)} (epoch {epochs[best].Epoch.ToString(CultureInfo.InvariantCulture)})");
        Add("Learning rate", $"{Svg.FormatValue(first.LearningRate)} → {Svg.FormatValue(last.LearningRate)}");
        double seconds = 0;
        foreach (var e in epochs) if (double.IsFinite(e.Seconds)) seconds += e.Seconds;
        Add("Training time", $"{seconds.ToString("0.##", CultureInfo.InvariantCulture)} s ({(seconds / epochs.Count).ToString("0.###", CultureInfo.InvariantCulture)} s per epoch)");
        if (history.LayerNames.Count > 0) Add("Layers tracked", string.Join(", ", history.LayerNames));
        return pairs;
    }

    // Babysitting checks with fixed, documented thresholds; each finding is one line.
    private static List<string> Checks(TrainingHistory history)
    {
        var warnings = new List<string>();
        var epochs = history.Epochs;
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
            int best = BestIndex(epochs, e => e.ValidationLoss, lowest: true);
            if (best >= 0 && epochs.Count - 1 - best >= 3 && last.ValidationLoss > epochs[best].ValidationLoss * 1.05)
                warnings.Add($"Validation loss was lowest at epoch {epochs[best].Epoch.ToString(CultureInfo.InvariantCulture)} and is {Svg.FormatValue(last.ValidationLoss)} now: consider early stopping.");
        }
        foreach (string layer in history.LayerNames)
        {
            var records = history.ForLayer(layer);
            double ratio = records[^1].UpdateRatio;
            if (!double.IsFinite(ratio) || ratio <= 0) continue;
            if (ratio > 10 * TargetUpdateRatio)
                warnings.Add($"Layer {layer}: update-to-weight ratio {Svg.FormatValue(ratio)} in its last epoch, well above 1e-3 (learning rate probably too high).");
            else if (ratio < 0.1 * TargetUpdateRatio)
                warnings.Add($"Layer {layer}: update-to-weight ratio {Svg.FormatValue(ratio)} in its last epoch, well below 1e-3 (learning rate probably too low).");
        }
        return warnings;
    }

    private static int BestIndex(IReadOnlyList<EpochMetrics> epochs, Func<EpochMetrics, double> value, bool lowest)
    {
        int best = -1;
        for (int i = 0; i < epochs.Count; i++)
        {
            double v = value(epochs[i]);
            if (!double.IsFinite(v)) continue;
            if (best < 0 || (lowest ? v < value(epochs[best]) : v > value(epochs[best]))) best = i;
        }
        return best;
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
