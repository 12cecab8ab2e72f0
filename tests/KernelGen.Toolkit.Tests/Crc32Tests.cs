using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using KernelGen.IO;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>The runtime's CRC-32 (IEEE) against published check values, a bit-by-bit reference and the zip writer's CRCs.</summary>
public class Crc32Tests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("abc", 0x352441C2u)]
    [InlineData("123456789", 0xCBF43926u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Known_vectors(string text, uint expected) =>
        Assert.Equal(expected, Crc32.Compute(System.Text.Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Matches_a_bitwise_reference_at_every_length_and_split()
    {
        var data = new byte[300];
        new Random(11).NextBytes(data);
        for (int length = 0; length <= data.Length; length += length < 40 ? 1 : 37)
        {
            uint expected = Reference(data.AsSpan(0, length));
            Assert.Equal(expected, Crc32.Compute(data.AsSpan(0, length)));
            for (int split = 0; split <= length; split += Math.Max(1, length / 7))
                Assert.Equal(expected, Crc32.Append(Crc32.Compute(data.AsSpan(0, split)), data.AsSpan(split, length - split)));
        }
    }

    [Fact]
    public void Agrees_with_the_crcs_the_zip_writer_stores()
    {
        var random = new Random(5);
        var stream = new MemoryStream();
        var contents = Enumerable.Range(0, 6).Select(i => { var b = new byte[i * 997 + 3]; random.NextBytes(b); return b; }).ToArray();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
            for (int i = 0; i < contents.Length; i++)
                using (Stream entry = archive.CreateEntry($"e{i}").Open()) entry.Write(contents[i]);
        stream.Position = 0;
        using var read = new ZipArchive(stream, ZipArchiveMode.Read);
        for (int i = 0; i < contents.Length; i++) Assert.Equal(read.GetEntry($"e{i}")!.Crc32, Crc32.Compute(contents[i]));
    }

    // Bit by bit from the definition: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF.
    private static uint Reference(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFF_FFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB8_8320u & (0u - (crc & 1)));
        }
        return ~crc;
    }
}
