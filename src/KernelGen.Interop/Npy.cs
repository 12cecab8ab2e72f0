using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Numerics;
using System.Text;

namespace KernelGen.Interop;

/// <summary>
/// The NumPy <c>.npy</c> format (numpy/lib/format.py, "Format Version 1.0"): the magic string <c>\x93NUMPY</c>, a major and
/// minor version byte, the header length HEADER_LEN (little-endian uint16 in version 1.0, uint32 in 2.0 and 3.0), then
/// HEADER_LEN bytes of a Python dict literal with the keys <c>descr</c>, <c>fortran_order</c> and <c>shape</c>, terminated by
/// <c>\n</c> and padded with spaces so that 6 + 2 + 2 + HEADER_LEN is a multiple of 64; then the raw array data.
/// </summary>
internal static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int Alignment = 64;
    private const int MaxHeaderLength = 65536; // far above any header this code accepts (numpy's own default limit is 10000)

    /// <summary>The complete version-1.0 header for a C-ordered array of <paramref name="type"/> and <paramref name="shape"/>.</summary>
    public static byte[] Header(FileElementType type, IReadOnlyList<int> shape)
    {
        var dict = new StringBuilder("{'descr': '");
        dict.Append(type == FileElementType.Float32 ? "<f4" : "<f8");
        dict.Append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.Count; i++)
        {
            if (i > 0) dict.Append(", ");
            dict.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }
        if (shape.Count == 1) dict.Append(',');
        dict.Append("), }");
        int prefix = Magic.Length + 2 + sizeof(ushort);
        int unpadded = prefix + dict.Length + 1; // + '\n'
        int padding = (Alignment - unpadded % Alignment) % Alignment;
        dict.Append(' ', padding).Append('\n');
        int headerLength = dict.Length;
        byte[] header = new byte[prefix + headerLength];
        Magic.CopyTo(header);
        header[6] = 1; // major
        header[7] = 0; // minor
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)headerLength);
        Encoding.ASCII.GetBytes(dict.ToString(), header.AsSpan(prefix));
        return header;
    }

    /// <summary>
    /// Reads one array of the expected <paramref name="shape"/> from <paramref name="stream"/> (to its end) into
    /// <paramref name="destination"/> in C order. Accepts versions 1.0, 2.0 and 3.0, descr <c>&lt;f4</c>, <c>&lt;f8</c>,
    /// <c>&gt;f4</c>, <c>&gt;f8</c>, and either memory order.
    /// </summary>
    /// <exception cref="InvalidDataException">Anything else: bad magic or version, malformed header, other dtype, other shape,
    /// truncated data or trailing bytes.</exception>
    public static void Read<T>(Stream stream, string what, IReadOnlyList<int> shape, Span<T> destination)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Span<byte> prefix = stackalloc byte[8];
        TensorCodec.ReadExactly(stream, prefix, what);
        if (!prefix[..6].SequenceEqual(Magic)) throw new InvalidDataException($"{what} is not a .npy array (no \\x93NUMPY magic string).");
        byte major = prefix[6], minor = prefix[7];
        if (minor != 0 || major is < 1 or > 3) throw new InvalidDataException($"{what}: .npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are).");
        Span<byte> lengthBytes = stackalloc byte[major == 1 ? 2 : 4];
        TensorCodec.ReadExactly(stream, lengthBytes, what);
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderLength) throw new InvalidDataException($"{what}: the .npy header claims {headerLength} bytes (at most {MaxHeaderLength} accepted).");
        byte[] headerBytes = new byte[headerLength];
        TensorCodec.ReadExactly(stream, headerBytes, what);
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);

        (string descr, bool fortranOrder, List<long> fileShape) = ParseHeader(header, what);
        FileElementType type;
        bool bigEndian;
        switch (descr)
        {
            case "<f4": type = FileElementType.Float32; bigEndian = false; break;
            case "<f8": type = FileElementType.Float64; bigEndian = false; break;
            case ">f4": type = FileElementType.Float32; bigEndian = true; break;
            case ">f8": type = FileElementType.Float64; bigEndian = true; break;
            default: throw new InvalidDataException($"{what}: dtype '{descr}' is not supported (float32 or float64: '<f4', '<f8', '>f4', '>f8').");
        }
        if (!ShapeEquals(fileShape, shape))
            throw new InvalidDataException($"{what}: shape ({string.Join(", ", fileShape)}) does not match the network's ({string.Join(", ", shape)}).");

        byte[] data = new byte[destination.Length * TensorCodec.SizeOf(type)];
        TensorCodec.ReadExactly(stream, data, what);
        TensorCodec.ExpectEnd(stream, what);
        if (fortranOrder && shape.Count == 2 && shape[0] > 1 && shape[1] > 1)
        {
            // Column-major [rows × columns]: element (r, c) is at c·rows + r.
            T[] columnMajor = new T[destination.Length];
            TensorCodec.Decode<T>(data, type, bigEndian, columnMajor, what);
            int rows = shape[0], columns = shape[1];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                    destination[r * columns + c] = columnMajor[c * rows + r];
        }
        else
        {
            TensorCodec.Decode(data, type, bigEndian, destination, what);
        }
    }

    private static bool ShapeEquals(List<long> actual, IReadOnlyList<int> expected)
    {
        if (actual.Count != expected.Count) return false;
        for (int i = 0; i < actual.Count; i++) if (actual[i] != expected[i]) return false;
        return true;
    }

    /// <summary>Parses the header's dict literal: exactly the keys descr (a string), fortran_order (True or False) and
    /// shape (a tuple of non-negative ints), in any order, followed only by whitespace.</summary>
    internal static (string Descr, bool FortranOrder, List<long> Shape) ParseHeader(string text, string what)
    {
        var parser = new HeaderParser(text, what);
        string? descr = null;
        bool? fortran = null;
        List<long>? shape = null;
        parser.Expect('{');
        while (true)
        {
            parser.SkipSpace();
            if (parser.TryConsume('}')) break;
            string key = parser.ReadString();
            parser.Expect(':');
            switch (key)
            {
                case "descr" when descr is null: descr = parser.ReadString(); break;
                case "fortran_order" when fortran is null: fortran = parser.ReadBool(); break;
                case "shape" when shape is null: shape = parser.ReadTuple(); break;
                default: throw parser.Error($"unexpected or repeated key '{key}'");
            }
            parser.SkipSpace();
            if (parser.TryConsume('}')) break;
            parser.Expect(',');
        }
        parser.ExpectEnd();
        if (descr is null || fortran is null || shape is null) throw parser.Error("the keys 'descr', 'fortran_order' and 'shape' are required");
        return (descr, fortran.Value, shape);
    }

    private ref struct HeaderParser(string text, string what)
    {
        private int _position;

        public InvalidDataException Error(string message) =>
            new($"{what}: malformed .npy header ({message}) in \"{text.TrimEnd()}\".");

        public void SkipSpace()
        {
            while (_position < text.Length && text[_position] is ' ' or '\t' or '\n' or '\r') _position++;
        }

        public bool TryConsume(char c)
        {
            SkipSpace();
            if (_position < text.Length && text[_position] == c)
            {
                _position++;
                return true;
            }
            return false;
        }

        public void Expect(char c)
        {
            if (!TryConsume(c)) throw Error($"expected '{c}' at {_position}");
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_position != text.Length) throw Error($"unexpected text after the dictionary at {_position}");
        }

        public string ReadString()
        {
            SkipSpace();
            if (_position >= text.Length || text[_position] is not ('\'' or '"')) throw Error($"expected a string at {_position}");
            char quote = text[_position++];
            int start = _position;
            while (_position < text.Length && text[_position] != quote)
            {
                if (text[_position] == '\\') throw Error("escape sequences are not supported");
                _position++;
            }
            if (_position >= text.Length) throw Error("unterminated string");
            return text[start.._position++];
        }

        public bool ReadBool()
        {
            SkipSpace();
            if (text.AsSpan(_position).StartsWith("True", StringComparison.Ordinal)) { _position += 4; return true; }
            if (text.AsSpan(_position).StartsWith("False", StringComparison.Ordinal)) { _position += 5; return false; }
            throw Error($"expected True or False at {_position}");
        }

        public List<long> ReadTuple()
        {
            Expect('(');
            var values = new List<long>();
            while (true)
            {
                if (TryConsume(')')) return values;
                SkipSpace();
                int start = _position;
                while (_position < text.Length && char.IsAsciiDigit(text[_position])) _position++;
                if (_position == start || !long.TryParse(text.AsSpan(start, _position - start), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                    throw Error($"expected a non-negative integer at {start}");
                if (_position < text.Length && text[_position] == 'L') _position++; // Python 2 long literal
                values.Add(value);
                if (TryConsume(')')) return values;
                Expect(',');
            }
        }
    }
}
