using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using KernelGen.IO;

namespace KernelGen.Data;

/// <summary>What the label columns of a CSV file hold.</summary>
public enum CsvLabels
{
    /// <summary>One column of non-negative integer class indices (the default).</summary>
    ClassIndex,
    /// <summary>One column of class names ("setosa", "yes"): classes are numbered in the order of
    /// <see cref="CsvOptions.ClassNames"/>, or else of the distinct names sorted ordinally (scikit-learn's
    /// <c>LabelEncoder</c>).</summary>
    ClassName,
    /// <summary>One or more columns of float targets: regression values, binary or multi-label targets in [0, 1],
    /// target distributions. The dataset gets one target per label column (<see cref="Dataset.TargetCount"/>).</summary>
    Targets,
}

/// <summary>What <see cref="Csv"/> does with a missing value: an empty cell, or a cell equal to one of
/// <see cref="CsvOptions.MissingMarkers"/> (such as <c>NA</c> or <c>?</c>).</summary>
public enum MissingValues
{
    /// <summary>Stop with an <see cref="InvalidDataException"/> naming the line and column (the default).</summary>
    Error,
    /// <summary>Drop every row that has a missing value (features or labels); <see cref="CsvSummary.SkippedRows"/> counts them.</summary>
    SkipRow,
    /// <summary>Replace a missing feature by the mean of its column over the rows read (the file's mean: to keep
    /// validation and test data out of it, read them from separate files). Labels and targets are never imputed: a
    /// missing one is an error.</summary>
    Mean,
    /// <summary>Replace a missing feature by <see cref="CsvOptions.FillValue"/>. Labels and targets are never imputed:
    /// a missing one is an error.</summary>
    Constant,
}

/// <summary>A column of a CSV file: a 0-based index (negative counts from the right: −1 is the last column) or a name
/// from the header row. Converts implicitly from <see cref="int"/> and <see cref="string"/>, so a list of columns can
/// be written <c>[0, 2, "age"]</c>.</summary>
public readonly struct CsvColumn : IEquatable<CsvColumn>
{
    private CsvColumn(int index, string? name)
    {
        Index = index;
        Name = name;
    }

    /// <summary>The index (when <see cref="Name"/> is null): from the left from 0, or from the right from −1.</summary>
    public int Index { get; }

    /// <summary>The header name, or null for a column given by index.</summary>
    public string? Name { get; }

    /// <summary>The column at <paramref name="index"/>.</summary>
    public static implicit operator CsvColumn(int index) => new(index, null);

    /// <summary>The column named <paramref name="name"/> in the header.</summary>
    public static implicit operator CsvColumn(string name) => new(0, name ?? throw new ArgumentNullException(nameof(name)));

    /// <inheritdoc/>
    public bool Equals(CsvColumn other) => Index == other.Index && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CsvColumn other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Index, Name);

    /// <summary>The index, or the name in quotes.</summary>
    public override string ToString() => Name is null ? Index.ToString(CultureInfo.InvariantCulture) : $"'{Name}'";
}

/// <summary>How <see cref="Csv"/> reads a file.</summary>
public sealed record CsvOptions
{
    /// <summary>The <see cref="Separator"/> value meaning "one or more spaces or tabs" (numpy's <c>loadtxt</c> default,
    /// pandas' <c>sep=r"\s+"</c>): leading and trailing whitespace is ignored and runs count as one separator.</summary>
    public const char Whitespace = ' ';

    /// <summary>
    /// The field separator: any single character other than a double quote, a line break, NUL, a letter, a digit,
    /// '.', '+' or '-' (which would cut numbers apart); <see cref="Whitespace"/> (a space) for runs of spaces and tabs.
    /// <see langword="null"/> (the default) detects it from the first data line: tab if it has one, else ';', else ',',
    /// else whitespace if it has spaces between cells.
    /// </summary>
    public char? Separator { get; init; }

