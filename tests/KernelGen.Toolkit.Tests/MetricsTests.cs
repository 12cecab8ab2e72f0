using System;
using System.Linq;
using KernelGen.Metrics;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// The metrics against hand-worked examples, scikit-learn's documented example values, and plain double loops written
/// from the textbook formulas (never from the accumulators under test).
/// </summary>
public sealed class MetricsTests
{
    [Fact]
    public void Confusion_matrix_and_per_class_scores_of_a_worked_example()
    {
        // actual    0 0 1 1 2 2 2
        // predicted 0 1 1 1 2 0 2   → rows [1 1 0], [0 2 0], [1 0 2]
        var matrix = new ConfusionMatrix(3);
        int[] actual = [0, 0, 1, 1, 2, 2, 2], predicted = [0, 1, 1, 1, 2, 0, 2];
        for (int i = 0; i < actual.Length; i++) matrix.Add(actual[i], predicted[i]);
        long[,] expected = { { 1, 1, 0 }, { 0, 2, 0 }, { 1, 0, 2 } };
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) Assert.Equal(expected[i, j], matrix[i, j]);
        Assert.Equal(5.0 / 7, matrix.Accuracy, 15);
        // Class 0: TP 1, FP 1, FN 1. Class 1: TP 2, FP 1, FN 0. Class 2: TP 2, FP 0, FN 1.
        Assert.Equal([0.5, 2.0 / 3, 1.0], Enumerable.Range(0, 3).Select(matrix.Precision));
        Assert.Equal([0.5, 1.0, 2.0 / 3], Enumerable.Range(0, 3).Select(matrix.Recall));
        Assert.Equal([0.5, 0.8, 0.8], Enumerable.Range(0, 3).Select(k => Math.Round(matrix.F1(k), 12)));
        Assert.Equal(0.7, matrix.MacroF1, 12);
        Assert.Equal((0.5 * 2 + 0.8 * 2 + 0.8 * 3) / 7, matrix.WeightedF1, 12);
        Assert.Equal([2L, 2, 3], Enumerable.Range(0, 3).Select(matrix.Support));

