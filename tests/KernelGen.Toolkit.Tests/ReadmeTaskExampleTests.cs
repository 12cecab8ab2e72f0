using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using KernelGen.Data;
using KernelGen.Preprocessing;
using KernelGen.Reporting;
using KernelGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// The README's four "Every task from a CSV file" examples, line for line (the README's <c>args[0]</c> is the generated
/// file, its report paths are in a temporary folder, and Console goes to the test output), on CSV files written here
/// from fixed seeds. Each threshold is far above what a broken trainer reaches: the majority class (≤ 0.37, 0.5), or
/// the mean predictor's R² of 0. The package test builds the README's own blocks.
/// </summary>
public sealed class ReadmeTaskExampleTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kg-readme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>1000 rows of four features uniform in [−1, 1] and the label columns <paramref name="labels"/> makes.</summary>
    private string WriteCsv(string name, string labelHeader, int seed, Func<double[], Random, string> labels)
    {
        var random = new Random(seed);
        var text = new StringBuilder("a,b,c,d," + labelHeader + "\n");
        for (int i = 0; i < 1000; i++)
        {
            double[] f = [random.NextDouble() * 2 - 1, random.NextDouble() * 2 - 1, random.NextDouble() * 2 - 1, random.NextDouble() * 2 - 1];
            text.Append(string.Join(",", f.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append(',').Append(labels(f, random)).Append('\n');
        }
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private string Report(string name) => Path.Combine(_dir, name);

    private void AssertReport(string name)
    {
        string html = File.ReadAllText(Report(name));
        Assert.Contains("Test set", html);
        Assert.Contains("Parameters held", html);
        Assert.DoesNotContain("NaN", html);
    }

    [Fact]
    public void Classification_example()
    {
        string[] args = [WriteCsv("classes.csv", "kind", 1, (f, _) => f[0] * f[0] + f[1] * f[1] < 0.35 ? "centre" : f[2] + f[3] < 0 ? "left" : "right")];
        var Console = new StringWriter();

        Dataset data = Csv.Read(args[0], new CsvOptions { HasHeader = true, Labels = CsvLabels.ClassName });
        (Dataset train, Dataset test) = data.SplitStratified(0.2, seed: 1);
        (Dataset fit, Dataset validation) = train.SplitStratified(0.2, seed: 2);
        Standardize scale = Standardize.Fit(fit);
        foreach (Dataset d in new[] { fit, validation, test }) scale.Apply(d.Features, d.Count);

        var net = new TabularClassifier(maxBatchSize: 64, seed: 1);
        TrainingResult result = new Trainer(net, new TrainerOptions { Epochs = 200, BatchSize = 32, Patience = 20 }).Fit(fit, validation);
        Evaluation evaluation = Trainer.Evaluate(net, test);
        Console.WriteLine(result.Message);
        Console.WriteLine($"test: {evaluation}");
        Console.Write(evaluation.Classification!.Confusion.ToText(data.ClassNames));
        TrainingReport.Write(result.History, Report("classifier.html"), "Classifier", test: evaluation, testNames: data.ClassNames);

        output.WriteLine(Console.ToString());
        Assert.Equal(["centre", "left", "right"], data.ClassNames);
        Assert.True(evaluation.Accuracy >= 0.9, $"test accuracy {evaluation.Accuracy}");
        Assert.Equal(result.BestEpoch, result.ParametersEpoch);            // early stopping restores the best epoch
        AssertReport("classifier.html");
    }

    [Fact]
    public void Binary_example()
    {
        string[] args = [WriteCsv("yes-no.csv", "same_sign", 2, (f, _) => f[0] * f[1] > 0 ? "1" : "0")];   // XOR-like: not linearly separable
        var Console = new StringWriter();

        Dataset data = Csv.Read(args[0], new CsvOptions { HasHeader = true, Labels = CsvLabels.Targets });
        (Dataset train, Dataset test) = data.Split(0.2, seed: 1);
        (Dataset fit, Dataset validation) = train.Split(0.2, seed: 2);

        var net = new YesNoNet(maxBatchSize: 64, seed: 1);
        TrainingResult result = new Trainer(net, new TrainerOptions { Epochs = 200, BatchSize = 32, Patience = 20 }).Fit(fit, validation);
        Evaluation evaluation = Trainer.Evaluate(net, test);
        Console.WriteLine(result.Message);
        Console.WriteLine($"test: {evaluation}");
        float[] p = Prediction.Probabilities(net, test.Features);     // sigmoid of each logit, any number of rows
        int[] yes = Prediction.Classes(net, test.Features);           // 1 where the logit is positive
        Console.WriteLine($"first test row: p = {p[0]:F3}, predicted {yes[0]}, actual {test.Targets![0]}");
        TrainingReport.Write(result.History, Report("binary.html"), "Binary", test: evaluation);

        output.WriteLine(Console.ToString());
        Assert.Equal(TrainingTask.Binary, evaluation.Task);
        Assert.True(evaluation.Accuracy >= 0.9, $"test accuracy {evaluation.Accuracy}");
        Assert.Equal(yes.Select((c, i) => c == (test.Targets[i] >= 0.5f ? 1 : 0)).Count(right => right) / (double)test.Count, evaluation.Accuracy);
        AssertReport("binary.html");
    }

    [Fact]
    public void Multi_label_example()
    {
        string[] args = [WriteCsv("tags.csv", "sunny,windy,warm", 3,
            (f, _) => $"{(f[0] > 0.2 ? 1 : 0)},{(f[1] * f[2] > 0 ? 1 : 0)},{(f[3] * f[3] + f[0] * f[0] < 0.5 ? 1 : 0)}")];
        var Console = new StringWriter();

        string[] labels = ["sunny", "windy", "warm"];
        Dataset data = Csv.Read(args[0], new CsvOptions { HasHeader = true, Labels = CsvLabels.Targets, LabelColumns = [.. labels] });
        (Dataset train, Dataset test) = data.Split(0.2, seed: 1);
        (Dataset fit, Dataset validation) = train.Split(0.2, seed: 2);

        var net = new TaggerNet(maxBatchSize: 64, seed: 1);
        TrainingResult result = new Trainer(net, new TrainerOptions { Epochs = 200, BatchSize = 32, Patience = 20 }).Fit(fit, validation);
        Evaluation evaluation = Trainer.Evaluate(net, test);
        Console.WriteLine(result.Message);
        Console.WriteLine($"test: {evaluation}");
        foreach (var s in evaluation.MultiLabel!.Scores(labels)) Console.WriteLine($"{s.Name}: precision {s.Precision:F3}, recall {s.Recall:F3}, F1 {s.F1:F3}");
        TrainingReport.Write(result.History, Report("tags.html"), "Tags", test: evaluation, testNames: labels);

        output.WriteLine(Console.ToString());
        Assert.Equal(TrainingTask.MultiLabel, evaluation.Task);
        Assert.True(evaluation.MultiLabel.SubsetAccuracy >= 0.85, $"subset accuracy {evaluation.MultiLabel.SubsetAccuracy}");
        Assert.All(Enumerable.Range(0, 3), j => Assert.True(evaluation.MultiLabel.F1(j) >= 0.9, $"F1 of {labels[j]}: {evaluation.MultiLabel.F1(j)}"));
        AssertReport("tags.html");
    }

    [Fact]
    public void Regression_example()
    {
        string[] args = [WriteCsv("prices.csv", "price", 4, (f, random) =>
            (5000 + 800 * Math.Sin(2 * f[0]) + 600 * f[1] * f[1] + 300 * f[2] + 20 * (random.NextDouble() - 0.5)).ToString("F2", CultureInfo.InvariantCulture))];
        var Console = new StringWriter();

        Dataset data = Csv.Read(args[0], new CsvOptions { HasHeader = true, Labels = CsvLabels.Targets });
        (Dataset train, Dataset test) = data.Split(0.2, seed: 1);
        (Dataset fit, Dataset validation) = train.Split(0.2, seed: 2);
        TargetScaling prices = TargetScaling.Fit(fit);

        var net = new PriceNet(maxBatchSize: 64, seed: 1);
        var trainer = new Trainer(net, new TrainerOptions { Epochs = 200, BatchSize = 32, Patience = 20, TargetScaling = prices });
        TrainingResult result = trainer.Fit(fit, validation);                    // both in original units
        Evaluation evaluation = Trainer.Evaluate(net, test, prices);
        Console.WriteLine(result.Message);
        Console.WriteLine($"test: {evaluation}");
        float[] predicted = Prediction.Predict(net, test, prices);               // back in original units
        Console.WriteLine($"first test row: predicted {predicted[0]:F0}, actual {test.Targets![0]:F0}");
        TrainingReport.Write(result.History, Report("prices.html"), "Prices", test: evaluation);

        output.WriteLine(Console.ToString());
        Assert.Equal(TrainingTask.Regression, evaluation.Task);
        Assert.True(evaluation.Regression!.R2 >= 0.95, $"R² {evaluation.Regression.R2}");
        // The MAE in original units, recomputed from the predictions.
        Assert.Equal(predicted.Select((v, i) => Math.Abs(v - (double)test.Targets[i])).Average(), evaluation.Regression.MeanAbsoluteError, 1e-2);
        Assert.True(evaluation.Regression.MeanAbsoluteError < 100, $"MAE {evaluation.Regression.MeanAbsoluteError} (targets span about 2600)");
        AssertReport("prices.html");
    }
}
