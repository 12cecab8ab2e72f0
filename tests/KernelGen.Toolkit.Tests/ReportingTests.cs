using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using CsCheck;
using KernelGen.Data;
using KernelGen.Reporting;
using KernelGen.Training;
using Xunit;

using KernelGen.Demo;

namespace KernelGen.Toolkit.Tests;

public class SvgTests
{
    private static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";

    private static XElement ParseSvg(string svg)
    {
        var root = XDocument.Parse(svg).Root!;
        Assert.Equal(SvgNs + "svg", root.Name);
        return root;
    }

    private static string AllText(XElement root) => string.Join("\n", root.Descendants(SvgNs + "text").Select(t => t.Value));

    [Theory]
    [InlineData(0.0, 1.0, 6, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 })]
    [InlineData(0.0, 1.0, 5, new[] { 0.0, 0.5, 1.0 })]
    [InlineData(0.0, 100.0, 6, new[] { 0.0, 20, 40, 60, 80, 100 })]
    [InlineData(-3.7, 12.2, 6, new[] { -5.0, 0, 5, 10, 15 })]
    [InlineData(0.0012, 0.0087, 8, new[] { 0.0, 0.002, 0.004, 0.006, 0.008, 0.01 })]
    [InlineData(-1.0, 1.0, 3, new[] { -1.0, 0, 1 })]
    [InlineData(0.0, 12345.0, 5, new[] { 0.0, 5000, 10000, 15000 })]
    [InlineData(3.0, 3.0, 6, new[] { 2.6, 2.8, 3.0, 3.2, 3.4 })] // a point is widened to ±10% first
    [InlineData(0.0, 0.0, 6, new[] { -1.0, -0.5, 0, 0.5, 1.0 })]  // … and 0 to ±1
    public void NiceTicksOnKnownRanges(double min, double max, int maxTicks, double[] expected)
    {
        // Exact equality: ticks are the doubles nearest to the decimal values (no 0.30000000000000004).
        Assert.Equal(expected, Svg.NiceTicks(min, max, maxTicks));
    }

    [Fact]
    public void NiceScaleReportsTheWidenedRangeAndStep()
    {
        // Three ticks is the minimum: a range around 0 always needs −s, 0 and s.
        Assert.Throws<ArgumentOutOfRangeException>(() => Svg.NiceTicks(-1, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Svg.NiceTicks(0, double.NaN));
        Assert.Equal((-5.0, 15.0, 5.0), Svg.NiceScale(-3.7, 12.2, 6));
        Assert.Equal((0.0, 1.0, 0.2), Svg.NiceScale(0.05, 0.93, 6));
    }

    [Fact]
    public void NiceTicksAreOneTwoOrFiveTimesAPowerOfTenAndCoverTheRange()
    {
        var magnitude = Gen.Double[-12, 12].Select(e => Math.Pow(10, e));
        Gen.Select(Gen.Select(magnitude, Gen.Double[-1, 1]).Select((m, f) => m * f), magnitude, Gen.Int[3, 12]).Sample((lo, width, maxTicks) =>
        {
            double hi = lo + width;
            double[] ticks = Svg.NiceTicks(lo, hi, maxTicks);
            Assert.InRange(ticks.Length, 2, maxTicks);
            Assert.All(ticks, t => Assert.True(double.IsFinite(t)));
            Assert.True(ticks[0] <= lo && ticks[^1] >= hi, $"[{ticks[0]}, {ticks[^1]}] does not cover [{lo}, {hi}]");
            var (first, last, step) = Svg.NiceScale(lo, hi, maxTicks);
            Assert.Equal((first, last), (ticks[0], ticks[^1]));
            double mantissa = step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9));
            Assert.True(new[] { 1.0, 2.0, 5.0, 10.0 }.Any(m => Math.Abs(mantissa - m) < 1e-9), $"step {step}");
            for (int i = 1; i < ticks.Length; i++)
                Assert.Equal(ticks[0] + i * step, ticks[i], 1e-12 * Math.Max(Math.Abs(ticks[i]), step) + 1e-300);
            // Not wider than necessary: one step less on either side would no longer cover the data (ranges below 10⁻⁹
            // of their magnitude are widened to ±10% first, so there the bound is the widened range).
            double margin = width <= 1e-9 * Math.Max(Math.Abs(lo), Math.Abs(hi)) ? 0.1 * Math.Abs(lo) : 1e-12 * Math.Max(Math.Abs(lo), Math.Abs(hi));
            Assert.True(ticks[0] + step > lo - margin && ticks[^1] - step < hi + margin, $"{lo}..{hi}: {string.Join(", ", ticks)}");
        });
    }

    [Fact]
    public void LineChartIsWellFormedAndNamesItsSeries()
    {
        double[] x = [1, 2, 3, 4, 5];
        string svg = Svg.LineChart("Loss & accuracy <per epoch>", "epoch", "loss",
        [
            new Series("training", x, [2.3, 1.1, 0.7, 0.5, 0.45]),
            new Series("validation \"held-out\" & <test>", x, [2.4, 1.3, 0.9, 0.8, 0.85]),
        ]);
        var root = ParseSvg(svg);
        string text = AllText(root);
        Assert.Contains("training", text);
        Assert.Contains("validation \"held-out\" & <test>", text);
        Assert.Equal("Loss & accuracy <per epoch>", root.Element(SvgNs + "title")!.Value);
        Assert.Contains("epoch", text);
        Assert.Equal(2, root.Descendants(SvgNs + "path").Count());
        Assert.Equal(10, root.Descendants(SvgNs + "circle").Count()); // short series get point markers
    }

    [Fact]
    public void NonFinitePointsLeaveGapsAndNoNaNInTheSvg()
    {
        double[] x = [1, 2, 3, 4, 5, 6, 7];
        double[] y = [1, 0.5, double.NaN, 0.2, double.PositiveInfinity, 0.1, double.NegativeInfinity];
        string svg = Svg.LineChart("gaps", "x", "y", [new Series("with gaps", x, y)]);
        var root = ParseSvg(svg);
        Assert.DoesNotContain("NaN", svg);
        Assert.DoesNotContain("Infinity", svg);
        Assert.DoesNotContain("∞", svg);
        string d = root.Descendants(SvgNs + "path").Single().Attribute("d")!.Value;
        Assert.Equal(3, d.Count(c => c == 'M')); // segments {1,2}, {4}, {6}
        Assert.Equal(4, root.Descendants(SvgNs + "circle").Count());

        // On a log axis, values ≤ 0 are skipped too; a NaN x is skipped like a NaN y.
        string log = Svg.LineChart("log", "x", "ratio", [new Series("r", [1, 2, double.NaN, 4], [1e-3, 0, 5e-3, -1]) { Dashed = true }], logY: true);
        ParseSvg(log);
        Assert.DoesNotContain("NaN", log);
        Assert.DoesNotContain("Infinity", log);

        // All points missing: still a valid chart.
        string empty = Svg.LineChart("empty", "x", "y", [new Series("nothing", [1, 2], [double.NaN, double.NaN])]);
        Assert.Contains("no finite data", AllText(ParseSvg(empty)));
        Assert.DoesNotContain("NaN", empty);
    }

    [Theory]
    [InlineData(-0.01482, -0.0148199991, "−0.0148200000")]
    [InlineData(0.0, 1e-7, "2.0e-8")]
    [InlineData(1e6, 1.0001e6, "1.00002e+6")]
    [InlineData(0.0012, 0.0087, "0.004")]
    public void LinearTickLabelsAreDistinctAndInvariant(double lo, double hi, string expectedLabel)
    {
        var root = ParseSvg(Svg.LineChart("t", "x", "y", [new Series("s", [0, 1], [lo, hi])]));
        // y tick labels are the right-aligned texts.
        var labels = root.Descendants(SvgNs + "text").Where(t => (string?)t.Attribute("text-anchor") == "end").Select(t => t.Value).ToList();
        Assert.Contains(expectedLabel, labels);
        Assert.Equal(labels.Count, labels.Distinct().Count());
    }

    [Fact]
    public void LogAxisTicksAreDecades()
    {
        string svg = Svg.LineChart("ratio", "epoch", "ratio", [new Series("layer", [1, 2, 3], [2e-4, 1e-3, 3e-2])], logY: true);
        var root = ParseSvg(svg);
        // Decade labels are "10" with the exponent as a superscript.
        var exponents = root.Descendants(SvgNs + "tspan").Select(t => t.Value).ToArray();
        Assert.Equal(["−4", "−3", "−2", "−1"], exponents);
    }

    [Fact]
    public void HistogramsAreWellFormed()
    {
        var histogram = new Histogram(-1, 1, [0, 3, 10, 40, 12, 2, 0, 1], underflow: 2, overflow: 5);
        var root = ParseSvg(Svg.Histogram("one", histogram));
        Assert.Contains("2 below range, 5 above", AllText(root));
        ParseSvg(Svg.Histogram("edges", [0.0, 1, 3, 7], [4L, 2, 1]));

        var spike = new Histogram(0, 4, [500, 40, 30, 20, 10, 5, 1, 0]); // a ReLU-like spike at 0 gets clipped and labeled
        Assert.Contains("83%", AllText(ParseSvg(Svg.Histogram("spike", spike)))); // 500 of 606

        var panels = Enumerable.Range(1, 10).Select(i => ($"layer {i}\nσ 0.{i}", histogram)).ToList();
        root = ParseSvg(Svg.HistogramGrid("grid & <friends>", panels));
        string text = AllText(root);
        for (int i = 1; i <= 10; i++) Assert.Contains($"layer {i}", text);
        Assert.Contains("9.3% outside range", text); // 2 + 5 of 75 values
    }

    [Fact]
    public void DecisionBoundaryDrawsRegionsAndPoints()
    {
        var (points, labels) = Spiral.Generate(pointsPerClass: 50, classes: 3, seed: 1);
        var extent = (-1.2, 1.2, -1.2, 1.2);
        float[] grid = Svg.GridPoints(60, 50, extent);
        Assert.Equal(2 * 60 * 50, grid.Length);
        Assert.Equal(-1.2 + 0.5 * 2.4 / 60, grid[0], 6);            // first cell center, bottom left
        Assert.Equal(-1.2 + 0.5 * 2.4 / 50, grid[1], 6);
        Assert.Equal(1.2 - 0.5 * 2.4 / 50, grid[^1], 6);            // last cell center, top right

        // A stand-in classifier: the angular sector of the cell.
        var classes = new int[60 * 50];
        for (int i = 0; i < classes.Length; i++) classes[i] = (int)((Math.Atan2(grid[2 * i + 1], grid[2 * i]) + Math.PI) / (2 * Math.PI) * 3) % 3;
        string svg = Svg.DecisionBoundary("Spiral", 60, 50, classes, extent, points, labels, 3);
        var root = ParseSvg(svg);
        Assert.Equal(labels.Length, root.Descendants(SvgNs + "circle").Count());
        Assert.Contains("class 2", AllText(root));
        Assert.True(root.Descendants(SvgNs + "rect").Count() < 60 * 50 / 4, "cells of equal class along a row are merged");
    }

    [Fact]
    public void EscapeKeepsTheOutputParseable()
    {
        string nasty = "a\u0001b & <c> \"d\" 'e' \uD800 f";
        var root = ParseSvg(Svg.LineChart(nasty, nasty, nasty, [new Series(nasty, [0, 1], [0, 1])]));
        Assert.Contains("a\uFFFDb & <c> \"d\" 'e' \uFFFD f", AllText(root));
    }
}

