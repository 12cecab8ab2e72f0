using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using KernelGen.IO;

namespace KernelGen.Reporting;

/// <summary>
/// Builds one self-contained HTML page (inline CSS and inline SVG; no scripts, fonts or other external resources)
/// from headings, paragraphs, charts, tables and key–value lists, in the order they are added. The output is also
/// well-formed XML (XHTML syntax with an HTML5 doctype), so it can be checked or post-processed with an XML parser.
/// </summary>
/// <remarks>Text arguments are escaped; <see cref="AddSvg"/> and <see cref="AddHtml"/> insert trusted markup as is.</remarks>
public sealed class HtmlReport
{
    private const string Css = """
        :root { color-scheme: light; }
        body { font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #222; background: #fff;
               max-width: 1180px; margin: 2rem auto; padding: 0 1.25rem; line-height: 1.45; }
        h1 { font-size: 1.7rem; margin: 0 0 1rem; }
        h2 { font-size: 1.3rem; margin: 2rem 0 0.6rem; padding-bottom: 0.2rem; border-bottom: 1px solid #ddd; }
        h3 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
        p { max-width: 52rem; }
        figure { margin: 1rem 0 1.5rem; }
        figure svg { max-width: 100%; height: auto; display: block; }
        figcaption { font-size: 0.9rem; color: #555; margin-top: 0.3rem; max-width: 52rem; }
        table { border-collapse: collapse; margin: 0.5rem 0 1.25rem; font-size: 0.92rem; }
        caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
        th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; }
        th { background: #f3f5f7; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        tbody tr:nth-child(even) { background: #fafbfc; }
        dl.kv { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1.2rem; margin: 0.5rem 0 1.25rem; }
        dl.kv dt { font-weight: 600; color: #444; }
        dl.kv dd { margin: 0; font-variant-numeric: tabular-nums; }
        pre { background: #f6f8fa; border: 1px solid #e3e6ea; padding: 0.75rem; overflow-x: auto; font-size: 0.85rem; }
        footer { margin-top: 3rem; font-size: 0.8rem; color: #888; }
        """;

    private readonly List<string> _parts = [];

    /// <summary>Starts a report; <paramref name="title"/> becomes the page title and the top-level heading.</summary>
    public HtmlReport(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        Title = title;
    }

    /// <summary>The page title.</summary>
    public string Title { get; }

    /// <summary>Adds a section heading (<paramref name="level"/> 2 to 6; level 1 is the page title).</summary>
    public HtmlReport AddHeading(string text, int level = 2)
    {
        if (level is < 2 or > 6) ThrowHelper.ThrowArgumentOutOfRange(nameof(level), level, "Must be 2 to 6 (level 1 is the page title).");
        string tag = "h" + level.ToString(CultureInfo.InvariantCulture);
        _parts.Add($"<{tag}>{Svg.Escape(text)}</{tag}>");
        return this;
    }

    /// <summary>Adds a paragraph of plain text (escaped; line breaks are kept).</summary>
    public HtmlReport AddParagraph(string text)
    {
        _parts.Add("<p>" + Svg.Escape(text).Replace("\n", "<br/>\n", StringComparison.Ordinal) + "</p>");
        return this;
    }

    /// <summary>Adds preformatted plain text (escaped), e.g. a fixed-width table.</summary>
    public HtmlReport AddPreformatted(string text)
    {
        _parts.Add("<pre>" + Svg.Escape(text) + "</pre>");
        return this;
    }

    /// <summary>Adds a chart made by <see cref="Svg"/> (or any trusted <c>&lt;svg&gt;</c> markup), with an optional caption.</summary>
    public HtmlReport AddSvg(string svg, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(svg);
        string markup = svg.TrimStart();
        if (markup.StartsWith("<?xml", StringComparison.Ordinal)) markup = markup[(markup.IndexOf("?>", StringComparison.Ordinal) + 2)..].TrimStart();
        var sb = new StringBuilder(markup.Length + 64);
        sb.Append("<figure>\n").Append(markup.TrimEnd()).Append('\n');
        if (!string.IsNullOrEmpty(caption)) sb.Append("<figcaption>").Append(Svg.Escape(caption)).Append("</figcaption>\n");
        sb.Append("</figure>");
        _parts.Add(sb.ToString());
        return this;
    }

    /// <summary>Adds a table; see <see cref="Table"/>.</summary>
    public HtmlReport AddTable(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, string? caption = null)
    {
        _parts.Add(Table(headers, rows, caption));
        return this;
    }

    /// <summary>Adds a two-column list of names and values (a summary).</summary>
    public HtmlReport AddKeyValues(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var sb = new StringBuilder("<dl class=\"kv\">\n");
        foreach (var (key, value) in pairs)
            sb.Append("<dt>").Append(Svg.Escape(key)).Append("</dt><dd>").Append(Svg.Escape(value)).Append("</dd>\n");
        sb.Append("</dl>");
        _parts.Add(sb.ToString());
        return this;
    }

    /// <summary>Adds trusted HTML as is. It must be well-formed XHTML to keep the page parseable as XML.</summary>
    public HtmlReport AddHtml(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        _parts.Add(html);
        return this;
    }

    /// <summary>
    /// An HTML table of escaped text. Cells that read as numbers (invariant culture, optionally with a trailing %)
    /// are right-aligned in tabular figures. Rows may be shorter than the header; missing cells are left empty.
    /// </summary>
    public static string Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder(256 + rows.Count * 64);
        sb.Append("<table>\n");
        if (!string.IsNullOrEmpty(caption)) sb.Append("<caption>").Append(Svg.Escape(caption)).Append("</caption>\n");
        sb.Append("<thead><tr>");
        foreach (string h in headers) sb.Append("<th>").Append(Svg.Escape(h)).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            ArgumentNullException.ThrowIfNull(row);
            if (row.Count > headers.Count) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), row.Count, "A row has more cells than there are headers.");
            sb.Append("<tr>");
            for (int i = 0; i < headers.Count; i++)
            {
                string cell = i < row.Count ? row[i] ?? "" : "";
                sb.Append(LooksNumeric(cell) ? "<td class=\"num\">" : "<td>").Append(Svg.Escape(cell)).Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>");
        return sb.ToString();
    }

    private static bool LooksNumeric(string cell)
    {
        ReadOnlySpan<char> s = cell.AsSpan().Trim();
        if (s.EndsWith("%")) s = s[..^1];
        if (s.Length == 0) return false;
        if (s is "NaN" or "∞" or "−∞") return true;
        if (s[0] == '\u2212') s = s[1..]; // typographic minus
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
    }

    /// <summary>The complete page.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(4096);
        sb.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
          .Append("<title>").Append(Svg.Escape(Title)).Append("</title>\n<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n")
          .Append("<h1>").Append(Svg.Escape(Title)).Append("</h1>\n");
        foreach (string part in _parts) sb.Append(part).Append('\n');
        sb.Append("<footer>Generated by KernelGen.</footer>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>
    /// Writes the page to <paramref name="path"/> (UTF-8, no byte-order mark) atomically: the text goes to a temporary
    /// file in the same directory, flushed to disk, which then replaces the target, so a reader never sees a
    /// half-written report (the rename is flushed too where the operating system allows, and stale temporary files of
    /// killed saves are removed first). Creates the directory if needed.
    /// </summary>
    public void Save(string path) => WriteAllTextAtomic(path, ToString());

    internal static void WriteAllTextAtomic(string path, string text) => AtomicFile.WriteAllText(path, text, createDirectory: true);
}
