using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace KernelGen.IO;

/// <summary>
/// Finds NaN and ±∞ in loaded values. Every loader checks its values with these before it writes anything into a
/// network or transform: a file can be internally consistent (its checksum recomputed after an edit, or written by a
/// diverged run) and still hold values that would silently poison every later computation.
/// </summary>
internal static class NonFinite
{
    /// <summary>
    /// The index of the first NaN or ±∞ among the little-endian IEEE 754 elements of <paramref name="size"/> bytes
    /// (2, 4 or 8) in <paramref name="bytes"/>, or −1. Tests the exponent bits, so it needs no decoding and no alignment.
    /// </summary>
    public static int FirstInEncoded(ReadOnlySpan<byte> bytes, int size)
    {
        int count = bytes.Length / size;
        switch (size)
        {
            case 2:
                for (int i = 0; i < count; i++)
                    if ((BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) & 0x7C00) == 0x7C00) return i;
                return -1;
            case 4:
                for (int i = 0; i < count; i++)
                    if ((BinaryPrimitives.ReadUInt32LittleEndian(bytes[(4 * i)..]) & 0x7F80_0000u) == 0x7F80_0000u) return i;
                return -1;
            case 8:
                for (int i = 0; i < count; i++)
                    if ((BinaryPrimitives.ReadUInt64LittleEndian(bytes[(8 * i)..]) & 0x7FF0_0000_0000_0000ul) == 0x7FF0_0000_0000_0000ul) return i;
                return -1;
            default:
                throw new ArgumentOutOfRangeException(nameof(size), size, "Elements are 2, 4 or 8 bytes wide.");
        }
    }

    /// <summary>The little-endian element <paramref name="index"/> of <paramref name="size"/> bytes, as text ("NaN", "∞", "−∞").</summary>
    public static string DescribeEncoded(ReadOnlySpan<byte> bytes, int size, int index)
    {
        ReadOnlySpan<byte> element = bytes.Slice(index * size, size);
        double value = size switch
        {
            2 => (double)BinaryPrimitives.ReadHalfLittleEndian(element),
            4 => BinaryPrimitives.ReadSingleLittleEndian(element),
            _ => BinaryPrimitives.ReadDoubleLittleEndian(element),
        };
        return Describe(value);
    }

    /// <summary>"NaN", "∞", "−∞", or the value in round-trip form.</summary>
    public static string Describe<T>(T value) where T : IFloatingPointIeee754<T> =>
        T.IsNaN(value) ? "NaN" : T.IsPositiveInfinity(value) ? "∞" : T.IsNegativeInfinity(value) ? "−∞" : value.ToString("R", CultureInfo.InvariantCulture);
}