    /// <summary>
    /// Whether the first line read (after <see cref="SkipLines"/>) is a header of column names. <see langword="null"/>
    /// (the default) detects it: the line is a header when none of its cells is a number. Names from the header select
    /// columns (<see cref="CsvColumn"/>) and become the dataset's feature and target names.
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>Physical lines to skip at the start, before the header or data (metadata lines such as scikit-learn's
    /// "150,4,setosa,versicolor,virginica" first line, licence text). Default 0.</summary>
    public int SkipLines { get; init; }

    /// <summary>Lines whose first non-blank character is this are skipped (e.g. '#'); null (the default): no comments.</summary>
    public char? CommentPrefix { get; init; }

    /// <summary>
    /// The label column when <see cref="LabelColumns"/> is not set: 0-based from the left, or negative to count from the
    /// right (−1, the default, is the last column).
    /// </summary>
    public int LabelColumn { get; init; } = -1;

    /// <summary>The label columns, by index or header name (overrides <see cref="LabelColumn"/>): one column for class
    /// labels, one or more for <see cref="CsvLabels.Targets"/> (e.g. the last three of a multi-label file:
    /// <c>[-3, -2, -1]</c>), in the order given.</summary>
    public IReadOnlyList<CsvColumn>? LabelColumns { get; init; }

    /// <summary>The feature columns, by index or name, in the order the features take; <see langword="null"/> (the
    /// default): every column that is neither a label nor in <see cref="IgnoreColumns"/>, left to right.</summary>
    public IReadOnlyList<CsvColumn>? FeatureColumns { get; init; }

    /// <summary>Columns to leave out (identifiers, dates, free text) when <see cref="FeatureColumns"/> is not set.</summary>
    public IReadOnlyList<CsvColumn>? IgnoreColumns { get; init; }

    /// <summary>What the label columns hold: class indices (the default), class names, or float targets.</summary>
    public CsvLabels Labels { get; init; } = CsvLabels.ClassIndex;

    /// <summary>The class names in class order. With <see cref="CsvLabels.ClassName"/> labels, a name not in the list
    /// is an error (and classes absent from the file still count); with <see cref="CsvLabels.ClassIndex"/> labels the
    /// list names the classes (indices must be below its length). Either way the dataset's
    /// <see cref="Dataset.ClassNames"/> are these.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>What to do with missing values; <see cref="MissingValues.Error"/> by default.</summary>
    public MissingValues MissingValues { get; init; } = MissingValues.Error;

    /// <summary>The cell texts that mean "missing" (compared after trimming, case-sensitively). Default:
    /// <see cref="DefaultMissingMarkers"/>. An empty cell is always missing.</summary>
    public IReadOnlyList<string> MissingMarkers { get; init; } = DefaultMissingMarkers;

    /// <summary>The value of a missing feature under <see cref="MissingValues.Constant"/>; 0 by default.</summary>
    public float FillValue { get; init; }

    /// <summary>
    /// Class labels must lie in [0, <see cref="MaxClassCount"/>) (default 2²⁰ = 1,048,576 classes): a guard against a
    /// corrupt or misread label column, whose huge "label" would otherwise become the dataset's class count (and the
    /// size of every per-class array built from it). Raise it for data with more classes; at most
    /// <see cref="int.MaxValue"/>, so that the class count (largest label + 1) always fits an <see cref="int"/>.
    /// </summary>
    public int MaxClassCount { get; init; } = 1 << 20;

    /// <summary>The default <see cref="MissingMarkers"/>: "", "?", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL".</summary>
    public static IReadOnlyList<string> DefaultMissingMarkers { get; } = ["", "?", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL"];

    internal void Validate()
    {
        if (Separator is char s && (s is '"' or '\r' or '\n' or '\0' or '.' or '+' or '-' || char.IsLetterOrDigit(s)))
            throw new ArgumentException($"The CSV separator '{Csv.Show(s)}' cannot be used: it must be a single character other than a double quote, a line break, NUL, a letter, a digit, '.', '+' or '-'.", nameof(Separator));
        if (SkipLines < 0) throw new ArgumentOutOfRangeException(nameof(SkipLines), SkipLines, "Must be 0 or positive.");
        if (CommentPrefix is char c && (c is '"' or '\r' or '\n' or '\0' || c == Separator))
            throw new ArgumentException($"The comment prefix '{Csv.Show(c)}' cannot be a quote, a line break, NUL or the separator.", nameof(CommentPrefix));
        if (MaxClassCount < 1) throw new ArgumentOutOfRangeException(nameof(MaxClassCount), MaxClassCount, $"{nameof(MaxClassCount)} must be positive.");
        if (!Enum.IsDefined(Labels)) throw new ArgumentOutOfRangeException(nameof(Labels), Labels, "Not a CsvLabels value.");
        if (!Enum.IsDefined(MissingValues)) throw new ArgumentOutOfRangeException(nameof(MissingValues), MissingValues, "Not a MissingValues value.");
        if (MissingMarkers is null) throw new ArgumentNullException(nameof(MissingMarkers));
        if (!float.IsFinite(FillValue)) throw new ArgumentOutOfRangeException(nameof(FillValue), FillValue, "Must be finite.");
        if (ClassNames is not null)
        {
            if (ClassNames.Count == 0) throw new ArgumentException("ClassNames is empty.", nameof(ClassNames));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string name in ClassNames)
            {
                if (name is null) throw new ArgumentException("ClassNames holds a null name.", nameof(ClassNames));
                if (!seen.Add(name)) throw new ArgumentException($"ClassNames holds '{name}' twice.", nameof(ClassNames));
            }
            if (Labels == CsvLabels.Targets) throw new ArgumentException("ClassNames name classes; the labels are targets (CsvLabels.Targets).", nameof(ClassNames));
        }
    }
}

/// <summary>What a CSV read found.</summary>
/// <param name="Rows">Data rows in the dataset.</param>
/// <param name="SkippedRows">Rows dropped for missing values (<see cref="MissingValues.SkipRow"/>).</param>
/// <param name="ImputedValues">Missing features replaced (<see cref="MissingValues.Mean"/>, <see cref="MissingValues.Constant"/>).</param>
/// <param name="Separator">The separator used (<see cref="CsvOptions.Whitespace"/> for runs of whitespace).</param>
/// <param name="HasHeader">Whether a header row was read.</param>
/// <param name="ColumnNames">The header's names, or null.</param>
public sealed record CsvSummary(int Rows, int SkippedRows, int ImputedValues, char Separator, bool HasHeader, IReadOnlyList<string>? ColumnNames);

/// <summary>
/// Reads delimited numeric text (CSV, TSV, whitespace-separated, plain or gzip-compressed) into a <see cref="Dataset"/>:
/// one sample per record, feature cells parsed with the invariant culture ('.' decimal point), and label cells as
/// class indices, class names or float targets (<see cref="CsvOptions.Labels"/>). Features and labels may also come
/// from two files (<see cref="Read(string, string, CsvOptions?, CsvOptions?)"/>).
/// </summary>
/// <remarks>
/// <para>Records: blank lines and comment lines are skipped, as are <see cref="CsvOptions.SkipLines"/> leading lines;
/// a cell may be wrapped in double quotes, and a quoted cell may hold the separator, line breaks and "" for a literal
/// quote (RFC 4180). Every record must have as many cells as the first.</para>
/// <para>Files are gzip-decompressed when they start with the gzip magic bytes (whatever their name), with the
/// trailer's CRC-32 and length checked. Text is UTF-8 (a byte-order mark is skipped).</para>
/// <para>Errors are <see cref="InvalidDataException"/>s naming the source, the line and the column (both 1-based): a
/// cell that is not a number, a non-finite number, a missing value (unless <see cref="CsvOptions.MissingValues"/>
/// says otherwise), a cell containing NUL, a class label that is not a non-negative integer below
/// <see cref="CsvOptions.MaxClassCount"/> or not one of <see cref="CsvOptions.ClassNames"/>, a record with a different
/// number of cells, an unclosed quote. Options that do not fit the file (a column that does not exist, a name without
/// a header) are <see cref="ArgumentException"/>s naming the source. A failed read returns nothing.</para>
/// </remarks>
public static class Csv
{
    /// <summary>Reads the file at <paramref name="path"/> (plain or gzip).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives file, line and column).</exception>
    public static Dataset Read(string path, CsvOptions? options = null) => Read(path, options, out _);

