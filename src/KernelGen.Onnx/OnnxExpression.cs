using System;
using System.Collections.Generic;
using System.Globalization;

using KernelGen.Onnx.Proto;
using TensorDataType = KernelGen.Onnx.Proto.TensorProto.Types.DataType;

namespace KernelGen.Onnx;

/// <summary>
/// The small language in which the op catalog writes each op's ONNX mapping, and its evaluator, which turns an
/// expression into nodes of an <see cref="OnnxGraphBuilder"/>. An expression is a sequence of assignments and a result:
/// <code>
/// program   := (name '=' expr ';')* expr
/// expr      := OpType '(' [arg (',' arg)*] ')' | name | number | '[' item (',' item)* ']'
/// arg       := expr | name '?' | attribute '=' value
/// value     := number | name | 'int(' name ')' | '[' item (',' item)* ']'
/// </code>
/// Names are bound by the caller: <c>x</c> (the op's input), tensors (<c>Weights</c>, <c>Gamma</c>, …), assigned names,
/// and numbers (options such as <c>Epsilon</c>, <c>Groups</c>, an activation's parameter <c>p</c>). An argument
/// <c>Name?</c> is an optional input, left out when the name is not bound (a tensor the layer does not have). In an input
/// position a number (literal or bound) becomes a scalar initializer of the model's element type and a list an int64
/// tensor (a Reshape shape); as an attribute value, a literal without '.' or exponent is an INT, any other number a
/// FLOAT, <c>int(Name)</c> a bound number as an INT, and a list INTS. Examples: <c>LeakyRelu(x, alpha=p)</c>, <c>Gemm(x, Weights, Bias)</c>,
/// <c>ReduceMax(Reshape(y, [-1, Units, Pieces]), axes=[2], keepdims=0)</c>.
/// </summary>
internal sealed class OnnxExpression
{
    private readonly string _text;
    private readonly OnnxGraphBuilder _builder;
    private readonly string _scope;
    private readonly Dictionary<string, string> _values;
    private readonly IReadOnlyDictionary<string, double> _numbers;
    private int _position;

    private OnnxExpression(string text, OnnxGraphBuilder builder, string scope, Dictionary<string, string> values, IReadOnlyDictionary<string, double> numbers)
    {
        _text = text; _builder = builder; _scope = scope; _values = values; _numbers = numbers;
    }

    /// <summary>Evaluates <paramref name="text"/>, adding its nodes to <paramref name="builder"/> under <paramref name="scope"/>,
    /// and returns the name of the result.</summary>
    /// <exception cref="FormatException">The expression is malformed or uses an unbound name.</exception>
    public static string Evaluate(string text, OnnxGraphBuilder builder, string scope, IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, double> numbers)
    {
        var expression = new OnnxExpression(text, builder, scope, new Dictionary<string, string>(values, StringComparer.Ordinal), numbers);
        return expression.Program();
    }

    private string Program()
    {
        while (true)
        {
            int start = _position;
            if (TryName(out string? name) && Peek() == '=' && PeekAt(1) != '=')
            {
                Expect('=');
                _values[name!] = Expression();
                Expect(';');
                continue;
            }
            _position = start;
            string result = Expression();
            SkipSpace();
            if (_position != _text.Length) throw Error("unexpected text after the result");
            return result;
        }
    }

    private string Expression() => OptionalExpression() ?? throw Error("an optional input (name?) stands only as an operator's argument");

