using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace KernelGen.Data;

/// <summary>How <see cref="Csv"/> reads a file.</summary>
public sealed record CsvOptions
{
    /// <summary>
    /// The field separator: ',', ';' or '\t'. <see langword="null"/> (the default) detects it from the first line:
    /// tab if it has one, else ';' if it has one, else ','.
    /// </summary>
    public char? Separator { get; init; }

    /// <summary>
    /// Whether the first line is a header of column names. <see langword="null"/> (the default) detects it: the first
    /// line is a header when none of its cells is a number.
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>
    /// The label column: 0-based from the left, or negative to count from the right (−1, the default, is the last column).
    /// All other columns are features.
    /// </summary>
    public int LabelColumn { get; init; } = -1;

    /// <summary>
    /// When <see langword="true"/>, the label column holds float regression targets and the result is a
    /// <see cref="Dataset.ForRegression"/> dataset; otherwise (the default) it holds non-negative integer class ids.
    /// </summary>
    public bool Regression { get; init; }

    /// <summary>
    /// Class labels must lie in [0, <see cref="MaxClassCount"/>) (default 2²⁰ = 1,048,576 classes): a guard against a
    /// corrupt or misread label column, whose huge "label" would otherwise become the dataset's class count (and the
    /// size of every per-class array built from it). Raise it for data with more classes; at most
    /// <see cref="int.MaxValue"/>, so that the class count (largest label + 1) always fits an <see cref="int"/>.
    /// </summary>
    public int MaxClassCount { get; init; } = 1 << 20;
}

/// <summary>
/// Reads numeric CSV files into a <see cref="Dataset"/>: one sample per line, numeric feature cells and one label cell,
/// parsed with the invariant culture ('.' decimal point). Blank lines are skipped; a cell may be wrapped in double quotes
/// (with "" for a literal quote). Errors are <see cref="InvalidDataException"/>s naming the source, the line and the
/// column (both 1-based): a cell that is not a number, a non-finite number, a cell containing a NUL character, a class
/// label that is not a non-negative integer below <see cref="CsvOptions.MaxClassCount"/>, or a row with a different
/// number of cells than the first.
/// </summary>
public static class Csv
{
    /// <summary>Reads the CSV file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives file, line and column).</exception>
    public static Dataset Read(string path, CsvOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Read(reader, options, path);
    }

