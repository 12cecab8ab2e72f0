using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using KernelGen.Data;
using Xunit;

using KernelGen.Demo;

namespace KernelGen.Toolkit.Tests;

public class IdxTests
{
    /// <summary>Builds an IDX file by hand: big-endian magic and dimensions, then the bytes.</summary>
    internal static byte[] IdxBytes(int magic, int[] dims, byte[] data)
    {
        var bytes = new List<byte>();
        void BigEndian(int v)
        {
            bytes.Add((byte)(v >> 24));
            bytes.Add((byte)(v >> 16));
            bytes.Add((byte)(v >> 8));
            bytes.Add((byte)v);
        }
        BigEndian(magic);
        foreach (int d in dims) BigEndian(d);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    internal static byte[] Gzip(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(plain);
        return output.ToArray();
    }

    private static byte[] Sequence(int n)
    {
        var data = new byte[n];
        for (int i = 0; i < n; i++) data[i] = (byte)(i * 7 + 3);
        return data;
    }

    /// <summary>A stream that cannot seek, to check detection without peeking by seeking.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 5));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void ImagesRoundTrip(bool gzip, bool seekable)
    {
        byte[] pixels = Sequence(3 * 2 * 4);
        byte[] file = IdxBytes(0x00000803, [3, 2, 4], pixels);
        if (gzip) file = Gzip(file);
        using Stream stream = seekable ? new MemoryStream(file) : new ForwardOnlyStream(file);
        var (data, count, rows, columns) = Idx.ReadImages(stream, "images.idx");
        Assert.Equal(3, count);
        Assert.Equal(2, rows);
        Assert.Equal(4, columns);
        Assert.Equal(pixels, data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LabelsRoundTripThroughAFile(bool gzip)
    {
        byte[] labels = [9, 0, 0, 3, 255];
        byte[] file = IdxBytes(0x00000801, [5], labels);
        if (gzip) file = Gzip(file);
        string path = Path.Combine(Path.GetTempPath(), $"kg-idx-{Guid.NewGuid():N}.idx");
        try
        {
            File.WriteAllBytes(path, file);
            Assert.Equal(labels, Idx.ReadLabels(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ImagesFromAFile()
    {
        byte[] pixels = Sequence(2 * 3 * 3);
        string path = Path.Combine(Path.GetTempPath(), $"kg-idx-{Guid.NewGuid():N}.gz");
        try
        {
            File.WriteAllBytes(path, Gzip(IdxBytes(0x00000803, [2, 3, 3], pixels)));
            var (data, count, rows, columns) = Idx.ReadImages(path);
            Assert.Equal((2, 3, 3), (count, rows, columns));
            Assert.Equal(pixels, data);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MissingFileIsFileNotFound()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => Idx.ReadImages("/nonexistent/kg/images.idx"));
        Assert.Contains("/nonexistent/kg/images.idx", ex.Message);
    }

    private static InvalidDataException ReadImagesFails(byte[] file, string name = "bad.idx")
    {
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(new MemoryStream(file), name));
        Assert.StartsWith(name, ex.Message);
        return ex;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BadMagicIsRejected(bool gzip)
    {
        byte[] file = IdxBytes(0x12340803, [1, 2, 2], Sequence(4));
        var ex = ReadImagesFails(gzip ? Gzip(file) : file);
        Assert.Contains("not an IDX file", ex.Message);
        Assert.Contains("0x12340803", ex.Message);
    }

    [Fact]
    public void NonByteDataTypeIsRejected()
    {
        var ex = ReadImagesFails(IdxBytes(0x00000D03, [1, 2, 2], Sequence(16)));
        Assert.Contains("data type code 0x0D (float32)", ex.Message);
    }

    [Fact]
    public void WrongDimensionCountIsRejected()
    {
        var ex = ReadImagesFails(IdxBytes(0x00000801, [4], Sequence(4)));
        Assert.Contains("1 dimension(s)", ex.Message);
        Assert.Contains("need 3", ex.Message);

        var labels = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(new MemoryStream(IdxBytes(0x00000803, [1, 2, 2], Sequence(4))), "labels.idx"));
        Assert.StartsWith("labels.idx", labels.Message);
        Assert.Contains("3 dimension(s)", labels.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedDataIsRejected(bool gzip)
    {
        byte[] file = IdxBytes(0x00000803, [3, 4, 4], Sequence(3 * 16 - 5));
        var ex = ReadImagesFails(gzip ? Gzip(file) : file);
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("48", ex.Message);
    }

    [Fact]
    public void TruncatedHeaderIsRejected()
    {
        var ex = ReadImagesFails(IdxBytes(0x00000803, [3, 4], []));
        Assert.Contains("truncated IDX header", ex.Message);
        ex = ReadImagesFails([0, 0]);
        Assert.Contains("truncated IDX header", ex.Message);
    }

    [Fact]
    public void TruncatedGzipStreamIsRejected()
    {
        byte[] gz = Gzip(IdxBytes(0x00000803, [50, 8, 8], Sequence(50 * 64)));
        var ex = ReadImagesFails(gz.AsSpan(0, gz.Length / 2).ToArray(), "cut.gz");
        Assert.True(ex.Message.Contains("truncated", StringComparison.Ordinal) || ex.Message.Contains("corrupt", StringComparison.Ordinal), ex.Message);
    }

    [Fact]
    public void AbsurdDimensionsAreRejectedBeforeAllocating()
    {
        // 2^31 − 1 images of 28 × 28: far beyond the limit.
        var ex = ReadImagesFails(IdxBytes(0x00000803, [int.MaxValue, 28, 28], Sequence(10)));
        Assert.Contains("more than 1073741824 values", ex.Message);

        // Negative (≥ 2^31 unsigned) and zero sides.
        ex = ReadImagesFails(IdxBytes(0x00000803, [1, -5, 28], Sequence(10)));
        Assert.Contains("impossible size", ex.Message);
        ex = ReadImagesFails(IdxBytes(0x00000803, [1, 0, 28], Sequence(10)));
        Assert.Contains("image side", ex.Message);

        // Within the limit (784 MB) but far more than the stream holds: rejected from the length, without allocating it.
        byte[] small = IdxBytes(0x00000803, [1_000_000, 28, 28], Sequence(100));
        long before = GC.GetAllocatedBytesForCurrentThread();
        ex = ReadImagesFails(small);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("784000000", ex.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");

        // The same for gzip: 100 compressed bytes cannot expand to 784 MB.
        byte[] gz = Gzip(small);
        before = GC.GetAllocatedBytesForCurrentThread();
        ex = ReadImagesFails(gz);
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("more than the compressed file can hold", ex.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void TrailingDataIsRejected()
    {
        byte[] file = IdxBytes(0x00000801, [3], [1, 2, 3, 4]);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(new MemoryStream(file), "extra.idx"));
        Assert.Contains("unexpected data after the 3 values", ex.Message);
    }
}

public class FashionMnistTests
{
    /// <summary>The real dataset, loaded once for all tests that need it (about 240 MB of floats).</summary>
    internal static readonly Lazy<FashionMnistData> Real = new(() => FashionMnist.Load());

    [Fact]
    public void RealFilesLoad()
    {
        // No skipping: when the files are missing this fails with the loader's install hint.
        FashionMnistData data = Real.Value;
        Assert.Equal(60000, data.Train.Count);
        Assert.Equal(10000, data.Test.Count);
        foreach (Dataset part in new[] { data.Train, data.Test })
        {
            Assert.Equal(784, part.FeatureCount);
            Assert.Equal((1, 28, 28), (part.Channels, part.Height, part.Width));
            Assert.Equal(10, part.ClassCount);
        }
        Assert.Equal(new[] { 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000 }, data.Train.ClassHistogram());
        Assert.Equal(new[] { 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 }, data.Test.ClassHistogram());

        // Reference values read from the files with Python's gzip module.
        Assert.Equal(new[] { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 }, data.Train.Labels.AsSpan(0, 10).ToArray());
        Assert.Equal(new[] { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 }, data.Test.Labels.AsSpan(0, 10).ToArray());
        Assert.Equal(217f / 255f, data.Train.Features[28 * 14 + 14]);
        Assert.Equal(76247.0, PixelSum(data.Train.Row(0)), 6);
        Assert.Equal(24390.0, PixelSum(data.Test.Row(9999)), 6);

        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in data.Train.Features)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        Assert.Equal(0f, min);
        Assert.Equal(1f, max);
        Assert.Equal(new[] { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" }, data.ClassNames);
        Assert.True(FashionMnist.IsAvailable());
    }

    private static double PixelSum(ReadOnlySpan<float> row)
    {
        double sum = 0;
        foreach (float v in row) sum += Math.Round(v * 255.0);
        return sum;
    }

    private static string WriteFakeDirectory(int trainImages, int trainLabels, int side = 28, byte maxLabel = 9, bool skipTestLabels = false)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"kg-fashion-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        byte[] Labels(int n)
        {
            var labels = new byte[n];
            for (int i = 0; i < n; i++) labels[i] = (byte)(i % (maxLabel + 1));
            return labels;
        }
        File.WriteAllBytes(Path.Combine(dir, FashionMnist.TrainImagesFile), IdxTests.Gzip(IdxTests.IdxBytes(0x803, [trainImages, side, side], new byte[trainImages * side * side])));
        File.WriteAllBytes(Path.Combine(dir, FashionMnist.TrainLabelsFile), IdxTests.Gzip(IdxTests.IdxBytes(0x801, [trainLabels], Labels(trainLabels))));
        // The test part uncompressed, under the names without .gz, which are accepted too.
        var pixels = new byte[2 * 28 * 28];
        pixels[5] = 255;
        pixels[784 + 6] = 51;
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), IdxTests.IdxBytes(0x803, [2, 28, 28], pixels));
        if (!skipTestLabels) File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), IdxTests.IdxBytes(0x801, [2], [4, 7]));
        return dir;
    }

    [Fact]
    public void FakeDirectoryLoadsFromGzipAndPlainFiles()
    {
        string dir = WriteFakeDirectory(3, 3);
        try
        {
            Assert.True(FashionMnist.IsAvailable(dir));
            FashionMnistData data = FashionMnist.Load(dir);
            Assert.Equal(3, data.Train.Count);
            Assert.Equal(new[] { 0, 1, 2 }, data.Train.Labels);
            Assert.Equal(new[] { 4, 7 }, data.Test.Labels);
            Assert.Equal(1f, data.Test.Features[5]);
            Assert.Equal(0.2f, data.Test.Features[784 + 6]);
            Assert.Equal(0f, data.Test.Features[6]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ImageLabelCountMismatchIsRejected()
    {
        string dir = WriteFakeDirectory(3, 2);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(dir));
            Assert.Contains("holds 3 images", ex.Message);
            Assert.Contains("holds 2 labels", ex.Message);
            Assert.Contains(FashionMnist.TrainImagesFile, ex.Message);
            Assert.Contains(FashionMnist.TrainLabelsFile, ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void LabelsOutOfRangeAndWrongSizeAreRejected()
    {
        string dir = WriteFakeDirectory(12, 12, maxLabel: 10);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(dir));
            Assert.Contains("label 10 is 10", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }

        dir = WriteFakeDirectory(2, 2, side: 27);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(dir));
            Assert.Contains("must be 28×28, but these are 27×27", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void MissingFileSaysHowToInstall()
    {
        string dir = WriteFakeDirectory(1, 1, skipTestLabels: true);
        try
        {
            Assert.False(FashionMnist.IsAvailable(dir));
            var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(dir));
            Assert.Contains(Path.Combine(dir, FashionMnist.TestLabelsFile), ex.Message);
            Assert.Contains("install it with: apt-get install dataset-fashion-mnist (or set KERNELGEN_FASHION_MNIST to a directory holding the four IDX files)", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void DirectoryResolution()
    {
        Assert.Equal("/some/dir", FashionMnist.ResolveDirectory("/some/dir"));
        string? env = Environment.GetEnvironmentVariable(FashionMnist.EnvironmentVariable);
        Assert.Equal(string.IsNullOrEmpty(env) ? "/usr/share/datasets/fashion-mnist" : env, FashionMnist.ResolveDirectory());
        Assert.Equal("/usr/share/datasets/fashion-mnist", FashionMnist.DefaultDirectory);
    }
}

public class CsvTests
{
    [Fact]
    public void HeaderIsDetectedAndLabelIsLastByDefault()
    {
        Dataset data = Csv.Parse("x,y,label\n1.5,-2,0\n\n3e-1, 4 ,2\n");
        Assert.Equal(2, data.Count);
        Assert.Equal(2, data.FeatureCount);
        Assert.Equal(new[] { 1.5f, -2f, 0.3f, 4f }, data.Features);
        Assert.Equal(new[] { 0, 2 }, data.Labels);
        Assert.Equal(3, data.ClassCount);
    }

    [Fact]
    public void NoHeaderSemicolonAndLabelColumnFirst()
    {
        Dataset data = Csv.Parse("1;0.5;0.25\r\n0;-1;8\r\n", new CsvOptions { LabelColumn = 0 });
        Assert.Equal(new[] { 0.5f, 0.25f, -1f, 8f }, data.Features);
        Assert.Equal(new[] { 1, 0 }, data.Labels);
    }

    [Fact]
    public void TabSeparatorQuotesAndNegativeLabelIndex()
    {
        Dataset data = Csv.Parse("\"a\"\t\"b, c\"\t\"d\"\n\"1\"\t2\t3\n4\t5\t6\n", new CsvOptions { LabelColumn = -2 });
        Assert.Equal(new[] { 1f, 3f, 4f, 6f }, data.Features);
        Assert.Equal(new[] { 2, 5 }, data.Labels);
    }

    [Fact]
    public void ExplicitHeaderFlagAndSeparator()
    {
        // HasHeader = false: a numeric first line is data; Separator fixed to ','.
        Dataset data = Csv.Parse("1,2\n3,4\n", new CsvOptions { HasHeader = false, Separator = ',' });
        Assert.Equal(2, data.Count);
        // HasHeader = true drops even a numeric first line.
        data = Csv.Parse("1,2\n3,4\n", new CsvOptions { HasHeader = true });
        Assert.Equal(1, data.Count);
        Assert.Equal(new[] { 3f }, data.Features);
    }

    [Fact]
    public void RegressionTargets()
    {
        Dataset data = Csv.Parse("x,target\n1,0.5\n2,-1.25\n", new CsvOptions { Labels = CsvLabels.Targets });
        Assert.True(data.IsRegression);
        Assert.Equal(new[] { 0.5f, -1.25f }, data.Targets);
        Assert.Empty(data.Labels);
        Assert.Equal(0, data.ClassCount);
    }

    [Fact]
    public void ReadsAFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"kg-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, "\uFEFFf1,f2,y\n1,2,1\n");
            Dataset data = Csv.Read(path);
            Assert.Equal(new[] { 1f, 2f }, data.Features);
            var ex = Assert.Throws<InvalidDataException>(() => { File.WriteAllText(path, "1,2,1\n1,x,0\n"); Csv.Read(path); });
            Assert.StartsWith(path + ": line 2, column 2", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => Csv.Read(path));
    }

    [Theory]
    [InlineData("a,b,c\n1,2,0\n1,oops,1\n", "data.csv: line 3, column 2: 'oops' is not a number.")]
    [InlineData("1,2,0\n1,2.5.1,1\n", "data.csv: line 2, column 2: '2.5.1' is not a number.")]
    [InlineData("1,NaN,0\n", "data.csv: line 1, column 2: missing feature ('NaN'). Set CsvOptions.MissingValues to SkipRow, Mean or Constant")]
    [InlineData("1,Infinity,0\n", "data.csv: line 1, column 2: 'Infinity' is not a finite number")]
    [InlineData("1,2,0\n1,1e39,0\n", "data.csv: line 2, column 2: '1e39' is not a finite number")]
    [InlineData("1,2,0\n1,2\n", "data.csv: line 2 has 2 columns, but line 1 has 3")]
    [InlineData("x,y\n1,2,3\n", "data.csv: line 2 has 3 columns, but line 1 has 2")]
    [InlineData("1,2,-1\n", "data.csv: line 1, column 3: class label '-1' is not a non-negative integer")]
    [InlineData("1,2,1.5\n", "data.csv: line 1, column 3: class label '1.5' is not a non-negative integer")]
    [InlineData("1,,0\n", "data.csv: line 1, column 2: missing feature (an empty cell)")]
    [InlineData("1,2,\n", "data.csv: line 1, column 3: missing class label (an empty cell). Set CsvOptions.MissingValues to SkipRow")]
    [InlineData("1,\"2,0\n", "data.csv: line 1, column 2: the quote opened at character 3 is not closed.")]
    [InlineData("", "data.csv: the CSV input is empty.")]
    [InlineData("a,b\n", "data.csv: the CSV input has a header but no data rows.")]
    [InlineData("5\n", "data.csv: line 1 has 1 column")]
    [InlineData("1,2,0\n1,2,2147483647\n", "data.csv: line 2, column 3: class label '2147483647' is too large: labels must be below 1048576 (CsvOptions.MaxClassCount)")]
    [InlineData("1,2,1048576\n", "data.csv: line 1, column 3: class label '1048576' is too large")]
    [InlineData("1,2,2\0\n", "data.csv: line 1, column 3: '2\\0' contains a NUL character")]
    [InlineData("1,2\0,1\n", "data.csv: line 1, column 2: '2\\0' contains a NUL character")]
    [InlineData("1,\u00002,1\n", "data.csv: line 1, column 2: '\\02' contains a NUL character")]
    public void ErrorsNameLineAndColumn(string text, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Csv.Parse(text, null, "data.csv"));
        Assert.StartsWith(expected, ex.Message);
    }

    [Fact]
    public void The_largest_allowed_label_gives_its_class_count_and_the_limit_is_an_option()
    {
        Assert.Equal(1 << 20, Csv.Parse("1,1048575\n", null, "data.csv").ClassCount);
        Assert.Equal(1_000_001, Csv.Parse("1,1000000\n", new CsvOptions { MaxClassCount = 1_000_001 }).ClassCount);
        var ex = Assert.Throws<InvalidDataException>(() => Csv.Parse("1,7\n", new CsvOptions { MaxClassCount = 7 }, "data.csv"));
        Assert.StartsWith("data.csv: line 1, column 2: class label '7' is too large: labels must be below 7", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Csv.Parse("1,0\n", new CsvOptions { MaxClassCount = 0 }));
        // Even with the limit at its maximum, the largest int cannot be a label: the class count would overflow.
        ex = Assert.Throws<InvalidDataException>(() => Csv.Parse("1,2147483647\n", new CsvOptions { MaxClassCount = int.MaxValue }));
        Assert.Contains("too large", ex.Message);
    }

    /// <summary>CSV has no checksum, so a mutated file may load changed numbers; what must hold is the contract: a load
    /// gives finite features, labels within the class count, a class count within the limit, and every failure is an
    /// <see cref="InvalidDataException"/>.</summary>
    [Fact]
    public void Mutated_files_load_valid_datasets_or_are_rejected()
    {
        var text = new System.Text.StringBuilder("x1,x2,\"x3\",label\n");
        var random = new Random(4);
        for (int i = 0; i < 25; i++)
            text.Append(System.FormattableString.Invariant($"{random.NextDouble() * 10 - 5:R},{random.Next(-300, 300)},\"{random.NextDouble():E3}\",{random.Next(0, 4)}\n"));
        byte[] original = System.Text.Encoding.UTF8.GetBytes(text.ToString());
        (int rejected, int loaded) = LoaderFuzz.Run<InvalidDataException>(original, 3000, (mutated, seekable) =>
        {
            using var reader = new StreamReader(LoaderFuzz.Open(mutated, seekable), System.Text.Encoding.UTF8);
            Dataset data = Csv.Read(reader, null, "fuzz.csv");
            Assert.InRange(data.ClassCount, 1, 1 << 20);
            foreach (float v in data.Features) Assert.True(float.IsFinite(v), "a non-finite feature");
            foreach (int label in data.Labels) Assert.InRange(label, 0, data.ClassCount - 1);
            Assert.Equal(data.Count * data.FeatureCount, data.Features.Length);
        }, _ => { });
        Assert.True(rejected > 300 && loaded > 300, $"{rejected} rejected, {loaded} loaded");
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Csv.Parse("1,2\n", new CsvOptions { Separator = '"' }));
        Assert.Throws<ArgumentException>(() => Csv.Parse("1,2\n", new CsvOptions { Separator = 'e' }));
        Assert.Throws<ArgumentException>(() => Csv.Parse("1,2\n", new CsvOptions { Separator = '.' }));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Csv.Parse("1,2\n", new CsvOptions { LabelColumn = 2 }));
        Assert.Contains("label column 2 does not exist", ex.Message);
    }
}

public class DatasetTests
{
    /// <summary>n samples of d features where feature j of sample i is i + j/100, label i % classes.</summary>
    internal static Dataset Indexed(int n, int d, int classes = 3)
    {
        var features = new float[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) features[i * d + j] = i + j / 100f;
            labels[i] = i % classes;
        }
        return new Dataset(features, labels, d, classes);
    }

    [Fact]
    public void ConstructorValidates()
    {
        Assert.Throws<ArgumentException>(() => new Dataset(new float[5], new int[2], 2));
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset(new float[4], [0, -1], 2));
        Assert.Contains("labels[1] = -1", label.Message);
        label = Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset(new float[4], [0, 3], 2, classCount: 3));
        Assert.Contains("labels[1] = 3 is not a class index in [0, 3)", label.Message);
        var features = new float[20];
        features[13] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => new Dataset(features, new int[10], 2));
        Assert.Contains("features[13] (sample 6, feature 1)", nan.Message);
        features[13] = 0;
        features[19] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => new Dataset(features, new int[10], 2));
        Assert.Throws<ArgumentException>(() => new Dataset(new float[12], new int[2], 1, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset(new float[2], new int[2], 0));
        Assert.Throws<ArgumentException>(() => Dataset.ForRegression(new float[2], [1f, float.NaN], 1));

        // The largest int label leaves no class count (it would overflow to −2147483648).
        var overflow = Assert.Throws<ArgumentOutOfRangeException>(() => new Dataset(new float[2], [0, int.MaxValue], 1));
        Assert.Contains("labels[1] = 2147483647", overflow.Message);
        Assert.Equal(int.MaxValue, new Dataset(new float[1], [int.MaxValue - 1], 1).ClassCount);

        var image = new Dataset(new float[24], new int[2], 3, 2, 2);
        Assert.Equal((12, 3, 2, 2, true), (image.FeatureCount, image.Channels, image.Height, image.Width, image.IsImage));
        Assert.Equal(1, image.ClassCount);
    }

    [Fact]
    public void SubsetCopiesConsecutiveRows()
    {
        Dataset data = Indexed(10, 3);
        Dataset sub = data.Subset(4, 3);
        Assert.Equal(3, sub.Count);
        Assert.Equal(new[] { 4f, 4.01f, 4.02f, 5f, 5.01f, 5.02f, 6f, 6.01f, 6.02f }, sub.Features);
        Assert.Equal(new[] { 1, 2, 0 }, sub.Labels);
        Assert.Equal(3, sub.ClassCount);
        Assert.Equal(3, data.Subset(0, 1).ClassCount); // a subset keeps the parent's class count
        Assert.Equal(0, data.Subset(10, 0).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset(8, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset(-1, 1));
    }

    [Fact]
    public void TakeGathersRowsInOrderWithRepeats()
    {
        Dataset data = Indexed(5, 2);
        Dataset taken = data.Take([4, 0, 4]);
        Assert.Equal(new[] { 4f, 4.01f, 0f, 0.01f, 4f, 4.01f }, taken.Features);
        Assert.Equal(new[] { 1, 0, 1 }, taken.Labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Take([5]));

        Dataset regression = Dataset.ForRegression([1, 2, 3], [0.5f, 1.5f, 2.5f], 1);
        Assert.Equal(new[] { 2.5f, 0.5f }, regression.Take([2, 0]).Targets);
        Assert.Equal(new[] { 1.5f }, regression.Subset(1, 1).Targets);
    }

    [Fact]
    public void SplitPartitionsAfterASeededShuffle()
    {
        Dataset data = Indexed(101, 2);
        var (train, validation) = data.Split(0.2, seed: 7);
        Assert.Equal(20, validation.Count); // round(20.2)
        Assert.Equal(81, train.Count);

        var seen = new bool[101];
        foreach (Dataset part in new[] { train, validation })
        {
            for (int i = 0; i < part.Count; i++)
            {
                int id = (int)part.Features[i * 2];
                Assert.False(seen[id]);
                seen[id] = true;
                Assert.Equal(id % 3, part.Labels[i]);
                Assert.Equal(id + 0.01f, part.Features[i * 2 + 1]);
            }
        }
        Assert.All(seen, Assert.True);

        var (train2, validation2) = data.Split(0.2, seed: 7);
        Assert.Equal(train.Features, train2.Features);
        Assert.Equal(validation.Features, validation2.Features);
        var (_, other) = data.Split(0.2, seed: 8);
        Assert.NotEqual(validation.Features, other.Features);

        // Shuffled, not a prefix.
        bool ordered = true;
        for (int i = 1; i < validation.Count; i++) ordered &= validation.Features[i * 2] > validation.Features[(i - 1) * 2];
        Assert.False(ordered);

        Assert.Equal(0, data.Split(0, 1).Validation.Count);
        Assert.Equal(101, data.Split(1, 1).Validation.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Split(1.5, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Split(double.NaN, 1));
    }
}

public class MiniBatchTests
{
    private static Dataset Images(int n, int channels = 1, int side = 4)
    {
        int d = channels * side * side;
        var features = new float[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) features[i * d + j] = i * 1000 + j;
            labels[i] = i % 10;
        }
        return new Dataset(features, labels, channels, side, side, 10);
    }

    /// <summary>Runs one epoch and returns the sample ids in batch order (features encode the id).</summary>
    private static List<int> Epoch(MiniBatches batches, List<int>? sizes = null)
    {
        batches.StartEpoch();
        var ids = new List<int>();
        int d = batches.Dataset.FeatureCount;
        while (batches.Next(out ReadOnlySpan<float> x, out ReadOnlySpan<int> y))
        {
            Assert.Equal(x.Length, y.Length * d);
            sizes?.Add(y.Length);
            for (int r = 0; r < y.Length; r++)
            {
                int id = (int)(x[r * d] / 1000);
                Assert.Equal(id % 10, y[r]);
                for (int j = 0; j < d; j++) Assert.Equal(id * 1000 + j, x[r * d + j]);
                ids.Add(id);
            }
        }
        return ids;
    }

    [Fact]
    public void EveryEpochCoversEverySampleExactlyOnce()
    {
        var batches = new MiniBatches(Images(103), batchSize: 10, seed: 1);
        Assert.Equal(11, batches.BatchesPerEpoch);
        var sizes = new List<int>();
        List<int> first = Epoch(batches, sizes);
        Assert.Equal(new[] { 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3 }, sizes);
        var sorted = new List<int>(first);
        sorted.Sort();
        Assert.Equal(Range(103), sorted);

        List<int> second = Epoch(batches);
        Assert.NotEqual(first, second);
        second.Sort();
        Assert.Equal(Range(103), second);
        Assert.False(batches.Next(out _, out _));
    }

    [Fact]
    public void DropLastSkipsThePartialBatch()
    {
        var batches = new MiniBatches(Images(103), 10, seed: 1, new MiniBatchOptions { DropLast = true });
        Assert.Equal(10, batches.BatchesPerEpoch);
        var sizes = new List<int>();
        List<int> ids = Epoch(batches, sizes);
        Assert.Equal(100, ids.Count);
        Assert.All(sizes, s => Assert.Equal(10, s));
        Assert.Equal(100, new HashSet<int>(ids).Count);
        Assert.Equal(103 / 10, new MiniBatches(Images(103), 10, 1, new MiniBatchOptions { DropLast = true }).BatchesPerEpoch);
        Assert.Equal(1, new MiniBatches(Images(7), 7, 1).BatchesPerEpoch);
    }

    [Fact]
    public void OrderIsReproducibleForASeedAndDiffersAcrossSeedsAndEpochs()
    {
        Dataset data = Images(50);
        var a = new MiniBatches(data, 8, seed: 42);
        var b = new MiniBatches(data, 8, seed: 42);
        var c = new MiniBatches(data, 8, seed: 43);
        List<int> a0 = Epoch(a), a1 = Epoch(a);
        Assert.Equal(a0, Epoch(b));
        Assert.Equal(a1, Epoch(b));
        Assert.NotEqual(a0, a1);
        Assert.NotEqual(a0, Epoch(c));

        var plain = new MiniBatches(data, 8, seed: 42, new MiniBatchOptions { Shuffle = false });
        Assert.Equal(Range(50), Epoch(plain));
        Assert.Equal(Range(50), Epoch(plain));
    }

    [Fact]
    public void StateRestoresTheExactPosition()
    {
        Dataset data = Images(40, channels: 2);
        var options = new MiniBatchOptions { Augmentation = new Augmentation(flipProbability: 0.5, cropPadding: 1, noiseStdDev: 0.1) };
        var original = new MiniBatches(data, 6, seed: 9, options);
        original.StartEpoch();
        original.StartEpoch();
        original.Next(out MiniBatch _);
        original.Next(out MiniBatch _);
        MiniBatchState state = original.State;
        Assert.Equal(new MiniBatchState(9, 1, 2), state);

        var resumed = new MiniBatches(data, 6, seed: 0, options);
        resumed.Restore(state);
        while (original.Next(out MiniBatch x))
        {
            Assert.True(resumed.Next(out MiniBatch y));
            Assert.True(x.Features.SequenceEqual(y.Features));
            Assert.True(x.Labels.SequenceEqual(y.Labels));
        }
        Assert.False(resumed.Next(out MiniBatch _));
        original.StartEpoch();
        resumed.StartEpoch();
        Assert.True(original.Order.SequenceEqual(resumed.Order));

        Assert.Throws<ArgumentOutOfRangeException>(() => resumed.Restore(new MiniBatchState(9, 0, 8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => resumed.Restore(new MiniBatchState(9, -1, 1)));
    }

    [Fact]
    public void ValidatesArgumentsAndRequiresStartEpoch()
    {
        Dataset data = Images(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MiniBatches(data, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MiniBatches(data, 11, 1));
        Dataset flat = DatasetTests.Indexed(10, 3);
        Assert.Throws<ArgumentException>(() => new MiniBatches(flat, 2, 1, new MiniBatchOptions { Augmentation = new Augmentation(flipProbability: 1) }));
        var batches = new MiniBatches(data, 2, 1);
        Assert.Equal(-1, batches.Epoch);
        Assert.Throws<InvalidOperationException>(() => batches.Next(out _, out _));
    }

    [Fact]
    public void RegressionBatchesCarryTargets()
    {
        var data = Dataset.ForRegression([0, 1, 2, 3, 4], [0f, 10f, 20f, 30f, 40f], 1);
        var batches = new MiniBatches(data, 2, seed: 3);
        batches.StartEpoch();
        int total = 0;
        while (batches.Next(out MiniBatch batch))
        {
            Assert.True(batch.Labels.IsEmpty);
            for (int r = 0; r < batch.Count; r++) Assert.Equal(batch.Features[r] * 10, batch.Targets[r]);
            total += batch.Count;
        }
        Assert.Equal(5, total);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWholeEpochAllocatesNothingAfterWarmUp(bool augment)
    {
        Dataset data = Images(300, channels: 3, side: 8);
        var options = new MiniBatchOptions
        {
            Augmentation = augment ? new Augmentation(flipProbability: 0.5, cropPadding: 2, maxTranslation: 1, noiseStdDev: 0.05) : null,
        };
        var batches = new MiniBatches(data, 32, seed: 5, options);
        float checksum = 0;
        KernelGen.Tests.HotLoop.WarmUp(() => checksum += RunEpoch(batches)); // tiered JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        checksum += RunEpoch(batches);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(float.IsFinite(checksum));
    }

    private static float RunEpoch(MiniBatches batches)
    {
        float sum = 0;
        batches.StartEpoch();
        while (batches.Next(out ReadOnlySpan<float> x, out ReadOnlySpan<int> y)) sum += x[0] + y[0];
        return sum;
    }

    private static List<int> Range(int n)
    {
        var list = new List<int>(n);
        for (int i = 0; i < n; i++) list.Add(i);
        return list;
    }
}

public class AugmentationTests
{
    private static float[] Random(int n, ulong seed)
    {
        var random = new KernelRandom(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)random.NextDouble();
        return values;
    }

    [Fact]
    public void FlippingTwiceIsTheIdentity()
    {
        float[] image = Random(2 * 5 * 7, 1);
        var once = new float[image.Length];
        var twice = new float[image.Length];
        Augmentation.Transform(image, once, 2, 5, 7, flip: true, 0, 0);
        Assert.NotEqual(image, once);
        Assert.Equal(image[0 * 35 + 3 * 7 + 1], once[0 * 35 + 3 * 7 + 5]); // (y=3, x=1) → x = 7 − 1 − 1
        Assert.Equal(image[1 * 35 + 4 * 7 + 6], once[1 * 35 + 4 * 7 + 0]);
        Augmentation.Transform(once, twice, 2, 5, 7, flip: true, 0, 0);
        Assert.Equal(image, twice);

        // The same through the random path with probability 1.
        var always = new Augmentation(flipProbability: 1);
        var random = new KernelRandom(3);
        always.Apply(image, once, 2, 5, 7, ref random);
        always.Apply(once, twice, 2, 5, 7, ref random);
        Assert.Equal(image, twice);
    }

    [Theory]
    [InlineData(2, 3, 1, -2, 3, 1)]
    [InlineData(2, 3, -2, 1, 0, 4)]
    [InlineData(0, 0, 5, 5, 5, 5)]
    [InlineData(5, 5, 1, 0, -1, -1)] // moved out of the image
    [InlineData(4, 1, 0, 2, 4, 3)]
    public void TranslationMovesALitPixel(int y, int x, int shiftY, int shiftX, int expectedY, int expectedX)
    {
        const int H = 6, W = 6;
        var image = new float[H * W];
        image[y * W + x] = 1;
        var output = new float[H * W];
        output.AsSpan().Fill(float.NaN);
        Augmentation.Transform(image, output, 1, H, W, flip: false, shiftY, shiftX);
        var expected = new float[H * W];
        if (expectedY >= 0) expected[expectedY * W + expectedX] = 1;
        Assert.Equal(expected, output);
    }

    [Fact]
    public void FlipThenShiftComposes()
    {
        var image = new float[4 * 5];
        image[1 * 5 + 0] = 1; // (1, 0) → flip (1, 4) → shift (+2, −3) → (3, 1)
        var output = new float[20];
        Augmentation.Transform(image, output, 1, 4, 5, flip: true, 2, -3);
        Assert.Equal(1f, output[3 * 5 + 1]);
        Assert.Equal(1f, SumOf(output));
    }

    [Fact]
    public void RandomTranslationStaysWithinRangeAndReachesEveryOffset()
    {
        const int H = 9, W = 9, K = 2;
        var image = new float[H * W];
        image[4 * W + 4] = 1;
        var output = new float[H * W];
        var augmentation = new Augmentation(maxTranslation: K);
        var random = new KernelRandom(11);
        var seen = new HashSet<(int, int)>();
        for (int trial = 0; trial < 500; trial++)
        {
            augmentation.Apply(image, output, 1, H, W, ref random);
            Assert.Equal(1f, SumOf(output));
            int at = Array.IndexOf(output, 1f);
            int dy = at / W - 4, dx = at % W - 4;
            Assert.InRange(dy, -K, K);
            Assert.InRange(dx, -K, K);
            seen.Add((dy, dx));
        }
        Assert.Equal((2 * K + 1) * (2 * K + 1), seen.Count);
    }

    [Fact]
    public void CropWithPaddingKeepsShapeAndShiftsByAtMostThePadding()
    {
        const int C = 3, H = 6, W = 5, P = 2;
        var image = new float[C * H * W];
        for (int c = 0; c < C; c++) image[c * H * W + 3 * W + 2] = c + 1; // a lit pixel at (3, 2) in each channel
        var output = new float[image.Length];
        var augmentation = new Augmentation(cropPadding: P);
        var random = new KernelRandom(5);
        var offsets = new HashSet<int>();
        for (int trial = 0; trial < 300; trial++)
        {
            augmentation.Apply(image, output, C, H, W, ref random);
            Assert.Equal(image.Length, output.Length);
            int at = Array.IndexOf(output, 1f);
            Assert.True(at >= 0); // centre pixel is within P of every border, so it is never cropped away
            int dy = at / W - 3, dx = at % W - 2;
            Assert.InRange(dy, -P, P);
            Assert.InRange(dx, -P, P);
            offsets.Add(dy * 10 + dx);
            for (int c = 1; c < C; c++) Assert.Equal(c + 1f, output[c * H * W + at]); // channels move together
            Assert.Equal(6f, SumOf(output));
        }
        Assert.Equal(25, offsets.Count);
    }

    [Fact]
    public void NoiseHasTheRequestedStandardDeviation()
    {
        const int Side = 16;
        var zero = new float[Side * Side];
        var output = new float[zero.Length];
        var augmentation = new Augmentation(noiseStdDev: 0.5);
        var random = new KernelRandom(2024);
        double sum = 0, squares = 0;
        long n = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            augmentation.Apply(zero, output, 1, Side, Side, ref random);
            foreach (float v in output)
            {
                sum += v;
                squares += (double)v * v;
                n++;
            }
        }
        double mean = sum / n, std = Math.Sqrt(squares / n - mean * mean);
        // n = 102400: the standard error of the mean is 0.5/320 ≈ 0.0016 and of the std about 0.0011.
        Assert.InRange(mean, -0.008, 0.008);
        Assert.InRange(std, 0.494, 0.506);
    }

    [Fact]
    public void DeterministicForASeed()
    {
        float[] image = Random(3 * 8 * 8, 4);
        var augmentation = new Augmentation(0.5, 2, 1, 0.1);
        var a = new float[image.Length];
        var b = new float[image.Length];
        var ra = new KernelRandom(77);
        var rb = new KernelRandom(77);
        for (int trial = 0; trial < 20; trial++)
        {
            augmentation.Apply(image, a, 3, 8, 8, ref ra);
            augmentation.Apply(image, b, 3, 8, 8, ref rb);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void ValidatesArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Augmentation(flipProbability: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Augmentation(cropPadding: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Augmentation(noiseStdDev: double.NaN));
        var image = new float[16];
        Assert.Throws<ArgumentException>(() => Augmentation.Transform(image, new float[15], 1, 4, 4, false, 0, 0));
        Assert.Throws<ArgumentException>(() => Augmentation.Transform(image, image, 1, 4, 4, true, 0, 0));
    }

    private static float SumOf(float[] values)
    {
        float sum = 0;
        foreach (float v in values) sum += v;
        return sum;
    }
}
