using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace KernelGen.Reporting;

/// <summary>
/// Counts in equal-width bins over [<see cref="Min"/>, <see cref="Max"/>], plus the values below and above that range.
/// Bin i spans [Edge(i), Edge(i + 1)) with Edge(i) = Min + (Max − Min)·i/BinCount; the last bin also holds Max
/// (as numpy's <c>histogram</c> does). Immutable.
/// </summary>
public sealed class Histogram
{
    private readonly long[] _counts;

    /// <summary>Creates a histogram from bin counts (copied).</summary>
    public Histogram(double min, double max, ReadOnlySpan<long> counts, long underflow = 0, long overflow = 0)
    {
        ValidateRange(min, max, counts.Length);
        foreach (long c in counts) if (c < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(counts), c, "Counts must be non-negative.");
        if (underflow < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(underflow), underflow, "Must be non-negative.");
        if (overflow < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(overflow), overflow, "Must be non-negative.");
        Min = min;
        Max = max;
        _counts = counts.ToArray();
        Underflow = underflow;
        Overflow = overflow;
    }

    /// <summary>The lower end of the binned range.</summary>
    public double Min { get; }

    /// <summary>The upper end of the binned range.</summary>
    public double Max { get; }

    /// <summary>The number of bins.</summary>
    public int BinCount => _counts.Length;

    /// <summary>The count of each bin.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Values below <see cref="Min"/>.</summary>
    public long Underflow { get; }

    /// <summary>Values above <see cref="Max"/>.</summary>
    public long Overflow { get; }

    /// <summary>All counted values: the bins plus underflow and overflow.</summary>
    public long Total
    {
        get
        {
            long total = Underflow + Overflow;
            foreach (long c in _counts) total += c;
            return total;
        }
    }

    /// <summary>The lower edge of bin <paramref name="index"/> (<see cref="Max"/> for index = <see cref="BinCount"/>).</summary>
    public double Edge(int index)
    {
        if ((uint)index > (uint)_counts.Length) ThrowHelper.ThrowArgumentOutOfRange(nameof(index), index, "Must be in [0, BinCount].");
        return Edge(Min, Max, _counts.Length, index);
    }

    /// <summary>All BinCount + 1 bin edges.</summary>
    public double[] BinEdges()
    {
        var edges = new double[_counts.Length + 1];
        for (int i = 0; i < edges.Length; i++) edges[i] = Edge(Min, Max, _counts.Length, i);
        return edges;
    }

    internal static double Edge(double min, double max, int bins, int index) =>
        index == bins ? max : min + (max - min) * index / bins;

    internal static void ValidateRange(double min, double max, int bins)
    {
        if (bins < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(bins), bins, "Need at least one bin.");
        if (!double.IsFinite(min)) ThrowHelper.ThrowArgumentOutOfRange(nameof(min), min, "Must be finite.");
        if (!double.IsFinite(max) || !(max > min)) ThrowHelper.ThrowArgumentOutOfRange(nameof(max), max, "Must be finite and greater than min.");
    }
}

/// <summary>
/// A reusable accumulator of activation (or weight, or gradient) statistics: count, mean, standard deviation, minimum,
/// maximum, and a fixed-bin <see cref="Reporting.Histogram"/> with underflow and overflow counts. <see cref="Add"/> can be
/// called many times (e.g. once per batch) and never allocates; <see cref="Reset"/> starts over (e.g. each epoch).
/// </summary>
/// <remarks>
/// <para>Numerics: each <see cref="Add"/> call makes two passes over its span in double precision (sum, then the sum
/// of squared deviations from that span's own mean), and spans are merged with Chan et al.'s pairwise update
/// (M2 = M2ₐ + M2_b + δ²·nₐ·n_b/n). So the variance never suffers the cancellation of Σx² − n·μ², and its
/// accuracy does not depend on how the data is split into calls.</para>
/// <para>NaN and ±∞ are not counted in the moments, extremes or bins; they are counted in <see cref="NonFiniteCount"/>
/// (a nonzero value usually means the network diverged).</para>
/// <para>Not thread-safe; use one accumulator per thread and layer.</para>
/// </remarks>
public sealed class ActivationStatistics
{
    private readonly long[] _counts;
    private readonly double[] _edges; // BinCount + 1 edges, as Histogram.Edge defines them
    private readonly double _scale;   // BinCount / (max − min): a first guess of the bin, corrected against _edges
    private long _count, _nonFinite, _underflow, _overflow;
    private double _mean, _m2, _min, _max;

