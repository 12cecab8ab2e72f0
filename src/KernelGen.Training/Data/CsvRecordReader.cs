using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace KernelGen.Data;

/// <summary>
/// Splits delimited text into records of cells, streaming: RFC 4180 quoting (a cell wrapped in double quotes may hold
/// separators, line breaks and "" for a literal quote), any single-character separator, or runs of spaces and tabs
/// (<see cref="CsvOptions.Whitespace"/>). Cells are trimmed of surrounding spaces (and tabs, unless tab separates).
/// Blank lines and comment lines are skipped. Line breaks are LF, CRLF or a lone CR; line numbers are 1-based
/// physical lines, so a record whose quoted cell spans lines reports each cell at the line where it starts.
/// </summary>
internal sealed class CsvRecordReader
{
    private readonly TextReader _reader;
    private readonly string _source;
    private readonly char? _comment;
    private readonly char[] _buffer = new char[1 << 14];
    private readonly StringBuilder _cell = new();
    private int _position, _length;
    private string? _replay;
    private int _replayPosition;
    private char _separator = ',';
    private bool _whitespace;

    public CsvRecordReader(TextReader reader, string source, char? comment)
    {
        _reader = reader;
        _source = source;
        _comment = comment;
    }

    /// <summary>The physical line of the next character (1-based).</summary>
    public int Line { get; private set; } = 1;

    /// <summary>The 1-based character position within <see cref="Line"/> of the next character.</summary>
    public int Column { get; private set; } = 1;

    /// <summary>The line where the last record returned by <see cref="Next"/> starts.</summary>
    public int RecordLine { get; private set; }

    /// <summary>Per cell of the last record, the line where it starts.</summary>
    public List<int> CellLines { get; } = [];

    /// <summary>Per cell of the last record, whether it was quoted.</summary>
    public List<bool> CellQuoted { get; } = [];

    /// <summary>The separator; <see cref="CsvOptions.Whitespace"/> means runs of spaces and tabs.</summary>
    public char Separator
    {
        get => _separator;
        set { _separator = value; _whitespace = value == CsvOptions.Whitespace; }
    }

    private int Peek()
    {
        if (_replay is not null)
        {
            if (_replayPosition < _replay.Length) return _replay[_replayPosition];
            _replay = null;
        }
        if (_position == _length)
        {
            _length = _reader.Read(_buffer, 0, _buffer.Length);
            _position = 0;
            if (_length <= 0) { _length = 0; return -1; }
        }
        return _buffer[_position];
    }

    private int Read()
    {
        int c = Peek();
        if (c < 0) return c;
        if (_replay is not null) _replayPosition++; else _position++;
        if (c == '\n' || (c == '\r' && Peek() != '\n')) { Line++; Column = 1; }
        else if (c != '\r') Column++;
        return c;
    }

    /// <summary>Reads one physical line without its line break, or null at the end of the input.</summary>
    public string? ReadRawLine()
    {
        if (Peek() < 0) return null;
        var line = new StringBuilder();
        while (true)
        {
            int c = Read();
            if (c < 0 || c == '\n') break;
            if (c == '\r')
            {
                if (Peek() == '\n') Read();
                break;
            }
            line.Append((char)c);
        }
        return line.ToString();
    }

    /// <summary>Puts back a line read by <see cref="ReadRawLine"/> (once, right after reading it).</summary>
    public void Unread(string line, int lineNumber)
    {
        _replay = line + "\n";
        _replayPosition = 0;
        Line = lineNumber;
        Column = 1;
    }

    /// <summary>Whether <paramref name="line"/> holds nothing but spaces and tabs, or is a comment.</summary>
    public bool IsBlankOrComment(string line)
    {
        ReadOnlySpan<char> trimmed = line.AsSpan().TrimStart(" \t");
        return trimmed.IsEmpty || (_comment is char c && trimmed[0] == c);
    }

    private bool IsPadding(int c) => c == ' ' || (c == '\t' && (_whitespace || _separator != '\t'));

