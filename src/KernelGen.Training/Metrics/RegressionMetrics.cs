using System;
using System.Collections.Generic;
using System.Globalization;

namespace KernelGen.Metrics;

/// <summary>Regression scores of one output.</summary>
/// <param name="Output">The output index.</param>
/// <param name="Name">The target name, or the index as text.</param>
/// <param name="MeanSquaredError">(1/n) Σ (ŷ − y)².</param>
/// <param name="MeanAbsoluteError">(1/n) Σ |ŷ − y|.</param>
/// <param name="R2">The coefficient of determination 1 − Σ(ŷ − y)² / Σ(y − ȳ)².</param>
public readonly record struct OutputScore(int Output, string Name, double MeanSquaredError, double MeanAbsoluteError, double R2);

/// <summary>
/// Accumulates regression metrics over batches of predictions and targets, per output and averaged uniformly over the
/// outputs (scikit-learn's <c>multioutput="uniform_average"</c>): mean squared error, its root, mean absolute error and
/// R². Sums are kept in double; the targets' spread Σ(y − ȳ)² is accumulated with Welford's update, so R² needs one pass
/// and stays accurate for targets with a large mean. R² of an output whose targets are all equal is 1 when every
/// prediction is exact and 0 otherwise (scikit-learn's <c>force_finite</c>). <see cref="Add"/> allocates nothing.
/// </summary>
public sealed class RegressionMetrics
{
    private readonly double[] _squared, _absolute, _mean, _spread;

    /// <summary>An empty accumulator for <paramref name="outputs"/> outputs per sample.</summary>
    public RegressionMetrics(int outputs)
    {
        if (outputs < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(outputs), outputs, "Need at least one output.");
        Outputs = outputs;
        _squared = new double[outputs];
        _absolute = new double[outputs];
        _mean = new double[outputs];
        _spread = new double[outputs];
    }

    /// <summary>Outputs per sample.</summary>
    public int Outputs { get; }

    /// <summary>Samples added.</summary>
    public long Count { get; private set; }

    /// <summary>Forgets everything added.</summary>
    public void Reset()
    {
        Array.Clear(_squared);
        Array.Clear(_absolute);
        Array.Clear(_mean);
        Array.Clear(_spread);
        Count = 0;
    }

    /// <summary>Adds a batch: <paramref name="predictions"/> and <paramref name="targets"/> row-major [n × <see cref="Outputs"/>].
    /// Allocation-free.</summary>
    public void Add(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets)
    {
        ThrowHelper.ThrowIfLengthNotEqual(targets.Length, predictions.Length, nameof(targets));
        int m = Outputs, rows = predictions.Length / m;
        ThrowHelper.ThrowIfLengthNotEqual(predictions.Length, rows * m, nameof(predictions));
        for (int r = 0; r < rows; r++)
        {
            long n = ++Count;
            for (int j = 0; j < m; j++)
            {
                double y = targets[r * m + j], e = predictions[r * m + j] - y;
                _squared[j] += e * e;
                _absolute[j] += Math.Abs(e);
                double delta = y - _mean[j];
                _mean[j] += delta / n;
                _spread[j] += delta * (y - _mean[j]);
            }
        }
    }

    /// <summary>The mean squared error over all outputs (the mean of the per-output ones); NaN when empty.</summary>
    public double MeanSquaredError => Average(_squared);

    /// <summary>√<see cref="MeanSquaredError"/>.</summary>
    public double RootMeanSquaredError => Math.Sqrt(MeanSquaredError);

    /// <summary>The mean absolute error over all outputs; NaN when empty.</summary>
    public double MeanAbsoluteError => Average(_absolute);

    /// <summary>The mean of the per-output R²; NaN when empty.</summary>
    public double R2
    {
        get
        {
            if (Count == 0) return double.NaN;
            double sum = 0;
            for (int j = 0; j < Outputs; j++) sum += OutputR2(j);
            return sum / Outputs;
        }
    }

    /// <summary>Output <paramref name="j"/>'s mean squared error.</summary>
    public double OutputMeanSquaredError(int j) => Count > 0 ? _squared[Check(j)] / Count : double.NaN;

    /// <summary>Output <paramref name="j"/>'s mean absolute error.</summary>
    public double OutputMeanAbsoluteError(int j) => Count > 0 ? _absolute[Check(j)] / Count : double.NaN;

    /// <summary>Output <paramref name="j"/>'s R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)² (see the class remarks for constant targets).</summary>
    public double OutputR2(int j)
    {
        Check(j);
        if (Count == 0) return double.NaN;
        if (_spread[j] > 0) return 1 - _squared[j] / _spread[j];
        return _squared[j] == 0 ? 1 : 0;
    }

    /// <summary>Per-output scores, named by <paramref name="names"/> or by index.</summary>
    public OutputScore[] Scores(IReadOnlyList<string>? names = null)
    {
        ConfusionMatrix.CheckNames(names, Outputs);
        var scores = new OutputScore[Outputs];
        for (int j = 0; j < Outputs; j++)
            scores[j] = new OutputScore(j, names?[j] ?? j.ToString(CultureInfo.InvariantCulture), OutputMeanSquaredError(j), OutputMeanAbsoluteError(j), OutputR2(j));
        return scores;
    }

    private double Average(double[] sums)
    {
        if (Count == 0) return double.NaN;
        double total = 0;
        foreach (double s in sums) total += s;
        return total / ((double)Count * Outputs);
    }

    private int Check(int j)
    {
        if ((uint)j >= (uint)Outputs) ThrowHelper.ThrowArgumentOutOfRange(nameof(j), j, $"Must be an output in [0, {Outputs}).");
        return j;
    }
}
