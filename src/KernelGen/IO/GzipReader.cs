using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace KernelGen.IO;

/// <summary>
/// A read-only stream of the decompressed contents of a gzip file (RFC 1952), checked member by member: the header
/// (magic, method, reserved flags, the optional header CRC-16), the deflate data, and the trailer's CRC-32 and ISIZE
/// against the bytes actually produced. Several members concatenate; anything after the last member is an error.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="GZipStream"/> checks the trailer too, but reports a mismatch (and any deflate error) as "an unsupported
/// compression method", ignores data after the first member that is not another member, and accepts a deflate
/// stream cut short. Here the deflate data goes through a raw <see cref="DeflateStream"/>, the CRC-32 and length are
/// computed over its output, and every failure is an <see cref="InvalidDataException"/> whose message starts with the
/// file's name and says what is wrong ("gzip CRC mismatch", "gzip length mismatch", "truncated", …).
/// </para>
/// <para>
/// <b>Finding the trailer.</b> <see cref="DeflateStream"/> reads its input in chunks and does not say how many bytes of
/// the last chunk it used, so the end of the deflate data is only known to lie in the last chunk or two it was served
/// (this reader serves at most <see cref="MaxServe"/> bytes per call and keeps them). The trailer is the 8 bytes at that
/// end: the reader looks there for the CRC-32 and ISIZE it computed. A match is the member's end (a false match in
/// compressed bytes has probability about 2⁻⁶⁴ per position); no match means the trailer disagrees with the data,
/// and the message then compares the data with the last 8 bytes of the file, the trailer of an ordinary one-member
/// file, to say which of CRC and length is wrong.
/// </para>
/// </remarks>
internal sealed class GzipReader : Stream
{
    /// <summary>The most bytes handed to the deflate decoder per read; bounds the window searched for a trailer.</summary>
    private const int MaxServe = 8192;

    private const byte FlagHeaderCrc = 0x02, FlagExtra = 0x04, FlagName = 0x08, FlagComment = 0x10, FlagsReserved = 0xE0;

    private readonly Source _source;
    private readonly string _name;
    private DeflateStream? _deflate;
    private uint _crc;
    private long _size;
    private int _members;
    private bool _done;

    /// <param name="inner">The compressed bytes, starting with the first member's magic (left open).</param>
    /// <param name="name">The name that starts every error message (a file name).</param>
    public GzipReader(Stream inner, string name)
    {
        _source = new Source(inner);
        _name = name;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (!_done)
        {
            if (_deflate is null)
            {
                if (_members > 0 && _source.AtEnd()) { _done = true; break; }
                ReadHeader();
                _deflate = new DeflateStream(_source, CompressionMode.Decompress, leaveOpen: true);
                _crc = 0;
                _size = 0;
            }
            int n;
            try
            {
                n = _deflate.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw Fail($"the gzip data is corrupt: member {_members + 1} is not a valid deflate stream after {_size} decompressed bytes ({e.Message})", e);
            }
            if (n > 0)
            {
                _crc = Crc32.Append(_crc, buffer[..n]);
                _size += n;
                return n;
            }
            _deflate.Dispose();
            _deflate = null;
            ReadTrailer();
            _members++;
        }
        return 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _deflate?.Dispose();
        base.Dispose(disposing);
    }

