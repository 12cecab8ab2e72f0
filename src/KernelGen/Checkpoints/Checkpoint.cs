using System;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.IO;
using KernelGen.Optimization;

namespace KernelGen.Checkpoints;

/// <summary>
/// Saves and restores a network's whole training state, so that training resumed from a checkpoint continues
/// bit-identically to training that never stopped: the parameter arena, the BatchNorm running statistics, the
/// optimizer's state arenas, step count, NAdam momentum product and base learning rate, the dropout seed and step,
/// and an optional opaque blob for the training loop's own state (epoch, data-shuffling generator, …).
/// </summary>
/// <remarks>
/// <para>
/// <b>What is restored.</b> The overloads without an optimizer argument find the optimizer themselves when the network
/// is an <see cref="ITrainableNetwork{T, TLabel}"/> with <see cref="int"/> labels or target vectors (every
/// generated trainable network); the overloads taking an <see cref="Optimizer{T}"/> name it explicitly, and null there
/// means "the network state alone". A load restores the optimizer state exactly when it is given (or found) an
/// optimizer, and then requires the checkpoint to hold optimizer state with the same number of state arenas and the
/// same rule. Loading clears <see cref="INeuralNetwork{T}.Gradients"/>. Not saved: the gradients and forward caches
/// (run a forward pass before <c>Backward</c> or <c>ApplyGradients</c>), and configuration that the program sets
/// itself: the optimizer's settings, schedule and clipping (a resumed run must configure them as the original did).
/// </para>
/// <para>
/// <b>Safety.</b> <c>Load</c> reads and checks the whole checkpoint into scratch buffers before it touches the network:
/// the signature, version, element type and the network's <see cref="INeuralNetwork{T}.Fingerprint"/>, every declared
/// size against the network's sizes and against the bytes the stream still holds (before anything is allocated), the
/// CRC-32C, and that every parameter, running statistic and optimizer state value is finite (a NaN or ∞ is rejected
/// even when the checksum matches: a re-checksummed edit or a save of a diverged run). Any failure throws <see cref="InvalidDataException"/> saying what is wrong (and, for files, which file)
/// and leaves the network and its optimizer exactly as they were. File saves are atomic and durable: the checkpoint is
/// written to a temporary file beside the target (<c>.&lt;name&gt;.&lt;pid&gt;.&lt;random&gt;.tmp</c>), flushed to disk and renamed
/// over it, and the directory is flushed after the rename where the operating system allows (Linux, macOS), so a crash
/// or error mid-save leaves the previous file intact. An error removes the temporary file; a process killed mid-save
/// cannot, so every file save and load first deletes the target's stale temporaries: those whose writing process is
/// gone and which no live writer holds open (a temporary file of a save still running is never touched).
/// </para>
/// <para>
/// <b>Format, version 1.</b> All integers little-endian; elements are IEEE 754 values of the network's element type,
/// little-endian.
/// <code>
/// offset  size  field
///      0     8  signature 89 4B 47 43 0D 0A 1A 0A ("\x89KGC\r\n\x1A\n": the high byte and the line ends catch
///               7-bit and text-mode transfers, as in PNG)
///      8     2  format version (uint16) = 1
///     10     2  element type (uint16): 1 = float16, 2 = float32, 3 = float64
///     12     4  section count (uint32), 3 to 5
///     16     8  the network's Fingerprint (uint64)
///     24        sections, kinds strictly increasing, each:
///                  +0   4  kind (uint32)
///                  +4   4  element count (uint32)
///                  +8   8  payload length in bytes (uint64)
///                 +16      payload
///   end-4    4  CRC-32C (uint32) of every byte before it
///
/// kind  section             element count       payload
///    1  parameters          arena length        the whole parameter arena (padding included)
///    2  running statistics  statistics length   RunningStatistics (may be empty)
///    3  optimizer           arena length        uint32 state arenas S, uint32 OptimizerKind, int64 step count,
///                                               float64 momentum product, float64 base learning rate,
///                                               then S arenas of (element count) elements
///    4  dropout             2                   uint64 dropout seed, uint64 dropout step
///    5  user data           payload length      the caller's bytes
/// </code>
/// Sections 1, 2 and 4 are always present; 3 when saved with an optimizer; 5 when the user data is not empty.
/// </para>
/// <para>Not thread-safe: do not train the network while it is being saved or loaded.</para>
/// </remarks>
public static class Checkpoint
{
    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = CheckpointFormat.Version;

