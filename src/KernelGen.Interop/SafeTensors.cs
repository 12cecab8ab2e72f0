using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Numerics;
using System.Text.Json;
using KernelGen.IO;

namespace KernelGen.Interop;

/// <summary>
/// Saves and loads a network's weights in the safetensors format (huggingface/safetensors, README "Format"): 8 bytes N
/// (little-endian uint64), then N bytes of UTF-8 JSON mapping each tensor name to <c>{"dtype", "shape", "data_offsets":
/// [begin, end]}</c> (offsets into the byte buffer that follows, end exclusive) plus an optional <c>"__metadata__"</c>
/// string-to-string map, then the byte buffer (little-endian, C order). Names and shapes are those of
/// <see cref="WeightLayout"/>; dtype <c>F32</c> for float networks, <c>F64</c> for double networks. The metadata holds
/// <c>format</c> = <c>pt</c>, <c>kernelgen.fingerprint</c> (the network's <see cref="INeuralNetwork{T}.Fingerprint"/>, hex)
/// and <c>kernelgen.network</c> (its type). The header is padded with spaces to a multiple of 8 bytes, so every tensor
/// starts 8-byte aligned.
/// </summary>
public static partial class SafeTensors
{
    /// <summary>The largest header accepted (the reference implementation's limit against denial of service).</summary>
    private const long MaxHeaderLength = 100_000_000;

