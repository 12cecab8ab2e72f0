using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using KernelGen.Interop;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// Loaders facing corrupt files: every loader rejects non-finite values, checks its container's checksums, reports
/// corrupt data as <see cref="InvalidDataException"/>, and changes nothing unless it loads exactly what was saved. The
/// fuzz tests mutate valid files (bit flips, truncations, overwritten, inserted and deleted bytes) and require "loads the
/// original values exactly, or throws <see cref="InvalidDataException"/> leaving the target as it was".
/// Expected values are the saved network's own spans and the bytes written by the test, never the loader's output.
/// </summary>
public sealed class CorruptWeightFileTests(ITestOutputHelper output)
{
    // ---- non-finite values -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Npz_with_a_non_finite_value_is_rejected_and_nothing_changes(float bad)
    {
        var source = Filled(new WeightNet(1), 1);
        var entries = NpzEntries(Save(s => Npz.Save(source, s)));
        // A well-formed archive (the zip writer computes every CRC), one value of one tensor replaced.
        int index = entries.FindIndex(e => e.Name == "BatchNorm1.running_var.npy");
        byte[] npy = (byte[])entries[index].Bytes.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(npy.AsSpan(npy.Length - 8), bad);
        entries[index] = (entries[index].Name, npy);

        var target = Filled(new WeightNet(1), 2);
        var e = AssertRejected(target, () => Npz.Load(target, new MemoryStream(Zip(entries))));
        Assert.Contains("BatchNorm1.running_var", e.Message, StringComparison.Ordinal);
        Assert.Contains("non-finite", e.Message, StringComparison.Ordinal);
        Assert.Contains("element 2", e.Message, StringComparison.Ordinal); // 4 values, the third replaced
        output.WriteLine(e.Message);
    }