    /// <summary>Reads the file at <paramref name="path"/> (plain or gzip) and says what was read.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives file, line and column).</exception>
    public static Dataset Read(string path, CsvOptions? options, out CsvSummary summary)
    {
        options ??= new CsvOptions();
        options.Validate();
        Table table = ReadFile(path, options, Part.Both);
        return Assemble(table, null, options, path, out summary);
    }

    /// <summary>
    /// Reads features from one file and labels or targets from another (row i of one belongs to row i of the other), each
    /// plain or gzip. <paramref name="featureOptions"/> reads the first (all its columns are features unless
    /// <see cref="CsvOptions.FeatureColumns"/> or <see cref="CsvOptions.IgnoreColumns"/> say otherwise; its label options
    /// are ignored); <paramref name="labelOptions"/> reads the second (all its columns are labels unless
    /// <see cref="CsvOptions.LabelColumns"/> says otherwise) and decides what they are (<see cref="CsvOptions.Labels"/>);
    /// it defaults to <paramref name="featureOptions"/>. With <see cref="MissingValues.SkipRow"/>, a row missing in
    /// either file is dropped from both.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, or the files hold different numbers of rows.</exception>
    public static Dataset Read(string featuresPath, string labelsPath, CsvOptions? featureOptions = null, CsvOptions? labelOptions = null)
    {
        featureOptions ??= new CsvOptions();
        labelOptions ??= featureOptions;
        featureOptions.Validate();
        labelOptions.Validate();
        Table features = ReadFile(featuresPath, featureOptions, Part.Features);
        Table labels = ReadFile(labelsPath, labelOptions, Part.Labels);
        if (features.Records != labels.Records)
        {
            throw new InvalidDataException(
                $"{featuresPath} holds {features.Records} data rows but {labelsPath} holds {labels.Records}; row i of the features must belong to row i of the labels.");
        }
        return Assemble(features, labels, labelOptions with { MissingValues = featureOptions.MissingValues, FillValue = featureOptions.FillValue }, featuresPath, out _);
    }