    private void ReadHeader()
    {
        _source.ResetWindow();
        uint headerCrc = 0;
        Span<byte> fixedPart = stackalloc byte[10];
        int got = _source.ReadInto(fixedPart);
        if (_members > 0 && (got < 2 || fixedPart[0] != 0x1F || fixedPart[1] != 0x8B))
            throw Fail($"unexpected data after the gzip member ending at byte {_source.Offset - got} (not another gzip member)");
        if (got < 10) throw Fail($"the gzip data is truncated: its header has {got} of 10 bytes");
        if (fixedPart[0] != 0x1F || fixedPart[1] != 0x8B) throw Fail("not gzip data (no 1F 8B magic)");
        if (fixedPart[2] != 8) throw Fail($"gzip compression method {fixedPart[2]} is not supported (only 8, deflate, exists)");
        byte flags = fixedPart[3];
        if ((flags & FlagsReserved) != 0) throw Fail($"the gzip header has reserved flag bits set (0x{flags:X2}); the file is corrupt");
        headerCrc = Crc32.Append(headerCrc, fixedPart);
        if ((flags & FlagExtra) != 0)
        {
            Span<byte> lengthBytes = stackalloc byte[2];
            if (_source.ReadInto(lengthBytes) < 2) throw Fail("the gzip data is truncated inside its header's extra field");
            headerCrc = Crc32.Append(headerCrc, lengthBytes);
            int remaining = BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes);
            Span<byte> chunk = stackalloc byte[256];
            while (remaining > 0)
            {
                int n = _source.ReadInto(chunk[..Math.Min(remaining, chunk.Length)]);
                if (n == 0) throw Fail("the gzip data is truncated inside its header's extra field");
                headerCrc = Crc32.Append(headerCrc, chunk[..n]);
                remaining -= n;
            }
        }
        if ((flags & FlagName) != 0) headerCrc = SkipZeroTerminated(headerCrc, "file name");
        if ((flags & FlagComment) != 0) headerCrc = SkipZeroTerminated(headerCrc, "comment");
        if ((flags & FlagHeaderCrc) != 0)
        {
            Span<byte> stored = stackalloc byte[2];
            if (_source.ReadInto(stored) < 2) throw Fail("the gzip data is truncated inside its header");
            if (BinaryPrimitives.ReadUInt16LittleEndian(stored) != (ushort)headerCrc)
                throw Fail($"gzip header CRC mismatch (stored 0x{BinaryPrimitives.ReadUInt16LittleEndian(stored):X4}, computed 0x{(ushort)headerCrc:X4}); the file is corrupt");
        }
        _source.ResetWindow();
    }

    private uint SkipZeroTerminated(uint headerCrc, string what)
    {
        Span<byte> one = stackalloc byte[1];
        while (true)
        {
            if (_source.ReadInto(one) == 0) throw Fail($"the gzip data is truncated inside its header's {what}");
            headerCrc = Crc32.Append(headerCrc, one);
            if (one[0] == 0) return headerCrc;
        }
    }

    /// <summary>Finds the member's trailer where the deflate data ended and checks it (see the remarks).</summary>
    private void ReadTrailer()
    {
        Span<byte> expected = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(expected, _crc);
        BinaryPrimitives.WriteUInt32LittleEndian(expected[4..], (uint)_size);
        if (_source.TryConsumeTrailer(expected)) return;

        // No trailer matches: compare with the last 8 bytes of the file.
        Span<byte> last = stackalloc byte[8];
        int tail = _source.ReadToEndKeepingLast(last);
        if (tail < 8)
            throw Fail($"the gzip data is truncated: the compressed stream ends after {_size} decompressed bytes without its 8-byte trailer");
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(last);
        uint storedSize = BinaryPrimitives.ReadUInt32LittleEndian(last[4..]);
        if (storedSize == (uint)_size && storedCrc != _crc)
            throw Fail($"gzip CRC mismatch: the {_size} decompressed bytes have CRC-32 0x{_crc:X8}, but the gzip trailer says 0x{storedCrc:X8}; the file is corrupt");
        if (storedCrc == _crc && storedSize != (uint)_size)
            throw Fail($"gzip length mismatch: the data decompresses to {_size} bytes (CRC-32 matches), but the gzip trailer says {storedSize} (mod 2^32); the file is corrupt");
        throw Fail($"the gzip data is truncated or corrupt: the compressed stream ended after {_size} decompressed bytes (CRC-32 0x{_crc:X8}), " +
            $"and the file ends with a trailer for {storedSize} bytes with CRC-32 0x{storedCrc:X8}");
    }

    private InvalidDataException Fail(string problem, Exception? inner = null) => new($"{_name}: {problem}.", inner);

    /// <summary>
    /// The compressed bytes as the deflate decoder and the header/trailer parsing see them: a buffer that keeps the
    /// last two chunks served (the window where the deflate data ended) so that the position can go back to the trailer.
    /// </summary>
    private sealed class Source(Stream inner) : Stream
    {
        private byte[] _buffer = new byte[1 << 16];
        private int _position, _end;       // next byte to hand out; end of the valid bytes
        private int _lastServe, _previousServe; // buffer indices where the last two served chunks began
        private long _bufferOffset;        // stream offset of _buffer[0]
        private bool _innerEnded;

        /// <summary>The stream offset of the next byte.</summary>
        public long Offset => _bufferOffset + _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        /// <summary>What the deflate decoder reads: at most <see cref="MaxServe"/> bytes, remembered in the window.</summary>
        public override int Read(Span<byte> destination)
        {
            if (destination.IsEmpty || !Ensure(1)) return 0;
            int n = Math.Min(Math.Min(destination.Length, _end - _position), MaxServe);
            _previousServe = _lastServe;
            _lastServe = _position;
            _buffer.AsSpan(_position, n).CopyTo(destination);
            _position += n;
            return n;
        }

        /// <summary>Forgets the window (between the header, the deflate data and the trailer).</summary>
        public void ResetWindow() => _previousServe = _lastServe = _position;

        /// <summary>Reads up to <paramref name="destination"/>.Length bytes (fewer only at the end of the stream).</summary>
        public int ReadInto(Span<byte> destination)
        {
            int total = 0;
            while (total < destination.Length && Ensure(1))
            {
                int n = Math.Min(destination.Length - total, _end - _position);
                _buffer.AsSpan(_position, n).CopyTo(destination[total..]);
                _position += n;
                total += n;
            }
            return total;
        }

        /// <summary>Whether the stream has no more bytes.</summary>
        public bool AtEnd() => !Ensure(1);

        /// <summary>
        /// Looks for <paramref name="trailer"/> starting anywhere from the beginning of the previous served chunk up to the
        /// current position; on a match moves just past it and returns true.
        /// </summary>
        public bool TryConsumeTrailer(ReadOnlySpan<byte> trailer)
        {
            Ensure(trailer.Length); // the trailer may extend past what the decoder was served
            int from = _previousServe, to = Math.Min(_position + trailer.Length, _end);
            int index = _buffer.AsSpan(from, to - from).IndexOf(trailer);
            if (index < 0) return false;
            _position = from + index + trailer.Length;
            ResetWindow();
            return true;
        }

        /// <summary>Reads to the end of the stream; copies its last bytes (up to <paramref name="last"/>.Length, counted from
        /// the start of the window) to the end of <paramref name="last"/> and returns how many there were.</summary>
        public int ReadToEndKeepingLast(Span<byte> last)
        {
            _position = _end;
            while (Ensure(1))
            {
                _position = _end;
                _previousServe = _lastServe = Math.Max(_previousServe, _end - last.Length); // retain the last bytes
            }
            int available = Math.Min(_end - _previousServe, last.Length);
            _buffer.AsSpan(_end - available, available).CopyTo(last[(last.Length - available)..]);
            return available;
        }

        /// <summary>Makes at least <paramref name="count"/> bytes available from the position (fewer at the end of the stream),
        /// keeping the window; returns whether at least one is.</summary>
        private bool Ensure(int count)
        {
            while (_end - _position < count && !_innerEnded)
            {
                if (_buffer.Length - _end < MaxServe)
                {
                    int keep = _previousServe;
                    Buffer.BlockCopy(_buffer, keep, _buffer, 0, _end - keep);
                    _bufferOffset += keep;
                    _position -= keep;
                    _end -= keep;
                    _lastServe -= keep;
                    _previousServe = 0;
                    if (_buffer.Length - _end < MaxServe) Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                int n = inner.Read(_buffer, _end, _buffer.Length - _end);
                if (n <= 0) _innerEnded = true;
                else _end += n;
            }
            return _end > _position;
        }
    }
}