        // A fourth class that never occurs (in labels or predictions) is left out of the macro average, as in scikit-learn.
        var wide = new ConfusionMatrix(4);
        for (int i = 0; i < actual.Length; i++) wide.Add(actual[i], predicted[i]);
        Assert.Equal(0.7, wide.MacroF1, 12);
        Assert.Equal(0, wide.Precision(3)); // zero_division = 0
        Assert.Contains("actual \\ predicted", wide.ToText(["a", "b", "c", "d"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.Add(3, 0));
    }

    [Fact]
    public void Scikit_learns_documented_precision_recall_example()
    {
        // precision_recall_fscore_support(['cat','dog','pig','cat','dog','pig'], ['cat','pig','dog','cat','cat','dog'],
        // average='macro') → (0.22…, 0.33…, 0.26…) in scikit-learn's documentation.
        int[] actual = [0, 1, 2, 0, 1, 2], predicted = [0, 2, 1, 0, 0, 1];
        var matrix = new ConfusionMatrix(3);
        for (int i = 0; i < 6; i++) matrix.Add(actual[i], predicted[i]);
        Assert.Equal(0.222, matrix.MacroPrecision, 3);
        Assert.Equal(0.333, matrix.MacroRecall, 3);
        Assert.Equal(0.267, matrix.MacroF1, 3);
    }

    [Fact]
    public void Classification_metrics_match_softmax_computed_directly()
    {
        float[] logits = [2, 1, 0.5f, /**/ 1, 1, 0, /**/ -1, 3, 0.25f, /**/ 0, 0, 0];
        int[] labels = [0, 1, 2, 2];
        var metrics = new ClassificationMetrics(3, topK: 2);
        metrics.Add(logits, labels);
        // Predictions (first largest): 0, 0 (a tie goes to the first), 1, 0 → only row 0 is right.
        Assert.Equal(0.25, metrics.Accuracy);
        // Top-2: row 1's label 1 ties with output 0, which ranks first: rank 1 < 2 → in. Row 2's label 2 (0.25) is
        // second largest → in. Row 3's label 2 ties with 0 and 1 that come first: rank 2 → out.
        Assert.Equal(0.75, metrics.TopKAccuracy);
        double expected = 0;
        for (int r = 0; r < 4; r++)
        {
            double denominator = 0;
            for (int j = 0; j < 3; j++) denominator += Math.Exp(logits[r * 3 + j]);
            expected -= Math.Log(Math.Exp(logits[r * 3 + labels[r]]) / denominator);
        }
        Assert.Equal(expected / 4, metrics.LogLoss, 12);
        Assert.Equal(expected / 4, Metric.LogLoss(logits, labels, 3), 12);
        Assert.Equal(0.25, Metric.Accuracy(logits, labels, 3));
        Assert.Equal(1.0, Metric.TopKAccuracy(logits, labels, 3, 3));

        // Probabilities (a softmax layer's outputs): −log p, with 0 clipped to float's epsilon.
        var probabilities = new ClassificationMetrics(2, outputsAreProbabilities: true);
        probabilities.Add([0.8f, 0.2f, 1f, 0f], [0, 1]);
        Assert.Equal((-Math.Log(0.800000011920929) - Math.Log(1.1920928955078125e-7)) / 2, probabilities.LogLoss, 12);
    }

    [Fact]
    public void Distribution_targets_score_their_largest_entry_and_cross_entropy()
    {
        float[] logits = [0, 1, 2, /**/ 1, 0, 0];
        float[] targets = [0.1f, 0.2f, 0.7f, /**/ 0.2f, 0.5f, 0.3f];
        var metrics = new ClassificationMetrics(3);
        metrics.AddDistributions(logits, targets);
        Assert.Equal(0.5, metrics.Accuracy); // row 0: 2 = 2; row 1: predicted 0, target's largest is 1
        double expected = 0;
        for (int r = 0; r < 2; r++)
        {
            double denominator = Enumerable.Range(0, 3).Sum(j => Math.Exp(logits[r * 3 + j]));
            for (int j = 0; j < 3; j++) expected -= targets[r * 3 + j] * Math.Log(Math.Exp(logits[r * 3 + j]) / denominator);
        }
        Assert.Equal(expected / 2, metrics.LogLoss, 12);
    }

    [Fact]
    public void Multi_label_metrics_of_a_worked_example()
    {
        // Two labels, four samples. Logits > 0 predict yes.
        //   label 0: predicted Y N Y N, actual Y Y N N → TP 1, FN 1, FP 1, TN 1
        //   label 1: predicted Y Y N N, actual Y Y N Y → TP 2, FN 1, FP 0, TN 1
        float[] logits = [2, 1, /**/ -1, 3, /**/ 0.5f, -2, /**/ -3, -0.1f];
        float[] targets = [1, 1, /**/ 1, 1, /**/ 0, 0, /**/ 0, 1];
        var metrics = new MultiLabelMetrics(2);
        metrics.Add(logits, targets);
        Assert.Equal((1L, 1L, 1L, 1L), (metrics.TruePositives(0), metrics.FalsePositives(0), metrics.FalseNegatives(0), metrics.TrueNegatives(0)));
        Assert.Equal((2L, 0L, 1L, 1L), (metrics.TruePositives(1), metrics.FalsePositives(1), metrics.FalseNegatives(1), metrics.TrueNegatives(1)));
        Assert.Equal(5.0 / 8, metrics.Accuracy);
        Assert.Equal(1.0 / 4, metrics.SubsetAccuracy); // only sample 0 has both right
        Assert.Equal(0.5, metrics.F1(0));
        Assert.Equal(0.8, metrics.F1(1), 12);                 // 2·2 / (4 + 0 + 1)
        Assert.Equal(0.65, metrics.MacroF1, 12);
        Assert.Equal(2.0 * 3 / (2 * 3 + 1 + 2), metrics.MicroF1, 12); // pooled TP 3, FP 1, FN 2
        double expected = 0;
        for (int i = 0; i < 8; i++)
        {
            double p = 1 / (1 + Math.Exp(-logits[i]));
            expected -= targets[i] * Math.Log(p) + (1 - targets[i]) * Math.Log(1 - p);
        }
        Assert.Equal(expected / 8, metrics.LogLoss, 12);
        ConfusionMatrix label1 = metrics.LabelConfusion(1);
        Assert.Equal((1L, 0L, 1L, 2L), (label1[0, 0], label1[0, 1], label1[1, 0], label1[1, 1]));
        Assert.Equal(3L, metrics.Scores(["a", "b"])[1].Support);
    }

    [Fact]
    public void Regression_metrics_match_scikit_learns_documented_examples()
    {
        // scikit-learn's documentation: y_true = [3, −0.5, 2, 7], y_pred = [2.5, 0, 2, 8]: MSE 0.375, MAE 0.5, R² 0.948….
        var single = new RegressionMetrics(1);
        single.Add([2.5f, 0, 2, 8], [3, -0.5f, 2, 7]);
        Assert.Equal(0.375, single.MeanSquaredError, 12);
        Assert.Equal(0.5, single.MeanAbsoluteError, 12);
        Assert.Equal(0.9486081370449679, single.R2, 12);
        // Two outputs: y_true = [[0.5, 1], [−1, 1], [7, −6]], y_pred = [[0, 2], [−1, 2], [8, −5]]: MSE 0.708…, MAE 0.75,
        // R² (uniform average) 0.936….
        var multi = new RegressionMetrics(2);
        multi.Add([0, 2, -1, 2, 8, -5], [0.5f, 1, -1, 1, 7, -6]);
        Assert.Equal(0.7083333333333334, multi.MeanSquaredError, 12);
        Assert.Equal(0.75, multi.MeanAbsoluteError, 12);
        Assert.Equal(0.9368005266622779, multi.R2, 12);
    }

    [Fact]
    public void Regression_metrics_match_a_two_pass_double_computation_batch_by_batch()
    {
        var random = new Random(5);
        int n = 1000, m = 3;
        // A large mean and a small spread: one-pass Σy² − n·ȳ² would lose most digits here.
        float[] y = [.. Enumerable.Range(0, n * m).Select(_ => (float)(1e4 + random.NextDouble()))];
        float[] p = [.. y.Select(v => v + (float)(random.NextDouble() * 0.2 - 0.1))];
        var metrics = new RegressionMetrics(m);
        for (int start = 0; start < n; start += 64)
        {
            int rows = Math.Min(64, n - start);
            metrics.Add(p.AsSpan(start * m, rows * m), y.AsSpan(start * m, rows * m));
        }
        double r2Sum = 0, sse = 0, sae = 0;
        for (int j = 0; j < m; j++)
        {
            double mean = 0, sst = 0, sseJ = 0;
            for (int i = 0; i < n; i++) mean += y[i * m + j];
            mean /= n;
            for (int i = 0; i < n; i++)
            {
                double t = y[i * m + j], e = p[i * m + j] - t;
                sst += (t - mean) * (t - mean);
                sseJ += e * e;
                sae += Math.Abs(e);
            }
            sse += sseJ;
            r2Sum += 1 - sseJ / sst;
            Assert.Equal(1 - sseJ / sst, metrics.OutputR2(j), 9);
        }
        Assert.Equal(sse / (n * m), metrics.MeanSquaredError, 12);
        Assert.Equal(sae / (n * m), metrics.MeanAbsoluteError, 12);
        Assert.Equal(r2Sum / m, metrics.R2, 9);

        var constant = new RegressionMetrics(1);
        constant.Add([2, 2], [2, 2]);
        Assert.Equal(1, constant.R2);
        constant.Add([2], [3]);
        Assert.NotEqual(1, constant.R2);
        var wrong = new RegressionMetrics(1);
        wrong.Add([1, 3], [2, 2]);
        Assert.Equal(0, wrong.R2); // constant targets, inexact predictions: scikit-learn's force_finite gives 0
        Assert.True(double.IsNaN(new RegressionMetrics(1).MeanSquaredError));
    }

    [Fact]
    public void Adding_batches_allocates_nothing()
    {
        var classification = new ClassificationMetrics(3, 2);
        var multi = new MultiLabelMetrics(3);
        var regression = new RegressionMetrics(3);
        float[] outputs = [.. Enumerable.Range(0, 30).Select(i => (float)Math.Sin(i))];
        float[] targets = [.. Enumerable.Range(0, 30).Select(i => i % 3 == 0 ? 1f : 0f)];
        int[] labels = [.. Enumerable.Range(0, 10).Select(i => i % 3)];
        void All()
        {
            classification.Add(outputs, labels);
            classification.AddDistributions(outputs, targets);
            multi.Add(outputs, targets);
            regression.Add(outputs, targets);
            classification.Reset();
            multi.Reset();
            regression.Reset();
        }
        KernelGen.Tests.HotLoop.WarmUp(All);
        long before = GC.GetAllocatedBytesForCurrentThread();
        All();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
