using System;
using System.Collections.Generic;
using System.Globalization;

namespace KernelGen.Metrics;

/// <summary>
/// Accumulates binary and multi-label metrics over batches of network outputs, one independent yes/no decision per
/// output (binary cross-entropy's setting): per label the true and false positives and negatives (hence precision,
/// recall and F1), element accuracy, subset (exact-match) accuracy and log-loss. An output predicts "yes" when its
/// probability exceeds 0.5, that is when its logit is positive (scikit-learn's <c>predict</c> for logistic models); a
/// target counts as "yes" when it is at least 0.5. Outputs are logits by default, or probabilities (from a sigmoid
/// layer). <see cref="Add"/> allocates nothing.
/// </summary>
public sealed class MultiLabelMetrics
{
    private const double ProbabilityFloor = 1.1920928955078125e-7; // float's machine epsilon (see ClassificationMetrics)
    private readonly long[] _tp, _fp, _fn, _tn;
    private long _exact;
    private double _logLossSum;

    /// <summary>An empty accumulator for <paramref name="labels"/> outputs per sample.</summary>
    /// <param name="labels">Outputs (labels) per sample; 1 for binary classification.</param>
    /// <param name="outputsAreProbabilities">True when the outputs are probabilities rather than logits.</param>
    public MultiLabelMetrics(int labels, bool outputsAreProbabilities = false)
    {
        if (labels < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(labels), labels, "Need at least one label.");
        Labels = labels;
        OutputsAreProbabilities = outputsAreProbabilities;
        _tp = new long[labels];
        _fp = new long[labels];
        _fn = new long[labels];
        _tn = new long[labels];
    }

    /// <summary>Outputs (labels) per sample.</summary>
    public int Labels { get; }

    /// <summary>Whether outputs are read as probabilities rather than logits.</summary>
    public bool OutputsAreProbabilities { get; }

    /// <summary>Samples added.</summary>
    public long Count { get; private set; }

    /// <summary>True positives of label <paramref name="j"/>.</summary>
    public long TruePositives(int j) => _tp[Check(j)];
    /// <summary>False positives of label <paramref name="j"/>.</summary>
    public long FalsePositives(int j) => _fp[Check(j)];
    /// <summary>False negatives of label <paramref name="j"/>.</summary>
    public long FalseNegatives(int j) => _fn[Check(j)];
    /// <summary>True negatives of label <paramref name="j"/>.</summary>
    public long TrueNegatives(int j) => _tn[Check(j)];

    /// <summary>The share of all (sample, label) decisions that are right: 1 − Hamming loss (NaN when empty).</summary>
    public double Accuracy
    {
        get
        {
            if (Count == 0) return double.NaN;
            long right = 0;
            for (int j = 0; j < Labels; j++) right += _tp[j] + _tn[j];
            return (double)right / (Count * Labels);
        }
    }

    /// <summary>The share of samples whose every label is right (scikit-learn's <c>accuracy_score</c> on multi-label
    /// data; equals <see cref="Accuracy"/> for one label). NaN when empty.</summary>
    public double SubsetAccuracy => Count > 0 ? (double)_exact / Count : double.NaN;

    /// <summary>The mean binary cross-entropy per (sample, label): max(y, 0) − y·t + log(1 + e^(−|y|)) on logits y, or
    /// −[t·log p + (1 − t)·log(1 − p)] on probabilities clipped to [ε, 1 − ε], ε = float's machine epsilon (NaN when
    /// empty). With one label this is scikit-learn's <c>log_loss</c>.</summary>
    public double LogLoss => Count > 0 ? _logLossSum / (Count * Labels) : double.NaN;

    /// <summary>TP / (TP + FP) of label <paramref name="j"/> (0 when it is never predicted).</summary>
    public double Precision(int j) => ConfusionMatrix.Ratio(_tp[Check(j)], _tp[j] + _fp[j]);

    /// <summary>TP / (TP + FN) of label <paramref name="j"/> (0 when it never occurs).</summary>
    public double Recall(int j) => ConfusionMatrix.Ratio(_tp[Check(j)], _tp[j] + _fn[j]);