    /// <summary>Parses CSV text held in a string.</summary>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives line and column).</exception>
    public static Dataset Parse(string text, CsvOptions? options = null, string sourceName = "CSV text")
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return Read(reader, options, sourceName);
    }

    /// <summary>Reads CSV from <paramref name="reader"/> (left open).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="options">How to read it; <see langword="null"/> for the defaults.</param>
    /// <param name="sourceName">The name used in error messages.</param>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives line and column).</exception>
    public static Dataset Read(TextReader reader, CsvOptions? options = null, string sourceName = "CSV")
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= new CsvOptions();
        if (options.Separator is char sep && sep != ',' && sep != ';' && sep != '\t')
            throw new ArgumentException($"The CSV separator must be ',', ';' or tab, not '{sep}'.", nameof(options));
        if (options.MaxClassCount < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxClassCount, $"{nameof(CsvOptions.MaxClassCount)} must be positive.");

        char separator = '\0';
        int columns = -1, labelColumn = -1, firstDataLine = 0, lineNumber = 0;
        var cells = new List<string>();
        var features = new List<float>();
        var labels = new List<int>();
        var targets = new List<float>();
        bool headerDecided = false;

        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length > 0 && line[0] == '\uFEFF') line = line.Substring(1);
            if (string.IsNullOrWhiteSpace(line)) continue;

            if (columns < 0)
            {
                separator = options.Separator ?? (line.Contains('\t') ? '\t' : line.Contains(';') ? ';' : ',');
                Split(line, separator, cells, sourceName, lineNumber);
                columns = cells.Count;
                if (columns < 2)
                {
                    throw new InvalidDataException(
                        $"{sourceName}: line {lineNumber} has {columns} column (separator '{Show(separator)}'); a CSV dataset needs at least one feature column and a label column.");
                }
                int requested = options.LabelColumn;
                labelColumn = requested < 0 ? columns + requested : requested;
                if (labelColumn < 0 || labelColumn >= columns)
                {
                    throw new ArgumentOutOfRangeException(nameof(options), requested,
                        $"{sourceName}: label column {requested} does not exist; line {lineNumber} has {columns} columns.");
                }
            }
            else
            {
                Split(line, separator, cells, sourceName, lineNumber);
                if (cells.Count != columns)
                {
                    throw new InvalidDataException(
                        $"{sourceName}: line {lineNumber} has {cells.Count} columns, but line {firstDataLine} has {columns} (separator '{Show(separator)}'); every row must have the same number of cells.");
                }
            }

            if (!headerDecided)
            {
                headerDecided = true;
                firstDataLine = lineNumber;
                bool header = options.HasHeader ?? !AnyNumber(cells);
                if (header) continue;
            }

            for (int c = 0; c < columns; c++)
            {
                string cell = cells[c];
                if (c == labelColumn)
                {
                    if (options.Regression) targets.Add(ParseFloat(cell, sourceName, lineNumber, c));
                    else labels.Add(ParseLabel(cell, sourceName, lineNumber, c, options.MaxClassCount));
                }
                else
                {
                    features.Add(ParseFloat(cell, sourceName, lineNumber, c));
                }
            }
        }

        if (columns < 0) throw new InvalidDataException($"{sourceName}: the CSV input is empty.");
        int count = options.Regression ? targets.Count : labels.Count;
        if (count == 0) throw new InvalidDataException($"{sourceName}: the CSV input has a header but no data rows.");
        return options.Regression
            ? Dataset.ForRegression(features.ToArray(), targets.ToArray(), columns - 1)
            : new Dataset(features.ToArray(), labels.ToArray(), columns - 1);
    }

    private static string Show(char separator) => separator == '\t' ? "\\t" : separator.ToString();

    private static bool AnyNumber(List<string> cells)
    {
        foreach (string cell in cells)
        {
            if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return true;
        }
        return false;
    }

    private static float ParseFloat(string cell, string source, int line, int column)
    {
        RejectNul(cell, source, line, column);
        if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            throw new InvalidDataException($"{source}: line {line}, column {column + 1}: '{cell}' is not a number.");
        if (!float.IsFinite(value))
            throw new InvalidDataException($"{source}: line {line}, column {column + 1}: '{cell}' is not a finite number (or overflows float).");
        return value;
    }

    private static int ParseLabel(string cell, string source, int line, int column, int maxClassCount)
    {
        RejectNul(cell, source, line, column);
        if (!int.TryParse(cell, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) || value < 0)
        {
            // A run of digits too long for an int is a label too large, not a malformed one.
            ReadOnlySpan<char> digits = cell.AsSpan().TrimStart('+');
            if (!digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9'))
                value = int.MaxValue;
            else
                throw new InvalidDataException(
                    $"{source}: line {line}, column {column + 1}: class label '{cell}' is not a non-negative integer (set {nameof(CsvOptions)}.{nameof(CsvOptions.Regression)} for float targets).");
        }
        // value + 1 becomes the class count; maxClassCount ≤ int.MaxValue keeps it from overflowing to int.MinValue.
        if (value >= maxClassCount)
        {
            throw new InvalidDataException(
                $"{source}: line {line}, column {column + 1}: class label '{cell}' is too large: labels must be below {maxClassCount} ({nameof(CsvOptions)}.{nameof(CsvOptions.MaxClassCount)}). Is this the label column?");
        }
        return value;
    }

    /// <summary>
    /// .NET's number parsing ignores trailing NUL characters ("2\0" parses as 2), so a cell with a NUL anywhere is
    /// rejected before parsing. A NUL in a CSV file usually means a binary file, or UTF-16 text read as UTF-8.
    /// </summary>
    private static void RejectNul(string cell, string source, int line, int column)
    {
        if (cell.Contains('\0'))
        {
            throw new InvalidDataException(
                $"{source}: line {line}, column {column + 1}: '{cell.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a NUL character (U+0000); " +
                "the file may be binary or UTF-16 text read as UTF-8.");
        }
    }

    /// <summary>Splits one line into trimmed cells; a cell may be wrapped in double quotes ("" is a literal quote).</summary>
    private static void Split(string line, char separator, List<string> cells, string source, int lineNumber)
    {
        cells.Clear();
        var cell = new StringBuilder();
        int i = 0;
        while (true)
        {
            cell.Clear();
            while (i < line.Length && line[i] is ' ' && separator != ' ') i++;
            if (i < line.Length && line[i] == '"')
            {
                int start = i;
                i++;
                while (true)
                {
                    if (i >= line.Length)
                        throw new InvalidDataException($"{source}: line {lineNumber}, column {cells.Count + 1}: the quote opened at character {start + 1} is not closed.");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    cell.Append(line[i++]);
                }
                while (i < line.Length && line[i] != separator)
                {
                    if (!char.IsWhiteSpace(line[i]))
                        throw new InvalidDataException($"{source}: line {lineNumber}, column {cells.Count + 1}: unexpected '{line[i]}' after a closing quote.");
                    i++;
                }
                cells.Add(cell.ToString());
            }
            else
            {
                int end = line.IndexOf(separator, i);
                if (end < 0) end = line.Length;
                cells.Add(line.AsSpan(i, end - i).Trim().ToString());
                i = end;
            }
            if (i >= line.Length) break;
            i++; // skip the separator
            if (i == line.Length) { cells.Add(string.Empty); break; }
        }
    }
}