    /// <summary>Creates an accumulator with <paramref name="bins"/> equal bins over [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public ActivationStatistics(int bins = 40, double min = -1, double max = 1)
    {
        Histogram.ValidateRange(min, max, bins);
        _counts = new long[bins];
        _edges = new double[bins + 1];
        for (int i = 0; i <= bins; i++) _edges[i] = Histogram.Edge(min, max, bins, i);
        _scale = bins / (max - min);
        HistogramMin = min;
        HistogramMax = max;
        Reset();
    }

    /// <summary>The lower end of the histogram range.</summary>
    public double HistogramMin { get; }

    /// <summary>The upper end of the histogram range.</summary>
    public double HistogramMax { get; }

    /// <summary>The number of histogram bins.</summary>
    public int BinCount => _counts.Length;

    /// <summary>Finite values added since construction or the last <see cref="Reset"/>.</summary>
    public long Count => _count;

    /// <summary>NaN and ±∞ values seen (excluded from every other statistic).</summary>
    public long NonFiniteCount => _nonFinite;

    /// <summary>The mean of the finite values (NaN when there are none).</summary>
    public double Mean => _count > 0 ? _mean : double.NaN;

    /// <summary>The population variance (divisor n, numpy's default) of the finite values (NaN when there are none).</summary>
    public double Variance => _count > 0 ? _m2 / _count : double.NaN;

    /// <summary>The population standard deviation √<see cref="Variance"/>.</summary>
    public double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>The smallest finite value (NaN when there are none).</summary>
    public double Minimum => _count > 0 ? _min : double.NaN;

    /// <summary>The largest finite value (NaN when there are none).</summary>
    public double Maximum => _count > 0 ? _max : double.NaN;

    /// <summary>Finite values below <see cref="HistogramMin"/>.</summary>
    public long Underflow => _underflow;

    /// <summary>Finite values above <see cref="HistogramMax"/>.</summary>
    public long Overflow => _overflow;

    /// <summary>The live bin counts (no copy).</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>A snapshot of the bins as an immutable <see cref="Reporting.Histogram"/> (allocates).</summary>
    public Histogram Histogram => new(HistogramMin, HistogramMax, _counts, _underflow, _overflow);

    /// <summary>Forgets every value added so far.</summary>
    public void Reset()
    {
        _count = _nonFinite = _underflow = _overflow = 0;
        _mean = _m2 = 0;
        _min = double.PositiveInfinity;
        _max = double.NegativeInfinity;
        Array.Clear(_counts);
    }

    /// <summary>Adds <paramref name="values"/> to every statistic. Allocation-free.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        // Pass 1: count, sum and extremes of the finite values.
        long n = 0;
        double sum = 0, min = _min, max = _max;
        foreach (float f in values)
        {
            if (!float.IsFinite(f)) continue;
            double v = f;
            n++;
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        _nonFinite += values.Length - n;
        if (n == 0) return;

        // Pass 2: squared deviations from this span's mean, and the bins.
        double mean = sum / n, m2 = 0;
        double lo = HistogramMin, hi = HistogramMax;
        Span<long> counts = _counts;
        ReadOnlySpan<double> edges = _edges;
        int last = counts.Length - 1;
        foreach (float f in values)
        {
            if (!float.IsFinite(f)) continue;
            double v = f, d = v - mean;
            m2 += d * d;
            if (v < lo) { _underflow++; continue; }
            if (v > hi) { _overflow++; continue; }
            int bin = Math.Min((int)((v - lo) * _scale), last); // v == max lands in the last bin
            while (bin > 0 && v < edges[bin]) bin--;             // the guess can be one off at an edge
            while (bin < last && v >= edges[bin + 1]) bin++;
            counts[bin]++;
        }

        // Merge (Chan, Golub and LeVeque): exact in exact arithmetic, stable in floating point.
        long total = _count + n;
        double delta = mean - _mean;
        _mean += delta * n / total;
        _m2 += m2 + delta * delta * ((double)_count * n / total);
        _count = total;
        _min = min;
        _max = max;
    }
}

