using System;
using System.Buffers.Binary;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;

namespace KernelGen.IO;

/// <summary>
/// CRC-32 (IEEE 802.3): reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF, the checksum of zip
/// entries, gzip members and PNG chunks. Check value: "123456789" gives 0xCBF43926.
/// Uses ARMv8's CRC32 instructions eight bytes at a time when present, otherwise slicing-by-8 (eight 256-entry tables,
/// one lookup per byte but eight independent lookups per 8-byte word) with Sarwate's byte-at-a-time loop for the tail;
/// all paths give the same value. (x86's <c>crc32</c> instruction computes CRC-32C only; that one is
/// <see cref="Checkpoints.Crc32C"/>.)
/// </summary>
/// <remarks>
/// Kept in the runtime so that the core package stays free of dependencies (System.IO.Hashing has the same function).
/// Detects every error burst up to 32 bits and misses a random corruption with probability 2⁻³²; it guards against
/// accidents, not tampering.
/// </remarks>
internal static class Crc32
{
    /// <summary>The reflected IEEE polynomial.</summary>
    public const uint Polynomial = 0xEDB88320u;

    // s_tables[k][b]: the CRC register contribution of byte b followed by k zero bytes (slicing-by-8).
    private static readonly uint[] s_tables = CreateTables();

    /// <summary>Computes the CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Extends a CRC-32: <c>Append(Compute(a), b) == Compute(a ++ b)</c>. Start from 0 (the CRC of no bytes).</summary>
    /// <param name="crc">The CRC-32 of the bytes before <paramref name="data"/> (0 for none).</param>
    /// <param name="data">The next bytes.</param>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        if (ArmCrc32.Arm64.IsSupported)
        {
            for (; data.Length >= 8; data = data[8..]) c = ArmCrc32.Arm64.ComputeCrc32(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
        }
        else
        {
            uint[] t = s_tables;
            for (; data.Length >= 8; data = data[8..])
            {
                // 1. XOR the register into the first four bytes (the register is reflected: its low byte meets byte 0).
                // 2. Each of the eight bytes then contributes its table entry shifted by the bytes that follow it.
                uint low = c ^ BinaryPrimitives.ReadUInt32LittleEndian(data);
                uint high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
                c = t[7 * 256 + (low & 0xFF)] ^ t[6 * 256 + ((low >> 8) & 0xFF)] ^ t[5 * 256 + ((low >> 16) & 0xFF)] ^ t[4 * 256 + (low >> 24)]
                  ^ t[3 * 256 + (high & 0xFF)] ^ t[2 * 256 + ((high >> 8) & 0xFF)] ^ t[1 * 256 + ((high >> 16) & 0xFF)] ^ t[high >> 24];
            }
        }
        uint[] table = s_tables;
        foreach (byte b in data) c = table[(byte)(c ^ b)] ^ (c >> 8);
        return ~c;
    }

    private static uint[] CreateTables()
    {
        var tables = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            tables[i] = c;
        }
        for (int k = 1; k < 8; k++)
        {
            for (int i = 0; i < 256; i++)
            {
                uint previous = tables[(k - 1) * 256 + i];
                tables[k * 256 + i] = (previous >> 8) ^ tables[previous & 0xFF];
            }
        }
        return tables;
    }
}
