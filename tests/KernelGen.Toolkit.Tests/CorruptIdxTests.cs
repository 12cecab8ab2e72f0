using System;
using System.Buffers.Binary;
using System.IO;
using KernelGen.Data;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// IDX files that are corrupt, truncated or lie about their size: gzip members are checked against their trailer's
/// CRC-32 and length with messages that say so, and a header's declared size is never allocated before the data arrives.
/// Expected pixels are the bytes the test wrote.
/// </summary>
public sealed class CorruptIdxTests(ITestOutputHelper output)
{
    private static readonly byte[] Pixels = Sequence(20 * 6 * 5, 3);
    private static readonly byte[] Plain = IdxTests.IdxBytes(Idx.ImagesMagic, [20, 6, 5], Pixels);

    [Fact]
    public void A_gzip_crc_that_does_not_match_the_data_is_reported_as_such()
    {
        byte[] gz = IdxTests.Gzip(Plain);
        gz[^8] ^= 0x01; // the trailer's CRC-32 (little-endian, then ISIZE)
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(new MemoryStream(gz), "crc.gz"));
        output.WriteLine(e.Message);
        Assert.StartsWith("crc.gz", e.Message, StringComparison.Ordinal);
        Assert.Contains("gzip CRC mismatch", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("compression method", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gzip_length_that_does_not_match_the_data_is_reported_as_such()
    {
        byte[] gz = IdxTests.Gzip(Plain);
        gz[^4] ^= 0x01; // ISIZE
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(new MemoryStream(gz), "isize.gz"));
        output.WriteLine(e.Message);
        Assert.Contains("gzip length mismatch", e.Message, StringComparison.Ordinal);
        Assert.Contains(Plain.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Changed_compressed_bytes_under_a_valid_looking_member_are_caught_by_the_crc()
    {
        // Stored (uncompressed) deflate blocks: a changed pixel inside them is still valid deflate data, so only the
        // trailer's CRC-32 can tell. Built by hand: header, one final stored block, trailer of the ORIGINAL data.
        byte[] gz = StoredGzip(Plain);
        gz[10 + 5 + 16 + 7] ^= 0x20; // a pixel inside the stored block (after the 16-byte IDX header)
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(new MemoryStream(gz), "stored.gz"));
        Assert.Contains("gzip CRC mismatch", e.Message, StringComparison.Ordinal);
        // Control: the unchanged hand-built file loads.
        Assert.Equal(Pixels, Idx.ReadImages(new MemoryStream(StoredGzip(Plain)), "stored.gz").Pixels);
    }

    [Fact]
    public void Data_after_the_gzip_member_is_rejected_and_concatenated_members_are_read()
    {
        byte[] gz = IdxTests.Gzip(Plain);
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(new MemoryStream([.. gz, 0, 0, 7]), "tail.gz"));
        output.WriteLine(e.Message);
        Assert.Contains("after the gzip member", e.Message, StringComparison.Ordinal);

        // RFC 1952: a gzip file may hold several members; their contents concatenate.
        byte[] twoMembers = [.. IdxTests.Gzip(Plain[..100]), .. IdxTests.Gzip(Plain[100..])];
        Assert.Equal(Pixels, Idx.ReadImages(new MemoryStream(twoMembers), "two.gz").Pixels);
        Assert.Equal(Pixels, Idx.ReadImages(new ForwardOnlyReadStream(twoMembers, maxRead: 7), "two.gz").Pixels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_header_claiming_a_gibibyte_on_a_forward_only_stream_fails_fast_without_allocating_it(bool gzip)
    {
        // 16 bytes claiming 4096 images of 512 × 512 (1 GiB), followed by a few pixels.
        byte[] file = IdxTests.IdxBytes(Idx.ImagesMagic, [4096, 512, 512], Sequence(100, 1));
        if (gzip) file = IdxTests.Gzip(file);
        Idx.ReadImages(new ForwardOnlyReadStream(gzip ? IdxTests.Gzip(Plain) : Plain), "warm-up");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(new ForwardOnlyReadStream(file), "huge.idx"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{e.Message} ({allocated} bytes allocated)");
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes for a {file.Length}-byte stream");
    }

    [Fact]
    public void A_forward_only_stream_of_a_large_valid_file_still_loads()
    {
        byte[] pixels = Sequence(300 * 28 * 28, 5); // 235 KB: several growth steps past the first 64 KiB chunk
        byte[] file = IdxTests.IdxBytes(Idx.ImagesMagic, [300, 28, 28], pixels);
        Assert.Equal(pixels, Idx.ReadImages(new ForwardOnlyReadStream(file), "big.idx").Pixels);
        Assert.Equal(pixels, Idx.ReadImages(new ForwardOnlyReadStream(IdxTests.Gzip(file)), "big.idx.gz").Pixels);
    }

    /// <summary>Mutated gzip IDX files: a load gives exactly the original pixels and shape, anything else is an
    /// <see cref="InvalidDataException"/> naming the file; no mutation allocates much more than the data.</summary>
    [Fact]
    public void Mutated_gzip_files_load_exactly_or_are_rejected()
    {
        byte[] original = IdxTests.Gzip(Plain);
        (int rejected, int loaded) = LoaderFuzz.Run<InvalidDataException>(original, 3000,
            (mutated, seekable) => Check(mutated, seekable, exact: true),
            _ => { });
        output.WriteLine($"gzip: 3000 mutations, {rejected} rejected, {loaded} loaded the original pixels");
        Assert.True(rejected > 2000, $"only {rejected} rejected");
    }

    /// <summary>Plain IDX has no checksum: a changed pixel byte loads as a changed pixel. A load must still have the
    /// original shape and differ from the original pixels only within the bytes an in-place change hit.</summary>
    [Fact]
    public void Mutated_plain_files_load_the_bytes_they_hold_or_are_rejected()
    {
        (int rejected, int loaded) = LoaderFuzz.Run<InvalidDataException>(Plain, 1500,
            (mutated, seekable) => Check(mutated, seekable, exact: false),
            _ => { });
        output.WriteLine($"plain: 1500 mutations, {rejected} rejected, {loaded} loaded");
        Assert.True(rejected > 350, $"only {rejected} rejected"); // about 35 % are: mutations of the 16 header bytes, truncations, insertions, deletions
    }

    private static void Check(byte[] mutated, bool seekable, bool exact)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            (byte[] pixels, int count, int rows, int columns) = Idx.ReadImages(LoaderFuzz.Open(mutated, seekable), "fuzz.idx");
            Assert.Equal((20, 6, 5), (count, rows, columns));
            Assert.Equal(Pixels.Length, pixels.Length);
            int differing = 0;
            for (int i = 0; i < pixels.Length; i++) if (pixels[i] != Pixels[i]) differing++;
            if (exact) Assert.True(differing == 0, $"{differing} pixels differ from the original");
            else Assert.True(differing <= 8 && (differing == 0 || mutated.Length == Plain.Length), $"{differing} pixels differ from the original");
        }
        catch (InvalidDataException e)
        {
            Assert.StartsWith("fuzz.idx", e.Message, StringComparison.Ordinal);
            throw;
        }
        finally
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 2 << 20, $"allocated {allocated} bytes");
        }
    }

    /// <summary>A gzip member holding <paramref name="data"/> (at most 65535 bytes) in one stored deflate block.</summary>
    private static byte[] StoredGzip(byte[] data)
    {
        var file = new byte[10 + 5 + data.Length + 8];
        file[0] = 0x1F; file[1] = 0x8B; file[2] = 8; file[9] = 255; // magic, deflate, no flags, mtime 0, OS unknown
        file[10] = 1;                                                 // BFINAL = 1, BTYPE = 00 (stored)
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(11), (ushort)data.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(13), (ushort)~data.Length);
        data.CopyTo(file, 15);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(15 + data.Length), ReferenceCrc32(data));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(19 + data.Length), (uint)data.Length);
        return file;
    }

    private static uint ReferenceCrc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFF_FFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB8_8320u & (0u - (crc & 1)));
        }
        return ~crc;
    }

    private static byte[] Sequence(int n, int seed)
    {
        var data = new byte[n];
        new Random(seed).NextBytes(data);
        return data;
    }
}