/// <summary>The scalar results of one epoch. Use NaN for a value that was not measured (e.g. no validation set).</summary>
/// <param name="Epoch">The epoch number (as the training loop counts, usually from 1).</param>
/// <param name="TrainingLoss">Mean training loss over the epoch.</param>
/// <param name="ValidationLoss">Validation loss after the epoch.</param>
/// <param name="TrainingAccuracy">Training accuracy as a fraction in [0, 1].</param>
/// <param name="ValidationAccuracy">Validation accuracy as a fraction in [0, 1].</param>
/// <param name="LearningRate">The learning rate in effect (at the end of the epoch).</param>
/// <param name="Seconds">Wall-clock seconds the epoch took.</param>
public readonly record struct EpochMetrics(int Epoch, double TrainingLoss, double ValidationLoss, double TrainingAccuracy, double ValidationAccuracy, double LearningRate, double Seconds);

/// <summary>One layer's diagnostics in one epoch (the notes' "babysitting" quantities).</summary>
/// <param name="Epoch">The epoch number.</param>
/// <param name="Layer">The layer name.</param>
/// <param name="ActivationMean">Mean of the layer's output activations.</param>
/// <param name="ActivationStandardDeviation">Standard deviation of the layer's output activations.</param>
/// <param name="ActivationHistogram">Histogram of the activations, or <see langword="null"/> when not collected.</param>
/// <param name="GradientNorm">L2 norm of the weight gradient ‖∂L/∂W‖.</param>
/// <param name="UpdateRatio">‖ΔW‖/‖W‖ of the last update; the notes want about 1e-3.</param>
public sealed record LayerEpochMetrics(int Epoch, string Layer, double ActivationMean, double ActivationStandardDeviation, Histogram? ActivationHistogram,
    double GradientNorm, double UpdateRatio);

/// <summary>
/// What a training run reports, appended by the training loop once per epoch: the epoch's scalars
/// (<see cref="AddEpoch(in EpochMetrics)"/>) and, for each tracked layer, its activation statistics, gradient norm and
/// update-to-weight ratio (<see cref="AddLayer(LayerEpochMetrics)"/>). Appending is an amortized O(1) list append
/// (plus one histogram copy when taken from an <see cref="ActivationStatistics"/>). Turned into a page by
/// <see cref="TrainingReport"/> or into a CSV file by <see cref="WriteCsv"/>. Not thread-safe.
/// </summary>
public sealed class TrainingHistory
{
    private readonly List<EpochMetrics> _epochs = [];
    private readonly List<LayerEpochMetrics> _layers = [];
    private readonly List<string> _layerNames = [];

    /// <summary>The epochs, in the order added.</summary>
    public IReadOnlyList<EpochMetrics> Epochs => _epochs;

    /// <summary>Every layer record, in the order added.</summary>
    public IReadOnlyList<LayerEpochMetrics> LayerRecords => _layers;

    /// <summary>The distinct layer names, in the order first seen.</summary>
    public IReadOnlyList<string> LayerNames => _layerNames;

    /// <summary>Appends an epoch's scalars.</summary>
    public void AddEpoch(in EpochMetrics metrics) => _epochs.Add(metrics);

    /// <summary>Appends an epoch's scalars; unmeasured values default to NaN.</summary>
    public void AddEpoch(int epoch, double trainingLoss, double validationLoss = double.NaN, double trainingAccuracy = double.NaN,
        double validationAccuracy = double.NaN, double learningRate = double.NaN, double seconds = double.NaN) =>
        _epochs.Add(new EpochMetrics(epoch, trainingLoss, validationLoss, trainingAccuracy, validationAccuracy, learningRate, seconds));

    /// <summary>Appends one layer's record for one epoch.</summary>
    public void AddLayer(LayerEpochMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(metrics.Layer);
        if (!_layerNames.Contains(metrics.Layer)) _layerNames.Add(metrics.Layer);
        _layers.Add(metrics);
    }

    /// <summary>Appends one layer's record, taking mean, standard deviation and a histogram snapshot from <paramref name="activations"/>.</summary>
    public void AddLayer(int epoch, string layer, ActivationStatistics activations, double gradientNorm, double updateRatio)
    {
        ArgumentNullException.ThrowIfNull(activations);
        AddLayer(new LayerEpochMetrics(epoch, layer, activations.Mean, activations.StandardDeviation, activations.Histogram, gradientNorm, updateRatio));
    }

    /// <summary>The records of <paramref name="layer"/>, in the order added.</summary>
    public IReadOnlyList<LayerEpochMetrics> ForLayer(string layer)
    {
        var result = new List<LayerEpochMetrics>();
        foreach (var record in _layers) if (string.Equals(record.Layer, layer, StringComparison.Ordinal)) result.Add(record);
        return result;
    }

