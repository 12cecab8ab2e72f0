using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Kernels;
using KernelGen.Operators;

using KernelGen.Reporting;
using KernelGen.Training;

namespace KernelGen.Demo;

/// <summary>The nonlinearity of an <see cref="InitializationStudy"/> network.</summary>
public enum StudyActivation
{
    /// <summary>tanh.</summary>
    Tanh,
    /// <summary>max(0, x).</summary>
    Relu,
}

/// <summary>One network of the <see cref="InitializationStudy"/>: a nonlinearity and a weight scale.</summary>
/// <param name="Key">A short identifier, e.g. "a".</param>
/// <param name="Name">A readable description, e.g. "tanh, W ~ 0.01·N(0,1)".</param>
/// <param name="Activation">The nonlinearity after every layer.</param>
/// <param name="Gain">The weight standard deviation, or its numerator when <paramref name="ScaleByFanIn"/> is set.</param>
/// <param name="ScaleByFanIn">When set, weights are N(0,1)·Gain/√fan_in (Xavier with Gain 1, He with Gain √2).</param>
public sealed record InitializationConfiguration(string Key, string Name, StudyActivation Activation, double Gain, bool ScaleByFanIn)
{
    /// <summary>The standard deviation of the weights of a layer with <paramref name="fanIn"/> inputs.</summary>
    public double WeightStandardDeviation(int fanIn) => ScaleByFanIn ? Gain / Math.Sqrt(fanIn) : Gain;
}

/// <summary>Statistics of one layer's activations (its outputs, after the nonlinearity) over all samples and units.</summary>
/// <param name="Layer">The layer number, from 1.</param>
/// <param name="Mean">Mean activation.</param>
/// <param name="StandardDeviation">Population standard deviation of the activations.</param>
/// <param name="Minimum">Smallest activation.</param>
/// <param name="Maximum">Largest activation.</param>
/// <param name="SaturatedFraction">Share of activations with |a| &gt; <see cref="InitializationStudy.SaturationThreshold"/>
/// (where tanh's gradient 1 − a² is below 0.02).</param>
/// <param name="ZeroFraction">Share of activations exactly 0 (inactive ReLU units).</param>
/// <param name="Histogram">The activations binned over the configuration's range.</param>
public sealed record LayerActivationSummary(int Layer, double Mean, double StandardDeviation, double Minimum, double Maximum,
    double SaturatedFraction, double ZeroFraction, Histogram Histogram);

/// <summary>The per-layer statistics of one configuration.</summary>
/// <param name="Configuration">The network.</param>
/// <param name="Layers">One summary per layer, first layer first.</param>
public sealed record InitializationConfigurationResult(InitializationConfiguration Configuration, IReadOnlyList<LayerActivationSummary> Layers);

/// <summary>
/// CS231n's weight-initialization experiment, built in: push unit-Gaussian data through a
/// deep MLP (no biases) and watch the distribution of each layer's activations. With the defaults (10 layers of 500
/// units, 1000 samples of 500-d data) it reproduces CS231n's findings: small weights make tanh activations collapse
/// to zero; large weights saturate tanh at ±1; Xavier (Var W = 1/fan_in) keeps tanh activations in a healthy range;
/// Xavier with ReLU halves the variance at every layer; He (Var W = 2/fan_in) keeps ReLU activations steady.
/// </summary>
/// <remarks>
/// <para>Controlled comparison: every configuration sees the same input and the same underlying N(0,1) weight draws
/// (input from stream <see cref="InputStream"/>, layer l's weights from stream <see cref="FirstLayerStream"/> + l − 1 of
/// <see cref="KernelRandom"/>); only the scale and the nonlinearity differ.</para>
/// <para>Layers run through <see cref="Dense.Forward{T, TAct}"/> in float with the activation fused. Results are
/// bit-identical from run to run on one machine; machines with a different SIMD width may differ in the last bits.</para>
/// </remarks>
public static class InitializationStudy
{
    /// <summary>The <see cref="KernelRandom"/> stream of the input data.</summary>
    public const ulong InputStream = 0x1A17;

    /// <summary>The <see cref="KernelRandom"/> stream of the first layer's weights (layer l uses this + l − 1).</summary>
    public const ulong FirstLayerStream = 0x1A18;

