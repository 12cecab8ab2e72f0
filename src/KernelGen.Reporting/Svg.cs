using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Training;

namespace KernelGen.Reporting;

/// <summary>One line of a <see cref="Svg.LineChart"/>: points (X[i], Y[i]) joined in order.</summary>
/// <param name="Name">The legend text.</param>
/// <param name="X">The x coordinates; same length as <paramref name="Y"/>.</param>
/// <param name="Y">The y coordinates. NaN, ±∞ (and, on a log axis, values ≤ 0) are skipped and leave a gap.</param>
public sealed record Series(string Name, double[] X, double[] Y)
{
    /// <summary>Draws the line dashed and without markers (for reference lines such as a target ratio).</summary>
    public bool Dashed { get; init; }

    /// <summary>A CSS color; <see langword="null"/> takes the next color of <see cref="Svg.Palette"/>.</summary>
    public string? Color { get; init; }
}

/// <summary>
/// Small SVG chart writers for reports: line charts, histograms, a row of small histograms, and decision-boundary
/// maps for 2-D data. Each returns one self-contained <c>&lt;svg&gt;</c> element as a string, with numbers in the
/// invariant culture, text XML-escaped, axis ticks at "nice" values (1, 2 or 5 × 10^k), axis labels, a legend and a
/// title. Charts use no ids, scripts or external resources, so any number of them can be inlined in one HTML page.
/// </summary>
/// <remarks>Not a hot path: these methods allocate freely and favor readable output over speed.</remarks>
public static class Svg
{
    // Okabe–Ito colors (distinguishable with the common color-vision deficiencies), then brown and gray.
    private static readonly string[] s_palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C6D31", "#666666"];

    private const string FontFamily = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
    private const string AxisColor = "#888888";
    private const string GridColor = "#e6e6e6";
    private const string TextColor = "#222222";
    private const double CharWidth = 6.6;       // estimated width of a 12 px character, for legend layout
    private const int MaxLinearPointsForMarkers = 50;

    /// <summary>The series and class colors, in order (CSS hex colors).</summary>
    public static IReadOnlyList<string> Palette => s_palette;

    /// <summary>The palette color for index <paramref name="index"/> (wrapping around).</summary>
    public static string Color(int index) => s_palette[(int)((uint)index % (uint)s_palette.Length)];

    // ---- nice numbers ---------------------------------------------------------------------------------------------

    /// <summary>
    /// The axis for data in [<paramref name="min"/>, <paramref name="max"/>]: the smallest step of the form
    /// 1, 2 or 5 × 10^k for which the range widened outward to multiples of the step has at most
    /// <paramref name="maxTicks"/> ticks (at least 3: a range around 0 always needs −step, 0 and step). A zero-width
    /// range (or one narrower than 10⁻⁹ of its magnitude) is first widened to ±10% of the value (±1 around 0).
    /// </summary>
    /// <returns>The widened range and the step; ticks are Min, Min + Step, …, Max.</returns>
    public static (double Min, double Max, double Step) NiceScale(double min, double max, int maxTicks = 6)
    {
        var scale = ComputeNiceScale(min, max, maxTicks, outward: true);
        return (scale.Value(scale.First), scale.Value(scale.Last), scale.Step);
    }

    /// <summary>
    /// The tick values of <see cref="NiceScale"/>: each is the double nearest to the decimal value k·step (computed
    /// as an exact integer divided by a power of ten), so 0.1 + 0.2-style residues never appear.
    /// </summary>
    public static double[] NiceTicks(double min, double max, int maxTicks = 6) =>
        ComputeNiceScale(min, max, maxTicks, outward: true).Ticks();

    private readonly struct NiceScaleInfo(long first, long last, int mantissa, int exponent)
    {
        public readonly long First = first, Last = last; // tick indices: tick k is k·Mantissa·10^Exponent
        public readonly int Mantissa = mantissa, Exponent = exponent;

        public double Step => Value(1);

        public double Value(long k) => Exponent >= 0
            ? k * Mantissa * Pow10(Exponent)
            : k * Mantissa / Pow10(-Exponent);

        public double[] Ticks()
        {
            if (Last < First) return [];
            var ticks = new double[Last - First + 1];
            for (long k = First; k <= Last; k++) ticks[k - First] = Value(k);
            return ticks;
        }
    }