    /// <summary>The L2 norm √Σx² of <paramref name="values"/>, accumulated in double. Allocation-free.</summary>
    public static double L2Norm(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// The update-to-weight ratio ‖after − before‖/‖before‖ of one optimizer step, accumulated in double (the notes
    /// want about 1e-3; much larger means the learning rate is too high, much smaller too low). Allocation-free.
    /// </summary>
    public static double UpdateRatio(ReadOnlySpan<float> weightsBefore, ReadOnlySpan<float> weightsAfter)
    {
        ThrowHelper.ThrowIfLengthNotEqual(weightsAfter.Length, weightsBefore.Length, nameof(weightsAfter));
        double update = 0, weight = 0;
        for (int i = 0; i < weightsBefore.Length; i++)
        {
            double w = weightsBefore[i], d = (double)weightsAfter[i] - w;
            update += d * d;
            weight += w * w;
        }
        return Math.Sqrt(update) / Math.Sqrt(weight);
    }

    /// <summary>
    /// The history as CSV (RFC 4180, invariant culture, round-trip numbers, NaN as an empty field): one row per epoch
    /// with the epoch scalars, then for each layer <c>{layer}.activation_mean</c>, <c>.activation_std</c>,
    /// <c>.gradient_norm</c> and <c>.update_ratio</c>. Histograms are not included. Rows are in epoch order and cover
    /// every epoch number that has a record of either kind.
    /// </summary>
    public string ToCsv()
    {
        var epochRows = new SortedDictionary<int, EpochMetrics?>();
        foreach (var e in _epochs) epochRows[e.Epoch] = e;
        var layerRows = new Dictionary<(int, string), LayerEpochMetrics>();
        foreach (var l in _layers)
        {
            layerRows[(l.Epoch, l.Layer)] = l;
            if (!epochRows.ContainsKey(l.Epoch)) epochRows[l.Epoch] = null;
        }

        var sb = new StringBuilder(256 + epochRows.Count * (64 + 64 * _layerNames.Count));
        sb.Append("epoch,train_loss,val_loss,train_accuracy,val_accuracy,learning_rate,seconds");
        foreach (string name in _layerNames)
        {
            foreach (string column in (ReadOnlySpan<string>)[".activation_mean", ".activation_std", ".gradient_norm", ".update_ratio"])
                sb.Append(',').Append(CsvField(name + column));
        }
        sb.Append("\r\n");
        foreach (var (epoch, metrics) in epochRows)
        {
            sb.Append(epoch.ToString(CultureInfo.InvariantCulture));
            var m = metrics ?? new EpochMetrics(epoch, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
            AppendNumber(sb, m.TrainingLoss); AppendNumber(sb, m.ValidationLoss);
            AppendNumber(sb, m.TrainingAccuracy); AppendNumber(sb, m.ValidationAccuracy);
            AppendNumber(sb, m.LearningRate); AppendNumber(sb, m.Seconds);
            foreach (string name in _layerNames)
            {
                if (layerRows.TryGetValue((epoch, name), out var l))
                {
                    AppendNumber(sb, l.ActivationMean); AppendNumber(sb, l.ActivationStandardDeviation);
                    AppendNumber(sb, l.GradientNorm); AppendNumber(sb, l.UpdateRatio);
                }
                else sb.Append(",,,,");
            }
            sb.Append("\r\n");
        }
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/> atomically (temporary file, then replace).</summary>
    public void WriteCsv(string path) => HtmlReport.WriteAllTextAtomic(path, ToCsv());

    private static void AppendNumber(StringBuilder sb, double value)
    {
        sb.Append(',');
        if (!double.IsNaN(value)) sb.Append(value.ToString("R", CultureInfo.InvariantCulture));
    }

    private static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

/// <summary>
/// Turns a <see cref="TrainingHistory"/> into an HTML page with the checks the notes' "babysitting the learning
/// process" asks for: a summary, warnings, loss and accuracy curves (training against validation), the learning rate,
/// per-layer activation histograms of the first and last epochs, activation spread per layer, update-to-weight
/// ratios on a log scale against the 1e-3 rule of thumb, and gradient norms.
/// </summary>
public static class TrainingReport
{
    /// <summary>The update-to-weight ratio the notes recommend aiming for.</summary>
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
            "The notes' rule of thumb: about 1e-3. Far above, the learning rate is probably too high; far below, too low.");
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