    /// <summary>|a| above this counts as saturated for <see cref="LayerActivationSummary.SaturatedFraction"/>.</summary>
    public const double SaturationThreshold = 0.99;

    /// <summary>Histogram bins per layer.</summary>
    public const int HistogramBins = 40;

    /// <summary>(a) tanh with W ~ 0.01·N(0,1): activations collapse toward zero.</summary>
    public static InitializationConfiguration TanhSmall { get; } = new("a", "tanh, W ~ 0.01·N(0,1)", StudyActivation.Tanh, 0.01, false);

    /// <summary>(b) tanh with W ~ 1.0·N(0,1): activations saturate at ±1.</summary>
    public static InitializationConfiguration TanhLarge { get; } = new("b", "tanh, W ~ 1.0·N(0,1)", StudyActivation.Tanh, 1.0, false);

    /// <summary>(c) tanh with Xavier, W ~ N(0,1)/√fan_in: a healthy spread at every depth.</summary>
    public static InitializationConfiguration TanhXavier { get; } = new("c", "tanh, Xavier N(0,1)/√fan_in", StudyActivation.Tanh, 1.0, true);

    /// <summary>(d) ReLU with Xavier: the variance halves at every layer.</summary>
    public static InitializationConfiguration ReluXavier { get; } = new("d", "ReLU, Xavier N(0,1)/√fan_in", StudyActivation.Relu, 1.0, true);

    /// <summary>(e) ReLU with He, W ~ N(0,1)·√(2/fan_in): a steady spread at every depth.</summary>
    public static InitializationConfiguration ReluHe { get; } = new("e", "ReLU, He N(0,1)·√(2/fan_in)", StudyActivation.Relu, Math.Sqrt(2.0), true);

    /// <summary>CS231n's five configurations (a)–(e), in order.</summary>
    public static IReadOnlyList<InitializationConfiguration> Configurations { get; } = [TanhSmall, TanhLarge, TanhXavier, ReluXavier, ReluHe];

    /// <summary>Runs the study.</summary>
    /// <param name="seed">Seed of the input data and the weights.</param>
    /// <param name="samples">Number of input samples (rows).</param>
    /// <param name="layers">Number of layers.</param>
    /// <param name="units">Units per layer, which is also the input dimension.</param>
    /// <param name="configurations">The networks to compare; <see langword="null"/> means <see cref="Configurations"/>.</param>
    public static InitializationStudyResult Run(ulong seed = 0, int samples = 1000, int layers = 10, int units = 500,
        IReadOnlyList<InitializationConfiguration>? configurations = null)
    {
        if (samples < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(samples), samples, "Must be positive.");
        if (layers < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(layers), layers, "Must be positive.");
        if (units < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(units), units, "Must be positive.");
        if ((long)samples * units > Array.MaxLength || (long)units * units > Array.MaxLength)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(units), units, "samples·units and units² must fit in an array.");
        configurations ??= Configurations;
        int configs = configurations.Count;

        // The input, shared by every configuration: [samples × units] of N(0, 1).
        var random = new KernelRandom(seed, InputStream);
        var input = new float[samples * units];
        for (int i = 0; i < input.Length; i++) input[i] = (float)random.NextGaussian();

        // Layer-outer, configuration-inner: each layer's N(0,1) draw is made once and scaled per configuration.
        var current = new float[configs][];
        var summaries = new List<LayerActivationSummary>[configs];
        var ranges = new (double Min, double Max)[configs];
        for (int c = 0; c < configs; c++)
        {
            current[c] = (float[])input.Clone();
            summaries[c] = new List<LayerActivationSummary>(layers);
        }
        var next = new float[samples * units];
        var baseWeights = new double[units * units];
        var weights = new float[units * units];
        var bias = new float[units]; // the experiment's layers have no biases
        for (int layer = 1; layer <= layers; layer++)
        {
            var weightRandom = new KernelRandom(seed, FirstLayerStream + (ulong)(layer - 1));
            for (int i = 0; i < baseWeights.Length; i++) baseWeights[i] = weightRandom.NextGaussian();
            for (int c = 0; c < configs; c++)
            {
                var configuration = configurations[c];
                double std = configuration.WeightStandardDeviation(units);
                for (int i = 0; i < weights.Length; i++) weights[i] = (float)(baseWeights[i] * std);
                switch (configuration.Activation)
                {
                    case StudyActivation.Tanh: Dense.Forward<float, TanhOp<float>>(current[c], weights, bias, next, samples, units, units); break;
                    case StudyActivation.Relu: Dense.Forward<float, ReluOp<float>>(current[c], weights, bias, next, samples, units, units); break;
                    default: ThrowHelper.ThrowArgumentOutOfRange(nameof(configurations), configuration.Activation, "Unknown activation."); break;
                }
                (current[c], next) = (next, current[c]);
                if (layer == 1) ranges[c] = HistogramRange(configuration.Activation, current[c]);
                summaries[c].Add(Summarize(layer, current[c], ranges[c]));
            }
        }

