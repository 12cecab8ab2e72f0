using System;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.IO;
using KernelGen.Optimization;

namespace KernelGen.Checkpoints;

/// <summary>
/// Reads a version-1 checkpoint (layout in <see cref="Checkpoint"/>) in two phases: <see cref="Read{T}"/> checks every
/// field and reads every section into scratch buffers, and only then does <see cref="Commit{T}"/> copy them into the
/// network, so a checkpoint that fails any check changes nothing. Sizes are checked against the target network and
/// against the bytes a seekable stream still holds before each allocation; the one size the network does not bound
/// (the user data) is read in growing chunks from unseekable streams, so a corrupt length cannot allocate more than
/// about twice the bytes actually present. Values must be finite: NaN or ±∞ in the parameters, running statistics or
/// optimizer state is rejected even under a valid checksum.
/// </summary>
internal sealed class CheckpointReader
{
    private const int ChunkSize = 1 << 20;

    private readonly Stream _stream;
    private readonly string _source;
    private readonly bool _seekable;
    private uint _crc;

    private CheckpointReader(Stream stream, string? path)
    {
        _stream = stream;
        _source = path is null ? "The checkpoint" : $"The checkpoint file '{path}'";
        _seekable = stream.CanSeek;
    }

    /// <summary>Validates the checkpoint at the stream's position, then restores it. A file (<paramref name="path"/> not
    /// null) must end right after the checkpoint.</summary>
    public static byte[] Load<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, Stream stream, string? path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var reader = new CheckpointReader(stream, path);
        Contents contents = reader.Read(network, optimizer, requireEnd: path is not null);
        Commit(contents, network, optimizer);
        return contents.UserData;
    }

    /// <summary>Everything a checkpoint holds, still encoded, checked against the target network.</summary>
    private sealed class Contents
    {
        public byte[]? Parameters;
        public byte[]? Statistics;
        /// <summary>One array per state arena (null when the checkpoint holds no optimizer state).</summary>
        public byte[][]? OptimizerState;
        public long StepCount;
        public double MomentumProduct;
        public double LearningRate;
        public bool HasDropout;
        public ulong DropoutSeed;
        public ulong DropoutStep;
        public byte[] UserData = [];
    }

    private Contents Read<T>(INeuralNetwork<T> network, Optimizer<T>? optimizer, bool requireEnd)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ushort elementCode = CheckpointFormat.ElementCode<T>();
        int size = Unsafe.SizeOf<T>();

        Span<byte> header = stackalloc byte[CheckpointFormat.HeaderSize];
        ReadExactly(header, "header");
        if (!header[..8].SequenceEqual(CheckpointFormat.Magic))
            throw Fail("does not start with the KernelGen checkpoint signature: it is not a checkpoint, or it was damaged (for example by a text-mode transfer)");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        if (version != CheckpointFormat.Version)
            throw Fail($"has format version {version}; this library reads version {CheckpointFormat.Version}");
        ushort element = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        if (element != elementCode)
            throw Fail($"holds {CheckpointFormat.ElementName(element)} elements, but the network computes in {CheckpointFormat.ElementName(elementCode)} (a wrong element type)");
        uint sections = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (sections < CheckpointFormat.MinSections || sections > CheckpointFormat.MaxSections)
            throw Fail($"declares {sections} sections; a version-{CheckpointFormat.Version} checkpoint has {CheckpointFormat.MinSections} to {CheckpointFormat.MaxSections}");
        ulong fingerprint = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        if (fingerprint != network.Fingerprint)
            throw Fail($"was saved from a different network specification: its fingerprint is 0x{fingerprint:X16}, this network's is 0x{network.Fingerprint:X16} (or its header is damaged)");

        var contents = new Contents();
        int arena = network.Parameters.Length;
        Span<byte> sectionHeader = stackalloc byte[CheckpointFormat.SectionHeaderSize];
        Span<byte> scalars = stackalloc byte[CheckpointFormat.OptimizerScalarsSize];
        SectionKind previous = 0;
        for (uint s = 0; s < sections; s++)
        {
            ReadExactly(sectionHeader, $"header of section {s + 1}");
            var kind = (SectionKind)BinaryPrimitives.ReadUInt32LittleEndian(sectionHeader);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(sectionHeader[4..]);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(sectionHeader[8..]);
            if (kind is 0 or > SectionKind.UserData) throw Fail($"has a section of unknown kind {(uint)kind}");
            if (kind <= previous) throw Fail($"has its {CheckpointFormat.SectionName(kind)} section out of order or twice");
            previous = kind;
            string name = CheckpointFormat.SectionName(kind);
            switch (kind)
            {
                case SectionKind.Parameters:
                    contents.Parameters = ReadElementSection(name, count, length, arena, size, "the network's parameter arena has");
                    break;
                case SectionKind.RunningStatistics:
                    contents.Statistics = ReadElementSection(name, count, length, network.RunningStatistics.Length, size, "the network's running statistics have");
                    break;
                case SectionKind.Optimizer:
                    ReadOptimizer(contents, optimizer, count, length, arena, size, scalars);
                    break;
                case SectionKind.Dropout:
                    if (count != 2 || length != CheckpointFormat.DropoutSize)
                        throw Fail($"has a dropout section of {count} values in {length} bytes; expected 2 values in {CheckpointFormat.DropoutSize} bytes");
                    EnsureAvailable(length, name);
                    Span<byte> dropout = scalars[..CheckpointFormat.DropoutSize];
                    ReadExactly(dropout, "dropout section");
                    contents.HasDropout = true;
                    contents.DropoutSeed = BinaryPrimitives.ReadUInt64LittleEndian(dropout);
                    contents.DropoutStep = BinaryPrimitives.ReadUInt64LittleEndian(dropout[8..]);
                    break;
                case SectionKind.UserData:
                    if (length != count) throw Fail($"has a user data section declaring {count} bytes but a payload of {length} bytes");
                    if (count > Checkpoint.MaxUserDataLength) throw Fail($"declares {count} bytes of user data; at most {Checkpoint.MaxUserDataLength} are allowed");
                    EnsureAvailable(length, name);
                    contents.UserData = ReadBytes(count, "user data section");
                    break;
            }
        }
        if (contents.Parameters is null) throw Fail("has no parameters section");
        if (contents.Statistics is null) throw Fail("has no running statistics section");
        if (!contents.HasDropout) throw Fail("has no dropout section");

        uint computed = _crc;
        Span<byte> trailer = stackalloc byte[CheckpointFormat.TrailerSize];
        ReadExactly(trailer, "checksum", updateCrc: false);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (stored != computed)
            throw Fail($"is corrupted: its CRC-32C checksum is 0x{stored:X8}, but its contents give 0x{computed:X8}");
        if (requireEnd && _stream.Length != _stream.Position)
            throw Fail($"has {_stream.Length - _stream.Position} unexpected bytes after the checkpoint's checksum");
        if (optimizer is not null && contents.OptimizerState is null)
            throw Fail("holds no optimizer state, but the network has an optimizer; pass a null optimizer to restore the network state alone");
        CheckFinite(contents, network, size);
        return contents;
    }

    /// <summary>
    /// Rejects NaN and ±∞ anywhere in the parameters, running statistics and optimizer state. The checksum cannot: it
    /// proves only that the bytes are those that were written, and a file edited and re-checksummed, or saved from a
    /// diverged run, carries non-finite values that would silently poison every later step.
    /// </summary>
    private void CheckFinite<T>(Contents contents, INeuralNetwork<T> network, int size) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckFinite(contents.Parameters!, size, "parameters section", network);
        CheckFinite<T>(contents.Statistics!, size, "running statistics section", null);
        if (contents.OptimizerState is { } state)
            for (int slot = 0; slot < state.Length; slot++) CheckFinite(state[slot], size, $"optimizer section (state arena {slot})", network);
    }

    private void CheckFinite<T>(byte[] bytes, int size, string where, INeuralNetwork<T>? arena) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int index = NonFinite.FirstInEncoded(bytes, size);
        if (index < 0) return;
        string element = $"element {index}";
        if (arena is not null)
        {
            element += " (arena padding)";
            foreach (ParameterTensor tensor in arena.ParameterTensors)
            {
                if (index >= tensor.Offset && index < tensor.Offset + tensor.Length)
                {
                    element = $"element {index} ({tensor.Name}[{index - tensor.Offset}])";
                    break;
                }
            }
        }
        throw Fail($"holds a non-finite value ({NonFinite.DescribeEncoded(bytes, size, index)}) in its {where} at {element}; only finite values are loaded");
    }

    private byte[] ReadElementSection(string name, uint count, ulong length, int expected, int size, string what)
    {
        if (count != (uint)expected) throw Fail($"has {count} elements in its {name} section, but {what} {expected}");
        if (length != (ulong)count * (ulong)size) throw Fail($"declares {length} bytes for the {count} elements of its {name} section; expected {(ulong)count * (ulong)size}");
        EnsureAvailable(length, name);
        return ReadBytes(length, name + " section");
    }

    private void ReadOptimizer<T>(Contents contents, Optimizer<T>? optimizer, uint count, ulong length, int arena, int size, Span<byte> scalars)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const string name = "optimizer";
        if (count != (uint)arena) throw Fail($"has optimizer state arenas of {count} elements, but the network's parameter arena has {arena}");
        ulong arenaBytes = (ulong)arena * (ulong)size;
        ulong maximum = CheckpointFormat.OptimizerScalarsSize + CheckpointFormat.MaxStateSlots * arenaBytes;
        if (length < CheckpointFormat.OptimizerScalarsSize || length > maximum)
            throw Fail($"declares an optimizer section of {length} bytes; for this network it holds {CheckpointFormat.OptimizerScalarsSize} to {maximum}");
        EnsureAvailable(length, name);
        ReadExactly(scalars, "optimizer section");
        uint slots = BinaryPrimitives.ReadUInt32LittleEndian(scalars);
        uint kind = BinaryPrimitives.ReadUInt32LittleEndian(scalars[4..]);
        long stepCount = BinaryPrimitives.ReadInt64LittleEndian(scalars[8..]);
        double momentumProduct = BinaryPrimitives.ReadDoubleLittleEndian(scalars[16..]);
        double learningRate = BinaryPrimitives.ReadDoubleLittleEndian(scalars[24..]);
        if (slots > CheckpointFormat.MaxStateSlots || length != CheckpointFormat.OptimizerScalarsSize + slots * arenaBytes)
            throw Fail($"declares {slots} optimizer state arenas in an optimizer section of {length} bytes");
        if (stepCount < 0) throw Fail($"has a negative optimizer step count ({stepCount})");
        if (!double.IsFinite(momentumProduct)) throw Fail($"has a non-finite momentum product ({momentumProduct})");
        if (!(learningRate > 0 && double.IsFinite(learningRate))) throw Fail($"has an invalid base learning rate ({learningRate}); it must be positive and finite");
        if (optimizer is not null)
        {
            OptimizerKind expectedKind = optimizer.Settings.Kind;
            if (kind != (uint)expectedKind)
                throw Fail($"holds the state of a {KindName(kind)} optimizer, but the network's optimizer is {expectedKind}");
            if (slots != (uint)optimizer.StateSlots)
                throw Fail($"holds {slots} optimizer state arenas, but the network's {expectedKind} optimizer keeps {optimizer.StateSlots} (its settings differ, e.g. momentum on or off)");
        }
        contents.StepCount = stepCount;
        contents.MomentumProduct = momentumProduct;
        contents.LearningRate = learningRate;
        var state = new byte[slots][];
        for (int slot = 0; slot < state.Length; slot++) state[slot] = ReadBytes(arenaBytes, $"optimizer section (state arena {slot})");
        contents.OptimizerState = state;
    }

    private static string KindName(uint kind) =>
        Enum.IsDefined((OptimizerKind)kind) ? ((OptimizerKind)kind).ToString() : $"unknown (code {kind})";

    /// <summary>Copies the checked contents into the network; nothing here can fail.</summary>
    private static void Commit<T>(Contents contents, INeuralNetwork<T> network, Optimizer<T>? optimizer)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckpointFormat.ReadElements<T>(contents.Parameters, network.Parameters);
        CheckpointFormat.ReadElements<T>(contents.Statistics, network.RunningStatistics);
        if (optimizer is not null && contents.OptimizerState is { } state)
        {
            for (int slot = 0; slot < state.Length; slot++) CheckpointFormat.ReadElements<T>(state[slot], optimizer.State(slot));
            optimizer.StepCount = contents.StepCount;
            optimizer.MomentumProduct = contents.MomentumProduct;
            optimizer.LearningRate = contents.LearningRate;
        }
        network.DropoutSeed = contents.DropoutSeed;
        network.DropoutStep = contents.DropoutStep;
        network.Gradients.Clear();
    }

    /// <summary>On a seekable stream, fails unless <paramref name="length"/> payload bytes and the checksum are still there.</summary>
    private void EnsureAvailable(ulong length, string name)
    {
        if (!_seekable) return;
        long remaining = Math.Max(0, _stream.Length - _stream.Position);
        if (length > (ulong)remaining || (ulong)remaining - length < CheckpointFormat.TrailerSize)
            throw Fail($"is truncated: its {name} section declares {length} bytes, but only {remaining} bytes remain (including the 4-byte checksum)");
    }

    private byte[] ReadBytes(ulong declared, string what)
    {
        // Sizes reaching here match the network (or the user data limit); only a network of more than 2 GiB per arena exceeds an array.
        if (declared > (ulong)Array.MaxLength)
            throw new NotSupportedException($"{_source} has a {what} of {declared} bytes; loading supports at most {Array.MaxLength} bytes per section or state arena.");
        int length = (int)declared;
        if (_seekable || length <= ChunkSize)
        {
            var bytes = new byte[length];
            ReadExactly(bytes, what);
            return bytes;
        }
        // Unseekable and large: grow with the bytes that actually arrive.
        byte[] buffer = new byte[ChunkSize];
        int filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(2L * buffer.Length, length));
            int n = Math.Min(buffer.Length, length) - filled;
            ReadExactly(buffer.AsSpan(filled, n), what, filled, length);
            filled += n;
        }
        return buffer;
    }

    /// <summary>Reads <paramref name="buffer"/> in full (bytes <paramref name="start"/> onwards of a field of
    /// <paramref name="fieldLength"/> bytes; by default the buffer is the whole field) and adds it to the checksum.</summary>
    private void ReadExactly(Span<byte> buffer, string what, int start = 0, int fieldLength = -1, bool updateCrc = true)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = _stream.Read(buffer[total..]);
            if (n <= 0)
                throw Fail($"is truncated: it ends {start + total} bytes into its {what}, which needs {(fieldLength < 0 ? buffer.Length : fieldLength)}");
            total += n;
        }
        if (updateCrc) _crc = Crc32C.Append(_crc, buffer);
    }

    private InvalidDataException Fail(string problem) => new($"{_source} {problem}.");
}