    /// <summary>Reads CSV from <paramref name="stream"/> (left open), decompressing gzip data.</summary>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives line and column).</exception>
    public static Dataset Read(Stream stream, CsvOptions? options = null, string sourceName = "CSV")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= new CsvOptions();
        options.Validate();
        Table table = ReadStream(stream, sourceName, options, Part.Both);
        return Assemble(table, null, options, sourceName, out _);
    }

    /// <summary>Parses CSV text held in a string.</summary>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives line and column).</exception>
    public static Dataset Parse(string text, CsvOptions? options = null, string sourceName = "CSV text") => Parse(text, options, sourceName, out _);

    /// <summary>Parses CSV text held in a string and says what was read.</summary>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives line and column).</exception>
    public static Dataset Parse(string text, CsvOptions? options, string sourceName, out CsvSummary summary)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return Read(reader, options, sourceName, out summary);
    }

    /// <summary>Reads CSV from <paramref name="reader"/> (left open).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="options">How to read it; <see langword="null"/> for the defaults.</param>
    /// <param name="sourceName">The name used in error messages.</param>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives line and column).</exception>
    public static Dataset Read(TextReader reader, CsvOptions? options = null, string sourceName = "CSV") => Read(reader, options, sourceName, out _);

    /// <summary>Reads CSV from <paramref name="reader"/> (left open) and says what was read.</summary>
    /// <exception cref="InvalidDataException">The content is malformed (the message gives line and column).</exception>
    public static Dataset Read(TextReader reader, CsvOptions? options, string sourceName, out CsvSummary summary)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= new CsvOptions();
        options.Validate();
        Table table = ReadText(reader, sourceName, options, Part.Both);
        return Assemble(table, null, options, sourceName, out summary);
    }

    internal static string Show(char c) => c switch { '\t' => "\\t", '\r' => "\\r", '\n' => "\\n", '\0' => "\\0", _ => c.ToString() };

    private static string ShowSeparator(char c) => c == CsvOptions.Whitespace ? "whitespace" : "'" + Show(c) + "'";

    // ---- reading ----------------------------------------------------------------------------------------------------

    private enum Part { Both, Features, Labels }

    /// <summary>What one file held: the kept rows' features (NaN where a value is missing and to be imputed) and labels.</summary>
    private sealed class Table
    {
        public readonly List<float> Features = [];
        public readonly List<int> Classes = [];
        public readonly List<string> ClassTexts = [];
        public readonly List<float> Targets = [];
        public readonly List<int> Ordinals = [];       // the data-record ordinal of each kept row (joins two files)
        public readonly List<int> Lines = [];          // the line of each kept row
        public int FeatureCount, TargetCount, Records, Skipped;
        public string[]? Header, FeatureNames, LabelNames;
        public char Separator;
        public string Source = "";
        public int[] FeatureColumnNumbers = [];        // 1-based, for messages
    }

    private static Table ReadFile(string path, CsvOptions options, Part part)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return ReadStream(file, path, options, part);
    }

    private static Table ReadStream(Stream stream, string name, CsvOptions options, Part part)
    {
        // Peek at the first two bytes for the gzip magic (1F 8B), without requiring a seekable stream.
        var prefix = new byte[2];
        int got = 0;
        while (got < 2)
        {
            int n = stream.Read(prefix, got, 2 - got);
            if (n == 0) break;
            got += n;
        }
        Stream source = new PrefixedStream(prefix.AsSpan(0, got).ToArray(), stream);
        bool gzip = got == 2 && prefix[0] == 0x1F && prefix[1] == 0x8B;
        if (gzip)
        {
            // Decompress, checking the trailer's CRC-32 and length, before parsing: a corrupt file is rejected as corrupt
            // (InvalidDataException) instead of being parsed as text of the wrong shape first.
            var whole = new MemoryStream();
            using (var decompressed = new GzipReader(source, name)) decompressed.CopyTo(whole);
            whole.Position = 0;
            source = whole;
        }
        try
        {
            using var reader = new StreamReader(source, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
            return ReadText(reader, name, options, part);
        }
        finally
        {
            if (gzip) source.Dispose();
        }
    }

    private static Table ReadText(TextReader text, string source, CsvOptions options, Part part)
    {
        var reader = new CsvRecordReader(text, source, options.CommentPrefix);
        var table = new Table { Source = source };
        for (int i = 0; i < options.SkipLines; i++)
            if (reader.ReadRawLine() is null) break;

        // The first line with content decides the separator; the record reader then reads it again.
        string? first;
        int firstLine;
        while (true)
        {
            firstLine = reader.Line;
            first = reader.ReadRawLine();
            if (firstLine == 1 && first is not null && first.Length > 0 && first[0] == '\uFEFF') first = first[1..]; // a byte-order mark
            if (first is null || !reader.IsBlankOrComment(first)) break;
        }
        if (first is null)
            throw new InvalidDataException($"{source}: the CSV input is empty{(options.SkipLines > 0 ? $" after the {options.SkipLines} skipped line(s)" : "")}.");
        if (first.Length > 0 && first[0] == '\u001F')
        {
            throw new InvalidDataException(
                $"{source}: line {firstLine} starts with byte 0x1F: this looks like gzip-compressed data read as text. Read the file with Csv.Read(path) or Csv.Read(Stream), which decompress gzip.");
        }
        char separator = options.Separator ?? CsvRecordReader.Detect(first);
        reader.Unread(first, firstLine);
        reader.Separator = separator;
        table.Separator = separator;

        var cells = new List<string>();
        var markers = new HashSet<string>(options.MissingMarkers, StringComparer.Ordinal) { "" };
        Dictionary<string, int>? classIndex = null;
        if (options.ClassNames is { } names)
        {
            classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int k = 0; k < names.Count; k++) classIndex[names[k]] = k;
        }
        int columns = -1, firstRecordLine = 0;
        int[] featureColumns = [], labelColumns = [];
        float[] row = [];
        float[] labelRow = [];
        bool headerDecided = false;
        while (reader.Next(cells))
        {
            int line = reader.RecordLine;
            if (columns < 0)
            {
                columns = cells.Count;
                firstRecordLine = line;
            }
            else if (cells.Count != columns)
            {
                throw new InvalidDataException(
                    $"{source}: line {line} has {cells.Count} columns, but line {firstRecordLine} has {columns} (separator {ShowSeparator(separator)}); every row must have the same number of cells.");
            }

            if (!headerDecided)
            {
                headerDecided = true;
                bool header = options.HasHeader ?? !AnyNumber(cells);
                if (header) table.Header = [.. cells];
                (featureColumns, labelColumns) = Plan(options, part, columns, table.Header, source, line);
                table.FeatureCount = featureColumns.Length;
                table.TargetCount = labelColumns.Length;
                table.FeatureColumnNumbers = Array.ConvertAll(featureColumns, c => c + 1);
                if (table.Header is { } h)
                {
                    table.FeatureNames = Array.ConvertAll(featureColumns, c => h[c]);
                    table.LabelNames = Array.ConvertAll(labelColumns, c => h[c]);
                }
                row = new float[featureColumns.Length];
                labelRow = new float[labelColumns.Length];
                if (header) continue;
            }

            int ordinal = table.Records++;
            bool skip = false;
            for (int f = 0; f < featureColumns.Length && !skip; f++)
            {
                int c = featureColumns[f];
                string cell = cells[c];
                if (markers.Contains(cell))
                {
                    switch (options.MissingValues)
                    {
                        case MissingValues.Error: throw Missing(source, reader.CellLines[c], c, cell, "feature");
                        case MissingValues.SkipRow: skip = true; break;
                        default: row[f] = float.NaN; break; // filled at the end (the column mean or the constant)
                    }
                    continue;
                }
                row[f] = ParseFloat(cell, source, reader.CellLines[c], c, line == firstRecordLine && options.HasHeader is null);
            }
            string? classText = null;
            int classValue = 0;
            for (int l = 0; l < labelColumns.Length && !skip; l++)
            {
                int c = labelColumns[l];
                string cell = cells[c];
                int cellLine = reader.CellLines[c];
                if (markers.Contains(cell))
                {
                    if (options.MissingValues == MissingValues.SkipRow) { skip = true; break; }
                    throw Missing(source, cellLine, c, cell, options.Labels == CsvLabels.Targets ? "target" : "class label");
                }
                switch (options.Labels)
                {
                    case CsvLabels.Targets:
                        labelRow[l] = ParseFloat(cell, source, cellLine, c, line == firstRecordLine && options.HasHeader is null);
                        break;
                    case CsvLabels.ClassName when classIndex is null:
                        RejectNul(cell, source, cellLine, c);
                        classText = cell;
                        break;
                    case CsvLabels.ClassName:
                        RejectNul(cell, source, cellLine, c);
                        if (!classIndex!.TryGetValue(cell, out classValue))
                            throw new InvalidDataException($"{source}: line {cellLine}, column {c + 1}: class '{cell}' is not one of the {nameof(CsvOptions.ClassNames)} ({string.Join(", ", options.ClassNames!)}).");
                        break;
                    default:
                        classValue = ParseLabel(cell, source, cellLine, c, classIndex is null ? options.MaxClassCount : options.ClassNames!.Count,
                            classIndex is null ? $"{nameof(CsvOptions)}.{nameof(CsvOptions.MaxClassCount)}" : $"the {options.ClassNames!.Count} {nameof(CsvOptions.ClassNames)}");
                        break;
                }
            }
            if (skip)
            {
                table.Skipped++;
                continue;
            }
            table.Ordinals.Add(ordinal);
            table.Lines.Add(line);
            table.Features.AddRange(row);
            if (labelColumns.Length == 0) continue;
            if (options.Labels == CsvLabels.Targets) table.Targets.AddRange(labelRow);
            else if (classText is not null) table.ClassTexts.Add(classText);
            else table.Classes.Add(classValue);
        }

        if (columns < 0) throw new InvalidDataException($"{source}: the CSV input is empty.");
        if (table.Records == 0) throw new InvalidDataException($"{source}: the CSV input has a header but no data rows.");
        return table;
    }

    /// <summary>Which columns are features and which labels, by the options and the header.</summary>
    private static (int[] Features, int[] Labels) Plan(CsvOptions options, Part part, int columns, string[]? header, string source, int line)
    {
        int Resolve(CsvColumn column, string what)
        {
            if (column.Name is { } name)
            {
                if (header is null)
                {
                    throw new ArgumentException(
                        $"{source}: {what} column '{name}' is a name, but line {line} is not a header (it holds numbers). Set {nameof(CsvOptions)}.{nameof(CsvOptions.HasHeader)} = true if it holds the column names, or select columns by index.");
                }
                int found = Array.IndexOf(header, name);
                if (found < 0) throw new ArgumentException($"{source}: {what} column '{name}' is not in the header (line {line}: {string.Join(", ", header)}).");
                return found;
            }
            int index = column.Index < 0 ? columns + column.Index : column.Index;
            if (index < 0 || index >= columns)
                throw new ArgumentOutOfRangeException(nameof(options), column.Index, $"{source}: {what} column {column.Index} does not exist; line {line} has {columns} columns.");
            return index;
        }

        int[] ResolveAll(IReadOnlyList<CsvColumn> list, string what)
        {
            var result = new int[list.Count];
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = Resolve(list[i], what);
                if (Array.IndexOf(result, result[i], 0, i) >= 0)
                    throw new ArgumentException($"{source}: column {result[i] + 1} is selected twice as a {what} column.");
            }
            return result;
        }

        int[] labels = part switch
        {
            Part.Features => [],
            Part.Labels when options.LabelColumns is null => AllBut([], options.IgnoreColumns is null ? [] : ResolveAll(options.IgnoreColumns, "ignored"), columns),
            _ => options.LabelColumns is { } list ? ResolveAll(list, "label") : [Resolve(options.LabelColumn, "label")],
        };
        if (part != Part.Features)
        {
            if (labels.Length == 0) throw new ArgumentException($"{source}: no label columns are selected.");
            if (options.Labels != CsvLabels.Targets && labels.Length != 1)
            {
                throw new ArgumentException(
                    $"{source}: class labels come from one column, but {labels.Length} label columns are selected (for several target columns set {nameof(CsvOptions)}.{nameof(CsvOptions.Labels)} = {nameof(CsvLabels)}.{nameof(CsvLabels.Targets)}).");
            }
        }
        int[] features;
        if (part == Part.Labels) features = [];
        else if (options.FeatureColumns is { } featureList)
        {
            features = ResolveAll(featureList, "feature");
            foreach (int f in features)
                if (Array.IndexOf(labels, f) >= 0) throw new ArgumentException($"{source}: column {f + 1} is selected both as a feature and as a label.");
        }
        else features = AllBut(labels, options.IgnoreColumns is null ? [] : ResolveAll(options.IgnoreColumns, "ignored"), columns);
        if (part != Part.Labels && features.Length == 0)
        {
            throw new InvalidDataException(
                $"{source}: line {line} has {columns} column{(columns == 1 ? "" : "s")} (separator {ShowSeparator(options.Separator ?? ',')}) and none is left for features; a CSV dataset needs at least one feature column{(part == Part.Both ? " and a label column" : "")}.");
        }
        return (features, labels);
    }

    private static int[] AllBut(int[] labels, int[] ignored, int columns)
    {
        var result = new List<int>(columns);
        for (int c = 0; c < columns; c++)
            if (Array.IndexOf(labels, c) < 0 && Array.IndexOf(ignored, c) < 0) result.Add(c);
        return result.ToArray();
    }

    /// <summary>Builds the dataset from one table (or features and labels from two), imputing column means.</summary>
    private static Dataset Assemble(Table features, Table? labels, CsvOptions options, string source, out CsvSummary summary)
    {
        Table labelTable = labels ?? features;
        int d = features.FeatureCount, t = labelTable.TargetCount;
        // Join on the data-record ordinal: a row dropped from either file is dropped from both.
        var featureRows = new List<int>();
        var labelRows = new List<int>();
        if (labels is null)
        {
            for (int i = 0; i < features.Ordinals.Count; i++) { featureRows.Add(i); labelRows.Add(i); }
        }
        else
        {
            int j = 0;
            for (int i = 0; i < features.Ordinals.Count; i++)
            {
                while (j < labels.Ordinals.Count && labels.Ordinals[j] < features.Ordinals[i]) j++;
                if (j < labels.Ordinals.Count && labels.Ordinals[j] == features.Ordinals[i]) { featureRows.Add(i); labelRows.Add(j); }
            }
        }
        int n = featureRows.Count;
        if (n == 0)
            throw new InvalidDataException($"{source}: every data row has a missing value; none is left ({nameof(MissingValues)}.{nameof(MissingValues.SkipRow)}).");

        var x = new float[n * d];
        for (int r = 0; r < n; r++)
            for (int f = 0; f < d; f++) x[r * d + f] = features.Features[featureRows[r] * d + f];
        int imputed = options.MissingValues is MissingValues.Mean or MissingValues.Constant ? Impute(x, n, d, features, options) : 0;

        Dataset dataset;
        IReadOnlyList<string>? featureNames = features.FeatureNames;
        if (options.Labels == CsvLabels.Targets)
        {
            var y = new float[n * t];
            for (int r = 0; r < n; r++)
                for (int k = 0; k < t; k++) y[r * t + k] = labelTable.Targets[labelRows[r] * t + k];
            dataset = Dataset.ForTargets(x, y, d, t).WithNames(featureNames, targetNames: labelTable.LabelNames);
        }
        else if (options.Labels == CsvLabels.ClassName && options.ClassNames is null)
        {
            var distinct = new SortedSet<string>(StringComparer.Ordinal);
            foreach (int r in labelRows) distinct.Add(labelTable.ClassTexts[r]);
            string[] classNames = [.. distinct];
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int k = 0; k < classNames.Length; k++) index[classNames[k]] = k;
            var y = new int[n];
            for (int r = 0; r < n; r++) y[r] = index[labelTable.ClassTexts[labelRows[r]]];
            dataset = new Dataset(x, y, d, classNames.Length) { FeatureNames = featureNames, ClassNames = classNames };
        }
        else
        {
            var y = new int[n];
            for (int r = 0; r < n; r++) y[r] = labelTable.Classes[labelRows[r]];
            dataset = options.ClassNames is { } names
                ? new Dataset(x, y, d, names.Count) { FeatureNames = featureNames, ClassNames = names }
                : new Dataset(x, y, d) { FeatureNames = featureNames };
        }
        int skipped = features.Records - n;
        summary = new CsvSummary(n, skipped, imputed, features.Separator, features.Header is not null, features.Header);
        return dataset;
    }

    /// <summary>Fills the missing features (NaN placeholders) with the column mean or the constant; returns how many.</summary>
    private static int Impute(float[] x, int n, int d, Table table, CsvOptions options)
    {
        int imputed = 0;
        for (int f = 0; f < d; f++)
        {
            double sum = 0;
            int present = 0;
            for (int r = 0; r < n; r++)
            {
                float v = x[r * d + f];
                if (float.IsNaN(v)) continue;
                sum += v;
                present++;
            }
            int missing = n - present;
            if (missing == 0) continue;
            if (options.MissingValues == MissingValues.Constant)
            {
                for (int r = 0; r < n; r++) if (float.IsNaN(x[r * d + f])) x[r * d + f] = options.FillValue;
                imputed += missing;
                continue;
            }
            if (present == 0)
            {
                string name = table.FeatureNames is { } names ? $" ('{names[f]}')" : "";
                throw new InvalidDataException($"{table.Source}: column {table.FeatureColumnNumbers[f]}{name} has no values to take the mean of: every row is missing it.");
            }
            float mean = (float)(sum / present);
            for (int r = 0; r < n; r++) if (float.IsNaN(x[r * d + f])) x[r * d + f] = mean;
            imputed += missing;
        }
        return imputed;
    }

    private static InvalidDataException Missing(string source, int line, int column, string cell, string what) => new(
        $"{source}: line {line}, column {column + 1}: missing {what} ({(cell.Length == 0 ? "an empty cell" : $"'{cell}'")}). Set {nameof(CsvOptions)}.{nameof(CsvOptions.MissingValues)} to " +
        (what == "feature" ? "SkipRow, Mean or Constant to accept missing features." : "SkipRow to drop rows whose label is missing (labels and targets are never imputed)."));

    private static bool AnyNumber(List<string> cells)
    {
        foreach (string cell in cells)
        {
            if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return true;
        }
        return false;
    }

    private static string FirstLineHint(bool first) => first
        ? $" If this line is not data, skip it ({nameof(CsvOptions)}.{nameof(CsvOptions.SkipLines)}) or mark it as a header ({nameof(CsvOptions)}.{nameof(CsvOptions.HasHeader)} = true)."
        : "";

    private static float ParseFloat(string cell, string source, int line, int column, bool firstLine)
    {
        RejectNul(cell, source, line, column);
        if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            throw new InvalidDataException($"{source}: line {line}, column {column + 1}: '{cell}' is not a number.{FirstLineHint(firstLine)}");
        if (!float.IsFinite(value))
            throw new InvalidDataException($"{source}: line {line}, column {column + 1}: '{cell}' is not a finite number (or overflows float).");
        return value;
    }

    private static int ParseLabel(string cell, string source, int line, int column, int maxClassCount, string limitName)
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
                    $"{source}: line {line}, column {column + 1}: class label '{cell}' is not a non-negative integer (set {nameof(CsvOptions)}.{nameof(CsvOptions.Labels)} = {nameof(CsvLabels)}.{nameof(CsvLabels.ClassName)} for class names, {nameof(CsvLabels)}.{nameof(CsvLabels.Targets)} for float targets).");
        }
        // value + 1 becomes the class count; maxClassCount ≤ int.MaxValue keeps it from overflowing to int.MinValue.
        if (value >= maxClassCount)
        {
            throw new InvalidDataException(
                $"{source}: line {line}, column {column + 1}: class label '{cell}' is too large: labels must be below {maxClassCount} ({limitName}). Is this the label column?");
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
}