        var results = new InitializationConfigurationResult[configs];
        for (int c = 0; c < configs; c++) results[c] = new InitializationConfigurationResult(configurations[c], summaries[c]);
        return new InitializationStudyResult(seed, samples, layers, units, results);
    }

    // tanh: its whole range [−1, 1]. ReLU: [0, a nice bound above the first layer's mean + 4σ], shared by all layers so
    // shrinking or steady spreads show as such.
    private static (double Min, double Max) HistogramRange(StudyActivation activation, float[] firstLayer)
    {
        if (activation == StudyActivation.Tanh) return (-1, 1);
        var moments = new ActivationStatistics(1, 0, 1);
        moments.Add(firstLayer);
        double upper = moments.Mean + 4 * moments.StandardDeviation;
        if (!(upper > 0) || !double.IsFinite(upper)) upper = 1;
        return (0, Svg.NiceScale(0, upper, maxTicks: 5).Max);
    }

    private static LayerActivationSummary Summarize(int layer, float[] activations, (double Min, double Max) range)
    {
        var statistics = new ActivationStatistics(HistogramBins, range.Min, range.Max);
        statistics.Add(activations);
        long saturated = 0, zero = 0;
        foreach (float a in activations)
        {
            if (Math.Abs(a) > SaturationThreshold) saturated++;
            if (a == 0) zero++;
        }
        double n = activations.Length;
        return new LayerActivationSummary(layer, statistics.Mean, statistics.StandardDeviation, statistics.Minimum, statistics.Maximum,
            saturated / n, zero / n, statistics.Histogram);
    }
}

/// <summary>The outcome of <see cref="InitializationStudy.Run"/>, with text and HTML renderings.</summary>
public sealed class InitializationStudyResult
{
    internal InitializationStudyResult(ulong seed, int samples, int layers, int units, IReadOnlyList<InitializationConfigurationResult> configurations)
    {
        Seed = seed;
        Samples = samples;
        LayerCount = layers;
        Units = units;
        Configurations = configurations;
    }

    /// <summary>The seed used.</summary>
    public ulong Seed { get; }

    /// <summary>Number of input samples.</summary>
    public int Samples { get; }

    /// <summary>Number of layers.</summary>
    public int LayerCount { get; }

    /// <summary>Units per layer (and input dimension).</summary>
    public int Units { get; }

    /// <summary>One result per configuration, in the order run.</summary>
    public IReadOnlyList<InitializationConfigurationResult> Configurations { get; }

    /// <summary>The result of the configuration with <see cref="InitializationConfiguration.Key"/> <paramref name="key"/>.</summary>
    public InitializationConfigurationResult this[string key]
    {
        get
        {
            foreach (var result in Configurations)
                if (string.Equals(result.Configuration.Key, key, StringComparison.Ordinal)) return result;
            throw new KeyNotFoundException($"No configuration with key '{key}'.");
        }
    }

