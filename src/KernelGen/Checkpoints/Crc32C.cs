using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Checkpoints;

/// <summary>
/// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, the checksum of
/// iSCSI, ext4 and SSE4.2's <c>crc32</c> instruction. Check value: "123456789" gives 0xE3069283.
/// Uses the CRC instructions of SSE4.2 or ARMv8 eight bytes at a time when present, and a 256-entry table (Sarwate's
/// byte-at-a-time algorithm) for the tail and on other hardware; both give the same value.
/// </summary>
/// <remarks>
/// CRC-32C detects every error burst up to 32 bits long (so any single changed byte, or any run of changed bytes
/// within four consecutive bytes) and all odd numbers of bit errors in messages of any length, and misses a random
/// corruption with probability 2⁻³². It is not a cryptographic hash: it guards against accidents, not tampering.
/// </remarks>
public static class Crc32C
{
    /// <summary>The reflected Castagnoli polynomial.</summary>
    public const uint Polynomial = 0x82F63B78u;

    private static readonly uint[] s_table = CreateTable();

    /// <summary>Computes the CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>
    /// Extends a CRC-32C: <c>Append(Compute(a), b) == Compute(a ++ b)</c>. Start from 0 (the CRC of no bytes).
    /// </summary>
    /// <param name="crc">The CRC-32C of the bytes before <paramref name="data"/> (0 for none).</param>
    /// <param name="data">The next bytes.</param>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        if (Sse42.X64.IsSupported)
        {
            ulong wide = c;
            for (; data.Length >= 8; data = data[8..]) wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            c = (uint)wide;
        }
        else if (Sse42.IsSupported)
        {
            for (; data.Length >= 4; data = data[4..]) c = Sse42.Crc32(c, BinaryPrimitives.ReadUInt32LittleEndian(data));
        }
        else if (Crc32.Arm64.IsSupported)
        {
            for (; data.Length >= 8; data = data[8..]) c = Crc32.Arm64.ComputeCrc32C(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
        }
        return ~AppendTable(c, data);
    }

    // Sarwate: one table lookup per byte on the (pre-inverted) register.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AppendTable(uint c, ReadOnlySpan<byte> data)
    {
        uint[] table = s_table;
        foreach (byte b in data) c = table[(byte)(c ^ b)] ^ (c >> 8);
        return c;
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