    private bool IsSeparator(int c) => _whitespace ? c is ' ' or '\t' : c == _separator;

    /// <summary>Reads the next record into <paramref name="cells"/>, skipping blank and comment lines; false at the end
    /// of the input.</summary>
    /// <exception cref="InvalidDataException">A quote is not closed, or text follows a closing quote.</exception>
    public bool Next(List<string> cells)
    {
        while (true)
        {
            cells.Clear();
            CellLines.Clear();
            CellQuoted.Clear();
            int c;
            while (IsPadding(c = Peek())) Read();
            if (c < 0) return false;
            if (c == '\r' || c == '\n')
            {
                Read();
                if (c == '\r' && Peek() == '\n') Read();
                continue;
            }
            if (_comment is char comment && c == comment)
            {
                ReadRawLine();
                continue;
            }
            RecordLine = Line;
            ReadCells(cells);
            // A line of separators only is blank when the separator is whitespace (a line of tabs).
            if (_separator == '\t' && !CellQuoted.Contains(true) && cells.TrueForAll(string.IsNullOrEmpty)) continue;
            return true;
        }
    }

    private void ReadCells(List<string> cells)
    {
        while (true)
        {
            int c;
            while (IsPadding(c = Peek())) Read();
            CellLines.Add(Line);
            _cell.Clear();
            bool quoted = c == '"';
            if (quoted)
            {
                int openLine = Line, openColumn = Column;
                Read();
                while (true)
                {
                    c = Read();
                    if (c < 0)
                        throw new InvalidDataException($"{_source}: line {openLine}, column {cells.Count + 1}: the quote opened at character {openColumn} is not closed.");
                    if (c == '"')
                    {
                        if (Peek() != '"') break;
                        Read();
                    }
                    _cell.Append((char)c);
                }
                bool padded = false;
                while (IsPadding(c = Peek())) { Read(); padded = true; }
                if (c >= 0 && c != '\r' && c != '\n' && !IsSeparator(c) && !(_whitespace && padded))
                    throw new InvalidDataException($"{_source}: line {Line}, column {cells.Count + 1}: unexpected '{(char)c}' after a closing quote.");
            }
            else
            {
                while ((c = Peek()) >= 0 && c != '\r' && c != '\n' && !IsSeparator(c)) _cell.Append((char)Read());
                int end = _cell.Length;
                while (end > 0 && IsPadding(_cell[end - 1])) end--;
                _cell.Length = end;
            }
            cells.Add(_cell.ToString());
            CellQuoted.Add(quoted);

            c = Peek();
            if (c < 0) return;
            if (c == '\r' || c == '\n')
            {
                Read();
                if (c == '\r' && Peek() == '\n') Read();
                return;
            }
            if (_whitespace)
            {
                while (IsPadding(c = Peek())) Read();
                if (c < 0) return;
                if (c == '\r' || c == '\n')
                {
                    Read();
                    if (c == '\r' && Peek() == '\n') Read();
                    return;
                }
                continue; // the next cell starts here
            }
            Read(); // the separator
        }
    }

    /// <summary>
    /// The separator of a line: tab if it has one outside quotes, else ';', else ',', else (when it has spaces between
    /// cells) whitespace; ',' when it has none of them (a one-column line).
    /// </summary>
    public static char Detect(string line)
    {
        bool inQuotes = false, tab = false, semicolon = false, comma = false, space = false;
        ReadOnlySpan<char> text = line.AsSpan().Trim(" \t");
        foreach (char c in text)
        {
            if (c == '"') inQuotes = !inQuotes;
            if (inQuotes) continue;
            if (c == '\t') tab = true;
            else if (c == ';') semicolon = true;
            else if (c == ',') comma = true;
            else if (c == ' ') space = true;
        }
        return tab ? '\t' : semicolon ? ';' : comma ? ',' : space ? CsvOptions.Whitespace : ',';
    }
}
