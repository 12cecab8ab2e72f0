using System;
using System.IO;
using KernelGen.IO;

namespace KernelGen.Data;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: a big-endian magic number <c>00 00 TT NN</c> (TT the data
/// type code, NN the number of dimensions), NN big-endian int32 dimension sizes, then the values in row-major order.
/// Only unsigned bytes (TT = 0x08) are supported: images are 3-dimensional (magic 0x00000803: count, rows, columns)
/// and labels 1-dimensional (magic 0x00000801). Files may be plain or gzip-compressed (detected by the gzip magic
/// 1F 8B, whatever the file name).
/// </summary>
/// <remarks>
/// Headers are validated before anything is allocated: sizes must be positive, at most <see cref="MaxElements"/>
/// values in all, and no larger than the stream can hold (for a plain stream of known length: exactly the header plus
/// the data; for a gzip stream of known length: at most the 1032:1 expansion limit of DEFLATE). Where the stream's
/// length is unknown (a pipe, or gzip), the data buffer grows with the bytes that actually arrive, so a header that
/// claims far more than the stream holds fails after allocating about twice what was there. Gzip files are read to
/// the end of each member and its trailer's CRC-32 and length are checked against the decompressed bytes; several
/// members concatenate, and anything after the last member is rejected. Every problem is an
/// <see cref="InvalidDataException"/> whose message names the file and what is wrong (for example "gzip CRC mismatch").
/// </remarks>
public static class Idx
{
    /// <summary>The magic number of an unsigned-byte 3-dimensional IDX file (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic number of an unsigned-byte 1-dimensional IDX file (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>The largest number of values accepted from one file (1 GiB of bytes), a guard against corrupt headers.</summary>
    public const long MaxElements = 1L << 30;

    /// <summary>The largest size accepted for a single image dimension.</summary>
    public const int MaxImageSide = 1 << 16;

    private const byte UnsignedByteType = 0x08;

    /// <summary>DEFLATE cannot expand data by more than about 1032:1; a gzip file of n bytes cannot hold more.</summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>Reads an image file (magic 0x00000803): [count × rows × columns] unsigned bytes.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed unsigned-byte 3-dimensional IDX file.</exception>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        using FileStream stream = OpenFile(path);
        return ReadImages(stream, path);
    }

    /// <summary>Reads an image file (magic 0x00000803) from <paramref name="stream"/>, which is left open.</summary>
    /// <param name="stream">The plain or gzip-compressed IDX data.</param>
    /// <param name="name">The name used in error messages (a file name).</param>
    /// <exception cref="InvalidDataException">The data is not a well-formed unsigned-byte 3-dimensional IDX file.</exception>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(Stream stream, string name = "stream")
    {
        (byte[] data, int[] dims) = Read(stream, name, 3, "images");
        return (data, dims[0], dims[1], dims[2]);
    }

    /// <summary>
    /// Reads an image file and its label file (MNIST and Fashion-MNIST style, plain or gzip) into a <see cref="Dataset"/>:
    /// features are pixel / 255 in [0, 1] with image shape [1 × rows × columns], labels are the label bytes.
    /// </summary>
    /// <param name="imagesPath">The images (magic 0x00000803).</param>
    /// <param name="labelsPath">The labels (magic 0x00000801), one per image.</param>
    /// <param name="classCount">The number of classes (labels must be below it), or 0 to take the largest label + 1.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt, the counts differ, or a label is not below <paramref name="classCount"/>.</exception>
    public static Dataset ReadDataset(string imagesPath, string labelsPath, int classCount = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classCount);
        (byte[] pixels, int count, int rows, int columns) = ReadImages(imagesPath);
        byte[] labelBytes = ReadLabels(labelsPath);
        if (labelBytes.Length != count)
            throw new InvalidDataException($"{imagesPath} holds {count} images but {labelsPath} holds {labelBytes.Length} labels; the counts must match.");
        var labels = new int[count];
        int classes = classCount;
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labelBytes[i];
            if (classCount > 0 && label >= classCount)
                throw new InvalidDataException($"{labelsPath}: label {i} is {label}; labels must be in [0, {classCount}).");
            labels[i] = label;
            if (classCount == 0) classes = Math.Max(classes, label + 1);
        }
        // A 256-entry table gives exactly pixel / 255f per byte without a division per pixel.
        Span<float> table = stackalloc float[256];
        for (int v = 0; v < table.Length; v++) table[v] = v / 255f;
        var features = new float[pixels.Length];
        for (int i = 0; i < features.Length; i++) features[i] = table[pixels[i]];
        return new Dataset(features, labels, 1, rows, columns, classes);
    }

    /// <summary>Reads a label file (magic 0x00000801): one unsigned byte per sample.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed unsigned-byte 1-dimensional IDX file.</exception>
    public static byte[] ReadLabels(string path)
    {
        using FileStream stream = OpenFile(path);
        return ReadLabels(stream, path);
    }

    /// <summary>Reads a label file (magic 0x00000801) from <paramref name="stream"/>, which is left open.</summary>
    /// <param name="stream">The plain or gzip-compressed IDX data.</param>
    /// <param name="name">The name used in error messages (a file name).</param>
    /// <exception cref="InvalidDataException">The data is not a well-formed unsigned-byte 1-dimensional IDX file.</exception>
    public static byte[] ReadLabels(Stream stream, string name = "stream") => Read(stream, name, 1, "labels").Data;

    private static FileStream OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
    }

    private static (byte[] Data, int[] Dims) Read(Stream stream, string name, int expectedDims, string what)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));

        // Peek at the first two bytes for the gzip magic, without requiring a seekable stream.
        var prefix = new byte[2];
        int prefixLength = ReadFully(stream, prefix, name);
        long remaining = stream.CanSeek ? stream.Length - stream.Position + prefixLength : -1;
        bool gzip = prefixLength == 2 && prefix[0] == 0x1F && prefix[1] == 0x8B;
        Stream source = new PrefixedStream(prefix.AsSpan(0, prefixLength).ToArray(), stream);
        long maxBytes = remaining < 0 ? -1 : gzip ? remaining * MaxDeflateRatio : remaining;
        long gzipSize = gzip ? TrailerSize(stream, remaining - prefixLength) : -1;
        if (gzip) source = new GzipReader(source, name);
        try
        {
            return ReadBody(source, name, expectedDims, what, maxBytes, exactLength: !gzip, gzipSize);
        }
        finally
        {
            if (gzip) source.Dispose();
        }
    }

    /// <summary>
    /// The ISIZE field (decompressed length mod 2³²) of the gzip trailer at the end of a seekable stream with
    /// <paramref name="remaining"/> bytes after its position, or −1. Only a hint for sizing the buffer: when it agrees with
    /// the IDX header the data is read into one exact allocation; the member's own trailer check still decides.
    /// </summary>
    private static long TrailerSize(Stream stream, long remaining)
    {
        if (!stream.CanSeek || remaining < 8) return -1;
        long position = stream.Position;
        Span<byte> isize = stackalloc byte[4];
        try
        {
            stream.Seek(-4, SeekOrigin.End);
            return ReadFully(stream, isize, "") == 4 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(isize) : -1;
        }
        finally
        {
            stream.Position = position;
        }
    }

    private static (byte[] Data, int[] Dims) ReadBody(Stream source, string name, int expectedDims, string what, long maxBytes, bool exactLength, long gzipSize)
    {
        var header = new byte[4];
        int got = ReadFully(source, header, name);
        if (got < 4) throw new InvalidDataException($"{name}: truncated IDX header: {got} of 4 magic bytes present.");
        int magic = (header[0] << 24) | (header[1] << 16) | (header[2] << 8) | header[3];
        int expectedMagic = expectedDims == 3 ? ImagesMagic : LabelsMagic;
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException($"{name}: not an IDX file: magic number 0x{magic:X8} does not start with two zero bytes (expected 0x{expectedMagic:X8} for {what}).");
        if (header[2] != UnsignedByteType)
            throw new InvalidDataException($"{name}: IDX data type code 0x{header[2]:X2} ({TypeName(header[2])}) is not supported; only unsigned bytes (0x08) are (magic 0x{magic:X8}, expected 0x{expectedMagic:X8} for {what}).");
        if (header[3] != expectedDims)
            throw new InvalidDataException($"{name}: IDX file has {header[3]} dimension(s) (magic 0x{magic:X8}), but {what} need {expectedDims} (magic 0x{expectedMagic:X8}).");

        var dimBytes = new byte[4 * expectedDims];
        got = ReadFully(source, dimBytes, name);
        if (got < dimBytes.Length) throw new InvalidDataException($"{name}: truncated IDX header: {got} of {dimBytes.Length} dimension bytes present.");
        var dims = new int[expectedDims];
        long total = 1;
        for (int i = 0; i < expectedDims; i++)
        {
            int dim = (dimBytes[4 * i] << 24) | (dimBytes[4 * i + 1] << 16) | (dimBytes[4 * i + 2] << 8) | dimBytes[4 * i + 3];
            if (dim < 0) throw new InvalidDataException($"{name}: IDX dimension {i} has the impossible size {(uint)dim}.");
            if (i > 0 && (dim == 0 || dim > MaxImageSide))
                throw new InvalidDataException($"{name}: IDX dimension {i} (image side) is {dim}; it must be in [1, {MaxImageSide}].");
            dims[i] = dim;
            total *= dim;
            if (total > MaxElements)
                throw new InvalidDataException($"{name}: IDX dimensions {FormatDims(dimBytes, expectedDims)} describe more than {MaxElements} values; the header is corrupt or the file too large.");
        }

        long headerBytes = 4 + 4L * expectedDims;
        if (maxBytes >= 0)
        {
            if (exactLength && maxBytes < headerBytes + total)
                throw new InvalidDataException($"{name}: truncated IDX file: dimensions {FormatDims(dimBytes, expectedDims)} need {total} data bytes, but only {maxBytes - headerBytes} follow the header.");
            if (!exactLength && maxBytes < headerBytes + total)
                throw new InvalidDataException($"{name}: IDX dimensions {FormatDims(dimBytes, expectedDims)} need {total} data bytes, more than the compressed file can hold.");
        }

        // A plain stream of known length was checked to hold the data: allocate it. Otherwise (gzip, or a stream without a
        // length) the buffer grows with the bytes that arrive, so a header claiming 1 GiB over a short stream fails fast.
        // A gzip trailer announcing exactly the header's size (and within the expansion bound) is trusted for sizing.
        bool verified = (exactLength && maxBytes >= 0) || (gzipSize == ((headerBytes + total) & 0xFFFF_FFFF) && maxBytes >= headerBytes + total);
        byte[] data = BoundedRead.ReadUpTo(source, (int)total, trusted: verified, out got,
            ex => new InvalidDataException($"{name}: read failed: {ex.Message}", ex));
        if (got < total)
            throw new InvalidDataException($"{name}: truncated IDX file: dimensions {FormatDims(dimBytes, expectedDims)} need {total} data bytes, but only {got} are present.");
        Span<byte> probe = stackalloc byte[1];
        if (ReadOnce(source, probe, name) != 0)
            throw new InvalidDataException($"{name}: unexpected data after the {total} values described by the IDX header {FormatDims(dimBytes, expectedDims)}.");
        return (data, dims);
    }

    private static string FormatDims(byte[] dimBytes, int count)
    {
        var parts = new string[count];
        for (int i = 0; i < count; i++)
            parts[i] = ((uint)((dimBytes[4 * i] << 24) | (dimBytes[4 * i + 1] << 16) | (dimBytes[4 * i + 2] << 8) | dimBytes[4 * i + 3])).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(" × ", parts) + "]";
    }

    private static string TypeName(byte code) => code switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "unknown",
    };

    private static int ReadFully(Stream stream, Span<byte> buffer, string name)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = ReadOnce(stream, buffer.Slice(total), name);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static int ReadOnce(Stream stream, Span<byte> buffer, string name)
    {
        try
        {
            return stream.Read(buffer);
        }
        catch (IOException ex) when (ex is not FileNotFoundException)
        {
            throw new InvalidDataException($"{name}: read failed: {ex.Message}", ex);
        }
    }
}
