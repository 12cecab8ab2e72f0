using System;
using System.Buffers.Binary;
using System.IO;
using KernelGen.IO;

namespace KernelGen.Preprocessing;

/// <summary>
/// Loads transforms saved by <see cref="IFeatureTransform.Save"/>. The format is little-endian:
/// <code>
/// offset  size  field
///      0     4  magic "KGFT"
///      4     4  version (1)
///      8     4  kind (1 ZeroCenter, 2 Standardize, 3 Pca, 4 Whitening, 5 TransformPipeline)
///     12     8  payload length L
///     20     L  payload (kind-specific: int32 sizes, then float32 / float64 arrays)
///   20+L     4  CRC-32C (Castagnoli, shared with checkpoints) of bytes [8, 20 + L)
/// </code>
/// Records may be concatenated in one stream; <see cref="Load(Stream)"/> reads exactly one.
/// </summary>
public static class FeatureTransform
{
    internal const int Version = 1;
    internal const int KindZeroCenter = 1;
    internal const int KindStandardize = 2;
    internal const int KindPca = 3;
    internal const int KindWhitening = 4;
    internal const int KindPipeline = 5;

    /// <summary>The largest payload accepted (a guard against corrupt length fields).</summary>
    internal const long MaxPayload = int.MaxValue - 64;

    private const int HeaderSize = 20;
    private const int MaxNesting = 16;
    private static ReadOnlySpan<byte> Magic => "KGFT"u8;

    /// <summary>Reads one transform from <paramref name="stream"/> (left open, positioned after the record).</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt (CRC mismatch), of an unknown kind or version, or inconsistent.</exception>
    public static IFeatureTransform Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return LoadNested(stream, 0);
    }

    /// <summary>
    /// Loads the transform in the file <paramref name="path"/>, which must hold exactly one record (as written by
    /// <see cref="Save(IFeatureTransform, string)"/>). Stale temporary files of killed saves of that file are removed first.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, of an unknown kind or version, inconsistent,
    /// or has bytes after its record; the message names the file.</exception>
    public static IFeatureTransform Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        AtomicFile.RemoveStaleTemporaries(fullPath);
        using var file = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            IFeatureTransform transform = LoadNested(file, 0);
            if (file.Position != file.Length)
                throw new InvalidDataException($"has {file.Length - file.Position} unexpected bytes after its record");
            return transform;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"The feature transform file '{fullPath}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes <paramref name="transform"/> to the file <paramref name="path"/> atomically: through a temporary file in the
    /// same directory, flushed to disk and renamed over <paramref name="path"/> (the rename is flushed too where the
    /// operating system allows), so a crash mid-save leaves the previous file intact. The directory must exist.
    /// </summary>
    public static void Save(IFeatureTransform transform, string path)
    {
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using AtomicFile file = AtomicFile.Create(path);
        transform.Save(file.Stream);
        file.Commit();
    }

    internal static IFeatureTransform LoadNested(Stream stream, int depth)
    {
        if (depth > MaxNesting) throw new InvalidDataException($"Transform pipelines are nested more than {MaxNesting} deep; the data is corrupt.");
        Span<byte> header = stackalloc byte[HeaderSize];
        ReadExactly(stream, header, "header");
        if (!header.Slice(0, 4).SequenceEqual(Magic))
            throw new InvalidDataException("Not a KernelGen feature transform: the magic bytes are not \"KGFT\".");
        int version = BinaryPrimitives.ReadInt32LittleEndian(header.Slice(4));
        if (version != Version)
            throw new InvalidDataException($"Feature transform format version {version} is not supported (this library reads version {Version}).");
        int kind = BinaryPrimitives.ReadInt32LittleEndian(header.Slice(8));
        if (kind < KindZeroCenter || kind > KindPipeline)
            throw new InvalidDataException($"Unknown feature transform kind {kind}.");
        long length = BinaryPrimitives.ReadInt64LittleEndian(header.Slice(12));
        if (length < 0 || length > MaxPayload)
            throw new InvalidDataException($"Feature transform payload length {length} is impossible; the data is corrupt.");
        bool checkedLength = stream.CanSeek;
        if (checkedLength && stream.Length - stream.Position < length + 4)
            throw new InvalidDataException($"Truncated feature transform: the payload needs {length + 4} more bytes but the stream has {stream.Length - stream.Position}.");

        // On a stream of unknown length the payload grows with the bytes that arrive: a corrupt length cannot allocate 2 GiB.
        byte[] payload = BoundedRead.ReadUpTo(stream, (int)length, trusted: checkedLength, out int got);
        if (got < length) throw new InvalidDataException($"Truncated feature transform: the payload ends after {got} of {length} bytes.");
        Span<byte> crcBytes = stackalloc byte[4];
        ReadExactly(stream, crcBytes, "checksum");
        uint crc = Checkpoints.Crc32C.Append(Checkpoints.Crc32C.Compute(header.Slice(8)), payload);
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(crcBytes))
            throw new InvalidDataException("Feature transform checksum mismatch: the data is corrupt.");

        var reader = new PayloadReader(payload);
        IFeatureTransform result = kind switch
        {
            KindZeroCenter => ZeroCenter.Read(ref reader),
            KindStandardize => Standardize.Read(ref reader),
            KindPca => Pca.Read(ref reader),
            KindWhitening => Whitening.Read(ref reader),
            _ => TransformPipeline.Read(payload, depth),
        };
        if (kind != KindPipeline) reader.EnsureEnd();
        return result;
    }

    /// <summary>Writes a record: header, the payload produced by <paramref name="writePayload"/>, and the CRC.</summary>
    internal static void Write(Stream stream, int kind, Action<BinaryWriter> writePayload)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var payloadStream = new MemoryStream();
        using (var writer = new BinaryWriter(payloadStream, System.Text.Encoding.UTF8, leaveOpen: true)) writePayload(writer);
        ReadOnlySpan<byte> payload = payloadStream.GetBuffer().AsSpan(0, (int)payloadStream.Length);

        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.Slice(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(header.Slice(8), kind);
        BinaryPrimitives.WriteInt64LittleEndian(header.Slice(12), payload.Length);
        uint crc = Checkpoints.Crc32C.Append(Checkpoints.Crc32C.Compute(header.Slice(8)), payload);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crcBytes, crc);
        stream.Write(header);
        stream.Write(payload);
        stream.Write(crcBytes);
    }

    internal static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        foreach (float v in values) writer.Write(v);
    }

    internal static void WriteDoubles(BinaryWriter writer, ReadOnlySpan<double> values)
    {
        foreach (double v in values) writer.Write(v);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string part)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer.Slice(total));
            if (n == 0) throw new InvalidDataException($"Truncated feature transform: the {part} ends after {total} of {buffer.Length} bytes.");
            total += n;
        }
    }

    /// <summary>
    /// Validates the arguments of <see cref="IFeatureTransform.Apply(ReadOnlySpan{float}, Span{float}, int)"/>: a
    /// non-negative count, long enough spans, and no overlap other than the same first element.
    /// </summary>
    internal static void CheckApply(int inputFeatures, int outputFeatures, ReadOnlySpan<float> input, ReadOnlySpan<float> output, int count)
    {
        if (count < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, "The row count must not be negative.");
        long needIn = (long)count * inputFeatures, needOut = (long)count * outputFeatures;
        if (input.Length < needIn)
            throw new ArgumentException($"'{nameof(input)}' has length {input.Length}, but {count} rows of {inputFeatures} need {needIn}.", nameof(input));
        if (output.Length < needOut)
            throw new ArgumentException($"'{nameof(output)}' has length {output.Length}, but {count} rows of {outputFeatures} need {needOut}.", nameof(output));
        if (input.Overlaps(output, out int offset))
        {
            if (offset != 0)
                throw new ArgumentException("The input and output overlap; they must be the same memory (same first element) or disjoint.", nameof(output));
            if (outputFeatures > inputFeatures)
                throw new ArgumentException($"In-place use needs output rows ({outputFeatures}) no wider than input rows ({inputFeatures}).", nameof(output));
        }
    }
}