    private string Setup =>
        $"{LayerCount.ToString(CultureInfo.InvariantCulture)} layers × {Units.ToString(CultureInfo.InvariantCulture)} units, no biases; " +
        $"input {Samples.ToString(CultureInfo.InvariantCulture)} samples of N(0, I) in {Units.ToString(CultureInfo.InvariantCulture)} dimensions; seed {Seed.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// A fixed-width text table: one row per layer, one "mean / std" column per configuration, then the last layer's
    /// share of saturated activations (|a| &gt; 0.99, tanh networks) and of zero activations (ReLU networks).
    /// </summary>
    public string ToTable()
    {
        var headers = new List<string> { "layer" };
        foreach (var c in Configurations) headers.Add($"({c.Configuration.Key}) {c.Configuration.Name}");
        var rows = new List<string[]>();
        for (int l = 0; l < LayerCount; l++)
        {
            var row = new string[Configurations.Count + 1];
            row[0] = (l + 1).ToString(CultureInfo.InvariantCulture);
            for (int c = 0; c < Configurations.Count; c++)
            {
                var s = Configurations[c].Layers[l];
                row[c + 1] = Number(s.Mean) + " / " + Number(s.StandardDeviation);
            }
            rows.Add(row);
        }
        var last = new string[Configurations.Count + 1];
        var dead = new string[Configurations.Count + 1];
        last[0] = "|a|>0.99";
        dead[0] = "a = 0";
        for (int c = 0; c < Configurations.Count; c++)
        {
            var s = Configurations[c].Layers[^1];
            bool tanh = Configurations[c].Configuration.Activation == StudyActivation.Tanh;
            last[c + 1] = tanh ? Percent(s.SaturatedFraction) : "—";
            dead[c + 1] = tanh ? "—" : Percent(s.ZeroFraction);
        }

        var widths = new int[headers.Count];
        for (int i = 0; i < widths.Length; i++)
        {
            widths[i] = headers[i].Length;
            foreach (var row in rows) widths[i] = Math.Max(widths[i], row[i].Length);
            widths[i] = Math.Max(widths[i], Math.Max(last[i].Length, dead[i].Length));
        }

        var sb = new StringBuilder();
        sb.Append("Weight-initialization study: ").Append(Setup).Append('\n');
        sb.Append("Activation mean / std per layer (after the nonlinearity)\n\n");
        AppendRow(sb, headers, widths, header: true);
        AppendRule(sb, widths);
        foreach (var row in rows) AppendRow(sb, row, widths, header: false);
        AppendRule(sb, widths);
        sb.Append("Layer ").Append(LayerCount.ToString(CultureInfo.InvariantCulture)).Append(" shares:\n");
        AppendRow(sb, last, widths, header: false);
        AppendRow(sb, dead, widths, header: false);
        return sb.ToString();
    }