    /// <summary>Writes <paramref name="network"/>'s weights to <paramref name="destination"/> (left open).</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable.</exception>
    /// <exception cref="NotSupportedException">The network's element type or a layer kind has no weight-file mapping.</exception>
    public static void Save<T>(INeuralNetwork<T> network, Stream destination)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite) throw new ArgumentException("The destination stream is not writable.", nameof(destination));
        List<WeightLayout.Entry> entries = WeightLayout.Entries(network);
        FileElementType type = TensorCodec.Of<T>();
        int size = TensorCodec.SizeOf(type);

        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("__metadata__");
            writer.WriteString("format", "pt");
            writer.WriteString("kernelgen.fingerprint", "0x" + network.Fingerprint.ToString("X16", CultureInfo.InvariantCulture));
            writer.WriteString("kernelgen.network", network.GetType().FullName ?? network.GetType().Name);
            writer.WriteEndObject();
            long offset = 0;
            foreach (WeightLayout.Entry entry in entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", type == FileElementType.Float32 ? "F32" : "F64");
                writer.WriteStartArray("shape");
                foreach (int dim in entry.Shape) writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += (long)entry.Length * size;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int padding = (8 - json.WrittenCount % 8) % 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)(json.WrittenCount + padding));
        destination.Write(prefix);
        destination.Write(json.WrittenSpan);
        for (int i = 0; i < padding; i++) destination.WriteByte((byte)' ');
        foreach (WeightLayout.Entry entry in entries)
        {
            var values = new T[entry.Length];
            WeightLayout.Gather(network, entry, values);
            byte[] data = new byte[values.Length * size];
            TensorCodec.Encode<T>(values, data);
            destination.Write(data);
        }
    }

    /// <summary>Writes <paramref name="network"/>'s weights to the file <paramref name="path"/> atomically (a temporary file in
    /// the same directory replaces it once complete, and the rename is flushed to disk where the operating system allows;
    /// stale temporary files of killed saves are removed first).</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public static void Save<T>(INeuralNetwork<T> network, string path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        WeightLayout.Entries(network); // fail before touching the file system
        using AtomicFile file = AtomicFile.Create(path);
        Save(network, file.Stream);
        file.Commit();
    }

    /// <summary>
    /// Loads weights in the safetensors format into <paramref name="network"/>: parameters and BatchNorm running
    /// statistics. All or nothing: the header and every tensor are validated (JSON, names, shapes, dtypes, offsets that
    /// tile the byte buffer exactly) and read before the first value is written, so on any exception the network is
    /// unchanged. F32 and F64 tensors load into either network type (F64 → float rounds to nearest). Every value must be
    /// finite (NaN, ±∞ and float64 values beyond the float range of a float network are rejected). The metadata is not
    /// required; the fingerprint, when present, is not checked (names and shapes decide compatibility).
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">The data is truncated, the header is not valid UTF-8 JSON of the expected
    /// form, a tensor is missing, unexpected, repeated, has another shape or an unsupported dtype, the offsets are wrong,
    /// or a value is not finite.</exception>
    public static void Load<T>(INeuralNetwork<T> network, Stream source)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(source);
        if (!source.CanRead) throw new ArgumentException("The source stream is not readable.", nameof(source));
        List<WeightLayout.Entry> entries = WeightLayout.Entries(network);
        var expected = new Dictionary<string, WeightLayout.Entry>(StringComparer.Ordinal);
        foreach (WeightLayout.Entry entry in entries) expected.Add(entry.Name, entry);

        List<TensorRecord> records = ParseHeader(ReadHeader(source), lenient: false);
        // Names first (the clearest message when the file belongs to another network), then shapes.
        var unexpected = new List<string>();
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorRecord record in records)
        {
            if (expected.ContainsKey(record.Name)) found.Add(record.Name);
            else unexpected.Add(record.Name);
        }
        if (unexpected.Count > 0)
            throw new InvalidDataException($"The file holds tensors the network has none of: {string.Join(", ", unexpected)}.");
        var missing = new List<string>();
        foreach (string name in expected.Keys) if (!found.Contains(name)) missing.Add(name);
        if (missing.Count > 0) throw new InvalidDataException($"The file lacks tensors of the network: {string.Join(", ", missing)}.");
        foreach (TensorRecord record in records)
        {
            WeightLayout.Entry entry = expected[record.Name];
            if (!ShapeEquals(record.Shape, entry.Shape))
                throw new InvalidDataException($"{record.Name}: shape [{string.Join(", ", record.Shape)}] does not match the network's [{string.Join(", ", entry.Shape)}].");
        }

        // The offsets must tile the byte buffer [0, end) exactly, in some order (no gaps, no overlaps).
        records.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long position = 0;
        foreach (TensorRecord record in records)
        {
            if (record.Begin != position) throw new InvalidDataException($"{record.Name}: data_offsets begin at {record.Begin}, expected {position} (gap or overlap).");
            long bytes = (long)expected[record.Name].Length * TensorCodec.SizeOf(record.Type);
            if (record.End - record.Begin != bytes)
                throw new InvalidDataException($"{record.Name}: data_offsets span {record.End - record.Begin} bytes but {record.Type} [{string.Join(", ", record.Shape)}] takes {bytes}.");
            position = record.End;
        }
        if (source.CanSeek)
        {
            long remaining = source.Length - source.Position;
            if (remaining < position) throw new InvalidDataException($"The safetensors byte buffer is truncated: the header describes {position} bytes but {remaining} follow.");
            if (remaining > position) throw new InvalidDataException($"The safetensors byte buffer holds {remaining} bytes but the header describes {position} (trailing bytes).");
        }
        byte[] buffer = new byte[position];
        TensorCodec.ReadExactly(source, buffer, "The safetensors byte buffer");
        TensorCodec.ExpectEnd(source, "The safetensors byte buffer");

        var staged = new Dictionary<string, T[]>(StringComparer.Ordinal);
        foreach (TensorRecord record in records)
        {
            var values = new T[expected[record.Name].Length];
            TensorCodec.Decode<T>(buffer.AsSpan((int)record.Begin, (int)(record.End - record.Begin)), record.Type, bigEndian: false, values, record.Name);
            staged.Add(record.Name, values);
        }
        foreach (WeightLayout.Entry entry in entries) WeightLayout.Scatter<T>(network, entry, staged[entry.Name]);
    }

    /// <summary>Loads weights from the file <paramref name="path"/>; see <see cref="Load{T}(INeuralNetwork{T}, Stream)"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static void Load<T>(INeuralNetwork<T> network, string path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.RemoveStaleTemporaries(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Load(network, file);
    }

    /// <summary>Reads the 8-byte length and the JSON header it announces (checked against the stream's length when known).</summary>
    private static byte[] ReadHeader(Stream source)
    {
        Span<byte> prefix = stackalloc byte[8];
        TensorCodec.ReadExactly(source, prefix, "The safetensors data");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderLength) throw new InvalidDataException($"The safetensors header claims {headerLength} bytes (at most {MaxHeaderLength} accepted).");
        bool checkedLength = source.CanSeek;
        if (checkedLength && (long)headerLength > source.Length - source.Position)
            throw new InvalidDataException($"The safetensors data is truncated: the header claims {headerLength} bytes but {source.Length - source.Position} follow.");
        // On a stream of unknown length the header grows with the bytes that arrive: a corrupt length cannot allocate 100 MB.
        byte[] header = BoundedRead.ReadUpTo(source, (int)headerLength, trusted: checkedLength, out int got);
        if (got < (int)headerLength)
            throw new InvalidDataException($"The safetensors header is truncated: it claims {headerLength} bytes, but the data ends after {got}.");
        return header;
    }

    /// <summary>One tensor record of the header. <see cref="UnsupportedDType"/> is set (and <see cref="Type"/> meaningless)
    /// for a dtype KernelGen does not read, which only a lenient parse accepts.</summary>
    private sealed record TensorRecord(string Name, FileElementType Type, long[] Shape, long Begin, long End)
    {
        public string? UnsupportedDType { get; init; }
    }

    private static bool ShapeEquals(long[] actual, int[] expected)
    {
        if (actual.Length != expected.Length) return false;
        for (int i = 0; i < actual.Length; i++) if (actual[i] != expected[i]) return false;
        return true;
    }

    /// <summary>Parses and checks the header's form: a JSON object of tensor records (dtype string, shape array of
    /// non-negative integers, data_offsets [begin, end] with begin ≤ end) and an optional string-to-string __metadata__;
    /// no duplicate keys, no other fields. A <paramref name="lenient"/> parse accepts any dtype string (see
    /// <see cref="TensorRecord.UnsupportedDType"/>), for files whose other tensors are not read.</summary>
    private static List<TensorRecord> ParseHeader(byte[] header, bool lenient)
    {
        // JsonDocument checks UTF-8 only when a string is read, and then throws InvalidOperationException: check it first.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new InvalidDataException($"The safetensors header is not valid UTF-8 (at byte {InvalidUtf8Offset(header)} of the header); the file is corrupt.");
        try
        {
            return ParseValidatedHeader(header, lenient);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"The safetensors header is malformed: {e.Message}", e);
        }
    }

    private static int InvalidUtf8Offset(byte[] header)
    {
        System.Buffers.OperationStatus status = System.Text.Unicode.Utf8.ToUtf16(header, new char[header.Length], out int read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? header.Length : read;
    }

    private static List<TensorRecord> ParseValidatedHeader(byte[] header, bool lenient)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The safetensors header is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException("The safetensors header is not a JSON object.");
            var records = new List<TensorRecord>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw new InvalidDataException($"The safetensors header has the key {property.Name} twice.");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException("__metadata__ is not a JSON object.");
                    foreach (JsonProperty item in property.Value.EnumerateObject())
                        if (item.Value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"__metadata__.{item.Name} is not a string.");
                    continue;
                }
                records.Add(ParseRecord(property.Name, property.Value, lenient));
            }
            return records;
        }
    }

    private static TensorRecord ParseRecord(string name, JsonElement value, bool lenient)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{name}: the tensor record is not a JSON object.");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (JsonProperty field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null:
                    if (field.Value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{name}: dtype is not a string.");
                    dtype = field.Value.GetString()!;
                    break;
                case "shape" when shape is null: shape = ReadIntegers(name, "shape", field.Value); break;
                case "data_offsets" when offsets is null: offsets = ReadIntegers(name, "data_offsets", field.Value); break;
                default: throw new InvalidDataException($"{name}: unexpected or repeated field {field.Name}.");
            }
        }
        if (dtype is null || shape is null || offsets is null) throw new InvalidDataException($"{name}: the tensor record needs dtype, shape and data_offsets.");
        bool supported = dtype is "F32" or "F64";
        if (!supported && !lenient) throw new InvalidDataException($"{name}: dtype {dtype} is not supported (F32 or F64).");
        if (offsets.Length != 2 || offsets[0] > offsets[1]) throw new InvalidDataException($"{name}: data_offsets must be [begin, end] with begin ≤ end.");
        FileElementType type = dtype == "F64" ? FileElementType.Float64 : FileElementType.Float32;
        return new TensorRecord(name, type, shape, offsets[0], offsets[1]) { UnsupportedDType = supported ? null : dtype };
    }

    private static long[] ReadIntegers(string name, string field, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{name}: {field} is not an array.");
        var result = new long[value.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long number) || number < 0)
                throw new InvalidDataException($"{name}: {field} holds {item.GetRawText()}, not a non-negative integer.");
            result[i++] = number;
        }
        return result;
    }
}
