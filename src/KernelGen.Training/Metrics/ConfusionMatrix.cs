using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace KernelGen.Metrics;

/// <summary>Precision, recall, F1 and support of one class (or one label of a multi-label task).</summary>
/// <param name="Class">The class index (or label index).</param>
/// <param name="Name">The class name, or the index as text.</param>
/// <param name="Precision">TP / (TP + FP): of the samples predicted as this class, the share that are (0 when none is predicted).</param>
/// <param name="Recall">TP / (TP + FN): of the samples of this class, the share found (0 when there are none).</param>
/// <param name="F1">2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall (0 when TP + FP + FN = 0).</param>
/// <param name="Support">The samples of this class (TP + FN).</param>
public readonly record struct ClassScore(int Class, string Name, double Precision, double Recall, double F1, long Support);

/// <summary>
/// A confusion matrix of single-label classification: entry [actual, predicted] counts the samples of class
/// <c>actual</c> predicted as <c>predicted</c> (rows are true classes, columns predictions: scikit-learn's
/// <c>confusion_matrix</c> layout). Per-class precision, recall and F1 follow scikit-learn's definitions with
/// <c>zero_division=0</c> (a ratio with a zero denominator is 0); macro averages run over the classes that occur among
/// the true labels or the predictions, as scikit-learn's do when no label list is given. <see cref="Add"/> allocates
/// nothing; <see cref="Reset"/> starts over.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <summary>An empty matrix of <paramref name="classes"/> × <paramref name="classes"/>.</summary>
    public ConfusionMatrix(int classes)
    {
        if (classes < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(classes), classes, "Need at least one class.");
        if ((long)classes * classes > Array.MaxLength) ThrowHelper.ThrowArgumentOutOfRange(nameof(classes), classes, "Too many classes for a matrix.");
        Classes = classes;
        _counts = new long[classes * classes];
    }

    /// <summary>The number of classes (rows and columns).</summary>
    public int Classes { get; }

    /// <summary>The samples of class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted]
    {
        get
        {
            Check(actual, nameof(actual));
            Check(predicted, nameof(predicted));
            return _counts[actual * Classes + predicted];
        }
    }

    /// <summary>All samples counted.</summary>
    public long Total { get; private set; }

    /// <summary>The samples on the diagonal (predicted correctly).</summary>
    public long Correct
    {
        get
        {
            long correct = 0;
            for (int k = 0; k < Classes; k++) correct += _counts[k * Classes + k];
            return correct;
        }
    }

    /// <summary>Correct / Total (NaN when empty).</summary>
    public double Accuracy => Total > 0 ? (double)Correct / Total : double.NaN;

    /// <summary>Counts one sample. Allocation-free.</summary>
    public void Add(int actual, int predicted)
    {
        Check(actual, nameof(actual));
        Check(predicted, nameof(predicted));
        _counts[actual * Classes + predicted]++;
        Total++;
    }

    /// <summary>Sets a 2 × 2 matrix from its four counts (rows actual no/yes, columns predicted no/yes).</summary>
    internal void AddCounts(long trueNegatives, long falsePositives, long falseNegatives, long truePositives)
    {
        _counts[0] += trueNegatives;
        _counts[1] += falsePositives;
        _counts[2] += falseNegatives;
        _counts[3] += truePositives;
        Total += trueNegatives + falsePositives + falseNegatives + truePositives;
    }

    /// <summary>Empties the matrix.</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        Total = 0;
    }

    /// <summary>The samples of class <paramref name="k"/> (its row's sum: TP + FN).</summary>
    public long Support(int k)
    {
        Check(k, nameof(k));
        long sum = 0;
        for (int j = 0; j < Classes; j++) sum += _counts[k * Classes + j];
        return sum;
    }

    /// <summary>The samples predicted as class <paramref name="k"/> (its column's sum: TP + FP).</summary>
    public long PredictedCount(int k)
    {
        Check(k, nameof(k));
        long sum = 0;
        for (int i = 0; i < Classes; i++) sum += _counts[i * Classes + k];
        return sum;
    }

    /// <summary>TP / (TP + FP) of class <paramref name="k"/>; 0 when nothing is predicted as k.</summary>
    public double Precision(int k) => Ratio(_counts[Index(k)], PredictedCount(k));

    /// <summary>TP / (TP + FN) of class <paramref name="k"/>; 0 when no sample is of class k.</summary>
    public double Recall(int k) => Ratio(_counts[Index(k)], Support(k));

    /// <summary>2·TP / (2·TP + FP + FN) of class <paramref name="k"/>; 0 when TP + FP + FN = 0.</summary>
    public double F1(int k)
    {
        long tp = _counts[Index(k)];
        return F1Score(tp, PredictedCount(k) - tp, Support(k) - tp);
    }

    /// <summary>The unweighted mean of <see cref="Precision"/> over the classes that occur (see the class remarks); NaN when empty.</summary>
    public double MacroPrecision => Macro(Precision);

    /// <summary>The unweighted mean of <see cref="Recall"/> over the classes that occur; NaN when empty.</summary>
    public double MacroRecall => Macro(Recall);

    /// <summary>The unweighted mean of <see cref="F1"/> over the classes that occur; NaN when empty.</summary>
    public double MacroF1 => Macro(F1);

    /// <summary>The mean of <see cref="F1"/> weighted by each class's support; NaN when empty.</summary>
    public double WeightedF1
    {
        get
        {
            if (Total == 0) return double.NaN;
            double sum = 0;
            for (int k = 0; k < Classes; k++) sum += F1(k) * Support(k);
            return sum / Total;
        }
    }

    /// <summary>Per-class scores, named by <paramref name="names"/> (one per class) or by index.</summary>
    public ClassScore[] Scores(IReadOnlyList<string>? names = null)
    {
        CheckNames(names, Classes);
        var scores = new ClassScore[Classes];
        for (int k = 0; k < Classes; k++)
            scores[k] = new ClassScore(k, names?[k] ?? k.ToString(CultureInfo.InvariantCulture), Precision(k), Recall(k), F1(k), Support(k));
        return scores;
    }

    /// <summary>The matrix as a fixed-width text table (rows: actual class, columns: predicted class).</summary>
    public string ToText(IReadOnlyList<string>? names = null)
    {
        CheckNames(names, Classes);
        var labels = new string[Classes];
        for (int k = 0; k < Classes; k++) labels[k] = names?[k] ?? k.ToString(CultureInfo.InvariantCulture);
        int width = "actual \\ predicted".Length;
        foreach (string l in labels) width = Math.Max(width, l.Length);
        int cell = 1;
        foreach (long c in _counts) cell = Math.Max(cell, c.ToString(CultureInfo.InvariantCulture).Length);
        foreach (string l in labels) cell = Math.Max(cell, l.Length);
        var text = new StringBuilder();
        text.Append("actual \\ predicted".PadRight(width));
        foreach (string l in labels) text.Append("  ").Append(l.PadLeft(cell));
        text.AppendLine();
        for (int i = 0; i < Classes; i++)
        {
            text.Append(labels[i].PadRight(width));
            for (int j = 0; j < Classes; j++) text.Append("  ").Append(_counts[i * Classes + j].ToString(CultureInfo.InvariantCulture).PadLeft(cell));
            text.AppendLine();
        }
        return text.ToString();
    }

    internal static double Ratio(long numerator, long denominator) => denominator > 0 ? (double)numerator / denominator : 0;

    internal static double F1Score(long tp, long fp, long fn) => tp + fp + fn > 0 ? 2.0 * tp / (2.0 * tp + fp + fn) : 0;

    internal static void CheckNames(IReadOnlyList<string>? names, int count)
    {
        if (names is not null && names.Count != count)
            throw new ArgumentException($"{names.Count} names were given for {count} classes.", nameof(names));
    }

    private double Macro(Func<int, double> score)
    {
        double sum = 0;
        int present = 0;
        for (int k = 0; k < Classes; k++)
        {
            if (Support(k) == 0 && PredictedCount(k) == 0) continue;
            sum += score(k);
            present++;
        }
        return present > 0 ? sum / present : double.NaN;
    }

    private int Index(int k)
    {
        Check(k, nameof(k));
        return k * Classes + k;
    }

    private void Check(int k, string name)
    {
        if ((uint)k >= (uint)Classes) ThrowHelper.ThrowArgumentOutOfRange(name, k, $"Must be a class in [0, {Classes}).");
    }
}
