using System.Collections.Generic;
using System.Globalization;
using KernelGen.Generators.Helpers;

namespace KernelGen.Generators.Custom;

/// <summary>
/// A user's activation as the spec carries it: the method's display name with its constant arguments, and its body
/// parsed into an <see cref="Expr"/> of x (parameters and locals substituted). Value-equal, so the pipeline caches it.
/// </summary>
internal sealed record CustomFunction(string Display, Expr Body)
{
    /// <summary>The derivative, simplified.</summary>
    public Expr Derivative => Body.Derivative();

    /// <summary>The nested operator struct's name: the method's name and a hash of the body (equal bodies share one).</summary>
    public string StructName
    {
        get
        {
            string text = Body.ToString();
            ulong hash = 14695981039346656037UL;
            foreach (char ch in text) hash = (hash ^ ch) * 1099511628211UL;
            string name = Display;
            int paren = name.IndexOf('(');
            if (paren >= 0) name = name.Substring(0, paren);
            int dot = name.LastIndexOf('.');
            if (dot >= 0) name = name.Substring(dot + 1);
            return "Custom" + name + "Op" + hash.ToString("X16", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>True for a loss ℓ(x, t) ([CustomLoss]); false for an activation f(x).</summary>
    public bool IsLoss { get; init; }

    /// <summary>"f(x) = …; f′(x) = …" (or "ℓ(x, t) = …; ∂ℓ/∂x = …") for documentation.</summary>
    public string Formula => IsLoss ? $"l(x, t) = {Body}; dl/dx = {Derivative}" : $"f(x) = {Body}; f'(x) = {Derivative}";
}

/// <summary>
/// Emits a <see cref="CustomFunction"/> as an <c>IInputActivationOp&lt;T&gt;</c> struct: f and f′ as straight-line code
/// over <c>ISimd</c> vectors with every repeated sub-expression computed once, and a scalar branch signature for the
/// gradient check's kink detection.
/// </summary>
internal static class CustomEmitter
{
    private const string VectorMath = "global::KernelGen.VectorMath";

    /// <summary>Emits a user's loss as an <c>IElementwiseLossOp&lt;T&gt;</c> struct: ℓ(x, t) and ∂ℓ/∂x.</summary>
    public static void EmitLoss(SourceWriter w, CustomFunction f)
    {
        w.Line($"/// <summary>{Xml(f.Display)}: {Xml(f.Formula)}.</summary>");
        w.Line($"internal readonly struct {f.StructName}<T> : global::KernelGen.Operators.IElementwiseLossOp<T> where T : unmanaged, global::System.Numerics.IBinaryFloatingPointIeee754<T>");
        w.Line("{");
        w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
        w.Line("    public static TV Loss<TV>(TV x, TV t) where TV : struct, global::KernelGen.Operators.ISimd<TV, T>");
        w.Line("    {");
        w.Line($"        return {Body(w, f.Body, "TV", "T", "        ")};");
        w.Line("    }");
        w.Line();
        w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
        w.Line("    public static TV Gradient<TV>(TV x, TV t) where TV : struct, global::KernelGen.Operators.ISimd<TV, T>");
        w.Line("    {");
        w.Line($"        return {Body(w, f.Derivative, "TV", "T", "        ")};");
        w.Line("    }");
        w.Line("}");
    }

    public static void Emit(SourceWriter w, CustomFunction f)
    {
        Expr derivative = f.Derivative;
        List<(Expr Left, Expr Right)> comparisons = f.Body.Comparisons();
        foreach ((Expr l, Expr r) in derivative.Comparisons()) if (!comparisons.Contains((l, r))) comparisons.Add((l, r));

        w.Line($"/// <summary>{Xml(f.Display)}: {Xml(f.Formula)}.</summary>");
        w.Line($"internal readonly struct {f.StructName}<T> : global::KernelGen.Operators.IInputActivationOp<T> where T : unmanaged, global::System.Numerics.IBinaryFloatingPointIeee754<T>");
        w.Line("{");
        w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
        w.Line("    public static TV Forward<TV>(TV x) where TV : struct, global::KernelGen.Operators.ISimd<TV, T>");
        w.Line("    {");
        string y = Body(w, f.Body, "TV", "T", "        ");
        w.Line($"        return {y};");
        w.Line("    }");
        w.Line();
        w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
        w.Line("    public static TV Backward<TV>(TV x, TV dy) where TV : struct, global::KernelGen.Operators.ISimd<TV, T>");
        w.Line("    {");
        string d = Body(w, derivative, "TV", "T", "        ");
        w.Line($"        return dy * {d};");
        w.Line("    }");
        if (comparisons.Count > 0)
        {
            w.Line();
            w.Line("    /// <summary>The branch of each comparison at x, one bit each (the gradient check's kink signature).</summary>");
            w.Line("    public static int Branch(double input)");
            w.Line("    {");
            w.Line("        var x = new global::KernelGen.Operators.SimdScalar<double>(input);");
            w.Line("        int bits = 0;");
            const string tv = "global::KernelGen.Operators.SimdScalar<double>";
            var locals = new Dictionary<Expr, string>();
            int counter = 0;
            for (int i = 0; i < comparisons.Count; i++)
            {
                string l = Value(w, comparisons[i].Left, tv, "double", "        ", locals, ref counter);
                string r = Value(w, comparisons[i].Right, tv, "double", "        ", locals, ref counter);
                w.Line($"        if (({l}).V > ({r}).V) bits |= 1 << {(i % 31).ToString(CultureInfo.InvariantCulture)};");
            }
            w.Line("        return bits;");
            w.Line("    }");
        }
        w.Line("}");
    }

    /// <summary>
    /// f as a program of KernelGen.Onnx's mapping language over x (one assignment per distinct sub-expression, primitive
    /// ONNX operators only: Add, Sub, Mul, Div, Neg, Exp, Log, Sqrt, Tanh, Sigmoid, Erf, Abs, Max, Min, Pow, Where,
    /// Greater), e.g. <c>v0 = Sigmoid(x); Mul(x, v0)</c>.
    /// </summary>
    /// <param name="doubleModel">For a double model: ONNX Runtime has no double Erf kernel, so Erf runs in float between
    /// two Casts (as the catalog's GELU does in double).</param>
    public static string Onnx(CustomFunction f, bool doubleModel = false) =>
        Program(f.Body, (e, a) => doubleModel && e.Op == ExprOp.Erf ? $"Cast(Erf(Cast({a[0]}, to=1)), to=11)" : OnnxNode(e, a));

    /// <summary>f as Python (PyTorch) statements over the tensor x and the name of the result, e.g.
    /// <c>v0 = torch.sigmoid(x)</c>, …</summary>
    public static (List<string> Statements, string Result) PyTorch(CustomFunction f)
    {
        var statements = new List<string>();
        var names = new Dictionary<Expr, string>();
        string result = Name(f.Body, names, statements, PyTorchNode);
        return (statements, result);
    }

    private static string Program(Expr e, System.Func<Expr, string[], string> node)
    {
        var statements = new List<string>();
        var names = new Dictionary<Expr, string>();
        string result = Name(e, names, statements, node);
        var text = new System.Text.StringBuilder();
        foreach (string s in statements) text.Append(s).Append("; ");
        return text.Append(result).ToString();
    }

    private static string Name(Expr e, Dictionary<Expr, string> names, List<string> statements, System.Func<Expr, string[], string> node)
    {
        if (e.Op == ExprOp.X) return "x";
        if (e.Op == ExprOp.T) return "t";
        if (e.Op == ExprOp.Const) return NumberText(e.Value);
        if (names.TryGetValue(e, out string? known)) return known;
        var args = new string[e.Args.Count];
        for (int i = 0; i < args.Length; i++) args[i] = Name(e.Args[i], names, statements, node);
        string name = "v" + names.Count.ToString(CultureInfo.InvariantCulture);
        statements.Add($"{name} = {node(e, args)}");
        names[e] = name;
        return name;
    }

    private static string NumberText(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.IndexOfAny(new[] { '.', 'E', 'e', 'N', 'I' }) < 0 ? text + ".0" : text;
    }

    private static string OnnxNode(Expr e, string[] a) => e.Op switch
    {
        ExprOp.Add => $"Add({a[0]}, {a[1]})",
        ExprOp.Sub => $"Sub({a[0]}, {a[1]})",
        ExprOp.Mul => $"Mul({a[0]}, {a[1]})",
        ExprOp.Div => $"Div({a[0]}, {a[1]})",
        ExprOp.Neg => $"Neg({a[0]})",
        ExprOp.Exp => $"Exp({a[0]})",
        ExprOp.Log => $"Log({a[0]})",
        ExprOp.Log1p => $"Log(Add(1.0, {a[0]}))",
        ExprOp.Expm1 => $"Sub(Exp({a[0]}), 1.0)",
        ExprOp.Sqrt => $"Sqrt({a[0]})",
        ExprOp.Tanh => $"Tanh({a[0]})",
        ExprOp.Sigmoid => $"Sigmoid({a[0]})",
        ExprOp.Erf => $"Erf({a[0]})",
        ExprOp.Abs => $"Abs({a[0]})",
        ExprOp.Max => $"Max({a[0]}, {a[1]})",
        ExprOp.Min => $"Min({a[0]}, {a[1]})",
        ExprOp.Select => $"Where(Greater({a[0]}, {a[1]}), {a[2]}, {a[3]})",
        ExprOp.PowInt => $"Pow({a[0]}, {NumberText(e.Value)})",
        _ => a[0],
    };

    private static string PyTorchNode(Expr e, string[] a) => e.Op switch
    {
        ExprOp.Add => $"{a[0]} + {a[1]}",
        ExprOp.Sub => $"{a[0]} - {a[1]}",
        ExprOp.Mul => $"{a[0]} * {a[1]}",
        ExprOp.Div => $"{a[0]} / {a[1]}",
        ExprOp.Neg => $"-{a[0]}",
        ExprOp.Exp => $"torch.exp({T(a[0])})",
        ExprOp.Log => $"torch.log({T(a[0])})",
        ExprOp.Log1p => $"torch.log1p({T(a[0])})",
        ExprOp.Expm1 => $"torch.expm1({T(a[0])})",
        ExprOp.Sqrt => $"torch.sqrt({T(a[0])})",
        ExprOp.Tanh => $"torch.tanh({T(a[0])})",
        ExprOp.Sigmoid => $"torch.sigmoid({T(a[0])})",
        ExprOp.Erf => $"torch.erf({T(a[0])})",
        ExprOp.Abs => $"torch.abs({T(a[0])})",
        ExprOp.Max => $"torch.maximum({T(a[0])}, {T(a[1])})",
        ExprOp.Min => $"torch.minimum({T(a[0])}, {T(a[1])})",
        ExprOp.Select => $"torch.where({T(a[0])} > {T(a[1])}, {T(a[2])}, {T(a[3])})",
        ExprOp.PowInt => $"torch.pow({T(a[0])}, {NumberText(e.Value)})",
        _ => a[0],
    };

    /// <summary>A constant operand as a tensor shaped like x (torch functions take tensors).</summary>
    private static string T(string operand) => operand.Length > 0 && (char.IsDigit(operand[0]) || operand[0] == '-' || operand[0] == '.')
        ? $"torch.full_like(x, {operand})" : operand;

    /// <summary>Whether the function switches branches anywhere (then it has a <c>Branch</c> method).</summary>
    public static bool HasBranches(CustomFunction f) => f.Body.Comparisons().Count > 0 || f.Derivative.Comparisons().Count > 0;

    private static string Body(SourceWriter w, Expr e, string tv, string t, string indent)
    {
        var locals = new Dictionary<Expr, string>();
        int counter = 0;
        return Value(w, e, tv, t, indent, locals, ref counter);
    }

    /// <summary>Writes locals for <paramref name="e"/>'s sub-expressions (each distinct one once) and returns its name.</summary>
    private static string Value(SourceWriter w, Expr e, string tv, string t, string indent, Dictionary<Expr, string> locals, ref int counter)
    {
        if (e.Op == ExprOp.X) return "x";
        if (e.Op == ExprOp.T) return "t";
        if (locals.TryGetValue(e, out string? name)) return name;
        var args = new string[e.Args.Count];
        for (int i = 0; i < args.Length; i++) args[i] = Value(w, e.Args[i], tv, t, indent, locals, ref counter);
        string a = args.Length > 0 ? args[0] : "", b = args.Length > 1 ? args[1] : "";
        string code = e.Op switch
        {
            ExprOp.Const => $"{tv}.Create({t}.CreateTruncating({Literal(e.Value)}))",
            ExprOp.Add => $"{a} + {b}",
            ExprOp.Sub => $"{a} - {b}",
            ExprOp.Mul => $"{a} * {b}",
            ExprOp.Div => $"{a} / {b}",
            ExprOp.Neg => $"-{a}",
            ExprOp.Exp => $"{tv}.Exp({a})",
            ExprOp.Log => $"{tv}.Log({a})",
            ExprOp.Sqrt => $"{tv}.Sqrt({a})",
            ExprOp.Abs => $"{tv}.Abs({a})",
            ExprOp.Max => $"{tv}.Max({a}, {b})",
            ExprOp.Min => $"{tv}.Min({a}, {b})",
            ExprOp.Tanh => $"{VectorMath}.Tanh<{t}, {tv}>({a})",
            ExprOp.Sigmoid => $"{VectorMath}.Sigmoid<{t}, {tv}>({a})",
            ExprOp.Erf => $"{VectorMath}.Erf<{t}, {tv}>({a})",
            ExprOp.Log1p => $"{VectorMath}.Log1p<{t}, {tv}>({a})",
            ExprOp.Expm1 => $"{VectorMath}.Expm1<{t}, {tv}>({a})",
            ExprOp.Select => $"{tv}.SelectGreaterThan({a}, {b}, {args[2]}, {args[3]})",
            ExprOp.PowInt => Power(a, (int)e.Value),
            _ => a,
        };
        name = "v" + (counter++).ToString(CultureInfo.InvariantCulture);
        w.Line($"{indent}{tv} {name} = {code};");
        locals[e] = name;
        return name;

        string Power(string x, int n)
        {
            // x^|n| by repeated squaring, written out; 1/x^|n| for negative n.
            int m = n < 0 ? -n : n;
            string result = "", square = x;
            while (m > 0)
            {
                if ((m & 1) != 0) result = result.Length == 0 ? square : $"{result} * {square}";
                m >>= 1;
                if (m > 0) square = $"({square} * {square})";
            }
            return n < 0 ? $"{tv}.Create({t}.One) / ({result})" : result;
        }
    }

    private static string Literal(double value) =>
        double.IsNaN(value) ? "double.NaN"
        : double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
        : double.IsNegativeInfinity(value) ? "double.NegativeInfinity"
        : value.ToString("R", CultureInfo.InvariantCulture) + (value.ToString("R", CultureInfo.InvariantCulture).IndexOfAny(new[] { '.', 'E', 'e' }) < 0 ? ".0" : "");

    private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