/// <summary>A bounds-checked little-endian reader over a payload; every failure is an <see cref="InvalidDataException"/>.</summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public PayloadReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Remaining => _data.Length - _position;

    public int ReadInt32()
    {
        Need(4, "an int32");
        int value = BinaryPrimitives.ReadInt32LittleEndian(_data.Slice(_position));
        _position += 4;
        return value;
    }

    /// <summary>Reads a size that must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int ReadSize(string what, int min, int max)
    {
        int value = ReadInt32();
        if (value < min || value > max)
            throw new InvalidDataException($"Feature transform field '{what}' is {value}; it must lie in [{min}, {max}]. The data is corrupt.");
        return value;
    }

    public double ReadDouble()
    {
        Need(8, "a float64");
        double value = BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(_position));
        _position += 8;
        return value;
    }

    public float[] ReadFloats(long count, string what)
    {
        Need(count * 4, what);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_position));
            _position += 4;
            if (!float.IsFinite(values[i])) throw new InvalidDataException($"Feature transform field '{what}' holds a non-finite value at {i}.");
        }
        return values;
    }

    public double[] ReadDoubles(long count, string what)
    {
        Need(count * 8, what);
        var values = new double[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(_position));
            _position += 8;
            if (!double.IsFinite(values[i])) throw new InvalidDataException($"Feature transform field '{what}' holds a non-finite value at {i}.");
        }
        return values;
    }

    public readonly void EnsureEnd()
    {
        if (Remaining != 0) throw new InvalidDataException($"Feature transform payload has {Remaining} unexpected trailing bytes; the data is corrupt.");
    }

    private readonly void Need(long bytes, string what)
    {
        if (bytes > Remaining)
            throw new InvalidDataException($"Truncated feature transform payload: '{what}' needs {bytes} bytes but only {Remaining} remain.");
    }
}
