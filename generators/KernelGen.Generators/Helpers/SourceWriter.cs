using System;
using System.Globalization;
using System.Text;

namespace KernelGen.Generators.Helpers;

/// <summary>
/// An indented text writer for generated C#. <see cref="Block"/> opens a brace block that the returned scope closes.
/// Numbers go through <see cref="Literal(double, bool)"/>, which formats under the invariant culture with enough
/// digits to round-trip.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length == 0) { _builder.Append('\n'); return this; }
        foreach (string line in text.Split('\n'))
        {
            if (line.Length > 0) _builder.Append(' ', _indent * 4).Append(line.TrimEnd('\r'));
            _builder.Append('\n');
        }
        return this;
    }

    /// <summary>Writes <paramref name="header"/> (unless empty) and an opening brace; the scope writes the closing one.</summary>
    public Scope Block(string header)
    {
        if (header.Length > 0) Line(header);
        Line("{");
        _indent++;
        return new Scope(this);
    }

    public readonly struct Scope : IDisposable
    {
        private readonly SourceWriter _writer;
        public Scope(SourceWriter writer) => _writer = writer;
        public void Dispose()
        {
            _writer._indent--;
            _writer.Line("}");
        }
    }

    /// <summary>Changes the indentation by <paramref name="levels"/> (for object initializers, whose braces are not blocks).</summary>
    public void Indent(int levels) => _indent += levels;

    public override string ToString() => _builder.ToString();

    /// <summary>A C# literal for <paramref name="value"/>: G9 plus <c>f</c> for float, G17 for double.</summary>
    public static string Literal(double value, bool isFloat)
    {
        if (isFloat)
        {
            string s = ((float)value).ToString("G9", CultureInfo.InvariantCulture);
            return (s.Contains(".") || s.Contains("E") ? s : s + ".0") + "f";
        }
        string d = value.ToString("G17", CultureInfo.InvariantCulture);
        return d.Contains(".") || d.Contains("E") ? d : d + ".0";
    }

    public static string Literal(int value) => value.ToString(CultureInfo.InvariantCulture);
}
