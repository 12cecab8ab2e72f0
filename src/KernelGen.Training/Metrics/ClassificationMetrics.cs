using System;

namespace KernelGen.Metrics;

/// <summary>
/// Accumulates single-label classification metrics over batches of network outputs: accuracy (the first largest output
/// is the prediction, as <c>argmax</c>), top-k accuracy, log-loss and the <see cref="ConfusionMatrix"/> (hence
/// per-class precision, recall and F1). Outputs are logits by default (log-loss uses log softmax, computed with the
/// log-sum-exp shift in double), or probabilities (from a softmax layer). <see cref="Add"/> and
/// <see cref="AddDistributions"/> allocate nothing, so a training loop can evaluate every epoch without allocating.
/// </summary>
public sealed class ClassificationMetrics
{
    // The smallest probability whose log is taken: float's machine epsilon, as scikit-learn's log_loss clips float32
    // probabilities to [eps, 1 − eps].
    private const double ProbabilityFloor = 1.1920928955078125e-7;

    private long _topKCorrect;
    private double _logLossSum;

    /// <summary>An empty accumulator for <paramref name="classes"/> classes.</summary>
    /// <param name="classes">The number of classes (outputs per sample), at least 1.</param>
    /// <param name="topK">k of <see cref="TopKAccuracy"/> (at least 1; 5 by default).</param>
    /// <param name="outputsAreProbabilities">True when the outputs are probabilities (a softmax layer ends the network)
    /// rather than logits.</param>
    public ClassificationMetrics(int classes, int topK = 5, bool outputsAreProbabilities = false)
    {
        if (topK < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(topK), topK, "k must be at least 1.");
        Confusion = new ConfusionMatrix(classes);
        TopK = topK;
        OutputsAreProbabilities = outputsAreProbabilities;
    }

    /// <summary>The number of classes.</summary>
    public int Classes => Confusion.Classes;

    /// <summary>k of <see cref="TopKAccuracy"/>.</summary>
    public int TopK { get; }

    /// <summary>Whether outputs are read as probabilities rather than logits.</summary>
    public bool OutputsAreProbabilities { get; }

    /// <summary>The confusion matrix of the samples added so far (live; it changes with every <see cref="Add"/>).</summary>
    public ConfusionMatrix Confusion { get; }

    /// <summary>Samples added.</summary>
    public long Count => Confusion.Total;

    /// <summary>The share of samples whose first largest output is their class (NaN when empty).</summary>
    public double Accuracy => Confusion.Accuracy;

    /// <summary>The share of samples whose class is among the <see cref="TopK"/> largest outputs; an output equal to the
    /// class's counts as larger when it comes first, so top-1 accuracy equals <see cref="Accuracy"/> (NaN when empty).</summary>
    public double TopKAccuracy => Count > 0 ? (double)_topKCorrect / Count : double.NaN;

    /// <summary>The mean of −log p(class) (cross-entropy; for distribution targets −Σ t·log p), p = softmax of the
    /// logits or the given probabilities clipped below at float's machine epsilon (NaN when empty).</summary>
    public double LogLoss => Count > 0 ? _logLossSum / Count : double.NaN;

    /// <summary>Forgets everything added.</summary>
    public void Reset()
    {
        Confusion.Reset();
        _topKCorrect = 0;
        _logLossSum = 0;
    }

    /// <summary>Adds a batch: <paramref name="outputs"/> row-major [labels.Length × <see cref="Classes"/>], one class
    /// index per row. Allocation-free.</summary>
    public void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels)
    {
        int k = Classes;
        ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, labels.Length * k, nameof(outputs));
        for (int r = 0; r < labels.Length; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)k) ThrowHelper.ThrowArgumentOutOfRange(nameof(labels), label, $"labels[{r}] is not a class in [0, {k}).");
            ReadOnlySpan<float> row = outputs.Slice(r * k, k);
            Confusion.Add(label, ArgMax(row));
            if (Rank(row, label) < TopK) _topKCorrect++;
            _logLossSum -= LogProbability(row, label);
        }
    }

    /// <summary>
    /// Adds a batch with target distributions (rows of <paramref name="targets"/> summing to 1, as KL divergence takes):
    /// the class of a row is its target's first largest entry, and its log-loss is the cross-entropy −Σ_j t_j·log p_j.
    /// Allocation-free.
    /// </summary>
    public void AddDistributions(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets)
    {
        int k = Classes;
        ThrowHelper.ThrowIfLengthNotEqual(targets.Length, outputs.Length, nameof(targets));
        if (outputs.Length % k != 0) ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, outputs.Length / k * k, nameof(outputs));
        for (int r = 0; r < outputs.Length / k; r++)
        {
            ReadOnlySpan<float> row = outputs.Slice(r * k, k), target = targets.Slice(r * k, k);
            int label = ArgMax(target);
            Confusion.Add(label, ArgMax(row));
            if (Rank(row, label) < TopK) _topKCorrect++;
            double crossEntropy = 0;
            for (int j = 0; j < k; j++) if (target[j] != 0) crossEntropy -= target[j] * LogProbability(row, j);
            _logLossSum += crossEntropy;
        }
    }

    /// <summary>The index of the first largest value.</summary>
    internal static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    /// <summary>How many outputs rank above <paramref name="label"/>'s: larger ones, and equal ones that come first.</summary>
    private static int Rank(ReadOnlySpan<float> row, int label)
    {
        float value = row[label];
        int rank = 0;
        for (int j = 0; j < row.Length; j++) if (row[j] > value || (row[j] == value && j < label)) rank++;
        return rank;
    }

    private double LogProbability(ReadOnlySpan<float> row, int j)
    {
        if (OutputsAreProbabilities) return Math.Log(Math.Max(row[j], ProbabilityFloor));
        double max = row[0];
        for (int i = 1; i < row.Length; i++) max = Math.Max(max, row[i]);
        double sum = 0;
        for (int i = 0; i < row.Length; i++) sum += Math.Exp(row[i] - max);
        return row[j] - max - Math.Log(sum);
    }
}
