using System;
using System.Buffers.Binary;
using System.IO;
using KernelGen.Checkpoints;
using KernelGen.Preprocessing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>Feature-transform records that are corrupt or lie about their length. Expected values are the original
/// transform's bytes and outputs.</summary>
public sealed class CorruptTransformTests(ITestOutputHelper output)
{
    [Fact]
    public void A_record_claiming_two_gibibytes_on_a_forward_only_stream_fails_fast_without_allocating_them()
    {
        // 20-byte header (magic, version, kind ZeroCenter, payload length 2^31 − 65) and 4 more bytes.
        byte[] record = new byte[24];
        "KGFT"u8.CopyTo(record);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(8), 1);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(12), int.MaxValue - 64);
        FeatureTransform.Load(new ForwardOnlyReadStream(Save(Sample()))); // warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new ForwardOnlyReadStream(record)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{e.Message} ({allocated} bytes allocated)");
        Assert.Contains("Truncated", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes for a 24-byte stream");
    }

    [Fact]
    public void A_large_record_still_loads_from_a_forward_only_stream()
    {
        var rows = new float[50 * 400];
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)Math.Sin(i * 0.37) * (i % 7);
        IFeatureTransform pca = Pca.Fit(rows, 50, 400, components: 200); // ~1.3 MB of payload
        byte[] bytes = Save(pca);
        Assert.True(bytes.Length > 4 * BoundedReadChunk);
        Assert.Equal(bytes, Save(FeatureTransform.Load(new ForwardOnlyReadStream(bytes, maxRead: 1000))));
    }

    [Fact]
    public void A_non_finite_value_under_a_valid_checksum_is_rejected()
    {
        byte[] bytes = Save(ZeroCenter.Fit([1, 2, 3, 4], 2, 2));
        // ZeroCenter payload: layout (features, channels, height, width: 4 int32), then the means.
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(20 + 16 + 4), float.NaN);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(8, bytes.Length - 12)));
        var e = Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new MemoryStream(bytes)));
        Assert.Contains("non-finite", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_errors_name_the_file_and_a_file_holds_one_record()
    {
        string directory = Directory.CreateTempSubdirectory("kernelgen-transform-").FullName;
        try
        {
            string path = Path.Combine(directory, "scaler.kgft");
            IFeatureTransform transform = Sample();
            FeatureTransform.Save(transform, path);
            Assert.Equal(Save(transform), Save(FeatureTransform.Load(path)));
            File.WriteAllBytes(path, [.. Save(transform), 0]);
            var e = Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(path));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("1 unexpected bytes", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Mutated records (a pipeline of three stages, so nested records are hit too): a load reproduces the original
    /// transform exactly (same bytes when saved again, same outputs), anything else is an <see cref="InvalidDataException"/>.</summary>
    [Fact]
    public void Mutated_records_load_exactly_or_are_rejected()
    {
        IFeatureTransform original = Sample();
        byte[] bytes = Save(original);
        float[] input = new float[3 * original.InputFeatures];
        for (int i = 0; i < input.Length; i++) input[i] = i * 0.25f - 1;
        float[] expected = new float[3 * original.OutputFeatures];
        original.Apply(input, expected, 3);
        (int rejected, int loaded) = LoaderFuzz.Run<InvalidDataException>(bytes, 3000,
            (mutated, seekable) =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    IFeatureTransform transform = FeatureTransform.Load(LoaderFuzz.Open(mutated, seekable));
                    Assert.Equal(bytes, Save(transform));
                    var actual = new float[expected.Length];
                    transform.Apply(input, actual, 3);
                    Assert.Equal(expected, actual);
                }
                finally
                {
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
                }
            },
            _ => { });
        output.WriteLine($"transform: 3000 mutations, {rejected} rejected, {loaded} loaded the original");
        Assert.True(rejected > 2500, $"only {rejected} rejected");
    }

    private const int BoundedReadChunk = 1 << 16;

    private static IFeatureTransform Sample()
    {
        const int n = 30, d = 6;
        var rows = new float[n * d];
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)Math.Cos(i * 1.3) * (1 + i % 5);
        return new TransformPipeline(ZeroCenter.Fit(rows, n, d), Standardize.Fit(rows, n, d), Pca.Fit(rows, n, d, components: 4));
    }

    private static byte[] Save(IFeatureTransform transform)
    {
        var stream = new MemoryStream();
        transform.Save(stream);
        return stream.ToArray();
    }
}
