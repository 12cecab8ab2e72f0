using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace KernelGen.Training;

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
/// maximum, and a fixed-bin <see cref="Training.Histogram"/> with underflow and overflow counts. <see cref="Add"/> can be
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

    /// <summary>A snapshot of the bins as an immutable <see cref="Training.Histogram"/> (allocates).</summary>
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

/// <summary>How a <see cref="Trainer.Fit"/> run ended, kept with its <see cref="TrainingHistory"/> for the report.</summary>
/// <param name="Reason">Why training ended.</param>
/// <param name="Message">The trainer's sentences about it (<see cref="TrainingResult.Message"/>).</param>
/// <param name="Monitor">The metric that decided the best epoch.</param>
/// <param name="BestEpoch">The best validation epoch (0 without validation data).</param>
/// <param name="ParametersEpoch">The epoch whose parameters the network holds at the end (0: the ones it started with).</param>
public sealed record TrainingOutcome(StopReason Reason, string Message, ValidationMetric Monitor, int BestEpoch, int ParametersEpoch);

/// <summary>One layer's diagnostics in one epoch (the quantities CS231n's "babysitting the learning process" watches).</summary>
/// <param name="Epoch">The epoch number.</param>
/// <param name="Layer">The layer name.</param>
/// <param name="ActivationMean">Mean of the layer's output activations.</param>
/// <param name="ActivationStandardDeviation">Standard deviation of the layer's output activations.</param>
/// <param name="ActivationHistogram">Histogram of the activations, or <see langword="null"/> when not collected.</param>
/// <param name="GradientNorm">L2 norm of the weight gradient ‖∂L/∂W‖.</param>
/// <param name="UpdateRatio">‖ΔW‖/‖W‖ of the last update; CS231n's rule of thumb is about 1e-3.</param>
public sealed record LayerEpochMetrics(int Epoch, string Layer, double ActivationMean, double ActivationStandardDeviation, Histogram? ActivationHistogram,
    double GradientNorm, double UpdateRatio)
{
    /// <summary>For an image-shaped layer output ([channels, height, width]): each channel's activation statistics over
    /// the batch and its pixels; null for a flat layer.</summary>
    public ChannelStatistics? Channels { get; init; }
}

/// <summary>
/// Per-channel activation statistics of an image-shaped layer output: for each channel c, the mean and standard deviation
/// of its values over the batch's samples and pixels, and the share of them that are exactly 0 (a channel whose share is
/// 1 after a ReLU is dead: it passes no gradient).
/// </summary>
/// <param name="Means">Mean per channel.</param>
/// <param name="StandardDeviations">Population standard deviation per channel.</param>
/// <param name="ZeroFractions">Share of exact zeros per channel.</param>
public sealed record ChannelStatistics(double[] Means, double[] StandardDeviations, double[] ZeroFractions)
{
    /// <summary>Channels whose every value was 0.</summary>
    public int DeadChannels
    {
        get
        {
            int dead = 0;
            foreach (double z in ZeroFractions) if (z == 1) dead++;
            return dead;
        }
    }

    /// <summary>The statistics of <paramref name="values"/>, [rows × channels × pixels] (rows = length / (channels·pixels)), accumulated in double.</summary>
    /// <exception cref="ArgumentException">The length is not a positive multiple of channels × pixels.</exception>
    public static ChannelStatistics Of(ReadOnlySpan<float> values, int channels, int pixels)
    {
        if (channels <= 0 || pixels <= 0 || values.Length == 0 || values.Length % ((long)channels * pixels) != 0)
            throw new ArgumentException($"{values.Length} values are not whole samples of {channels} channels × {pixels} pixels.", nameof(values));
        int rows = values.Length / (channels * pixels);
        double count = (double)rows * pixels;
        var means = new double[channels];
        var deviations = new double[channels];
        var zeros = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, zero = 0;
            for (int r = 0; r < rows; r++)
                foreach (float v in values.Slice((r * channels + c) * pixels, pixels))
                {
                    sum += v;
                    if (v == 0) zero++;
                }
            double mean = sum / count, squares = 0;
            for (int r = 0; r < rows; r++)
                foreach (float v in values.Slice((r * channels + c) * pixels, pixels)) squares += (v - mean) * (v - mean);
            means[c] = mean;
            deviations[c] = Math.Sqrt(squares / count);
            zeros[c] = zero / count;
        }
        return new ChannelStatistics(means, deviations, zeros);
    }
}

/// <summary>
/// What a training run reports, appended by the training loop once per epoch: the epoch's scalars
/// (<see cref="AddEpoch(in EpochMetrics)"/>) and, for each tracked layer, its activation statistics, gradient norm and
/// update-to-weight ratio (<see cref="AddLayer(LayerEpochMetrics)"/>). Appending is an amortized O(1) list append
/// (plus one histogram copy when taken from an <see cref="ActivationStatistics"/>). Turned into a page by
/// <c>KernelGen.Reporting.TrainingReport</c> (package KernelGen.Reporting) or into a CSV file by <see cref="WriteCsv"/>. Not thread-safe.
/// </summary>
public sealed class TrainingHistory
{
    private readonly List<EpochMetrics> _epochs = [];
    private readonly List<LayerEpochMetrics> _layers = [];
    private readonly List<string> _layerNames = [];

    /// <summary>The epochs, in the order added.</summary>
    public IReadOnlyList<EpochMetrics> Epochs => _epochs;

    /// <summary>How the run ended (set by <see cref="Trainer.Fit"/>; null for a history recorded by hand).</summary>
    public TrainingOutcome? Outcome { get; set; }

    /// <summary>
    /// The one rule for "best epoch", shared by the trainer (early stopping, restored parameters) and the report: whether
    /// <paramref name="candidate"/>'s validation result beats <paramref name="best"/>'s (null: no best yet). Loss: strictly
    /// lower. Accuracy: strictly higher, or equal with a strictly lower loss. A NaN validation loss never improves, and
    /// equal results keep the earlier epoch.
    /// </summary>
    public static bool Improves(ValidationMetric monitor, in EpochMetrics candidate, in EpochMetrics? best)
    {
        if (double.IsNaN(candidate.ValidationLoss)) return false;
        if (best is not { } b) return true;
        return monitor == ValidationMetric.Loss
            ? candidate.ValidationLoss < b.ValidationLoss
            : candidate.ValidationAccuracy > b.ValidationAccuracy || (candidate.ValidationAccuracy == b.ValidationAccuracy && candidate.ValidationLoss < b.ValidationLoss);
    }

    /// <summary>The best epoch by <paramref name="monitor"/> under <see cref="Improves"/> (0 when no epoch has a validation result).</summary>
    public int BestEpoch(ValidationMetric monitor)
    {
        EpochMetrics? best = null;
        foreach (EpochMetrics e in _epochs) if (Improves(monitor, e, best)) best = e;
        return best?.Epoch ?? 0;
    }

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
    /// The update-to-weight ratio ‖after − before‖/‖before‖ of one optimizer step, accumulated in double (CS231n's
    /// rule of thumb is about 1e-3; much larger means the learning rate is too high, much smaller too low). Allocation-free.
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
    public void WriteCsv(string path) => KernelGen.IO.AtomicFile.WriteAllText(path, ToCsv(), createDirectory: true);

    private static void AppendNumber(StringBuilder sb, double value)
    {
        sb.Append(',');
        if (!double.IsNaN(value)) sb.Append(value.ToString("R", CultureInfo.InvariantCulture));
    }

    private static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
