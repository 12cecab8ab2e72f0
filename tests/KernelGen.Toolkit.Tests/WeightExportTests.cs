using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using KernelGen.Interop;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>Weight export and import: NumPy .npz (PyTorch state_dict names) and safetensors.</summary>
public class WeightExportTests
{
    // ---- names and shapes --------------------------------------------------------------------------------------------

    [Fact]
    public void Layout_FollowsPyTorchNamesAndShapes()
    {
        IReadOnlyList<WeightFileTensor> layout = WeightLayout.Describe(new WeightNet(1));
        string[] expected =
        [
            "Dense1.weight [4, 3]", "Dense1.bias [4]",
            "BatchNorm1.weight [4]", "BatchNorm1.bias [4]", "BatchNorm1.running_mean [4]", "BatchNorm1.running_var [4]",
            "LayerNorm1.weight [4]", "LayerNorm1.bias [4]",
            "Maxout1.weight [6, 4]", "Maxout1.bias [6]",
            "GroupNorm1.weight [2]", "GroupNorm1.bias [2]",
            "Dense2.weight [2, 2]", "Dense2.bias [2]",
        ];
        Assert.Equal(expected, layout.Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]"));
    }

    [Fact]
    public void Layout_UnsupportedArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>("network", () => WeightLayout.Describe((INeuralNetwork<float>)null!));
    }

    // ---- round trips -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Npz_RoundTrip_IsBitIdentical(bool compress)
    {
        AssertRoundTrip(new WeightNet(2, seed: 1), new WeightNet(2, seed: 2), (n, s) => Npz.Save(n, s, compress), Npz.Load);
        AssertRoundTrip(new WeightNet.Float64(2, seed: 1), new WeightNet.Float64(2, seed: 2), (n, s) => Npz.Save(n, s, compress), Npz.Load);
    }

    [Fact]
    public void SafeTensors_RoundTrip_IsBitIdentical()
    {
        AssertRoundTrip(new WeightNet(2, seed: 3), new WeightNet(2, seed: 4), SafeTensors.Save, SafeTensors.Load);
        AssertRoundTrip(new WeightNet.Float64(2, seed: 3), new WeightNet.Float64(2, seed: 4), SafeTensors.Save, SafeTensors.Load);
    }

    [Fact]
    public void RoundTrip_PreservesPredictions()
    {
        var source = new OnnxCatalogNet(3, seed: 5);
        OnnxExportTests.Randomize(source, 5);
        var target = new OnnxCatalogNet(3, seed: 6);
        var stream = new MemoryStream();
        Npz.Save(source, stream);
        stream.Position = 0;
        Npz.Load(target, stream);
        float[] inputs = Enumerable.Range(0, 3 * 6).Select(i => MathF.Sin(i)).ToArray();
        float[] expected = new float[15], actual = new float[15];
        source.Predict(inputs, expected);
        target.Predict(inputs, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void FloatFile_LoadsIntoDoubleNetwork_Exactly_AndBack()
    {
        var single = new WeightNet(1, seed: 7);
        Fill(single, 7);
        var twin = new WeightNet.Float64(1, seed: 8);
        foreach ((Action<INeuralNetwork<float>, Stream> save, Action<INeuralNetwork<double>, Stream> load) in
                 new (Action<INeuralNetwork<float>, Stream>, Action<INeuralNetwork<double>, Stream>)[] { (SafeTensors.Save, SafeTensors.Load), ((n, s) => Npz.Save(n, s), Npz.Load) })
        {
            var stream = new MemoryStream();
            save(single, stream);
            stream.Position = 0;
            load(twin, stream);
            Assert.Equal(single.Parameters.ToArray().Select(v => (double)v), twin.Parameters.ToArray());
            Assert.Equal(single.RunningStatistics.ToArray().Select(v => (double)v), twin.RunningStatistics.ToArray());
        }

        // F64 → float rounds to nearest.
        Fill(twin, 9);
        var back = new MemoryStream();
        SafeTensors.Save(twin, back);
        back.Position = 0;
        SafeTensors.Load(single, back);
        Assert.Equal(twin.Parameters.ToArray().Select(v => (float)v), single.Parameters.ToArray());
    }

    [Fact]
    public void Save_IsDeterministic()
    {
        var network = new WeightNet(1, seed: 10);
        Fill(network, 10);
        Assert.Equal(Bytes(s => Npz.Save(network, s)), Bytes(s => Npz.Save(network, s)));
        Assert.Equal(Bytes(s => Npz.Save(network, s, compress: true)), Bytes(s => Npz.Save(network, s, compress: true)));
        Assert.Equal(Bytes(s => SafeTensors.Save(network, s)), Bytes(s => SafeTensors.Save(network, s)));
    }

    // ---- exact bytes -------------------------------------------------------------------------------------------------

    [Fact]
    public void Npy_TinyTensor_MatchesHandWrittenBytes()
    {
        TinyDense network = TinyKnownNetwork();
        byte[] npz = Bytes(s => Npz.Save(network, s));
        using var archive = new ZipArchive(new MemoryStream(npz), ZipArchiveMode.Read);
        Assert.Equal(new[] { "Dense1.weight.npy", "Dense1.bias.npy" }, archive.Entries.Select(e => e.FullName));
        Assert.All(archive.Entries, e => Assert.Equal(e.Length, e.CompressedLength)); // stored, like numpy.savez

        // W is [in × out] = [[1, 2, 3], [4, 5, 6]] in the network; the file holds Wᵀ, shape (3, 2): 1 4 / 2 5 / 3 6.
        byte[] expectedWeight =
        [
            0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 0x01, 0x00, // magic, version 1.0
            0x76, 0x00, // HEADER_LEN = 118: 10 + 118 = 128, a multiple of 64
            .. Encoding.ASCII.GetBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }"), // 59 bytes
            .. Enumerable.Repeat((byte)' ', 58), (byte)'\n',
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x80, 0x40, // 1, 4
            0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0xA0, 0x40, // 2, 5
            0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0xC0, 0x40, // 3, 6
        ];
        byte[] expectedBias =
        [
            0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 0x01, 0x00,
            0x76, 0x00,
            .. Encoding.ASCII.GetBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), // 57 bytes
            .. Enumerable.Repeat((byte)' ', 60), (byte)'\n',
            0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0xBF, 0x00, 0x00, 0x00, 0x40, // 0.5, -1, 2
        ];
        Assert.Equal(expectedWeight, ReadEntry(archive, "Dense1.weight.npy"));
        Assert.Equal(expectedBias, ReadEntry(archive, "Dense1.bias.npy"));
    }

    [Fact]
    public void Npy_DoubleNetwork_WritesF8()
    {
        var network = new TinyDense.Float64(1);
        byte[] npz = Bytes(s => Npz.Save(network, s));
        using var archive = new ZipArchive(new MemoryStream(npz), ZipArchiveMode.Read);
        byte[] bias = ReadEntry(archive, "Dense1.bias.npy");
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", Encoding.ASCII.GetString(bias, 10, 118), StringComparison.Ordinal);
        Assert.Equal(128 + 3 * 8, bias.Length);
    }

    [Fact]
    public void SafeTensors_Header_ParsesWithExpectedOffsets()
    {
        TinyDense network = TinyKnownNetwork();
        byte[] file = Bytes(s => SafeTensors.Save(network, s));
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 36, file.Length);

        using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        JsonElement root = header.RootElement;
        Assert.Equal(new[] { "__metadata__", "Dense1.weight", "Dense1.bias" }, root.EnumerateObject().Select(p => p.Name));
        JsonElement metadata = root.GetProperty("__metadata__");
        Assert.Equal("0x" + network.Fingerprint.ToString("X16"), metadata.GetProperty("kernelgen.fingerprint").GetString());
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.Equal(typeof(TinyDense).FullName, metadata.GetProperty("kernelgen.network").GetString());

        JsonElement weight = root.GetProperty("Dense1.weight");
        Assert.Equal("F32", weight.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 3, 2 }, weight.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(new[] { 0, 24 }, weight.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));
        JsonElement bias = root.GetProperty("Dense1.bias");
        Assert.Equal(new[] { 3 }, bias.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(new[] { 24, 36 }, bias.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));

        float[] data = MemoryMarshal.Cast<byte, float>(file.AsSpan(8 + (int)headerLength)).ToArray();
        Assert.Equal(new[] { 1f, 4, 2, 5, 3, 6, 0.5f, -1, 2 }, data);
    }

    [Fact]
    public void SafeTensors_DoubleNetwork_OffsetsTileTheBuffer()
    {
        var network = new WeightNet.Float64(1);
        byte[] file = Bytes(s => SafeTensors.Save(network, s));
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, headerLength));
        long position = 0;
        foreach (JsonProperty tensor in header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
        {
            Assert.Equal("F64", tensor.Value.GetProperty("dtype").GetString());
            long[] offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            long count = tensor.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (p, e) => p * e.GetInt64());
            Assert.Equal(position, offsets[0]);
            Assert.Equal(position + count * 8, offsets[1]);
            position = offsets[1];
        }
        Assert.Equal(file.Length - 8 - headerLength, position);
    }

    [Fact]
    public void Npz_AcceptsFortranOrderAndBigEndianArrays()
    {
        // What numpy writes for np.asfortranarray(w) and b.astype('>f8').
        byte[] weight = NpyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", MemoryMarshal.AsBytes<float>([1, 2, 3, 4, 5, 6]).ToArray());
        byte[] bias = NpyBytes("{'shape': (3,), 'fortran_order': False, 'descr': '>f8'}",
            [.. BigEndian(0.5), .. BigEndian(-1), .. BigEndian(2)]);
        var network = new TinyDense(1);
        Npz.Load(network, Zip(("Dense1.weight.npy", weight), ("Dense1.bias.npy", bias)));
        // Column-major (3, 2) data 1..6 is the matrix [[1, 4], [2, 5], [3, 6]] = Wᵀ of W = [[1, 2, 3], [4, 5, 6]].
        Assert.Equal(new[] { 1f, 2, 3, 4, 5, 6 }, network.Parameters.Slice(network.Layers[0].WeightOffset, 6).ToArray());
        Assert.Equal(new[] { 0.5f, -1, 2 }, network.Parameters.Slice(network.Layers[0].BiasOffset, 3).ToArray());
    }

    // ---- rejected imports leave the network unchanged ----------------------------------------------------------------

    [Fact]
    public void Load_IntoOtherShape_FailsCleanly_AndLeavesNetworkUnchanged()
    {
        var source = new WeightNet(1, seed: 11);
        Fill(source, 11);
        byte[] npz = Bytes(s => Npz.Save(source, s));
        byte[] safetensors = Bytes(s => SafeTensors.Save(source, s));

        var wide = new WeightNetWide(1, seed: 12);
        Fill(wide, 12);
        AssertRejected(wide, () => Npz.Load(wide, new MemoryStream(npz)), "Dense1.weight.npy", "(4, 3)", "(5, 3)");
        AssertRejected(wide, () => SafeTensors.Load(wide, new MemoryStream(safetensors)), "Dense1.weight", "[4, 3]", "[5, 3]");

        var other = new TinyDense(1, seed: 13);
        AssertRejected(other, () => Npz.Load(other, new MemoryStream(npz)), "BatchNorm1.weight.npy");
        AssertRejected(other, () => SafeTensors.Load(other, new MemoryStream(safetensors)), "BatchNorm1.weight");
    }

    [Fact]
    public void Npz_LateBadEntry_LeavesNetworkUnchanged()
    {
        var source = new WeightNet(1, seed: 14);
        Fill(source, 14);
        List<(string Name, byte[] Bytes)> entries = Entries(Bytes(s => Npz.Save(source, s)));
        var target = new WeightNet(1, seed: 15);
        Fill(target, 15);

        // Every entry but the last is valid; the last one is broken in several ways.
        (string name, byte[] last) = entries[^1];
        var broken = new Dictionary<string, byte[]>
        {
            ["truncated data"] = last[..^1],
            ["trailing data"] = [.. last, 0],
            ["truncated header"] = last[..40],
            ["bad magic"] = [.. "XNUMPY"u8, .. last[6..]],
            ["version 9.0"] = [.. last[..6], 9, 0, .. last[8..]],
            ["int32 dtype"] = NpyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new byte[8]),
            ["float16 dtype"] = NpyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", new byte[4]),
            ["object dtype"] = NpyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new byte[16]),
            ["missing key"] = NpyBytes("{'descr': '<f4', 'shape': (2,), }", new byte[8]),
            ["extra key"] = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1, }", new byte[8]),
            ["negative shape"] = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", new byte[8]),
            ["garbage header"] = NpyBytes("this is not a dict", new byte[8]),
            ["unterminated"] = NpyBytes("{'descr': '<f4", new byte[8]),
        };
        foreach ((string label, byte[] bytes) in broken)
        {
            byte[] zip = ZipBytes([.. entries[..^1], (name, bytes)]);
            var e = AssertRejected(target, () => Npz.Load(target, new MemoryStream(zip)), name);
            Assert.False(string.IsNullOrWhiteSpace(e.Message), label);
        }
    }

    [Fact]
    public void Npz_MissingExtraOrRepeatedEntries_AreRejected()
    {
        var source = new WeightNet(1, seed: 16);
        List<(string Name, byte[] Bytes)> entries = Entries(Bytes(s => Npz.Save(source, s)));
        var target = new WeightNet(1, seed: 17);
        Fill(target, 17);
        AssertRejected(target, () => Npz.Load(target, Zip([.. entries[1..]])), "lacks", "Dense1.weight.npy");
        AssertRejected(target, () => Npz.Load(target, Zip([.. entries, ("extra.npy", entries[0].Bytes)])), "extra.npy");
        AssertRejected(target, () => Npz.Load(target, Zip([.. entries, entries[1]])), "twice", entries[1].Name);
        AssertRejected(target, () => Npz.Load(target, Zip([.. entries, ("notes.txt", "hello"u8.ToArray())])), "notes.txt");
    }

    [Fact]
    public void Npz_CorruptOrTruncatedArchive_IsRejected()
    {
        var source = new WeightNet(1, seed: 18);
        var target = new WeightNet(1, seed: 19);
        Fill(target, 19);
        foreach (bool compress in new[] { false, true })
        {
            byte[] npz = Bytes(s => Npz.Save(source, s, compress));
            AssertRejected(target, () => Npz.Load(target, new MemoryStream(npz[..(npz.Length / 2)])), "zip");
            AssertRejected(target, () => Npz.Load(target, new MemoryStream(npz[..^1])), "zip");
            AssertRejected(target, () => Npz.Load(target, new MemoryStream(npz[..30])), "zip");
        }
        AssertRejected(target, () => Npz.Load(target, new MemoryStream("not a zip archive at all"u8.ToArray())), "zip");
        AssertRejected(target, () => Npz.Load(target, new MemoryStream([])), "zip");

        // Damaged deflate data inside an otherwise intact archive: the entry cannot be inflated (or inflates to garbage).
        byte[] compressed = Bytes(s => Npz.Save(source, s, compress: true));
        using (var archive = new ZipArchive(new MemoryStream(compressed), ZipArchiveMode.Read))
        {
            Assert.All(archive.Entries, e => Assert.True(e.CompressedLength < e.Length));
        }
        // The first entry's deflate data follows its local file header: 30 bytes, the name, the extra field.
        int dataStart = 30 + BinaryPrimitives.ReadUInt16LittleEndian(compressed.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(compressed.AsSpan(28));
        byte[] damaged = (byte[])compressed.Clone();
        for (int i = dataStart; i < dataStart + 16; i++) damaged[i] ^= 0xFF;
        // (System.IO.Compression reports invalid deflate data as "an unsupported compression method".)
        AssertRejected(target, () => Npz.Load(target, new MemoryStream(damaged)), "Dense1.weight.npy", "cannot be read");
    }

    [Fact]
    public void SafeTensors_CorruptOrTruncatedFiles_AreRejected()
    {
        var source = new WeightNet(1, seed: 20);
        Fill(source, 20);
        byte[] file = Bytes(s => SafeTensors.Save(source, s));
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        string header = Encoding.UTF8.GetString(file, 8, headerLength);
        byte[] buffer = file[(8 + headerLength)..];
        var target = new WeightNet(1, seed: 21);
        Fill(target, 21);

        foreach (int length in new[] { 0, 4, 8, 20, 8 + headerLength - 1, 8 + headerLength, file.Length - 1 })
            AssertRejected(target, () => SafeTensors.Load(target, new MemoryStream(file[..length])), "truncated");
        AssertRejected(target, () => SafeTensors.Load(target, new MemoryStream([.. file, 0])), "buffer");
        AssertRejected(target, () => SafeTensors.Load(target, new NonSeekableStream([.. file, 0])), "trailing");
        AssertRejected(target, () => SafeTensors.Load(target, new NonSeekableStream(file[..^1])), "truncated");

        byte[] huge = (byte[])file.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        AssertRejected(target, () => SafeTensors.Load(target, new MemoryStream(huge)), "header");

        var edits = new Dictionary<string, string>
        {
            ["not json"] = header.Replace("{\"__metadata__\"", "{__metadata__", StringComparison.Ordinal),
            ["array root"] = "[" + header + "]",
            ["truncated json"] = header.TrimEnd()[..^1] + " ",
            ["I32"] = header.Replace("\"dtype\":\"F32\"", "\"dtype\":\"I32\"", StringComparison.Ordinal),
            ["F16"] = header.Replace("\"dtype\":\"F32\"", "\"dtype\":\"F16\"", StringComparison.Ordinal),
            ["string shape"] = header.Replace("\"shape\":[4,3]", "\"shape\":\"4x3\"", StringComparison.Ordinal),
            ["negative shape"] = header.Replace("\"shape\":[4,3]", "\"shape\":[-4,3]", StringComparison.Ordinal),
            ["fraction shape"] = header.Replace("\"shape\":[4,3]", "\"shape\":[4.5,3]", StringComparison.Ordinal),
            ["reversed offsets"] = header.Replace("\"data_offsets\":[0,48]", "\"data_offsets\":[48,0]", StringComparison.Ordinal),
            ["gap"] = header.Replace("\"data_offsets\":[0,48]", "\"data_offsets\":[4,48]", StringComparison.Ordinal),
            ["missing dtype"] = header.Replace("\"dtype\":\"F32\",", "", StringComparison.Ordinal),
            ["extra field"] = header.Replace("\"dtype\":\"F32\",", "\"dtype\":\"F32\",\"x\":1,", StringComparison.Ordinal),
            ["metadata number"] = header.Replace("\"format\":\"pt\"", "\"format\":1", StringComparison.Ordinal),
            ["duplicate key"] = header.Replace("{\"__metadata__\"", "{\"Dense2.bias\":{},\"__metadata__\"", StringComparison.Ordinal),
        };
        foreach ((string label, string edited) in edits)
        {
            Assert.NotEqual(header, edited); // the edit applies
            AssertRejected(target, () => SafeTensors.Load(target, new MemoryStream(SafeTensorsBytes(edited, buffer))), label.Contains("shape", StringComparison.Ordinal) ? "shape" : "");
        }
    }

    [Fact]
    public void SafeTensors_LoadsUnpaddedHeaderWithoutMetadataInAnyOrder()
    {
        // What another writer may produce: no __metadata__, tensors in another order, buffer in another order, no padding.
        var network = new TinyDense(1);
        string header = "{\"Dense1.bias\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]},\"Dense1.weight\":{\"shape\":[3,2],\"dtype\":\"F32\",\"data_offsets\":[24,48]}}";
        byte[] buffer = [.. MemoryMarshal.AsBytes<double>([0.5, -1, 2]), .. MemoryMarshal.AsBytes<float>([1, 4, 2, 5, 3, 6])];
        SafeTensors.Load(network, new MemoryStream(SafeTensorsBytes(header, buffer)));
        Assert.Equal(new[] { 1f, 2, 3, 4, 5, 6 }, network.Parameters.Slice(network.Layers[0].WeightOffset, 6).ToArray());
        Assert.Equal(new[] { 0.5f, -1, 2 }, network.Parameters.Slice(network.Layers[0].BiasOffset, 3).ToArray());
    }

    // ---- files and arguments -----------------------------------------------------------------------------------------

    [Fact]
    public void Files_RoundTrip_Atomically()
    {
        string directory = Directory.CreateTempSubdirectory("kernelgen-weights-").FullName;
        try
        {
            var source = new WeightNet(1, seed: 22);
            Fill(source, 22);
            string npz = Path.Combine(directory, "weights.npz"), safetensors = Path.Combine(directory, "weights.safetensors");
            File.WriteAllText(npz, "old");
            Npz.Save(source, npz);
            SafeTensors.Save(source, safetensors);
            Assert.Equal(new[] { "weights.npz", "weights.safetensors" }, Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal(Bytes(s => Npz.Save(source, s)), File.ReadAllBytes(npz));
            Assert.Equal(Bytes(s => SafeTensors.Save(source, s)), File.ReadAllBytes(safetensors));

            var fromNpz = new WeightNet(1, seed: 23);
            Npz.Load(fromNpz, npz);
            var fromSafeTensors = new WeightNet(1, seed: 24);
            SafeTensors.Load(fromSafeTensors, safetensors);
            Assert.True(BitEqual(source.Parameters, fromNpz.Parameters) && BitEqual(source.Parameters, fromSafeTensors.Parameters));
            Assert.Throws<FileNotFoundException>(() => Npz.Load(fromNpz, Path.Combine(directory, "missing.npz")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        var network = new TinyDense(1);
        Assert.Throws<ArgumentNullException>("network", () => Npz.Save((INeuralNetwork<float>)null!, new MemoryStream()));
        Assert.Throws<ArgumentNullException>("destination", () => Npz.Save(network, (Stream)null!));
        Assert.Throws<ArgumentException>("destination", () => Npz.Save(network, new MemoryStream([], writable: false)));
        Assert.Throws<ArgumentNullException>("network", () => Npz.Load((INeuralNetwork<float>)null!, new MemoryStream()));
        Assert.Throws<ArgumentNullException>("source", () => Npz.Load(network, (Stream)null!));
        Assert.Throws<ArgumentException>("path", () => Npz.Save(network, ""));
        Assert.Throws<ArgumentNullException>("network", () => SafeTensors.Save((INeuralNetwork<double>)null!, new MemoryStream()));
        Assert.Throws<ArgumentException>("destination", () => SafeTensors.Save(network, new MemoryStream([], writable: false)));
        Assert.Throws<ArgumentNullException>("source", () => SafeTensors.Load(network, (Stream)null!));
        Assert.Throws<ArgumentNullException>("path", () => SafeTensors.Load(network, (string)null!));
        var closed = new MemoryStream();
        closed.Dispose();
        Assert.Throws<ArgumentException>("source", () => SafeTensors.Load(network, closed));
        Assert.Throws<ArgumentException>("source", () => Npz.Load(network, closed));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    private static void AssertRoundTrip<T>(INeuralNetwork<T> source, INeuralNetwork<T> target, Action<INeuralNetwork<T>, Stream> save, Action<INeuralNetwork<T>, Stream> load)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Fill(source, 99);
        Assert.False(BitEqual(source.Parameters, target.Parameters));
        var stream = new MemoryStream();
        save(source, stream);
        stream.Position = 0;
        load(target, new NonSeekableStream(stream.ToArray())); // streams need not seek
        Assert.True(BitEqual(source.Parameters, target.Parameters), "parameters differ");
        Assert.True(BitEqual(source.RunningStatistics, target.RunningStatistics), "running statistics differ");
    }

    /// <summary>Random values everywhere (weights included), running variances positive.</summary>
    private static void Fill<T>(INeuralNetwork<T> network, int seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        foreach (ParameterTensor tensor in network.ParameterTensors)
            for (int i = 0; i < tensor.Length; i++)
                network.Parameters[tensor.Offset + i] = T.CreateChecked(random.NextDouble() * 2 - 1);
        foreach (LayerInfo layer in network.Layers.Where(l => l.Kind == LayerKind.BatchNorm))
            for (int j = 0; j < layer.OutputFeatures; j++)
            {
                network.RunningStatistics[layer.RunningMeanOffset + j] = T.CreateChecked(random.NextDouble() - 0.5);
                network.RunningStatistics[layer.RunningVarianceOffset + j] = T.CreateChecked(0.1 + random.NextDouble());
            }
    }

    private static TinyDense TinyKnownNetwork()
    {
        var network = new TinyDense(1);
        LayerInfo dense = network.Layers[0];
        new float[] { 1, 2, 3, 4, 5, 6 }.CopyTo(network.Parameters.Slice(dense.WeightOffset, 6));
        new float[] { 0.5f, -1, 2 }.CopyTo(network.Parameters.Slice(dense.BiasOffset, 3));
        return network;
    }

    /// <summary>Asserts that <paramref name="load"/> throws <see cref="InvalidDataException"/> mentioning every fragment and leaves
    /// the network's parameters and running statistics bit-identical.</summary>
    private static InvalidDataException AssertRejected<T>(INeuralNetwork<T> network, Action load, params string[] fragments)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T[] parameters = network.Parameters.ToArray(), statistics = network.RunningStatistics.ToArray();
        var e = Assert.Throws<InvalidDataException>(load);
        foreach (string fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.True(BitEqual<T>(parameters, network.Parameters), "parameters changed by a rejected load");
        Assert.True(BitEqual<T>(statistics, network.RunningStatistics), "running statistics changed by a rejected load");
        return e;
    }

    private static bool BitEqual<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

    private static byte[] Bytes(Action<Stream> write)
    {
        var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static byte[] ReadEntry(ZipArchive archive, string name)
    {
        using Stream stream = archive.GetEntry(name)!.Open();
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static List<(string Name, byte[] Bytes)> Entries(byte[] npz)
    {
        using var archive = new ZipArchive(new MemoryStream(npz), ZipArchiveMode.Read);
        return archive.Entries.Select(e => (e.FullName, ReadEntry(archive, e.FullName))).ToList();
    }

    private static byte[] ZipBytes(params (string Name, byte[] Bytes)[] entries)
    {
        var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] bytes) in entries)
            {
                using Stream entry = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(bytes);
            }
        }
        return stream.ToArray();
    }

    private static MemoryStream Zip(params (string Name, byte[] Bytes)[] entries) => new(ZipBytes(entries));

    /// <summary>A version-1.0 .npy file with the given header dict (padded to 64 bytes) and data.</summary>
    private static byte[] NpyBytes(string dict, byte[] data)
    {
        int length = dict.Length + 1;
        int padding = (64 - (10 + length) % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";
        return [0x93, .. "NUMPY"u8, 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8), .. Encoding.ASCII.GetBytes(header), .. data];
    }

    private static byte[] SafeTensorsBytes(string header, byte[] buffer)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        byte[] prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        return [.. prefix, .. json, .. buffer];
    }

    private static byte[] BigEndian(double value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
        return bytes;
    }

    /// <summary>A read-only stream that cannot seek (like a network or pipe stream).</summary>
    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data, writable: false);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
