using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Numerics;
using KernelGen.IO;

namespace KernelGen.Interop;

/// <summary>
/// Saves and loads a network's weights as a NumPy <c>.npz</c> archive: a zip of one <c>.npy</c> (format 1.0) file per
/// tensor, named and shaped as <see cref="WeightLayout"/> describes (<c>Dense1.weight.npy</c> [out × in], …), dtype
/// <c>&lt;f4</c> for float networks and <c>&lt;f8</c> for double networks, C order. <c>numpy.load(path)</c> returns a mapping
/// from those names (without <c>.npy</c>) to arrays, so <c>{k: torch.from_numpy(v) for k, v in np.load(path).items()}</c> is a
/// PyTorch <c>state_dict</c> for modules named like the KernelGen layers.
/// </summary>
public static class Npz
{
    // Fixed entry timestamp (the zip epoch): the same weights give the same bytes.
    private static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Writes <paramref name="network"/>'s weights to <paramref name="destination"/> (left open).</summary>
    /// <param name="network">The network.</param>
    /// <param name="destination">A writable stream.</param>
    /// <param name="compress">Deflate the entries (like <c>numpy.savez_compressed</c>); by default they are stored (like <c>numpy.savez</c>).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable.</exception>
    /// <exception cref="NotSupportedException">The network's element type or a layer kind has no weight-file mapping.</exception>
    public static void Save<T>(INeuralNetwork<T> network, Stream destination, bool compress = false)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite) throw new ArgumentException("The destination stream is not writable.", nameof(destination));
        List<WeightLayout.Entry> entries = WeightLayout.Entries(network);
        FileElementType type = TensorCodec.Of<T>();
        using var archive = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        foreach (WeightLayout.Entry entry in entries)
        {
            var values = new T[entry.Length];
            WeightLayout.Gather(network, entry, values);
            byte[] header = Npy.Header(type, entry.Shape);
            byte[] data = new byte[values.Length * TensorCodec.SizeOf(type)];
            TensorCodec.Encode<T>(values, data);
            ZipArchiveEntry zipEntry = archive.CreateEntry(entry.Name + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            zipEntry.LastWriteTime = EntryTime;
            using Stream stream = zipEntry.Open();
            stream.Write(header);
            stream.Write(data);
        }
    }

    /// <summary>Writes <paramref name="network"/>'s weights to the file <paramref name="path"/> atomically (a temporary file in
    /// the same directory replaces it once complete, and the rename is flushed to disk where the operating system allows;
    /// stale temporary files of killed saves are removed first).</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public static void Save<T>(INeuralNetwork<T> network, string path, bool compress = false)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        WeightLayout.Entries(network); // fail before touching the file system
        using AtomicFile file = AtomicFile.Create(path);
        Save(network, file.Stream, compress);
        file.Commit();
    }

    /// <summary>
    /// Loads weights saved by <see cref="Save{T}(INeuralNetwork{T}, Stream, bool)"/> (or written by numpy with the same names)
    /// into <paramref name="network"/>: parameters and BatchNorm running statistics. All or nothing: every entry is read and
    /// validated (names, shapes, dtype, sizes, the entry's CRC-32 against the archive's, every value finite) before the
    /// first value is written, so on any exception the network is unchanged. float32 and float64 arrays load into either
    /// network type (float64 → float rounds to nearest; a value beyond the float range is rejected as non-finite).
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">The archive is corrupt or truncated (an entry's data does not match its CRC-32
    /// or size), an entry is not a valid .npy array, a tensor is missing, unexpected, repeated, or has another shape or an
    /// unsupported dtype, or a value is NaN or ±∞.</exception>
    public static void Load<T>(INeuralNetwork<T> network, Stream source)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(source);
        if (!source.CanRead) throw new ArgumentException("The source stream is not readable.", nameof(source));
        List<WeightLayout.Entry> entries = WeightLayout.Entries(network);
        var expected = new Dictionary<string, WeightLayout.Entry>(StringComparer.Ordinal);
        foreach (WeightLayout.Entry entry in entries) expected.Add(entry.Name + ".npy", entry);

        ZipArchive archive;
        try
        {
            archive = new ZipArchive(source, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (Exception e) when (IsArchiveFailure(e))
        {
            throw new InvalidDataException($"Not a valid .npz (zip) archive: {e.Message}", e);
        }
        var staged = new Dictionary<string, T[]>(StringComparer.Ordinal);
        using (archive)
        {
            // Names first (cheap, and the clearest message when the file belongs to another network), then contents.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var unexpected = new List<string>();
            foreach (ZipArchiveEntry zipEntry in archive.Entries)
            {
                if (!expected.ContainsKey(zipEntry.FullName)) unexpected.Add(zipEntry.FullName);
                else if (!seen.Add(zipEntry.FullName)) throw new InvalidDataException($"The archive holds {zipEntry.FullName} twice.");
            }
            if (unexpected.Count > 0)
                throw new InvalidDataException($"The archive holds entries the network has no tensor for: {string.Join(", ", unexpected)}.");
            var missing = new List<string>();
            foreach (string name in expected.Keys) if (!seen.Contains(name)) missing.Add(name);
            if (missing.Count > 0) throw new InvalidDataException($"The archive lacks tensors of the network: {string.Join(", ", missing)}.");

            foreach (ZipArchiveEntry zipEntry in archive.Entries)
            {
                string name = zipEntry.FullName;
                WeightLayout.Entry entry = expected[name];
                // Bound the uncompressed size before inflating anything (a header plus the data at 8 bytes per value).
                long limit = 65536 + 16 + (long)entry.Length * sizeof(double);
                if (zipEntry.Length > limit)
                    throw new InvalidDataException($"{name}: {zipEntry.Length} bytes is more than a {string.Join(" × ", entry.Shape)} array can take.");
                byte[] bytes = Extract(zipEntry, limit);
                if (bytes.Length != zipEntry.Length)
                    throw new InvalidDataException($"{name}: the entry holds {(bytes.Length > limit ? "more than " + limit : bytes.Length)} bytes, but the archive's directory records {zipEntry.Length}; the archive is corrupt.");
                uint crc = Crc32.Compute(bytes);
                if (crc != zipEntry.Crc32)
                    throw new InvalidDataException($"{name}: CRC-32 mismatch: the entry's data gives 0x{crc:X8}, but the archive records 0x{zipEntry.Crc32:X8}; the archive is corrupt.");
                var values = new T[entry.Length];
                Npy.Read<T>(new MemoryStream(bytes, writable: false), name, entry.Shape, values);
                staged.Add(name, values);
            }
        }

        foreach (WeightLayout.Entry entry in entries) WeightLayout.Scatter<T>(network, entry, staged[entry.Name + ".npy"]);
    }

    /// <summary>An entry's bytes (at most <paramref name="limit"/>; more is reported by the .npy reader as trailing data);
    /// archive-level failures (bad deflate data, truncated entries) become <see cref="InvalidDataException"/>.</summary>
    private static byte[] Extract(ZipArchiveEntry zipEntry, long limit)
    {
        try
        {
            using Stream stream = zipEntry.Open();
            var buffer = new MemoryStream();
            byte[] chunk = new byte[81920];
            int read;
            while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit + 1 - buffer.Length))) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit) break;
            }
            return buffer.ToArray();
        }
        catch (Exception e) when (IsArchiveFailure(e))
        {
            throw new InvalidDataException($"{zipEntry.FullName}: the archive entry cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>What System.IO.Compression throws for a damaged archive: <see cref="InvalidDataException"/> (in 60,000
    /// fuzzed archives nothing else), or <see cref="EndOfStreamException"/> for a cut-off entry. Other I/O errors (a
    /// failing disk) are not the file's content and pass through as they are.</summary>
    private static bool IsArchiveFailure(Exception e) => e is InvalidDataException or EndOfStreamException;

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
}