    private static void AppendRow(StringBuilder sb, IReadOnlyList<string> cells, int[] widths, bool header)
    {
        for (int i = 0; i < cells.Count; i++)
        {
            if (i > 0) sb.Append(" | ");
            sb.Append(header && i > 0 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
        }
        sb.Append('\n');
    }

    private static void AppendRule(StringBuilder sb, int[] widths)
    {
        for (int i = 0; i < widths.Length; i++)
        {
            if (i > 0) sb.Append("-+-");
            sb.Append('-', widths[i]);
        }
        sb.Append('\n');
    }

    // Three significant decimals, or exponent form for magnitudes below 10⁻³ (the collapsing networks reach 1e-9).
    private static string Number(double value)
    {
        if (value == 0) return "0";
        double abs = Math.Abs(value);
        return abs < 1e-3 || abs >= 1e4
            ? value.ToString("0.00e+0", CultureInfo.InvariantCulture)
            : value.ToString("0.000", CultureInfo.InvariantCulture);
    }

    private static string Percent(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>A complete HTML page of the study (see <see cref="AddTo(HtmlReport)"/>).</summary>
    public string ToHtml()
    {
        var report = new HtmlReport("Weight-initialization study");
        AddSections(report, heading: false);
        return report.ToString();
    }

    /// <summary>
    /// Appends the study to <paramref name="report"/>: the setup, a table of mean and standard deviation per layer, the
    /// standard deviation per layer of every configuration on a log scale, and one row of per-layer activation
    /// histograms per configuration, each with the finding CS231n draws from it.
    /// </summary>
    public void AddTo(HtmlReport report) => AddSections(report, heading: true);

    private void AddSections(HtmlReport report, bool heading)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (heading) report.AddHeading("Weight-initialization study");
        report.AddParagraph("Setup: " + Setup + ". Every configuration sees the same input and the same N(0,1) weight draws; only the weight scale and the nonlinearity differ.");

        var headers = new List<string> { "layer" };
        foreach (var c in Configurations) headers.Add($"({c.Configuration.Key}) {c.Configuration.Name}: mean / std");
        var rows = new List<IReadOnlyList<string>>();
        for (int l = 0; l < LayerCount; l++)
        {
            var row = new List<string> { (l + 1).ToString(CultureInfo.InvariantCulture) };
            foreach (var c in Configurations) row.Add(Number(c.Layers[l].Mean) + " / " + Number(c.Layers[l].StandardDeviation));
            rows.Add(row);
        }
        var saturated = new List<string> { $"layer {LayerCount.ToString(CultureInfo.InvariantCulture)}: |a| > 0.99" };
        var zero = new List<string> { $"layer {LayerCount.ToString(CultureInfo.InvariantCulture)}: a = 0" };
        foreach (var c in Configurations)
        {
            bool tanh = c.Configuration.Activation == StudyActivation.Tanh;
            saturated.Add(tanh ? Percent(c.Layers[^1].SaturatedFraction) : "—");
            zero.Add(tanh ? "—" : Percent(c.Layers[^1].ZeroFraction));
        }
        rows.Add(saturated);
        rows.Add(zero);
        report.AddTable(headers, rows, "Activation mean / standard deviation per layer");

        var series = new List<Series>(Configurations.Count);
        foreach (var c in Configurations)
        {
            var x = new double[c.Layers.Count];
            var y = new double[c.Layers.Count];
            for (int l = 0; l < x.Length; l++) { x[l] = c.Layers[l].Layer; y[l] = c.Layers[l].StandardDeviation; }
            series.Add(new Series($"({c.Configuration.Key}) {c.Configuration.Name}", x, y));
        }
        report.AddSvg(Svg.LineChart("Activation standard deviation per layer", "layer", "std of activations", series, logY: true, width: 720, height: 400),
            "Flat lines keep signal (and gradients) alive through depth; falling lines vanish, and tanh's saturation caps the spread near 1.");

        foreach (var c in Configurations)
        {
            var panels = new List<(string, Histogram)>(c.Layers.Count);
            foreach (var s in c.Layers)
                panels.Add(($"layer {s.Layer.ToString(CultureInfo.InvariantCulture)}\nμ {Number(s.Mean)}\nσ {Number(s.StandardDeviation)}", s.Histogram));
            report.AddSvg(Svg.HistogramGrid($"({c.Configuration.Key}) {c.Configuration.Name}", panels), Finding(c));
        }
    }

    private static string Finding(InitializationConfigurationResult result)
    {
        var c = result.Configuration;
        var first = result.Layers[0];
        var last = result.Layers[^1];
        string measured = $"Measured: σ goes from {Number(first.StandardDeviation)} (layer 1) to {Number(last.StandardDeviation)} (layer {last.Layer.ToString(CultureInfo.InvariantCulture)})" +
            (c.Activation == StudyActivation.Tanh
                ? $"; {Percent(last.SaturatedFraction)} of the last layer's activations have |a| > 0.99."
                : $"; {Percent(last.ZeroFraction)} of the last layer's activations are 0.");
        string expected = (c.Activation, c.ScaleByFanIn, c.Gain) switch
        {
            (StudyActivation.Tanh, false, < 0.1) => "Small weights: each layer multiplies the spread by about 0.01·√fan_in, so activations collapse toward zero and so do the weight gradients (dW = xᵀ·dz).",
            (StudyActivation.Tanh, false, _) => "Large weights: pre-activations are huge, tanh saturates at ±1, and its local gradient 1 − a² is almost zero everywhere.",
            (StudyActivation.Tanh, true, _) => "Xavier: Var W = 1/fan_in keeps the variance of a linear layer constant; tanh's squashing shrinks it slowly, but activations stay spread out.",
            (StudyActivation.Relu, true, < 1.2) => "Xavier with ReLU: ReLU zeroes half of its inputs, so the variance halves at every layer (σ shrinks by about 1/√2 per layer).",
            (StudyActivation.Relu, true, _) => "He: Var W = 2/fan_in makes up for ReLU's halving, so the spread stays the same at every depth.",
            _ => "",
        };
        return expected.Length > 0 ? expected + " " + measured : measured;
    }
}
