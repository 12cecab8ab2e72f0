using System;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen.Checkpoints;

/// <summary>Section kinds of a checkpoint, in the (strictly increasing) order they appear.</summary>
internal enum SectionKind : uint
{
    Parameters = 1,
    RunningStatistics = 2,
    Optimizer = 3,
    Dropout = 4,
    UserData = 5,
}

/// <summary>Constants of format version 1 (layout in <see cref="Checkpoint"/>) and the element encoding.</summary>
internal static class CheckpointFormat
{
    /// <summary>0x89 (high bit: catches 7-bit channels), "KGC", CR LF (catches CRLF → LF), Ctrl-Z (stops DOS
    /// <c>type</c>), LF (catches LF → CRLF). The same scheme as PNG's signature.</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'K', (byte)'G', (byte)'C', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];

    public const ushort Version = 1;
    public const int HeaderSize = 24;
    public const int SectionHeaderSize = 16;
    public const int TrailerSize = 4;
    /// <summary>State slots count, optimizer kind, step count, momentum product, base learning rate.</summary>
    public const int OptimizerScalarsSize = 32;
    public const int DropoutSize = 16;
    public const int MinSections = 3;
    public const int MaxSections = 5;
    /// <summary>More state arenas than any optimizer keeps (RMSProp's three are the most); bounds the optimizer section
    /// when the target has no optimizer to compare with.</summary>
    public const int MaxStateSlots = 8;

    public const ushort Float16 = 1, Float32 = 2, Float64 = 3;

    /// <summary>The element type code of <typeparamref name="T"/>.</summary>
    public static ushort ElementCode<T>()
    {
        if (typeof(T) == typeof(float)) return Float32;
        if (typeof(T) == typeof(double)) return Float64;
        if (typeof(T) == typeof(Half)) return Float16;
        throw new NotSupportedException($"Checkpoints hold float16, float32 or float64 elements, not {typeof(T).Name}.");
    }

    public static string ElementName(ushort code) => code switch
    {
        Float16 => "float16",
        Float32 => "float32",
        Float64 => "float64",
        _ => $"unknown (code {code})",
    };

    public static string SectionName(SectionKind kind) => kind switch
    {
        SectionKind.Parameters => "parameters",
        SectionKind.RunningStatistics => "running statistics",
        SectionKind.Optimizer => "optimizer",
        SectionKind.Dropout => "dropout",
        SectionKind.UserData => "user data",
        _ => $"unknown ({(uint)kind})",
    };

    /// <summary>Writes <paramref name="values"/> little-endian, extending <paramref name="crc"/>. Allocates nothing.</summary>
    public static void WriteElements<T>(Stream stream, ReadOnlySpan<T> values, ref uint crc) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (BitConverter.IsLittleEndian)
        {
            Write(stream, MemoryMarshal.AsBytes(values), ref crc);
            return;
        }
        Span<byte> chunk = stackalloc byte[512];
        int perChunk = chunk.Length / Unsafe.SizeOf<T>();
        while (!values.IsEmpty)
        {
            int n = Math.Min(perChunk, values.Length);
            Span<byte> bytes = chunk[..(n * Unsafe.SizeOf<T>())];
            MemoryMarshal.AsBytes(values[..n]).CopyTo(bytes);
            ReverseElements<T>(bytes);
            Write(stream, bytes, ref crc);
            values = values[n..];
        }
    }

    /// <summary>Decodes little-endian <paramref name="bytes"/> into <paramref name="values"/> (same size in bytes).</summary>
    public static void ReadElements<T>(ReadOnlySpan<byte> bytes, Span<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Span<byte> destination = MemoryMarshal.AsBytes(values);
        bytes.CopyTo(destination);
        if (!BitConverter.IsLittleEndian) ReverseElements<T>(destination);
    }

    public static void Write(Stream stream, ReadOnlySpan<byte> bytes, ref uint crc)
    {
        crc = Crc32C.Append(crc, bytes);
        stream.Write(bytes);
    }

    private static void ReverseElements<T>(Span<byte> bytes) where T : unmanaged
    {
        switch (Unsafe.SizeOf<T>())
        {
            case 2: { Span<ushort> s = MemoryMarshal.Cast<byte, ushort>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 4: { Span<uint> s = MemoryMarshal.Cast<byte, uint>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 8: { Span<ulong> s = MemoryMarshal.Cast<byte, ulong>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
        }
    }
}