    /// <summary>2·TP / (2·TP + FP + FN) of label <paramref name="j"/> (0 when TP + FP + FN = 0); for binary
    /// classification (one label) the F1 of the positive class, scikit-learn's default.</summary>
    public double F1(int j) => ConfusionMatrix.F1Score(_tp[Check(j)], _fp[j], _fn[j]);

    /// <summary>The unweighted mean of <see cref="F1"/> over the labels (scikit-learn's <c>average="macro"</c>); NaN when empty.</summary>
    public double MacroF1
    {
        get
        {
            if (Count == 0) return double.NaN;
            double sum = 0;
            for (int j = 0; j < Labels; j++) sum += F1(j);
            return sum / Labels;
        }
    }

    /// <summary>F1 of the pooled counts of all labels (scikit-learn's <c>average="micro"</c>); NaN when empty.</summary>
    public double MicroF1
    {
        get
        {
            if (Count == 0) return double.NaN;
            long tp = 0, fp = 0, fn = 0;
            for (int j = 0; j < Labels; j++) { tp += _tp[j]; fp += _fp[j]; fn += _fn[j]; }
            return ConfusionMatrix.F1Score(tp, fp, fn);
        }
    }

    /// <summary>Forgets everything added.</summary>
    public void Reset()
    {
        Array.Clear(_tp);
        Array.Clear(_fp);
        Array.Clear(_fn);
        Array.Clear(_tn);
        Count = _exact = 0;
        _logLossSum = 0;
    }

    /// <summary>Adds a batch: <paramref name="outputs"/> and <paramref name="targets"/> row-major [n × <see cref="Labels"/>],
    /// targets in [0, 1]. Allocation-free.</summary>
    public void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets)
    {
        ThrowHelper.ThrowIfLengthNotEqual(targets.Length, outputs.Length, nameof(targets));
        int l = Labels, rows = outputs.Length / l;
        ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, rows * l, nameof(outputs));
        for (int r = 0; r < rows; r++)
        {
            bool exact = true;
            for (int j = 0; j < l; j++)
            {
                double y = outputs[r * l + j], t = targets[r * l + j];
                bool predicted = OutputsAreProbabilities ? y > 0.5 : y > 0;
                bool actual = t >= 0.5;
                if (predicted && actual) _tp[j]++;
                else if (predicted) _fp[j]++;
                else if (actual) _fn[j]++;
                else _tn[j]++;
                exact &= predicted == actual;
                if (OutputsAreProbabilities)
                {
                    double p = Math.Clamp(y, ProbabilityFloor, 1 - ProbabilityFloor);
                    _logLossSum -= t * Math.Log(p) + (1 - t) * Math.Log(1 - p);
                }
                else
                {
                    _logLossSum += Math.Max(y, 0) - y * t + Math.Log(1 + Math.Exp(-Math.Abs(y)));
                }
            }
            if (exact) _exact++;
            Count++;
        }
    }

    /// <summary>Label <paramref name="j"/>'s 2 × 2 confusion matrix (class 0 = no, 1 = yes; rows actual).</summary>
    public ConfusionMatrix LabelConfusion(int j)
    {
        Check(j);
        var matrix = new ConfusionMatrix(2);
        matrix.AddCounts(_tn[j], _fp[j], _fn[j], _tp[j]);
        return matrix;
    }

    /// <summary>Per-label scores (precision, recall, F1 and support of the "yes" decisions), named by
    /// <paramref name="names"/> or by index.</summary>
    public ClassScore[] Scores(IReadOnlyList<string>? names = null)
    {
        ConfusionMatrix.CheckNames(names, Labels);
        var scores = new ClassScore[Labels];
        for (int j = 0; j < Labels; j++)
            scores[j] = new ClassScore(j, names?[j] ?? j.ToString(CultureInfo.InvariantCulture), Precision(j), Recall(j), F1(j), _tp[j] + _fn[j]);
        return scores;
    }

    private int Check(int j)
    {
        if ((uint)j >= (uint)Labels) ThrowHelper.ThrowArgumentOutOfRange(nameof(j), j, $"Must be a label in [0, {Labels}).");
        return j;
    }
}