    private static NiceScaleInfo ComputeNiceScale(double min, double max, int maxTicks, bool outward)
    {
        if (!double.IsFinite(min)) ThrowHelper.ThrowArgumentOutOfRange(nameof(min), min, "Must be finite.");
        if (!double.IsFinite(max)) ThrowHelper.ThrowArgumentOutOfRange(nameof(max), max, "Must be finite.");
        if (max < min) ThrowHelper.ThrowArgumentOutOfRange(nameof(max), max, "Must be at least min.");
        if (maxTicks < 3) ThrowHelper.ThrowArgumentOutOfRange(nameof(maxTicks), maxTicks, "Need at least 3 ticks.");
        if (!double.IsFinite(max - min)) ThrowHelper.ThrowArgumentOutOfRange(nameof(max), max, "The range is too large.");
        (min, max) = WidenIfDegenerate(min, max);

        // Steps smaller than range/maxTicks cannot fit, so start one decade below that and walk up 1, 2, 5, 10, 20, ….
        int exponent = (int)Math.Floor(Math.Log10((max - min) / maxTicks)) - 1;
        ReadOnlySpan<int> mantissas = [1, 2, 5];
        for (; ; exponent++)
        {
            foreach (int m in mantissas)
            {
                double step = exponent >= 0 ? m * Pow10(exponent) : m / Pow10(-exponent);
                var unit = new NiceScaleInfo(0, 0, m, exponent);
                long lo = (long)(outward ? Math.Floor(min / step) : Math.Ceiling(min / step));
                long hi = (long)(outward ? Math.Ceiling(max / step) : Math.Floor(max / step));
                // The quotients are rounded (1e-5/2e-6 = 5.000000000000001), so the end ticks can be one off either way;
                // settle them on the decimal tick values themselves.
                if (outward)
                {
                    while (unit.Value(lo) > min) lo--;
                    while (unit.Value(lo + 1) <= min) lo++;
                    while (unit.Value(hi) < max) hi++;
                    while (unit.Value(hi - 1) >= max) hi--;
                }
                else
                {
                    while (unit.Value(lo) < min) lo++;
                    while (unit.Value(lo - 1) >= min) lo--;
                    while (unit.Value(hi) > max) hi--;
                    while (unit.Value(hi + 1) <= max) hi++;
                }
                if (hi - lo + 1 <= maxTicks) return new NiceScaleInfo(lo, hi, m, exponent);
            }
        }
    }

    // A range too narrow to label (zero width, or below 10⁻⁹ of its magnitude, where ticks would need more than nine
    // significant digits) becomes ±10% of the value, or ±1 around 0.
    private static (double, double) WidenIfDegenerate(double min, double max) =>
        max - min <= 1e-9 * Math.Max(Math.Abs(min), Math.Abs(max)) || max - min < 1e-280 ? Widen(min) : (min, max);

    private static (double, double) Widen(double value)
    {
        double delta = value == 0 ? 1 : Math.Abs(value) * 0.1;
        return (value - delta, value + delta);
    }

    // 10^n for 0 ≤ n ≤ 22 is exact in double; beyond that Math.Pow is as good as it gets.
    private static double Pow10(int n)
    {
        double result = 1;
        if (n > 22) return Math.Pow(10, n);
        for (int i = 0; i < n; i++) result *= 10;
        return result;
    }

    // ---- text and numbers -----------------------------------------------------------------------------------------

