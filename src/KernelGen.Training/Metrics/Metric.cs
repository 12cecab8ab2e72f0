using System;

namespace KernelGen.Metrics;

/// <summary>
/// One-call metrics over whole arrays of outputs (each builds the matching accumulator, adds everything and reads the
/// result; to evaluate batch by batch without allocating, keep a <see cref="ClassificationMetrics"/>,
/// <see cref="MultiLabelMetrics"/> or <see cref="RegressionMetrics"/>). Outputs and targets are row-major
/// [samples × outputs].
/// </summary>
public static class Metric
{
    /// <summary>The share of rows of <paramref name="outputs"/> whose first largest entry is the label.</summary>
    public static double Accuracy(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int classes) => Classification(outputs, labels, classes, 1).Accuracy;

    /// <summary>The share of rows whose label is among the <paramref name="k"/> largest outputs (ties: earlier outputs rank higher).</summary>
    public static double TopKAccuracy(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int classes, int k) => Classification(outputs, labels, classes, k).TopKAccuracy;

    /// <summary>The mean −log softmax(logits)[label] (the cross-entropy of softmax outputs).</summary>
    public static double LogLoss(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes) => Classification(logits, labels, classes, 1).LogLoss;

    /// <summary>The confusion matrix of the rows' first largest entries against the labels.</summary>
    public static ConfusionMatrix ConfusionMatrix(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int classes) => Classification(outputs, labels, classes, 1).Confusion;

    /// <summary>The mean squared error (1/N) Σ (ŷ − y)² over all elements.</summary>
    public static double MeanSquaredError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets) => Regression(predictions, targets, 1).MeanSquaredError;

    /// <summary>The mean absolute error (1/N) Σ |ŷ − y| over all elements.</summary>
    public static double MeanAbsoluteError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets) => Regression(predictions, targets, 1).MeanAbsoluteError;

    /// <summary>R² averaged over <paramref name="outputs"/> outputs per sample (see <see cref="RegressionMetrics.R2"/>).</summary>
    public static double R2(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int outputs = 1) => Regression(predictions, targets, outputs).R2;

    private static ClassificationMetrics Classification(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int classes, int k)
    {
        var metrics = new ClassificationMetrics(classes, k);
        metrics.Add(outputs, labels);
        return metrics;
    }

    private static RegressionMetrics Regression(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int outputs)
    {
        var metrics = new RegressionMetrics(outputs);
        metrics.Add(predictions, targets);
        return metrics;
    }
}