public class HtmlReportTests
{
    [Fact]
    public void SaveWritesAParseablePageAtomically()
    {
        string directory = Path.Combine(Path.GetTempPath(), "kg-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(directory, "nested", "report.html");
            var report = new HtmlReport("Run <1> & more")
                .AddHeading("Summary")
                .AddParagraph("line one\nline two & <three>")
                .AddKeyValues([new("epochs", "20"), new("final loss", "0.0123")])
                .AddTable(["name", "value"], [["a", "1.5"], ["b", "−2"], ["c", "n/a"]], "a table")
                .AddSvg(Svg.LineChart("chart", "x", "y", [new Series("s", [0, 1, 2], [1, 0, 1])]), "a caption")
                .AddPreformatted("col | col\n  1 |   2");
            report.Save(path);
            report.AddParagraph("second version");
            report.Save(path); // overwrites

            Assert.Equal(["report.html"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
            var document = XDocument.Load(path);
            XNamespace xhtml = "http://www.w3.org/1999/xhtml";
            Assert.Equal("Run <1> & more", document.Descendants(xhtml + "title").First().Value);
            Assert.Single(document.Descendants(XName.Get("svg", "http://www.w3.org/2000/svg")));
            Assert.Contains("second version", File.ReadAllText(path));
            Assert.Empty(document.Descendants(xhtml + "script"));
            var numericCells = document.Descendants(xhtml + "td").Where(td => (string?)td.Attribute("class") == "num").Select(td => td.Value);
            Assert.Equal(["1.5", "−2"], numericCells);
            Assert.Equal(report.ToString(), File.ReadAllText(path));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}

public class ActivationStatisticsTests
{
    private const int Bins = 16;
    private const double Min = -2, Max = 2;

    // Values over a wider range than the bins, with exact bin edges, the range ends and NaN/±∞ mixed in.
    private static readonly Gen<float> Value = Gen.Frequency(
        (6, Gen.Float[-3f, 3f]),
        (2, Gen.Int[0, Bins].Select(i => (float)(Min + (Max - Min) * i / Bins))),
        (1, Gen.OneOf(float.NaN, float.PositiveInfinity, float.NegativeInfinity, -2f, 2f, 0f)));

    [Fact]
    public void MatchesANaiveTwoPassComputation()
    {
        Gen.Select(Value.Array[0, 300], Gen.Int[1, 5]).Sample((values, chunks) =>
        {
            var statistics = new ActivationStatistics(Bins, Min, Max);
            int start = 0;
            for (int c = 0; c < chunks; c++)
            {
                int end = c == chunks - 1 ? values.Length : Math.Min(values.Length, start + values.Length / chunks);
                statistics.Add(values.AsSpan(start, end - start));
                start = end;
            }

            double[] finite = values.Where(float.IsFinite).Select(v => (double)v).ToArray();
            Assert.Equal(finite.Length, statistics.Count);
            Assert.Equal(values.Length - finite.Length, statistics.NonFiniteCount);
            if (finite.Length == 0)
            {
                Assert.True(double.IsNaN(statistics.Mean) && double.IsNaN(statistics.StandardDeviation));
                return;
            }
            double mean = finite.Sum() / finite.Length;
            double std = Math.Sqrt(finite.Sum(v => (v - mean) * (v - mean)) / finite.Length);
            Assert.Equal(mean, statistics.Mean, 1e-12);
            Assert.Equal(std, statistics.StandardDeviation, 1e-12);
            Assert.Equal(finite.Min(), statistics.Minimum);
            Assert.Equal(finite.Max(), statistics.Maximum);

            // Bin i holds Edge(i) ≤ v < Edge(i+1) with Edge(i) = Min + (Max − Min)·i/Bins; the last bin also holds Max.
            var expected = new long[Bins];
            long under = 0, over = 0;
            foreach (double v in finite)
            {
                if (v < Min) { under++; continue; }
                if (v > Max) { over++; continue; }
                int bin = Bins - 1;
                for (int i = 0; i < Bins; i++)
                {
                    if (v < Min + (Max - Min) * (i + 1) / Bins) { bin = i; break; }
                }
                expected[bin]++;
            }
            Assert.Equal(expected, statistics.Counts.ToArray());
            Assert.Equal(under, statistics.Underflow);
            Assert.Equal(over, statistics.Overflow);
            var snapshot = statistics.Histogram;
            Assert.Equal(expected, snapshot.Counts.ToArray());
            Assert.Equal(finite.Length, snapshot.Total);
        });
    }

    [Fact]
    public void VarianceHasNoCancellationForALargeMean()
    {
        // Σx² − n·μ² in double would lose every digit here; values 1e4 ± 1e-2 (exact in float to ~1e-3).
        var statistics = new ActivationStatistics();
        float[] values = new float[10_000];
        for (int i = 0; i < values.Length; i++) values[i] = 10_000f + (i % 2 == 0 ? 0.0078125f : -0.0078125f);
        for (int i = 0; i < values.Length; i += 999) statistics.Add(values.AsSpan(i, Math.Min(999, values.Length - i)));
        Assert.Equal(10_000.0, statistics.Mean, 1e-9);
        Assert.Equal(0.0078125, statistics.StandardDeviation, 1e-12);
    }

    [Fact]
    public void AddDoesNotAllocate()
    {
        var statistics = new ActivationStatistics(40, -1, 1);
        var values = new float[4096];
        var random = new KernelRandom(3);
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextGaussian();
        values[7] = float.NaN;
        KernelGen.Tests.HotLoop.WarmUp(() => statistics.Add(values)); // tiered JIT
        statistics.Reset();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) statistics.Add(values.AsSpan(i, values.Length - i));
        statistics.Reset();
        statistics.Add(values);
        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
        Assert.Equal(values.Length - 1, statistics.Count);
    }
}

public class TrainingHistoryTests
{
    private static TrainingHistory FakeRun(int epochs = 12)
    {
        var history = new TrainingHistory();
        string[] layers = ["dense1", "dense2", "output"];
        var statistics = new ActivationStatistics(40, -1, 1);
        var random = new KernelRandom(5);
        var values = new float[512];
        for (int e = 1; e <= epochs; e++)
        {
            double validation = e == 4 ? double.NaN : 1.2 / e + 0.02 * e; // one missing measurement
            history.AddEpoch(e, trainingLoss: 1.1 / e, validationLoss: validation, trainingAccuracy: 1 - 0.5 / e,
                validationAccuracy: 0.85 - 0.5 / e, learningRate: 0.1 * Math.Pow(0.8, e), seconds: 0.25);
            for (int l = 0; l < layers.Length; l++)
            {
                statistics.Reset();
                for (int i = 0; i < values.Length; i++) values[i] = (float)Math.Tanh(random.NextGaussian() * (0.5 + l));
                statistics.Add(values);
                history.AddLayer(e, layers[l], statistics, gradientNorm: 0.5 / e * (l + 1), updateRatio: 3e-3 / e * (l + 1));
            }
        }
        return history;
    }

    [Fact]
    public void ReportIsAParseablePageWithTheExpectedSections()
    {
        var history = FakeRun();
        var (points, labels) = Spiral.Generate(30, 3, seed: 2);
        var extent = (-1.1, 1.1, -1.1, 1.1);
        float[] grid = Svg.GridPoints(40, 40, extent);
        var classes = new int[1600];
        for (int i = 0; i < classes.Length; i++) classes[i] = grid[2 * i] > 0 ? 1 : 0;
        string boundary = Svg.DecisionBoundary("Decision boundary", 40, 40, classes, extent, points, labels, 3);

        string path = Path.Combine(Path.GetTempPath(), "kg-training-" + Guid.NewGuid().ToString("N") + ".html");
        try
        {
            TrainingReport.Write(history, path, "Spiral run", boundary, report => report.AddHeading("Extra").AddParagraph("extra section"));
            string html = File.ReadAllText(path);
            var document = XDocument.Parse(html);
            XNamespace svg = "http://www.w3.org/2000/svg";
            var titles = document.Descendants(svg + "title").Select(t => t.Value).ToList();
            Assert.Contains("Loss per epoch", titles);
            Assert.Contains("Accuracy per epoch", titles);
            Assert.Contains("Learning rate", titles);
            Assert.Contains("Decision boundary", titles);
            Assert.Contains("Activations per layer, epoch 12", titles);
            Assert.Contains("Activations per layer, epoch 1", titles);
            Assert.Contains(titles, t => t.StartsWith("Update-to-weight ratio", StringComparison.Ordinal));
            Assert.Contains(titles, t => t.StartsWith("Weight-gradient norm", StringComparison.Ordinal));
            Assert.Contains("target 1e-3", html);
            Assert.Contains("stroke-dasharray", html);
            Assert.Contains("dense2", html);
            Assert.Contains("extra section", html);
            // Validation loss 1.2/e + 0.02·e is lowest at epoch 8 (0.31); the babysitting checks flag the rise since then
            // and the 15-point gap between training and validation accuracy.
            Assert.Contains("Best epoch (by validation loss)", html);
            Assert.Contains("8: loss 0.31", html);
            Assert.Contains("early stopping", html);
            Assert.Contains("overfitting", html);
            Assert.DoesNotContain("update-to-weight ratio 2.5e-4", html); // ratios in [1e-4, 1e-2] are fine
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CsvHasOneRowPerEpochAndRoundTripsValues()
    {
        var history = FakeRun(epochs: 5);
        string path = Path.Combine(Path.GetTempPath(), "kg-history-" + Guid.NewGuid().ToString("N") + ".csv");
        try
        {
            history.WriteCsv(path);
            string[] lines = File.ReadAllLines(path);
            Assert.Equal(6, lines.Length);
            string[] header = lines[0].Split(',');
            Assert.Equal(7 + 3 * 4, header.Length);
            Assert.Equal(["epoch", "train_loss", "val_loss"], header[..3]);
            Assert.Contains("dense2.update_ratio", header);

            string[] row4 = lines[4].Split(',');
            Assert.Equal("4", row4[0]);
            Assert.Equal(1.1 / 4, double.Parse(row4[1], CultureInfo.InvariantCulture)); // round-trip
            Assert.Equal("", row4[2]);                                                // NaN is an empty field
            int ratio = Array.IndexOf(header, "output.update_ratio");
            Assert.Equal(3e-3 / 4 * 3, double.Parse(row4[ratio], CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NormsAndUpdateRatio()
    {
        Assert.Equal(5.0, TrainingHistory.L2Norm([3f, 4f]));
        Assert.Equal(0.0, TrainingHistory.L2Norm([]));
        // ΔW = (0, 2⁻⁷) (exact in float): ‖ΔW‖/‖W‖ = 0.0078125/5.
        Assert.Equal(0.0078125 / 5, TrainingHistory.UpdateRatio([3f, 4f], [3f, 4.0078125f]), 1e-15);
    }
}

/// <summary>Runs the default study (10 × 500, 1000 samples, seed 0) once for all study tests.</summary>
public sealed class InitializationStudyFixture
{
    public InitializationStudyResult Result { get; } = InitializationStudy.Run();
}

public class InitializationStudyTests(InitializationStudyFixture fixture) : IClassFixture<InitializationStudyFixture>
{
    private readonly InitializationStudyResult _result = fixture.Result;

    private IReadOnlyList<LayerActivationSummary> Layers(string key) => _result[key].Layers;

    // ---- mean-field reference, computed here independently of the code under test ---------------------------------
    // For a wide tanh layer with Var(w) = s²: the pre-activation is ≈ N(0, n·s²·q) where q = E[a²] of the layer before,
    // so q' = E[tanh²(√(n·s²·q)·z)], z ~ N(0, 1) (q₀ = 1 for unit-Gaussian input). Integrated with the trapezoid rule.

    private static double GaussianExpectation(Func<double, double> f)
    {
        const int n = 40_000;
        const double lo = -12, hi = 12, h = (hi - lo) / n;
        double sum = 0;
        for (int i = 0; i <= n; i++)
        {
            double z = lo + i * h;
            double w = (i == 0 || i == n ? 0.5 : 1.0) * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);
            sum += w * f(z);
        }
        return sum * h;
    }

    private static double[] TanhMeanFieldStd(double gainSquared, int layers)
    {
        var std = new double[layers];
        double q = 1;
        for (int l = 0; l < layers; l++)
        {
            double scale = Math.Sqrt(gainSquared * q);
            q = GaussianExpectation(z => Math.Pow(Math.Tanh(scale * z), 2));
            std[l] = Math.Sqrt(q);
        }
        return std;
    }

    [Theory]
    [InlineData("a", 500 * 0.01 * 0.01)]
    [InlineData("b", 500 * 1.0)]
    [InlineData("c", 1.0)]
    public void TanhNetworksFollowMeanFieldTheory(string key, double gainSquared)
    {
        double[] expected = TanhMeanFieldStd(gainSquared, 10);
        var layers = Layers(key);
        for (int l = 0; l < 10; l++)
            Assert.True(Math.Abs(layers[l].StandardDeviation / expected[l] - 1) < 0.03,
                $"({key}) layer {l + 1}: std {layers[l].StandardDeviation} vs mean-field {expected[l]}");
    }

    [Fact]
    public void SmallWeightsCollapseTanhActivationsTowardZero()
    {
        var layers = Layers("a");
        Assert.True(layers[9].StandardDeviation < 1e-6, $"layer 10 std {layers[9].StandardDeviation}");
        // In the linear regime each layer scales the spread by 0.01·√500 ≈ 0.224.
        for (int l = 2; l < 10; l++) Assert.InRange(layers[l].StandardDeviation / layers[l - 1].StandardDeviation, 0.2, 0.25);
    }

    [Fact]
    public void LargeWeightsSaturateTanh()
    {
        var last = Layers("b")[9];
        Assert.True(last.SaturatedFraction > 0.90, $"saturated {last.SaturatedFraction}");
        // Mean field: with q ≈ 0.964 the pre-activation has σ = √(500·q) ≈ 22, so |a| > 0.99 ⇔ |z| > atanh(0.99)/σ.
        double q = Math.Pow(TanhMeanFieldStd(500, 9)[8], 2);
        double threshold = Math.Atanh(0.99) / Math.Sqrt(500 * q);
        double expected = 1 - GaussianExpectation(z => Math.Abs(z) < threshold ? 1 : 0);
        Assert.True(Math.Abs(last.SaturatedFraction - expected) < 0.01, $"saturated {last.SaturatedFraction} vs {expected}");
    }

    [Fact]
    public void XavierKeepsTanhActivationsInAHealthyRange()
    {
        var layers = Layers("c");
        Assert.InRange(layers[9].StandardDeviation, 0.1, 0.5);
        Assert.True(layers[9].StandardDeviation > 0.3 * layers[0].StandardDeviation);
        Assert.True(layers[9].SaturatedFraction < 0.01);
    }

    [Fact]
    public void XavierWithReluHalvesTheVariancePerLayer()
    {
        var layers = Layers("d");
        // E[relu(z)²] = σ²/2, so Var W = 1/fan_in halves the second moment per layer: σ shrinks by 1/√2, and over the
        // nine layers from 1 to 10 by (1/√2)⁹ ≈ 0.044. Finite width (500 units) adds a log-normal wobble of roughly
        // ±4% per layer, so the bar is a factor of 2 around the mean-field value.
        double expectedRatio = Math.Pow(Math.Sqrt(0.5), 9);
        double ratio = layers[9].StandardDeviation / layers[0].StandardDeviation;
        Assert.InRange(ratio, 0.5 * expectedRatio, 2 * expectedRatio);
        // First layer exactly as theory says: z ~ N(0, 1), std(relu z) = √(1/2 − 1/(2π)) ≈ 0.584.
        Assert.Equal(Math.Sqrt(0.5 - 0.5 / Math.PI), layers[0].StandardDeviation, 0.02);
        foreach (var layer in layers) Assert.InRange(layer.ZeroFraction, 0.45, 0.56); // ReLU zeroes about half
    }

    [Fact]
    public void HeKeepsReluActivationsSteady()
    {
        var layers = Layers("e");
        Assert.InRange(layers[9].StandardDeviation / layers[0].StandardDeviation, 0.5, 2);
        Assert.Equal(Math.Sqrt(2) * Math.Sqrt(0.5 - 0.5 / Math.PI), layers[0].StandardDeviation, 0.03);
    }

    [Fact]
    public void HeIsXavierScaledByRootTwoPerLayerBecauseReluIsHomogeneous()
    {
        // Both see the same input and N(0,1) draws, and relu(c·x) = c·relu(x) for c > 0: layer l of (e) is exactly
        // (√2)^l times layer l of (d), up to float rounding.
        var xavier = Layers("d");
        var he = Layers("e");
        for (int l = 0; l < 10; l++)
        {
            double scale = Math.Pow(Math.Sqrt(2), l + 1);
            Assert.Equal(1.0, he[l].StandardDeviation / (scale * xavier[l].StandardDeviation), 1e-4);
            Assert.Equal(1.0, he[l].Mean / (scale * xavier[l].Mean), 1e-4);
        }
    }

    [Fact]
    public void HistogramsCountEveryActivation()
    {
        foreach (var configuration in _result.Configurations)
        {
            foreach (var layer in configuration.Layers)
            {
                Assert.Equal(1000L * 500, layer.Histogram.Total);
                Assert.Equal(InitializationStudy.HistogramBins, layer.Histogram.BinCount);
            }
        }
        Assert.Equal((-1.0, 1.0), (Layers("c")[0].Histogram.Min, Layers("c")[0].Histogram.Max));
        Assert.Equal(0.0, Layers("e")[0].Histogram.Min);
    }

    [Fact]
    public void TableAndHtmlRenderTheResult()
    {
        string table = _result.ToTable();
        string[] lines = table.Split('\n');
        foreach (var key in new[] { "(a)", "(b)", "(c)", "(d)", "(e)" }) Assert.Contains(key, table);
        for (int l = 1; l <= 10; l++) Assert.Contains(lines, line => line.TrimStart().StartsWith(l.ToString(CultureInfo.InvariantCulture) + " |", StringComparison.Ordinal));
        var document = XDocument.Parse(_result.ToHtml());
        XNamespace svg = "http://www.w3.org/2000/svg";
        Assert.Equal(6, document.Descendants(svg + "svg").Count()); // the std chart and one histogram row per configuration

        var report = new HtmlReport("with study");
        _result.AddTo(report);
        XDocument.Parse(report.ToString());
    }

    [Fact]
    public void SameSeedIsBitIdenticalAndAnotherSeedDiffers()
    {
        var first = InitializationStudy.Run(seed: 7, samples: 64, layers: 4, units: 48);
        var second = InitializationStudy.Run(seed: 7, samples: 64, layers: 4, units: 48);
        var other = InitializationStudy.Run(seed: 8, samples: 64, layers: 4, units: 48);
        for (int c = 0; c < first.Configurations.Count; c++)
        {
            for (int l = 0; l < 4; l++)
            {
                var a = first.Configurations[c].Layers[l];
                var b = second.Configurations[c].Layers[l];
                Assert.Equal(BitConverter.DoubleToInt64Bits(a.Mean), BitConverter.DoubleToInt64Bits(b.Mean));
                Assert.Equal(BitConverter.DoubleToInt64Bits(a.StandardDeviation), BitConverter.DoubleToInt64Bits(b.StandardDeviation));
                Assert.Equal(a.Histogram.Counts.ToArray(), b.Histogram.Counts.ToArray());
                Assert.NotEqual(a.StandardDeviation, other.Configurations[c].Layers[l].StandardDeviation);
            }
        }
        Assert.Equal(first.ToTable(), second.ToTable());
        Assert.Equal(first.ToHtml(), second.ToHtml());
    }
}