    /// <summary>
    /// Escapes <paramref name="text"/> for XML and HTML text and attribute values (&amp; &lt; &gt; " '), and replaces
    /// characters XML 1.0 forbids (control characters, lone surrogates) with U+FFFD, so the output always parses.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        var sb = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                case '\t' or '\n' or '\r': sb.Append(c); break;
                default:
                    if (c < 0x20 || c == '\uFFFE' || c == '\uFFFF') sb.Append('\uFFFD');
                    else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[i + 1]); i++; }
                    else if (char.IsSurrogate(c)) sb.Append('\uFFFD');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    // A pixel coordinate: two decimals, invariant culture, never "-0".
    private static string N(double value) => (Math.Round(value, 2) + 0.0).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Formats a value for labels and tables: invariant culture, 4 significant digits (whole numbers from 1000
    /// on), exponent form below 10⁻³ and from 10⁶ on, "NaN" and "∞" spelled out.</summary>
    public static string FormatValue(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "∞";
        if (double.IsNegativeInfinity(value)) return "−∞";
        if (value == 0) return "0";
        double abs = Math.Abs(value);
        if (abs >= 1e6 || abs < 1e-3) return value.ToString("0.###e+0", CultureInfo.InvariantCulture);
        if (abs >= 1000) return value.ToString("0", CultureInfo.InvariantCulture);
        return value.ToString("G4", CultureInfo.InvariantCulture);
    }

    // The tick-label format of a linear axis whose step is m·10^stepExponent: fixed decimals down to the step's
    // digit, or, when the largest tick is below 10⁻³ or from 10⁶ on, exponent form with as many mantissa digits as
    // the step needs (so neighboring labels never print alike).
    private static string TickFormat(double[] ticks, int stepExponent)
    {
        double maxAbs = 0;
        foreach (double t in ticks) maxAbs = Math.Max(maxAbs, Math.Abs(t));
        if (maxAbs > 0 && (maxAbs < 1e-3 || maxAbs >= 1e6))
        {
            int digits = Math.Max(0, (int)Math.Floor(Math.Log10(maxAbs)) - stepExponent);
            return digits == 0 ? "0e+0" : "0." + new string('0', digits) + "e+0";
        }
        return "F" + Math.Max(0, -stepExponent).ToString(CultureInfo.InvariantCulture);
    }

    private static string TickLabel(double value, string format)
    {
        if (value == 0 && format.EndsWith("e+0", StringComparison.Ordinal)) return "0";
        string text = (value + 0.0).ToString(format, CultureInfo.InvariantCulture);
        return text.StartsWith('-') ? "\u2212" + text[1..] : text; // a typographic minus, as wide as the plus sign
    }

    // ---- axes -----------------------------------------------------------------------------------------------------

    // A data range mapped onto pixels. Linear axes hold data values; log axes hold log10 of data values.
    private sealed class Axis
    {
        public double Min, Max;  // domain (log10 for log axes)
        public bool Log;
        public double[] Ticks = [];  // data values
        public string Format = "G4";  // tick-label format of a linear axis
        public double PixelStart, PixelEnd;

        public double Map(double value)
        {
            double v = Log ? Math.Log10(value) : value;
            return PixelStart + (v - Min) / (Max - Min) * (PixelEnd - PixelStart);
        }

        public bool Accepts(double value) => double.IsFinite(value) && (!Log || value > 0);

        public void WriteLabel(StringBuilder sb, double tick)
        {
            if (!Log) { sb.Append(Escape(TickLabel(tick, Format))); return; }
            int k = (int)Math.Round(Math.Log10(tick));
            sb.Append("10<tspan dy=\"-5\" font-size=\"9\">").Append(k < 0 ? "\u2212" : "").Append(Math.Abs(k).ToString(CultureInfo.InvariantCulture)).Append("</tspan>");
        }
    }

    private static Axis LinearAxis(double min, double max, int maxTicks, bool outward)
    {
        (min, max) = WidenIfDegenerate(min, max);
        var info = ComputeNiceScale(min, max, maxTicks, outward);
        double[] ticks = info.Ticks();
        var axis = new Axis { Ticks = ticks, Format = TickFormat(ticks, info.Exponent) };
        if (outward) { axis.Min = info.Value(info.First); axis.Max = info.Value(info.Last); }
        else { axis.Min = min; axis.Max = max; }
        return axis;
    }

    private static Axis LogAxis(double minPositive, double maxPositive, int maxTicks)
    {
        int lo = (int)Math.Floor(Math.Log10(minPositive));
        int hi = (int)Math.Ceiling(Math.Log10(maxPositive));
        if (hi <= lo) hi = lo + 1;
        int stride = Math.Max(1, (hi - lo + maxTicks) / maxTicks); // ⌈(decades + 1) / maxTicks⌉
        var ticks = new List<double>();
        for (int k = lo; k <= hi; k += stride) ticks.Add(k >= 0 ? Pow10(k) : 1.0 / Pow10(-k));
        return new Axis { Min = lo, Max = hi, Log = true, Ticks = ticks.ToArray() };
    }

    // ---- document pieces ------------------------------------------------------------------------------------------

    private static void Open(StringBuilder sb, double width, double height, string title)
    {
        sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").Append(N(width)).Append(' ').Append(N(height))
          .Append("\" width=\"").Append(N(width)).Append("\" height=\"").Append(N(height))
          .Append("\" role=\"img\" font-family=\"").Append(Escape(FontFamily)).Append("\" font-size=\"12\" fill=\"").Append(TextColor).Append("\">\n");
        sb.Append("<title>").Append(Escape(title)).Append("</title>\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        if (title.Length > 0)
            Text(sb, width / 2, 22, title, anchor: "middle", size: 15, bold: true);
    }

    private static void Close(StringBuilder sb) => sb.Append("</svg>\n");

    private static void Text(StringBuilder sb, double x, double y, string text, string anchor = "start", double size = 12, bool bold = false, string? fill = null, double rotate = 0)
    {
        sb.Append("<text x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append('"');
        if (anchor != "start") sb.Append(" text-anchor=\"").Append(anchor).Append('"');
        if (size != 12) sb.Append(" font-size=\"").Append(N(size)).Append('"');
        if (bold) sb.Append(" font-weight=\"600\"");
        if (fill is not null) sb.Append(" fill=\"").Append(Escape(fill)).Append('"');
        if (rotate != 0) sb.Append(" transform=\"rotate(").Append(N(rotate)).Append(' ').Append(N(x)).Append(' ').Append(N(y)).Append(")\"");
        sb.Append('>').Append(Escape(text)).Append("</text>\n");
    }

    private static void Line(StringBuilder sb, double x1, double y1, double x2, double y2, string stroke, double width = 1, string? dash = null)
    {
        sb.Append("<line x1=\"").Append(N(x1)).Append("\" y1=\"").Append(N(y1)).Append("\" x2=\"").Append(N(x2)).Append("\" y2=\"").Append(N(y2))
          .Append("\" stroke=\"").Append(Escape(stroke)).Append('"');
        if (width != 1) sb.Append(" stroke-width=\"").Append(N(width)).Append('"');
        if (dash is not null) sb.Append(" stroke-dasharray=\"").Append(dash).Append('"');
        sb.Append("/>\n");
    }

    private static void Rect(StringBuilder sb, double x, double y, double w, double h, string fill, string? extra = null)
    {
        sb.Append("<rect x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append("\" width=\"").Append(N(Math.Max(w, 0)))
          .Append("\" height=\"").Append(N(Math.Max(h, 0))).Append("\" fill=\"").Append(Escape(fill)).Append('"');
        if (extra is not null) sb.Append(' ').Append(extra);
        sb.Append("/>\n");
    }

    // Plot frame, grid lines, ticks, tick labels and axis labels for a plot area [left, right] × [top, bottom].
    private static void Axes(StringBuilder sb, Axis x, Axis y, string xLabel, string yLabel, double left, double top, double right, double bottom, bool grid = true)
    {
        sb.Append("<g font-size=\"11\">\n");
        foreach (double t in y.Ticks)
        {
            double py = y.Map(t);
            if (grid) Line(sb, left, py, right, py, GridColor);
            Line(sb, left - 4, py, left, py, AxisColor);
            sb.Append("<text x=\"").Append(N(left - 7)).Append("\" y=\"").Append(N(py + 4)).Append("\" text-anchor=\"end\">");
            y.WriteLabel(sb, t);
            sb.Append("</text>\n");
        }
        foreach (double t in x.Ticks)
        {
            double px = x.Map(t);
            if (grid) Line(sb, px, top, px, bottom, GridColor);
            Line(sb, px, bottom, px, bottom + 4, AxisColor);
            sb.Append("<text x=\"").Append(N(px)).Append("\" y=\"").Append(N(bottom + 17)).Append("\" text-anchor=\"middle\">");
            x.WriteLabel(sb, t);
            sb.Append("</text>\n");
        }
        sb.Append("</g>\n");
        Rect(sb, left, top, right - left, bottom - top, "none", "stroke=\"" + AxisColor + "\"");
        if (xLabel.Length > 0) Text(sb, (left + right) / 2, bottom + 36, xLabel, anchor: "middle");
        if (yLabel.Length > 0) Text(sb, 16, (top + bottom) / 2, yLabel, anchor: "middle", rotate: -90);
    }

    // Lays out legend entries in rows under the title; returns the y just below the legend.
    private static double Legend(StringBuilder sb, IReadOnlyList<(string Name, string Color, bool Dashed, bool Box)> entries, double left, double right, double top)
    {
        if (entries.Count == 0) return top;
        double x = left, y = top + 10;
        foreach (var (name, color, dashed, box) in entries)
        {
            double w = 24 + name.Length * CharWidth + 16;
            if (x > left && x + w > right) { x = left; y += 18; }
            if (box) Rect(sb, x, y - 10, 14, 14, color, "stroke=\"#333333\" stroke-width=\"0.5\"");
            else Line(sb, x, y - 3, x + 18, y - 3, color, 2.5, dashed ? "6 4" : null);
            Text(sb, x + 22, y + 1, name);
            x += w;
        }
        return y + 10;
    }

    // ---- line chart -----------------------------------------------------------------------------------------------

    /// <summary>
    /// A line chart of <paramref name="series"/> (e.g. training and validation loss per epoch), with a legend under
    /// the title. Non-finite points (and, when <paramref name="logY"/>, points with y ≤ 0) are skipped, leaving a gap;
    /// an isolated point between gaps is drawn as a dot. Series of at most 50 points get point markers.
    /// </summary>
    /// <param name="title">The chart title.</param>
    /// <param name="xLabel">The x-axis label.</param>
    /// <param name="yLabel">The y-axis label.</param>
    /// <param name="series">The lines, drawn in order.</param>
    /// <param name="logY">Use a base-10 logarithmic y axis (for loss or update-ratio curves spanning decades).</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logY = false, int width = 640, int height = 360)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (width < 200) ThrowHelper.ThrowArgumentOutOfRange(nameof(width), width, "Must be at least 200.");
        if (height < 150) ThrowHelper.ThrowArgumentOutOfRange(nameof(height), height, "Must be at least 150.");

        // Data ranges over the drawable points.
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity, yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        foreach (var s in series)
        {
            ArgumentNullException.ThrowIfNull(s);
            ThrowHelper.ThrowIfLengthNotEqual(s.Y.Length, s.X.Length, nameof(Series.Y));
            for (int i = 0; i < s.X.Length; i++)
            {
                double px = s.X[i], py = s.Y[i];
                if (!double.IsFinite(px) || !double.IsFinite(py) || (logY && py <= 0)) continue;
                xMin = Math.Min(xMin, px); xMax = Math.Max(xMax, px);
                yMin = Math.Min(yMin, py); yMax = Math.Max(yMax, py);
            }
        }
        bool empty = xMin > xMax;
        if (empty) { xMin = 0; xMax = 1; yMin = logY ? 0.1 : 0; yMax = 1; }

        var sb = new StringBuilder(4096);
        Open(sb, width, height, title);

        double left = 72, right = width - 20;
        var legend = new List<(string, string, bool, bool)>(series.Count);
        for (int i = 0; i < series.Count; i++) legend.Add((series[i].Name, series[i].Color ?? Color(i), series[i].Dashed, false));
        double top = Legend(sb, legend, left, right, title.Length > 0 ? 34 : 6) + 8;
        double bottom = height - 48;

        Axis x = LinearAxis(xMin, xMax, maxTicks: 8, outward: false); // x spans the data exactly (epochs, layers)
        Axis y = logY ? LogAxis(yMin, yMax, maxTicks: 8) : LinearAxis(yMin, yMax, maxTicks: 7, outward: true);
        x.PixelStart = left; x.PixelEnd = right;
        y.PixelStart = bottom; y.PixelEnd = top;
        Axes(sb, x, y, xLabel, yLabel, left, top, right, bottom);
        if (empty) Text(sb, (left + right) / 2, (top + bottom) / 2, "no finite data", anchor: "middle", fill: AxisColor);

        for (int i = 0; i < series.Count; i++) WriteSeries(sb, series[i], series[i].Color ?? Color(i), x, y);
        Close(sb);
        return sb.ToString();
    }

    private static void WriteSeries(StringBuilder sb, Series s, string color, Axis x, Axis y)
    {
        var path = new StringBuilder();
        var dots = new List<(double X, double Y)>();
        int valid = 0, segmentLength = 0;
        double lastX = 0, lastY = 0;
        for (int i = 0; i <= s.X.Length; i++)
        {
            bool ok = i < s.X.Length && x.Accepts(s.X[i]) && y.Accepts(s.Y[i]);
            if (!ok)
            {
                if (segmentLength == 1) dots.Add((lastX, lastY)); // an isolated point has no line to show it
                segmentLength = 0;
                continue;
            }
            lastX = x.Map(s.X[i]); lastY = y.Map(s.Y[i]);
            path.Append(segmentLength == 0 ? 'M' : 'L').Append(N(lastX)).Append(' ').Append(N(lastY));
            segmentLength++;
            valid++;
        }
        string stroke = Escape(color);
        sb.Append("<g>\n");
        if (path.Length > 0)
        {
            sb.Append("<path d=\"").Append(path).Append("\" fill=\"none\" stroke=\"").Append(stroke).Append("\" stroke-width=\"")
              .Append(s.Dashed ? "1.5\" stroke-dasharray=\"6 4\"" : "2\"").Append(" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n");
        }
        bool markers = !s.Dashed && valid <= MaxLinearPointsForMarkers;
        if (markers)
        {
            for (int i = 0; i < s.X.Length; i++)
            {
                if (!x.Accepts(s.X[i]) || !y.Accepts(s.Y[i])) continue;
                Circle(sb, x.Map(s.X[i]), y.Map(s.Y[i]), 2.8, stroke);
            }
        }
        else
        {
            foreach (var (dx, dy) in dots) Circle(sb, dx, dy, 2.8, stroke);
        }
        sb.Append("</g>\n");
    }

    private static void Circle(StringBuilder sb, double cx, double cy, double r, string fill, string? extra = null)
    {
        sb.Append("<circle cx=\"").Append(N(cx)).Append("\" cy=\"").Append(N(cy)).Append("\" r=\"").Append(N(r)).Append("\" fill=\"").Append(fill).Append('"');
        if (extra is not null) sb.Append(' ').Append(extra);
        sb.Append("/>\n");
    }

    // ---- histograms -----------------------------------------------------------------------------------------------

    /// <summary>
    /// A histogram of equal-width bins with count on the y axis. Values outside the bin range (the histogram's
    /// underflow and overflow) are noted in the corner. When one bar is more than 4× the next tallest (for example
    /// the spike at 0 after a ReLU), the y axis is scaled to the others and that bar is drawn clipped and labeled.
    /// </summary>
    public static string Histogram(string title, Histogram histogram, string xLabel = "value", string yLabel = "count", int width = 480, int height = 300)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return HistogramCore(title, histogram.BinEdges(), histogram.Counts, histogram.Underflow, histogram.Overflow, xLabel, yLabel, width, height);
    }

    /// <summary>A histogram of arbitrary bins: bin i spans [<paramref name="binEdges"/>[i], <paramref name="binEdges"/>[i + 1]).</summary>
    public static string Histogram(string title, double[] binEdges, long[] counts, string xLabel = "value", string yLabel = "count", int width = 480, int height = 300)
    {
        ArgumentNullException.ThrowIfNull(binEdges);
        ArgumentNullException.ThrowIfNull(counts);
        return HistogramCore(title, binEdges, counts, 0, 0, xLabel, yLabel, width, height);
    }

    private static string HistogramCore(string title, double[] edges, ReadOnlySpan<long> counts, long underflow, long overflow, string xLabel, string yLabel, int width, int height)
    {
        ValidateBins(edges, counts);
        var sb = new StringBuilder(4096);
        Open(sb, width, height, title);
        double left = 72, right = width - 20, top = title.Length > 0 ? 44 : 14, bottom = height - 48;

        var (yTop, clipped) = HistogramScale(counts);
        Axis x = LinearAxis(edges[0], edges[^1], maxTicks: 7, outward: false);
        Axis y = LinearAxis(0, yTop, maxTicks: 6, outward: true);
        x.PixelStart = left; x.PixelEnd = right;
        y.PixelStart = bottom; y.PixelEnd = top;
        if (clipped >= 0) { y.Max = yTop; y.Ticks = Array.FindAll(y.Ticks, t => t <= yTop); }
        Axes(sb, x, y, xLabel, yLabel, left, top, right, bottom);
        Bars(sb, edges, counts, clipped, x, y, Color(0), labelSize: 11);
        long outside = underflow + overflow;
        if (outside > 0)
        {
            string note = $"{underflow.ToString(CultureInfo.InvariantCulture)} below range, {overflow.ToString(CultureInfo.InvariantCulture)} above";
            Text(sb, right - 4, top + 14, note, anchor: "end", size: 11, fill: "#555555");
        }
        Close(sb);
        return sb.ToString();
    }

    private static void ValidateBins(double[] edges, ReadOnlySpan<long> counts)
    {
        if (counts.Length < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(counts), counts.Length, "Need at least one bin.");
        ThrowHelper.ThrowIfLengthNotEqual(edges.Length, counts.Length + 1, "binEdges");
        for (int i = 0; i < edges.Length; i++)
        {
            if (!double.IsFinite(edges[i]) || (i > 0 && edges[i] <= edges[i - 1]))
                ThrowHelper.ThrowArgumentOutOfRange("binEdges", edges[i], "Bin edges must be finite and increasing.");
        }
    }

    // Returns the y range to show and the index of a clipped dominant bar (−1 when none).
    private static (double Top, int Clipped) HistogramScale(ReadOnlySpan<long> counts)
    {
        long first = 0, second = 0;
        int firstIndex = -1;
        for (int i = 0; i < counts.Length; i++)
        {
            long c = counts[i];
            if (c > first) { second = first; first = c; firstIndex = i; }
            else if (c > second) second = c;
        }
        if (first == 0) return (1, -1);
        if (second > 0 && first > 4 * second) return (second * 1.6, firstIndex);
        return (first, -1);
    }

    private static void Bars(StringBuilder sb, double[] edges, ReadOnlySpan<long> counts, int clipped, Axis x, Axis y, string color, double labelSize)
    {
        long total = 0;
        foreach (long c in counts) total += c;
        sb.Append("<g fill=\"").Append(Escape(color)).Append("\" shape-rendering=\"crispEdges\">\n");
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] <= 0) continue;
            double x0 = x.Map(edges[i]), x1 = x.Map(edges[i + 1]);
            double yv = i == clipped ? y.Max : counts[i];
            double py = y.Map(yv);
            double w = Math.Max(x1 - x0 - (x1 - x0 > 4 ? 1 : 0), 0.6); // a 1 px gap between wide bars
            sb.Append("<rect x=\"").Append(N(x0)).Append("\" y=\"").Append(N(py)).Append("\" width=\"").Append(N(w))
              .Append("\" height=\"").Append(N(y.PixelStart - py)).Append("\"/>\n");
        }
        sb.Append("</g>\n");
        if (clipped >= 0)
        {
            // A white break across the clipped bar, and its share of the total beside it.
            double x0 = x.Map(edges[clipped]), x1 = x.Map(edges[clipped + 1]);
            double py = y.Map(y.Max);
            Line(sb, x0 - 1, py + 7, x1 + 1, py + 3, "#ffffff", 2);
            string label = Share(counts[clipped], total);
            bool rightSide = x1 + 30 < x.PixelEnd;
            Text(sb, rightSide ? x1 + 2 : x0 - 2, py + 10, label, anchor: rightSide ? "start" : "end", size: labelSize, fill: "#333333");
        }
    }

    // A percentage for a small label: whole percent from 10% on, one decimal below, "<0.1%" for a nonzero sliver.
    private static string Share(long part, long total)
    {
        double share = 100.0 * part / total;
        if (part > 0 && share < 0.05) return "<0.1%";
        return share.ToString(share >= 10 ? "0" : "0.#", CultureInfo.InvariantCulture) + "%";
    }

    /// <summary>
    /// A grid of histograms (by default up to four per row), each with its own axes: x the value with up to five ticks,
    /// y the share of the panel's values per bin (its own scale: the shape matters, not the height). A panel label may
    /// hold several lines separated by '\n' (e.g. "layer 3\nμ 0.01 σ 0.21"); the share of values outside the bin range
    /// is printed under the panel with that range when nonzero.
    /// </summary>
    /// <param name="title">The figure title.</param>
    /// <param name="panels">Label and histogram of each panel, in order.</param>
    /// <param name="columns">Panels per row; 0 puts up to four panels in a row.</param>
    /// <param name="panelWidth">Width of one panel's plot area in pixels.</param>
    /// <param name="panelHeight">Height of one panel's plot area in pixels.</param>
    public static string HistogramGrid(string title, IReadOnlyList<(string Label, Histogram Histogram)> panels, int columns = 0, int panelWidth = 200, int panelHeight = 120)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (columns < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), columns, "Must be non-negative.");
        if (panelWidth < 60) ThrowHelper.ThrowArgumentOutOfRange(nameof(panelWidth), panelWidth, "Must be at least 60.");
        if (panelHeight < 40) ThrowHelper.ThrowArgumentOutOfRange(nameof(panelHeight), panelHeight, "Must be at least 40.");
        int count = panels.Count;
        int cols = columns > 0 ? columns : Math.Clamp(count, 1, 4);
        int rows = Math.Max(1, (count + cols - 1) / cols);
        int labelLines = 1;
        foreach (var (label, _) in panels) labelLines = Math.Max(labelLines, label.Split('\n').Length);

        const double gap = 18, side = 12, yLabels = 40;  // room left of each plot for the share ticks
        double labelHeight = 14 * labelLines + 4;
        double cellHeight = labelHeight + panelHeight + 46;
        double cellWidth = yLabels + panelWidth;
        double width = side * 2 + cols * cellWidth + (cols - 1) * gap;
        double headerHeight = title.Length > 0 ? 52 : 22;
        double height = headerHeight + rows * cellHeight;

        var sb = new StringBuilder(8192);
        Open(sb, width, height, title);
        Text(sb, side, headerHeight - 8, "x: value · y: share of the values per bin", size: 11, fill: "#555555");
        for (int p = 0; p < count; p++)
        {
            var (label, histogram) = panels[p];
            ArgumentNullException.ThrowIfNull(histogram);
            double cellLeft = side + (p % cols) * (cellWidth + gap);
            double cellTop = headerHeight + (p / cols) * cellHeight;
            double left = cellLeft + yLabels, right = left + panelWidth, top = cellTop + labelHeight, bottom = top + panelHeight;
            string[] lines = label.Split('\n');
            for (int l = 0; l < lines.Length; l++)
                Text(sb, (left + right) / 2.0, cellTop + 12 + 14 * l, lines[l], anchor: "middle", size: l == 0 ? 12 : 10.5, bold: l == 0, fill: l == 0 ? null : "#444444");

            double[] edges = histogram.BinEdges();
            var (yTop, clipped) = HistogramScale(histogram.Counts);
            long total = histogram.Total;
            Axis x = LinearAxis(edges[0], edges[^1], maxTicks: 5, outward: false);
            Axis y = new() { Min = 0, Max = yTop, PixelStart = bottom, PixelEnd = top };
            x.PixelStart = left; x.PixelEnd = right;
            Rect(sb, left, top, panelWidth, panelHeight, "#fafafa", "stroke=\"" + GridColor + "\"");
            Bars(sb, edges, histogram.Counts, clipped, x, y, Color(0), labelSize: 9.5);
            Line(sb, left, bottom, right, bottom, AxisColor);
            Line(sb, left, bottom, left, top, AxisColor);
            sb.Append("<g font-size=\"10\" fill=\"#444444\">\n");
            foreach (double t in x.Ticks)
            {
                double px = x.Map(t);
                Line(sb, px, bottom, px, bottom + 3, AxisColor);
                // Labels at the panel edges are aligned inward so they cannot run into the next panel's.
                string anchor = px - left < 6 ? "start" : right - px < 6 ? "end" : "middle";
                Text(sb, px, bottom + 14, TickLabel(t, x.Format), anchor: anchor, size: 10);
            }
            if (total > 0)
            {
                // Share ticks: 0 and the top of the scale (the tallest unclipped bar's share).
                foreach (double count2 in (double[])[0, yTop])
                {
                    double py = y.Map(count2);
                    Line(sb, left - 3, py, left, py, AxisColor);
                    string share = count2 == 0 ? "0%" : (100.0 * count2 / total).ToString(100.0 * count2 / total >= 10 ? "0" : "0.#", CultureInfo.InvariantCulture) + "%";
                    Text(sb, left - 5, py + 3.5, share, anchor: "end", size: 10);
                }
            }
            long outside = histogram.Underflow + histogram.Overflow;
            if (outside > 0 && total > 0)
            {
                string range = "[" + TickLabel(edges[0], "G3") + ", " + TickLabel(edges[^1], "G3") + "]";
                Text(sb, (left + right) / 2, bottom + 30, Share(outside, total) + " outside range " + range, anchor: "middle", size: 10, fill: "#8a2a0a");
            }
            sb.Append("</g>\n");
        }
        Close(sb);
        return sb.ToString();
    }

    // "#rrggbb" blended with white: weight·color + (1 − weight)·white.
    private static string Tint(string hex, double weight)
    {
        int rgb = int.Parse(hex.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int Blend(int shift) => (int)Math.Round(weight * ((rgb >> shift) & 0xFF) + (1 - weight) * 255);
        return "#" + Blend(16).ToString("x2", CultureInfo.InvariantCulture) + Blend(8).ToString("x2", CultureInfo.InvariantCulture) + Blend(0).ToString("x2", CultureInfo.InvariantCulture);
    }

    // ---- decision boundary ----------------------------------------------------------------------------------------

    /// <summary>
    /// The centers of a <paramref name="gridWidth"/> × <paramref name="gridHeight"/> grid of cells over
    /// <paramref name="extent"/>, as [gridWidth·gridHeight × 2] (x, y) pairs, row by row from the bottom (row 0 at
    /// YMin), left to right: the order <see cref="DecisionBoundary"/> expects its classes in. Run the network on
    /// these points (in batches) and pass the predicted classes.
    /// </summary>
    public static float[] GridPoints(int gridWidth, int gridHeight, (double XMin, double XMax, double YMin, double YMax) extent)
    {
        ValidateGrid(gridWidth, gridHeight, extent);
        var points = new float[2 * gridWidth * gridHeight];
        double dx = (extent.XMax - extent.XMin) / gridWidth, dy = (extent.YMax - extent.YMin) / gridHeight;
        for (int row = 0; row < gridHeight; row++)
        {
            for (int col = 0; col < gridWidth; col++)
            {
                int i = row * gridWidth + col;
                points[2 * i] = (float)(extent.XMin + (col + 0.5) * dx);
                points[2 * i + 1] = (float)(extent.YMin + (row + 0.5) * dy);
            }
        }
        return points;
    }

    private static void ValidateGrid(int gridWidth, int gridHeight, (double XMin, double XMax, double YMin, double YMax) extent)
    {
        if (gridWidth < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(gridWidth), gridWidth, "Must be positive.");
        if (gridHeight < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(gridHeight), gridHeight, "Must be positive.");
        if (!double.IsFinite(extent.XMin) || !double.IsFinite(extent.XMax) || !(extent.XMax > extent.XMin))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(extent), extent, "XMin < XMax must both be finite.");
        if (!double.IsFinite(extent.YMin) || !double.IsFinite(extent.YMax) || !(extent.YMax > extent.YMin))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(extent), extent, "YMin < YMax must both be finite.");
    }

    /// <summary>
    /// The learned class regions of a 2-D classifier as lightly colored cells, with the data points on top in full
    /// color (e.g. the spiral data). Cells are merged along rows, so a 200 × 200 grid stays a small file.
    /// </summary>
    /// <param name="title">The chart title.</param>
    /// <param name="gridWidth">Cells per row.</param>
    /// <param name="gridHeight">Rows of cells.</param>
    /// <param name="gridClasses">The predicted class of each cell, in <see cref="GridPoints"/> order (row 0 at the bottom).
    /// A class outside [0, <paramref name="classes"/>) is drawn gray.</param>
    /// <param name="extent">The plotted region.</param>
    /// <param name="points">Data points as [n × 2] (x, y) pairs; points outside <paramref name="extent"/> are not drawn.</param>
    /// <param name="labels">The class of each data point.</param>
    /// <param name="classes">The number of classes (for colors and the legend).</param>
    public static string DecisionBoundary(string title, int gridWidth, int gridHeight, int[] gridClasses, (double XMin, double XMax, double YMin, double YMax) extent,
        float[] points, int[] labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(gridClasses);
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(labels);
        ValidateGrid(gridWidth, gridHeight, extent);
        ThrowHelper.ThrowIfLengthNotEqual(gridClasses.Length, gridWidth * gridHeight, nameof(gridClasses));
        ThrowHelper.ThrowIfLengthNotEqual(points.Length, 2 * labels.Length, nameof(points));
        if (classes < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(classes), classes, "Must be positive.");

        // The plot keeps the data's aspect ratio, within limits.
        double xRange = extent.XMax - extent.XMin, yRange = extent.YMax - extent.YMin;
        double plotWidth = 420, plotHeight = Math.Clamp(plotWidth * yRange / xRange, 200, 600);
        double left = 72, top = title.Length > 0 ? 34 : 6;
        double width = left + plotWidth + 20;

        var legend = new List<(string, string, bool, bool)>(classes);
        for (int k = 0; k < classes; k++) legend.Add(("class " + k.ToString(CultureInfo.InvariantCulture), Color(k), false, true));
        var legendMarkup = new StringBuilder();
        top = Legend(legendMarkup, legend, left, left + plotWidth, top) + 8;
        double bottom = top + plotHeight, right = left + plotWidth;
        double height = bottom + 48;

        var sb = new StringBuilder(16384);
        Open(sb, width, height, title);
        sb.Append(legendMarkup);

        Axis x = LinearAxis(extent.XMin, extent.XMax, maxTicks: 7, outward: false);
        Axis y = LinearAxis(extent.YMin, extent.YMax, maxTicks: 7, outward: false);
        x.PixelStart = left; x.PixelEnd = right;
        y.PixelStart = bottom; y.PixelEnd = top;

        // Regions: runs of equal class along each row become one rectangle.
        double cellWidth = plotWidth / gridWidth, cellHeight = plotHeight / gridHeight;
        // Opaque tints (palette color blended with white) rather than fill-opacity, so overlapping edges show no seams.
        var tints = new string[classes];
        for (int k = 0; k < classes; k++) tints[k] = Tint(Color(k), 0.3);
        sb.Append("<g shape-rendering=\"crispEdges\">\n");
        for (int row = 0; row < gridHeight; row++)
        {
            double py = bottom - (row + 1) * cellHeight;
            int start = 0;
            for (int col = 1; col <= gridWidth; col++)
            {
                if (col < gridWidth && gridClasses[row * gridWidth + col] == gridClasses[row * gridWidth + start]) continue;
                int cls = gridClasses[row * gridWidth + start];
                string fill = cls >= 0 && cls < classes ? tints[cls] : "#e0e0e0";
                // Overlap the neighbor to the right and the row below by half a pixel so no hairline seams show.
                double overlapX = col < gridWidth ? 0.5 : 0, overlapY = row > 0 ? 0.5 : 0;
                Rect(sb, left + start * cellWidth, py, (col - start) * cellWidth + overlapX, cellHeight + overlapY, fill);
                start = col;
            }
        }
        sb.Append("</g>\n");
        Axes(sb, x, y, "x₁", "x₂", left, top, right, bottom, grid: false);

        sb.Append("<g stroke=\"#1a1a1a\" stroke-width=\"0.6\">\n");
        for (int i = 0; i < labels.Length; i++)
        {
            double px = points[2 * i], py = points[2 * i + 1];
            if (!(px >= extent.XMin && px <= extent.XMax && py >= extent.YMin && py <= extent.YMax)) continue;
            int cls = labels[i];
            Circle(sb, x.Map(px), y.Map(py), 3, cls >= 0 && cls < classes ? Color(cls) : "#999999");
        }
        sb.Append("</g>\n");
        Close(sb);
        return sb.ToString();
    }
}