    /// <summary>An expression, or null for an optional input <c>Name?</c> whose name is not bound (a convolution without
    /// bias): the operator then gets no such input.</summary>
    private string? OptionalExpression()
    {
        SkipSpace();
        if (Peek() == '[') return _builder.Shape(List());
        if (IsNumberStart(Peek())) return _builder.Scalar(_scope, Number(out _));
        if (!TryName(out string? name)) throw Error("expected an operator, a name, a number or a list");
        if (Peek() == '?')
        {
            _position++;
            return _values.TryGetValue(name!, out string? optional) ? optional : null;
        }
        if (Peek() != '(')
        {
            if (_values.TryGetValue(name!, out string? value)) return value;
            if (_numbers.TryGetValue(name!, out double number)) return _builder.Scalar(_scope, number);
            throw Error($"'{name}' is not bound");
        }
        Expect('(');
        var inputs = new List<string>();
        var attributes = new List<AttributeProto>();
        if (Peek() != ')')
        {
            do
            {
                SkipSpace();
                int start = _position;
                if (TryName(out string? attribute) && Peek() == '=')
                {
                    Expect('=');
                    attributes.Add(Attribute(attribute!));
                }
                else
                {
                    _position = start;
                    if (OptionalExpression() is { } input) inputs.Add(input);
                }
            }
            while (TryConsume(','));
        }
        Expect(')');
        return _builder.Node(name!, _scope, inputs.ToArray(), attributes.ToArray());
    }

    private AttributeProto Attribute(string name)
    {
        SkipSpace();
        if (Peek() == '[') return OnnxMessages.Ints(name, List());
        if (IsNumberStart(Peek()))
        {
            double value = Number(out bool integer);
            return integer ? OnnxMessages.Int(name, (long)value) : OnnxMessages.Float(name, (float)value);
        }
        if (TryName(out string? bound))
        {
            if (bound == "int" && Peek() == '(')
            {
                // int(Name): a bound number as an INT attribute (group, count_include_pad).
                Expect('(');
                if (!TryName(out string? inner) || !_numbers.TryGetValue(inner!, out double whole)) throw Error("int(…) takes a bound number");
                Expect(')');
                return OnnxMessages.Int(name, (long)whole);
            }
            if (_numbers.TryGetValue(bound!, out double number)) return OnnxMessages.Float(name, (float)number);
        }
        throw Error($"attribute '{name}' needs a number, a bound number, int(bound number) or a list");
    }

    private long[] List()
    {
        Expect('[');
        var items = new List<long>();
        do
        {
            SkipSpace();
            if (IsNumberStart(Peek())) items.Add((long)Number(out _));
            else if (TryName(out string? name) && _numbers.TryGetValue(name!, out double value)) items.Add((long)value);
            else throw Error("a list holds numbers or bound numbers");
        }
        while (TryConsume(','));
        Expect(']');
        return items.ToArray();
    }

    private double Number(out bool integer)
    {
        SkipSpace();
        int start = _position;
        if (Peek() == '-' || Peek() == '+') _position++;
        while (_position < _text.Length && (char.IsDigit(_text[_position]) || _text[_position] is '.' or 'e' or 'E'
               || ((_text[_position] is '-' or '+') && _text[_position - 1] is 'e' or 'E'))) _position++;
        string token = _text.Substring(start, _position - start);
        integer = token.IndexOfAny(['.', 'e', 'E']) < 0;
        if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) throw Error($"'{token}' is not a number");
        return value;
    }

    private bool TryName(out string? name)
    {
        SkipSpace();
        int start = _position;
        while (_position < _text.Length && (char.IsLetterOrDigit(_text[_position]) || _text[_position] == '_') && !(_position == start && char.IsDigit(_text[_position]))) _position++;
        name = _position > start ? _text.Substring(start, _position - start) : null;
        return name is not null;
    }

    private static bool IsNumberStart(char c) => char.IsDigit(c) || c is '-' or '+' or '.';

    private bool TryConsume(char c)
    {
        SkipSpace();
        if (Peek() != c) return false;
        _position++;
        return true;
    }

    private void Expect(char c)
    {
        if (!TryConsume(c)) throw Error($"expected '{c}'");
    }

    private char Peek()
    {
        SkipSpace();
        return _position < _text.Length ? _text[_position] : '\0';
    }

    private char PeekAt(int offset) => _position + offset < _text.Length ? _text[_position + offset] : '\0';

    private void SkipSpace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position])) _position++;
    }

    private FormatException Error(string message) => new($"ONNX expression '{_text}', at {_position}: {message}.");
}