    [Fact]
    public void SafeTensors_with_a_non_finite_value_is_rejected_and_nothing_changes()
    {
        var source = Filled(new WeightNet.Float64(1), 3);
        byte[] file = Save(s => SafeTensors.Save(source, s));
        // The last 8 bytes are the last element of the last tensor (Dense2.bias, float64).
        BinaryPrimitives.WriteDoubleLittleEndian(file.AsSpan(file.Length - 8), double.NaN);
        var target = Filled(new WeightNet.Float64(1), 4);
        var e = AssertRejected(target, () => SafeTensors.Load(target, new MemoryStream(file)));
        Assert.Contains("Dense2.bias", e.Message, StringComparison.Ordinal);
        Assert.Contains("non-finite", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_float64_value_beyond_the_float_range_is_rejected_by_a_float_network()
    {
        var source = Filled(new WeightNet.Float64(1), 5);
        source.Parameters[source.Layers[0].WeightOffset] = 1e300; // finite in the file, ∞ once rounded to float
        var target = Filled(new WeightNet(1), 6);
        var e = AssertRejected(target, () => SafeTensors.Load(target, new MemoryStream(Save(s => SafeTensors.Save(source, s)))));
        Assert.Contains("Dense1.weight", e.Message, StringComparison.Ordinal);
        e = AssertRejected(target, () => Npz.Load(target, new MemoryStream(Save(s => Npz.Save(source, s)))));
        Assert.Contains("Dense1.weight", e.Message, StringComparison.Ordinal);
    }

    // ---- container checks --------------------------------------------------------------------------------------------

    [Fact]
    public void Npz_entry_whose_data_does_not_match_its_crc_is_rejected()
    {
        var source = Filled(new WeightNet(1), 7);
        byte[] npz = Save(s => Npz.Save(source, s, compress: false));
        // Stored entries: the first entry's data follows its 30-byte local header, name and extra field; change one
        // data byte (the last byte of the first float: a sign flip, a finite value) without touching the stored CRC.
        int dataStart = 30 + BinaryPrimitives.ReadUInt16LittleEndian(npz.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(npz.AsSpan(28));
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(npz.AsSpan(dataStart + 8));
        npz[dataStart + 10 + headerLength + 3] ^= 0x80;
        var target = Filled(new WeightNet(1), 8);
        var e = AssertRejected(target, () => Npz.Load(target, new MemoryStream(npz)));
        Assert.Contains("Dense1.weight.npy", e.Message, StringComparison.Ordinal);
        Assert.Contains("CRC-32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SafeTensors_header_that_is_not_utf8_is_invalid_data()
    {
        var source = Filled(new WeightNet(1), 9);
        byte[] file = Save(s => SafeTensors.Save(source, s));
        int at = Encoding.ASCII.GetString(file, 8, 40).IndexOf("__metadata__", StringComparison.Ordinal) + 8;
        file[at + 2] = 0xC3; // a lead byte followed by an ASCII letter: invalid UTF-8 inside a JSON property name
        var target = Filled(new WeightNet(1), 10);
        var e = AssertRejected(target, () => SafeTensors.Load(target, new MemoryStream(file)));
        Assert.Contains("UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SafeTensors_header_claiming_100_MB_on_a_forward_only_stream_allocates_little()
    {
        byte[] file = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(file, 99_000_000);
        var target = new WeightNet(1);
        SafeTensors.Load(new WeightNet(1), new MemoryStream(Save(s => SafeTensors.Save(target, s)))); // warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(target, new ForwardOnlyReadStream(file)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{e.Message} ({allocated} bytes allocated)");
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes for a 16-byte stream");
    }

    // ---- fuzzing -----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false, 1500)]
    [InlineData(true, 1000)]
    public void Mutated_npz_files_load_exactly_or_are_rejected(bool compress, int iterations)
    {
        var source = Filled(new WeightNet(1), 11);
        byte[] original = Save(s => Npz.Save(source, s, compress));
        Fuzz(source, original, iterations, (t, s) => Npz.Load(t, s), $"npz (compress {compress})");
    }

    [Fact]
    public void Mutated_safetensors_files_load_exactly_or_are_rejected()
    {
        var source = Filled(new WeightNet(1), 12);
        byte[] original = Save(s => SafeTensors.Save(source, s));
        Fuzz(source, original, 2000, (t, s) => SafeTensors.Load(t, s), "safetensors", exact: false);
    }

    /// <param name="exact">The format checksums its data (npz: CRC-32 per entry), so a load must give exactly the saved
    /// values. Safetensors has no checksum: a changed data byte loads a changed value, so there a load must give finite
    /// values that differ from the saved ones only where an in-place change (bit flip, overwrite of at most 8 bytes, so at
    /// most 3 float32 elements) hit the data.</param>
    private void Fuzz(WeightNet source, byte[] original, int iterations, Action<WeightNet, Stream> load, string what, bool exact = true)
    {
        float[] parameters = source.Parameters.ToArray(), statistics = source.RunningStatistics.ToArray();
        var target = Filled(new WeightNet(1), 99);
        float[] sentinelParameters = target.Parameters.ToArray(), sentinelStatistics = target.RunningStatistics.ToArray();
        int changedLoads = 0;
        (int rejected, int loaded) = LoaderFuzz.Run<InvalidDataException>(original, iterations,
            (mutated, seekable) =>
            {
                sentinelParameters.CopyTo(target.Parameters);
                sentinelStatistics.CopyTo(target.RunningStatistics);
                load(target, LoaderFuzz.Open(mutated, seekable));
                if (exact)
                {
                    // Loaded: exactly the saved values (so no NaN/∞, no mixture with the target's old values).
                    Assert.True(BitEqual<float>(parameters, target.Parameters), "loaded parameters differ from the saved ones");
                    Assert.True(BitEqual<float>(statistics, target.RunningStatistics), "loaded running statistics differ from the saved ones");
                    return;
                }
                int differing = Differing(parameters, target.Parameters) + Differing(statistics, target.RunningStatistics);
                Assert.True(AllFinite(target.Parameters) && AllFinite(target.RunningStatistics), "loaded a non-finite value");
                Assert.True(differing <= 3, $"{differing} loaded values differ from the saved ones");
                Assert.True(differing == 0 || mutated.Length == original.Length, "a load after an insertion, deletion or truncation changed values");
                if (differing > 0) changedLoads++;
            },
            mutation =>
            {
                Assert.True(BitEqual<float>(sentinelParameters, target.Parameters), $"{mutation}: a rejected load changed the parameters");
                Assert.True(BitEqual<float>(sentinelStatistics, target.RunningStatistics), $"{mutation}: a rejected load changed the running statistics");
            });
        output.WriteLine($"{what}: {iterations} mutations, {rejected} rejected, {loaded - changedLoads} loaded the original values, {changedLoads} loaded changed data bytes (no checksum)");
        Assert.True(rejected > iterations / 2, $"only {rejected} of {iterations} mutations were rejected");
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    internal static TNet Filled<TNet, T>(TNet network, int seed) where TNet : INeuralNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        foreach (ParameterTensor tensor in network.ParameterTensors)
            for (int i = 0; i < tensor.Length; i++) network.Parameters[tensor.Offset + i] = T.CreateChecked(random.NextDouble() * 2 - 1);
        foreach (LayerInfo layer in network.Layers.Where(l => l.Kind == LayerKind.BatchNorm))
            for (int j = 0; j < layer.OutputFeatures; j++)
            {
                network.RunningStatistics[layer.RunningMeanOffset + j] = T.CreateChecked(random.NextDouble() - 0.5);
                network.RunningStatistics[layer.RunningVarianceOffset + j] = T.CreateChecked(0.1 + random.NextDouble());
            }
        return network;
    }

    private static WeightNet Filled(WeightNet network, int seed) => Filled<WeightNet, float>(network, seed);
    private static WeightNet.Float64 Filled(WeightNet.Float64 network, int seed) => Filled<WeightNet.Float64, double>(network, seed);

    internal static InvalidDataException AssertRejected<T>(INeuralNetwork<T> network, Action load) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T[] parameters = network.Parameters.ToArray(), statistics = network.RunningStatistics.ToArray();
        var e = Assert.Throws<InvalidDataException>(load);
        Assert.True(BitEqual<T>(parameters, network.Parameters), "parameters changed by a rejected load");
        Assert.True(BitEqual<T>(statistics, network.RunningStatistics), "running statistics changed by a rejected load");
        return e;
    }

    private static int Differing(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = 0;
        for (int i = 0; i < a.Length; i++) if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) n++;
        return n;
    }

    internal static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return false;
        return true;
    }

    internal static bool BitEqual<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

    internal static byte[] Save(Action<Stream> write)
    {
        var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static System.Collections.Generic.List<(string Name, byte[] Bytes)> NpzEntries(byte[] npz)
    {
        using var archive = new ZipArchive(new MemoryStream(npz), ZipArchiveMode.Read);
        return archive.Entries.Select(e =>
        {
            using Stream s = e.Open();
            var copy = new MemoryStream();
            s.CopyTo(copy);
            return (e.FullName, copy.ToArray());
        }).ToList();
    }

    private static byte[] Zip(System.Collections.Generic.List<(string Name, byte[] Bytes)> entries)
    {
        var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
            foreach ((string name, byte[] bytes) in entries)
                using (Stream entry = archive.CreateEntry(name, CompressionLevel.NoCompression).Open()) entry.Write(bytes);
        return stream.ToArray();
    }
}