    /// <summary>The largest user data blob a checkpoint may carry (1 GiB).</summary>
    public const int MaxUserDataLength = 1 << 30;

    /// <summary>
    /// Writes <paramref name="network"/>'s state (and its optimizer's, when it is a trainable network) to
    /// <paramref name="stream"/> at its current position. Allocates nothing beyond what the stream does; does not flush.
    /// </summary>
    /// <param name="network">The network to save.</param>
    /// <param name="stream">A writable stream.</param>
    /// <param name="userData">Opaque bytes returned by <c>Load</c> (at most <see cref="MaxUserDataLength"/>).</param>
    public static void Save<T>(INeuralNetwork<T> network, Stream stream, ReadOnlySpan<byte> userData = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        Save(network, FindOptimizer(network), stream, userData);
    }

    /// <summary>Writes <paramref name="network"/>'s state and, unless it is null, <paramref name="optimizer"/>'s to
    /// <paramref name="stream"/> at its current position. Allocates nothing beyond what the stream does; does not flush.</summary>
    /// <param name="network">The network to save.</param>
    /// <param name="optimizer">The network's optimizer, or null to save the network state alone.</param>
    /// <param name="stream">A writable stream.</param>
    /// <param name="userData">Opaque bytes returned by <c>Load</c> (at most <see cref="MaxUserDataLength"/>).</param>
    public static void Save<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, Stream stream, ReadOnlySpan<byte> userData = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream is not writable.", nameof(stream));
        ValidateForSave(network, optimizer, userData.Length);
        Write(network, optimizer, stream, userData);
    }

    /// <summary>
    /// Atomically writes <paramref name="network"/>'s state (and its optimizer's, when it is a trainable network) to the
    /// file <paramref name="path"/>: through a temporary file in the same directory, flushed to disk, then renamed over
    /// <paramref name="path"/>. On failure the previous file is untouched and the temporary file is deleted.
    /// </summary>
    /// <param name="network">The network to save.</param>
    /// <param name="path">The checkpoint file; its directory must exist.</param>
    /// <param name="userData">Opaque bytes returned by <c>Load</c> (at most <see cref="MaxUserDataLength"/>).</param>
    public static void Save<T>(INeuralNetwork<T> network, string path, ReadOnlySpan<byte> userData = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        Save(network, FindOptimizer(network), path, userData);
    }

    /// <summary>
    /// Atomically writes <paramref name="network"/>'s state and, unless it is null, <paramref name="optimizer"/>'s to the
    /// file <paramref name="path"/>: through a temporary file in the same directory, flushed to disk, then renamed over
    /// <paramref name="path"/>. On failure the previous file is untouched and the temporary file is deleted.
    /// </summary>
    /// <param name="network">The network to save.</param>
    /// <param name="optimizer">The network's optimizer, or null to save the network state alone.</param>
    /// <param name="path">The checkpoint file; its directory must exist.</param>
    /// <param name="userData">Opaque bytes returned by <c>Load</c> (at most <see cref="MaxUserDataLength"/>).</param>
    public static void Save<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, string path, ReadOnlySpan<byte> userData = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ValidateForSave(network, optimizer, userData.Length);
        using AtomicFile file = AtomicFile.Create(path);
        Write(network, optimizer, file.Stream, userData);
        file.Commit();
    }

    /// <summary>
    /// Restores <paramref name="network"/> (and its optimizer, when it is a trainable network) from the checkpoint at
    /// <paramref name="stream"/>'s current position, leaving the stream just past it. Returns the user data (empty if none).
    /// </summary>
    /// <param name="network">The network to restore; it must have the checkpoint's specification and element type.</param>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="InvalidDataException">The checkpoint is corrupt, truncated, holds non-finite values or does not fit the network; nothing was changed.</exception>
    public static byte[] Load<T>(INeuralNetwork<T> network, Stream stream)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        return Load(network, FindOptimizer(network), stream);
    }

    /// <summary>
    /// Restores <paramref name="network"/> and, unless it is null, <paramref name="optimizer"/> from the checkpoint at
    /// <paramref name="stream"/>'s current position, leaving the stream just past it. Returns the user data (empty if none).
    /// With a null optimizer, optimizer state in the checkpoint is checked but not restored.
    /// </summary>
    /// <param name="network">The network to restore; it must have the checkpoint's specification and element type.</param>
    /// <param name="optimizer">The network's optimizer, or null to restore the network state alone.</param>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="InvalidDataException">The checkpoint is corrupt, truncated, holds non-finite values or does not fit the network; nothing was changed.</exception>
    public static byte[] Load<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, Stream stream)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));
        ValidateOptimizer(network, optimizer);
        return CheckpointReader.Load(network, optimizer, stream, path: null);
    }

    /// <summary>
    /// Restores <paramref name="network"/> (and its optimizer, when it is a trainable network) from the checkpoint file
    /// <paramref name="path"/>, which must hold exactly one checkpoint. Returns the user data (empty if none).
    /// </summary>
    /// <param name="network">The network to restore; it must have the checkpoint's specification and element type.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated, holds non-finite values or does not fit the network; nothing was changed.</exception>
    public static byte[] Load<T>(INeuralNetwork<T> network, string path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        return Load(network, FindOptimizer(network), path);
    }

    /// <summary>
    /// Restores <paramref name="network"/> and, unless it is null, <paramref name="optimizer"/> from the checkpoint file
    /// <paramref name="path"/>, which must hold exactly one checkpoint. Returns the user data (empty if none).
    /// With a null optimizer, optimizer state in the checkpoint is checked but not restored.
    /// </summary>
    /// <param name="network">The network to restore; it must have the checkpoint's specification and element type.</param>
    /// <param name="optimizer">The network's optimizer, or null to restore the network state alone.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated, holds non-finite values or does not fit the network; nothing was changed.</exception>
    public static byte[] Load<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, string path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ValidateOptimizer(network, optimizer);
        string fullPath = Path.GetFullPath(path);
        AtomicFile.RemoveStaleTemporaries(fullPath);
        using var file = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        return CheckpointReader.Load(network, optimizer, file, fullPath);
    }

    /// <summary>The optimizer of a generated trainable network (class labels or target vectors), or null.</summary>
    private static Optimizer<T>? FindOptimizer<T>(INeuralNetwork<T> network) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        network switch
        {
            ITrainableNetwork<T, int> classifier => classifier.Optimizer,
            ITrainableNetwork<T, T> regressor => regressor.Optimizer,
            _ => null,
        };

    private static void ValidateForSave<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, int userDataLength)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckpointFormat.ElementCode<T>();
        if (userDataLength > MaxUserDataLength)
            ThrowHelper.ThrowArgumentOutOfRange("userData", userDataLength, $"User data is limited to {MaxUserDataLength} bytes.");
        ValidateOptimizer(network, optimizer);
    }

    /// <summary>Checks that <paramref name="optimizer"/> (if any) fits the network's arena, so that a load, once its
    /// checks have passed, cannot fail halfway through restoring.</summary>
    private static void ValidateOptimizer<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (optimizer is null) return;
        int arena = network.Parameters.Length;
        if (optimizer.StateSlots > CheckpointFormat.MaxStateSlots)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(optimizer), optimizer.StateSlots, $"Checkpoints hold at most {CheckpointFormat.MaxStateSlots} optimizer state arenas.");
        for (int slot = 0; slot < optimizer.StateSlots; slot++)
        {
            if (optimizer.State(slot).Length != arena)
                throw new ArgumentException($"The optimizer's state arena {slot} has {optimizer.State(slot).Length} elements, but the network's parameter arena has {arena}: it is not this network's optimizer.", nameof(optimizer));
        }
    }

    private static void Write<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, Stream stream, ReadOnlySpan<byte> userData)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int size = Unsafe.SizeOf<T>();
        uint crc = 0;
        Span<byte> header = stackalloc byte[CheckpointFormat.HeaderSize];
        CheckpointFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], CheckpointFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], CheckpointFormat.ElementCode<T>());
        uint sections = 3 + (optimizer is null ? 0u : 1u) + (userData.IsEmpty ? 0u : 1u);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], sections);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], network.Fingerprint);
        CheckpointFormat.Write(stream, header, ref crc);

        Span<T> parameters = network.Parameters;
        WriteSectionHeader(stream, SectionKind.Parameters, parameters.Length, (ulong)parameters.Length * (ulong)size, ref crc);
        CheckpointFormat.WriteElements<T>(stream, parameters, ref crc);

        Span<T> statistics = network.RunningStatistics;
        WriteSectionHeader(stream, SectionKind.RunningStatistics, statistics.Length, (ulong)statistics.Length * (ulong)size, ref crc);
        CheckpointFormat.WriteElements<T>(stream, statistics, ref crc);

        Span<byte> scalars = stackalloc byte[CheckpointFormat.OptimizerScalarsSize];
        if (optimizer is not null)
        {
            int arena = parameters.Length;
            int slots = optimizer.StateSlots;
            WriteSectionHeader(stream, SectionKind.Optimizer, arena,
                CheckpointFormat.OptimizerScalarsSize + (ulong)slots * (ulong)arena * (ulong)size, ref crc);
            BinaryPrimitives.WriteUInt32LittleEndian(scalars, (uint)slots);
            BinaryPrimitives.WriteUInt32LittleEndian(scalars[4..], (uint)optimizer.Settings.Kind);
            BinaryPrimitives.WriteInt64LittleEndian(scalars[8..], optimizer.StepCount);
            BinaryPrimitives.WriteDoubleLittleEndian(scalars[16..], optimizer.MomentumProduct);
            BinaryPrimitives.WriteDoubleLittleEndian(scalars[24..], optimizer.LearningRate);
            CheckpointFormat.Write(stream, scalars, ref crc);
            for (int slot = 0; slot < slots; slot++) CheckpointFormat.WriteElements<T>(stream, optimizer.State(slot), ref crc);
        }

        WriteSectionHeader(stream, SectionKind.Dropout, 2, CheckpointFormat.DropoutSize, ref crc);
        Span<byte> dropout = scalars[..CheckpointFormat.DropoutSize];
        BinaryPrimitives.WriteUInt64LittleEndian(dropout, network.DropoutSeed);
        BinaryPrimitives.WriteUInt64LittleEndian(dropout[8..], network.DropoutStep);
        CheckpointFormat.Write(stream, dropout, ref crc);

        if (!userData.IsEmpty)
        {
            WriteSectionHeader(stream, SectionKind.UserData, userData.Length, (ulong)userData.Length, ref crc);
            CheckpointFormat.Write(stream, userData, ref crc);
        }

        Span<byte> trailer = stackalloc byte[CheckpointFormat.TrailerSize];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc);
        stream.Write(trailer);
    }

    private static void WriteSectionHeader(Stream stream, SectionKind kind, int count, ulong length, ref uint crc)
    {
        Span<byte> header = stackalloc byte[CheckpointFormat.SectionHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)kind);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)count);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], length);
        CheckpointFormat.Write(stream, header, ref crc);
    }
}
