using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using CsCheck;
using KernelGen.Data;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// The CSV reader on the file shapes real datasets come in: metadata lines, gzip, whitespace and other separators,
/// column selection by index and name, features and labels in separate files, quoted cells over several lines, class
/// names, several target columns and missing values. Expected values are the numbers written into each file.
/// </summary>
public sealed class CsvReaderTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kg-csv-" + Guid.NewGuid().ToString("N"));

    public CsvReaderTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string WriteGzip(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        gzip.Write(Encoding.UTF8.GetBytes(text));
        return path;
    }

    [Fact]
    public void A_metadata_first_line_is_skipped_and_names_the_classes()
    {
        // scikit-learn's bundled iris.csv starts with "samples,features,class names…".
        string path = Write("iris.csv", "4,2,setosa,versicolor,virginica\n5.1,3.5,0\n4.9,3.0,0\n6.3,3.3,2\n5.8,2.7,1\n");
        var e = Assert.Throws<InvalidDataException>(() => Csv.Read(path));
        Assert.StartsWith($"{path}: line 1, column 3: 'setosa' is not a number. If this line is not data, skip it (CsvOptions.SkipLines)", e.Message);

        Dataset data = Csv.Read(path, new CsvOptions { SkipLines = 1, ClassNames = ["setosa", "versicolor", "virginica"] });
        Assert.Equal([5.1f, 3.5f, 4.9f, 3.0f, 6.3f, 3.3f, 5.8f, 2.7f], data.Features);
        Assert.Equal([0, 0, 2, 1], data.Labels);
        Assert.Equal(3, data.ClassCount);
        Assert.Equal(["setosa", "versicolor", "virginica"], data.ClassNames);
        // A label beyond the names is named in the error.
        path = Write("iris-bad.csv", "meta\n5.1,3.5,3\n");
        e = Assert.Throws<InvalidDataException>(() => Csv.Read(path, new CsvOptions { SkipLines = 1, ClassNames = ["a", "b", "c"] }));
        Assert.StartsWith($"{path}: line 2, column 3: class label '3' is too large: labels must be below 3 (the 3 ClassNames)", e.Message);
    }

    [Fact]
    public void Gzip_files_are_decompressed_and_a_corrupt_one_is_named()
    {
        string text = "x1,x2,y\n1,2,0\n3,4,1\n";
        string path = WriteGzip("data.csv.gz", text);
        Dataset data = Csv.Read(path);
        Assert.Equal([1f, 2f, 3f, 4f], data.Features);
        Assert.Equal([0, 1], data.Labels);
        // The same bytes under a name without .gz, and from a forward-only stream.
        string renamed = Path.Combine(_directory, "data.csv");
        File.Copy(path, renamed);
        Assert.Equal(data.Features, Csv.Read(renamed).Features);
        using (var stream = new ForwardOnlyReadStream(File.ReadAllBytes(path), maxRead: 3))
            Assert.Equal(data.Labels, Csv.Read(stream, null, "piped").Labels);

        byte[] bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x40; // the trailer's CRC-32
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Csv.Read(path));
        Assert.StartsWith(path, e.Message);
        Assert.Contains("CRC", e.Message);

        // Read as text, gzip bytes get a message that says so instead of "line 2 has 1 columns".
        using var reader = new StreamReader(renamed, Encoding.Latin1);
        e = Assert.Throws<InvalidDataException>(() => Csv.Read(reader, null, "data.csv"));
        Assert.StartsWith("data.csv: line 1 starts with byte 0x1F: this looks like gzip-compressed data read as text", e.Message);
    }

    [Fact]
    public void Whitespace_separated_files_take_runs_of_spaces_and_tabs()
    {
        // Columns aligned with several spaces, a leading space and trailing tabs; detected without options.
        const string text = "  1.5   2.25  0\n 3\t\t4   1\t\n\n-0.5 1e-2 2\n";
        Dataset data = Csv.Parse(text, null, "aligned.txt", out CsvSummary summary);
        Assert.Equal(CsvOptions.Whitespace, summary.Separator);
        Assert.Equal([1.5f, 2.25f, 3f, 4f, -0.5f, 0.01f], data.Features);
        Assert.Equal([0, 1, 2], data.Labels);
        Assert.Equal(data.Features, Csv.Parse(text, new CsvOptions { Separator = CsvOptions.Whitespace }).Features);
        // A quoted cell in whitespace mode may hold spaces; text glued to a closing quote is an error.
        data = Csv.Parse("\"a b\" c label\n1 2 0\n", new CsvOptions { Separator = CsvOptions.Whitespace });
        Assert.Equal(["a b", "c"], data.FeatureNames);
        var e = Assert.Throws<InvalidDataException>(() => Csv.Parse("1 \"2\"x 0\n", new CsvOptions { Separator = CsvOptions.Whitespace }, "w.txt"));
        Assert.StartsWith("w.txt: line 1, column 2: unexpected 'x' after a closing quote", e.Message);
    }

    [Theory]
    [InlineData('|')]
    [InlineData(':')]
    [InlineData('\t')]
    [InlineData(';')]
    public void Any_single_character_separator(char separator)
    {
        string text = string.Join('\n', "a,b,y", "1.5,-2,1", "0,4,0").Replace(',', separator);
        Dataset data = Csv.Parse(text, new CsvOptions { Separator = separator });
        Assert.Equal([1.5f, -2f, 0f, 4f], data.Features);
        Assert.Equal(["a", "b"], data.FeatureNames);
    }

    [Fact]
    public void Features_and_targets_in_separate_files()
    {
        string x = Write("x.csv", "f1,f2\n1,2\n3,4\n5,6\n");
        string y = Write("y.csv", "0\n1\n1\n");
        Dataset data = Csv.Read(x, y);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], data.Features);
        Assert.Equal([0, 1, 1], data.Labels);
        Assert.Equal(["f1", "f2"], data.FeatureNames);

        // Regression targets in a whitespace file of two columns; the features' options stay with the features.
        string targets = Write("t.txt", "0.5 1\n-1 2\n2.5 3\n");
        data = Csv.Read(x, targets, null, new CsvOptions { Labels = CsvLabels.Targets });
        Assert.Equal(2, data.TargetCount);
        Assert.Equal([0.5f, 1f, -1f, 2f, 2.5f, 3f], data.Targets!);

        string shortLabels = Write("y2.csv", "0\n1\n");
        var e = Assert.Throws<InvalidDataException>(() => Csv.Read(x, shortLabels));
        Assert.Equal($"{x} holds 3 data rows but {shortLabels} holds 2; row i of the features must belong to row i of the labels.", e.Message);

        // A row dropped for a missing value in either file is dropped from both.
        string gappy = Write("y3.csv", "0\nNA\n1\n");
        data = Csv.Read(x, gappy, new CsvOptions { MissingValues = MissingValues.SkipRow });
        Assert.Equal([1f, 2f, 5f, 6f], data.Features);
        Assert.Equal([0, 1], data.Labels);
    }

    [Fact]
    public void A_named_header_selects_regression_targets_and_features()
    {
        const string text = "id,MedInc,HouseAge,note,Price\n17,8.3,41,\"big, old\",4.526\n18,7.2,21,new,3.585\n";
        var options = new CsvOptions { Labels = CsvLabels.Targets, LabelColumns = ["Price"], IgnoreColumns = ["id", "note"] };
        Dataset data = Csv.Parse(text, options);
        Assert.Equal(["MedInc", "HouseAge"], data.FeatureNames);
        Assert.Equal(["Price"], data.TargetNames);
        Assert.Equal([8.3f, 41f, 7.2f, 21f], data.Features);
        Assert.Equal([4.526f, 3.585f], data.Targets!);

        // Features in a chosen order, mixing names and indices.
        data = Csv.Parse(text, options with { FeatureColumns = ["HouseAge", 1], IgnoreColumns = null });
        Assert.Equal(["HouseAge", "MedInc"], data.FeatureNames);
        Assert.Equal([41f, 8.3f, 21f, 7.2f], data.Features);

        var e = Assert.Throws<ArgumentException>(() => Csv.Parse(text, options with { LabelColumns = ["price"] }, "houses.csv"));
        Assert.StartsWith("houses.csv: label column 'price' is not in the header (line 1: id, MedInc, HouseAge, note, Price)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Csv.Parse("1,2,3\n", options, "numbers.csv"));
        Assert.StartsWith("numbers.csv: label column 'Price' is a name, but line 1 is not a header", e.Message);
        e = Assert.Throws<ArgumentException>(() => Csv.Parse(text, options with { FeatureColumns = ["Price"] }, "houses.csv"));
        Assert.Contains("column 5 is selected both as a feature and as a label", e.Message);
        e = Assert.Throws<ArgumentException>(() => Csv.Parse(text, options with { LabelColumns = [-1, "Price"] }, "houses.csv"));
        Assert.Contains("column 5 is selected twice", e.Message);
    }

    [Fact]
    public void Several_target_columns_make_a_multi_label_dataset()
    {
        const string text = "x1,x2,cat,dog,bird\n0.1,0.2,1,0,1\n0.3,0.4,0,0,0\n";
        Dataset data = Csv.Parse(text, new CsvOptions { Labels = CsvLabels.Targets, LabelColumns = [-3, -2, -1] });
        Assert.Equal(3, data.TargetCount);
        Assert.Equal(2, data.FeatureCount);
        Assert.Equal([1f, 0f, 1f, 0f, 0f, 0f], data.Targets!);
        Assert.Equal(["cat", "dog", "bird"], data.TargetNames);
        var e = Assert.Throws<ArgumentException>(() => Csv.Parse(text, new CsvOptions { LabelColumns = [-3, -2, -1] }, "m.csv"));
        Assert.StartsWith("m.csv: class labels come from one column, but 3 label columns are selected", e.Message);
    }

    [Fact]
    public void Class_names_are_numbered_in_ordinal_order_or_as_given()
    {
        const string text = "a,b,species\n1,2,virginica\n3,4,setosa\n5,6,\"versi\ncolor\"\n7,8,setosa\n";
        Dataset data = Csv.Parse(text, new CsvOptions { Labels = CsvLabels.ClassName });
        Assert.Equal(["setosa", "versi\ncolor", "virginica"], data.ClassNames);
        Assert.Equal([2, 0, 1, 0], data.Labels);
        data = Csv.Parse(text, new CsvOptions { Labels = CsvLabels.ClassName, ClassNames = ["virginica", "versi\ncolor", "setosa", "unseen"] });
        Assert.Equal([0, 2, 1, 2], data.Labels);
        Assert.Equal(4, data.ClassCount);
        var e = Assert.Throws<InvalidDataException>(() => Csv.Parse(text, new CsvOptions { Labels = CsvLabels.ClassName, ClassNames = ["setosa"] }, "s.csv"));
        Assert.StartsWith("s.csv: line 2, column 3: class 'virginica' is not one of the ClassNames (setosa)", e.Message);
    }

    [Fact]
    public void Quoted_cells_over_several_lines_keep_line_numbers_right()
    {
        // Lines 1–2: a header with a two-line name; line 3 a record; lines 4–6 a record whose quoted cell spans them; line 7 an error.
        const string text = "\"first\nname\",y\n1,0\n\"2\",\"multi\nline\ncomment\"\nx,0\n";
        var options = new CsvOptions { Labels = CsvLabels.ClassName, LabelColumn = 1 };
        var e = Assert.Throws<InvalidDataException>(() => Csv.Parse(text, options, "q.csv"));
        Assert.StartsWith("q.csv: line 7, column 1: 'x' is not a number.", e.Message);
        Dataset data = Csv.Parse(text.Replace("x,0", "3,0", StringComparison.Ordinal), options, "q.csv");
        Assert.Equal(["first\nname"], data.FeatureNames);
        Assert.Equal([1f, 2f, 3f], data.Features);
        Assert.Equal(["0", "multi\nline\ncomment"], data.ClassNames);
        Assert.Equal([0, 1, 0], data.Labels);
        // An error inside the record after the multi-line cell points at its own physical line.
        e = Assert.Throws<InvalidDataException>(() => Csv.Parse("a,b\n\"1\nz\",2\nx,3\n", new CsvOptions { HasHeader = true, Labels = CsvLabels.Targets }, "q.csv"));
        Assert.StartsWith("q.csv: line 2, column 1: '1\nz' is not a number", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Csv.Parse("a,b\n1,\"2\nz\"\nx,3\n", new CsvOptions { HasHeader = true, Labels = CsvLabels.Targets }, "q.csv"));
        Assert.StartsWith("q.csv: line 2, column 2: '2\nz' is not a number", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Csv.Parse("a,b\n1,\"2\"\n\"\n\nx\",3\n", new CsvOptions { HasHeader = true, Labels = CsvLabels.Targets }, "q.csv"));
        Assert.StartsWith("q.csv: line 3, column 1: '", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Csv.Parse("a,b\n1,2\n3,\"4\n5,6\n", null, "q.csv"));
        Assert.Equal("q.csv: line 3, column 2: the quote opened at character 3 is not closed.", e.Message);
    }

    [Fact]
    public void Line_breaks_comments_and_a_byte_order_mark()
    {
        const string text = "\uFEFF# a comment\r\nx,y\r\n  # another\r1,0\r\n\r\n2,1\r3,0";
        Dataset data = Csv.Parse(text, new CsvOptions { CommentPrefix = '#' }, "c.csv", out CsvSummary summary);
        Assert.Equal([1f, 2f, 3f], data.Features);
        Assert.Equal([0, 1, 0], data.Labels);
        Assert.True(summary.HasHeader);
        Assert.Equal(["x", "y"], summary.ColumnNames);
        var e = Assert.Throws<InvalidDataException>(() => Csv.Parse("x,y\r\n1,0\r\n2\r\n", null, "c.csv"));
        Assert.StartsWith("c.csv: line 3 has 1 columns, but line 1 has 2", e.Message);
    }

    [Fact]
    public void Missing_values_follow_the_policy()
    {
        // Column 2 has a gap in rows 2 and 4; the label of row 5 is missing.
        const string text = "a,b,y\n1,10,0\n2,NA,1\n3,30,0\n4,?,1\n5,50,\n";
        var e = Assert.Throws<InvalidDataException>(() => Csv.Parse(text, null, "m.csv"));
        Assert.Equal("m.csv: line 3, column 2: missing feature ('NA'). Set CsvOptions.MissingValues to SkipRow, Mean or Constant to accept missing features.", e.Message);

        Dataset skipped = Csv.Parse(text, new CsvOptions { MissingValues = MissingValues.SkipRow }, "m.csv", out CsvSummary summary);
        Assert.Equal([1f, 10f, 3f, 30f], skipped.Features);
        Assert.Equal([0, 0], skipped.Labels);
        Assert.Equal((2, 3, 0), (summary.Rows, summary.SkippedRows, summary.ImputedValues));

        // Mean: labels are never imputed, so row 5 is still an error…
        e = Assert.Throws<InvalidDataException>(() => Csv.Parse(text, new CsvOptions { MissingValues = MissingValues.Mean }, "m.csv"));
        Assert.StartsWith("m.csv: line 6, column 3: missing class label (an empty cell). Set CsvOptions.MissingValues to SkipRow", e.Message);
        // …and without it the gaps take the mean of 10, 30 and 50 (30), counted in the summary.
        string complete = text.Replace("5,50,\n", "5,50,1\n", StringComparison.Ordinal);
        Dataset mean = Csv.Parse(complete, new CsvOptions { MissingValues = MissingValues.Mean }, "m.csv", out summary);
        Assert.Equal([1f, 10f, 2f, 30f, 3f, 30f, 4f, 30f, 5f, 50f], mean.Features);
        Assert.Equal(2, summary.ImputedValues);
        Dataset constant = Csv.Parse(complete, new CsvOptions { MissingValues = MissingValues.Constant, FillValue = -1 });
        Assert.Equal([1f, 10f, 2f, -1f, 3f, 30f, 4f, -1f, 5f, 50f], constant.Features);
        // Markers are an option: with none but the empty cell, "NA" is just not a number.
        e = Assert.Throws<InvalidDataException>(() => Csv.Parse(complete, new CsvOptions { MissingMarkers = [] }, "m.csv"));
        Assert.StartsWith("m.csv: line 3, column 2: 'NA' is not a number.", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Csv.Parse("a,y\nNA,0\n?,1\n", new CsvOptions { MissingValues = MissingValues.Mean }, "m.csv"));
        Assert.Equal("m.csv: column 1 ('a') has no values to take the mean of: every row is missing it.", e.Message);
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Csv.Parse("1,2\n", new CsvOptions { SkipLines = -1 }));
        Assert.Throws<ArgumentException>(() => Csv.Parse("1,2\n", new CsvOptions { ClassNames = ["a", "a"] }));
        Assert.Throws<ArgumentException>(() => Csv.Parse("1,2\n", new CsvOptions { ClassNames = ["a"], Labels = CsvLabels.Targets }));
        Assert.Throws<ArgumentException>(() => Csv.Parse("1,2\n", new CsvOptions { CommentPrefix = ',', Separator = ',' }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Csv.Parse("1,2\n", new CsvOptions { FillValue = float.NaN }));
        var e = Assert.Throws<InvalidDataException>(() => Csv.Parse("meta\n", new CsvOptions { SkipLines = 1 }, "s.csv"));
        Assert.Equal("s.csv: the CSV input is empty after the 1 skipped line(s).", e.Message);
    }

    /// <summary>
    /// Mutations of gzip-compressed, whitespace-separated and quoted multi-line files: a mutated gzip file either loads
    /// exactly the original data (a change in a header field that carries no data, such as the time stamp) or throws
    /// <see cref="InvalidDataException"/> (the CRC-32 catches the rest); the text files load valid datasets or throw it.
    /// </summary>
    [Fact]
    public void Mutated_gzip_and_text_files_load_the_original_or_are_rejected()
    {
        var text = new StringBuilder("x1 \"x 2\" y1 y2\n");
        var random = new Random(9);
        for (int i = 0; i < 30; i++)
            text.Append(FormattableString.Invariant($"{random.NextDouble() * 4 - 2:R}   {random.Next(-50, 50)}\t\"{random.NextDouble():F3}\" {random.Next(0, 2)}\n"));
        var options = new CsvOptions { Labels = CsvLabels.Targets, LabelColumns = [-2, -1] };
        Dataset original = Csv.Parse(text.ToString(), options);
        Assert.Equal((30, 2, 2), (original.Count, original.FeatureCount, original.TargetCount));

        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(Encoding.UTF8.GetBytes(text.ToString()));
        (int rejected, int loaded) = LoaderFuzz.Run<InvalidDataException>(compressed.ToArray(), 1500, (mutated, seekable) =>
        {
            Dataset data = Csv.Read(LoaderFuzz.Open(mutated, seekable), options, "fuzz.csv.gz");
            Assert.Equal(original.Features, data.Features);
            Assert.Equal(original.Targets, data.Targets!);
        }, _ => { });
        Assert.True(rejected > 1000, $"{rejected} rejected, {loaded} loaded");

        var quoted = new StringBuilder("a,\"b\nc\",label\n");
        for (int i = 0; i < 25; i++) quoted.Append(FormattableString.Invariant($"\"{random.Next(0, 9)}\",{random.NextDouble():R},\"class\n{random.Next(0, 3)}\"\n"));
        (rejected, loaded) = LoaderFuzz.Run<InvalidDataException>(Encoding.UTF8.GetBytes(quoted.ToString()), 1500, (mutated, seekable) =>
        {
            using var reader = new StreamReader(LoaderFuzz.Open(mutated, seekable), Encoding.UTF8);
            Dataset data = Csv.Read(reader, new CsvOptions { Labels = CsvLabels.ClassName }, "fuzz.csv");
            Assert.All(data.Features, v => Assert.True(float.IsFinite(v)));
            Assert.InRange(data.ClassNames!.Count, 1, data.Count);
            Assert.All(data.Labels, l => Assert.InRange(l, 0, data.ClassCount - 1));
        }, _ => { });
        Assert.True(rejected > 200 && loaded > 200, $"{rejected} rejected, {loaded} loaded");
    }

    /// <summary>Property: any table of finite floats written with any allowed separator, quoting and line breaks reads
    /// back exactly (the "R" format round-trips floats).</summary>
    [Fact]
    public void Written_tables_read_back_exactly()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 5], Gen.OneOf(',', ';', '\t', '|', CsvOptions.Whitespace), Gen.Bool, Gen.OneOf("\n", "\r\n", "\r"))
            .SelectMany(t => Gen.Float[-1e6f, 1e6f].Array[t.Item1 * (t.Item2 + 1)].Select(values => (t, values)))
            .Sample(((int Rows, int Features, char Separator, bool Quote, string NewLine) t, float[] values) =>
            {
                int columns = t.Features + 1;
                var text = new StringBuilder();
                for (int r = 0; r < t.Rows; r++)
                {
                    for (int c = 0; c < columns; c++)
                    {
                        if (c > 0) text.Append(t.Separator);
                        string cell = values[r * columns + c].ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                        text.Append(t.Quote ? "\"" + cell + "\"" : cell);
                    }
                    text.Append(t.NewLine);
                }
                Dataset data = Csv.Parse(text.ToString(), new CsvOptions { Separator = t.Separator, HasHeader = false, Labels = CsvLabels.Targets });
                Assert.Equal(t.Rows, data.Count);
                for (int r = 0; r < t.Rows; r++)
                {
                    for (int c = 0; c < t.Features; c++) Assert.Equal(values[r * columns + c], data.Features[r * t.Features + c]);
                    Assert.Equal(values[r * columns + t.Features], data.Targets![r]);
                }
            }, iter: 300);
    }
}
