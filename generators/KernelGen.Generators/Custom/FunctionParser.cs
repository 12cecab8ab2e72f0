using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using KernelGen.Generators.Diagnostics;
using KernelGen.Generators.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Generators.Custom;

/// <summary>
/// Reads a <c>[CustomActivation(typeof(T), nameof(T.F), args…)]</c> attribute: finds the <c>[ActivationFunction]</c> method,
/// and turns its body into an <see cref="Expr"/> of x with the parameters replaced by the attribute's constants. Every
/// construct outside the supported grammar is reported (KG0026) at its own syntax; the parser never throws.
/// </summary>
internal static class FunctionParser
{
    public const string AttributeName = "KernelGen.CustomActivationAttribute";
    public const string LossAttributeName = "KernelGen.CustomLossAttribute";
    private const string MarkerName = "KernelGen.ActivationFunctionAttribute";
    private const string LossMarkerName = "KernelGen.LossFunctionAttribute";
    private const int MaxNodes = 2000;
    private const int MaxCallDepth = 8;

    public const string Grammar = "supported are + - * /, unary minus, numeric literals, const fields, the parameters, locals, "
        + "Math.Exp/Log/Log1P/Sqrt/Tanh/Abs/Max/Min/Clamp, Math.Pow with a constant exponent, ActivationMath.Sigmoid/Softplus/Erf/Expm1/Log1p, "
        + "'a < b ? u : v' on comparisons, and calls to other [ActivationFunction] methods";

    /// <summary>The function of <paramref name="attribute"/>, or null with diagnostics.</summary>
    /// <param name="loss">True for a [CustomLoss] (a [LossFunction] method of the output and the target).</param>
    public static CustomFunction? Read(AttributeData attribute, Compilation compilation, LocationInfo? attributeLocation, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken, bool loss = false)
    {
        var args = attribute.ConstructorArguments;
        string attributeText = loss ? "CustomLoss" : "CustomActivation";
        if (args.Length < 2 || args[0].Value is not INamedTypeSymbol type || args[1].Value is not string methodName)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedActivationFunction, attributeLocation,
                $"[{attributeText}]", $"name the method with typeof and nameof: [{attributeText}(typeof(MyFunctions), nameof(MyFunctions.F))]"));
            return null;
        }
        int variables = loss ? 2 : 1;
        string marker = loss ? LossMarkerName : MarkerName;
        var values = new List<double>();
        if (args.Length > 2)
        {
            foreach (TypedConstant v in args[2].Kind == TypedConstantKind.Array ? args[2].Values : ImmutableOne(args[2]))
                values.Add(v.Value is double d ? d : v.Value is int i ? i : double.NaN);
        }
        var candidates = type.GetMembers(methodName).OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        IMethodSymbol? method = candidates.FirstOrDefault(m => m.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == marker));
        if (method is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedActivationFunction, attributeLocation, $"{type.Name}.{methodName}",
                candidates.Count == 0 ? $"{type.ToDisplayString()} has no method named '{methodName}'" : $"the method is not marked [{(loss ? "LossFunction" : "ActivationFunction")}]"));
            return null;
        }
        if (method.Parameters.Length - variables != values.Count)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedActivationFunction, attributeLocation, $"{type.Name}.{methodName}",
                $"the method takes {method.Parameters.Length - variables} constant argument(s) after {(loss ? "y and t" : "x")}, but the attribute gives {values.Count}"));
            return null;
        }
        foreach (double v in values)
            if (double.IsNaN(v) || double.IsInfinity(v))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedActivationFunction, attributeLocation, $"{type.Name}.{methodName}",
                    "every constant argument must be a finite number"));
                return null;
            }
        var parser = new Reader(compilation, diagnostics, cancellationToken);
        var constants = values.Select(Expr.C).ToList();
        Expr? body = parser.Method(method, constants, 0, attributeLocation, variables);
        if (body is null) return null;
        string display = $"{type.Name}.{methodName}({(loss ? "y, t" : "x")}{string.Concat(values.Select(v => ", " + v.ToString("R", CultureInfo.InvariantCulture)))})";
        if (body.Size > MaxNodes || body.Derivative().Size > 4 * MaxNodes)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedActivationFunction, attributeLocation, display,
                $"the expression or its derivative is too large (more than {MaxNodes} operations)"));
            return null;
        }
        return new CustomFunction(display, body) { IsLoss = loss };
    }

    private static IEnumerable<TypedConstant> ImmutableOne(TypedConstant c) { yield return c; }

    private static bool HasMarker(IMethodSymbol method) => method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == MarkerName);

    private sealed class Reader(Compilation compilation, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        private bool _failed;

        private void Fail(SyntaxNode node, string what, string why) => Fail(node.GetLocation(), what, why);

        private void Fail(Location location, string what, string why)
        {
            _failed = true;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedActivationFunction, LocationInfo.From(location), what, why));
        }

        /// <summary>The body of <paramref name="method"/> with its parameters bound to x and <paramref name="arguments"/>.</summary>
        public Expr? Method(IMethodSymbol method, IReadOnlyList<Expr> arguments, int depth, LocationInfo? callSite, int variables = 1)
        {
            var syntax = method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
            if (syntax is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedActivationFunction, callSite, method.Name, "the method's source is not in this compilation"));
                return null;
            }
            string name = method.ContainingType.Name + "." + method.Name;
            if (!method.IsStatic) { Fail(syntax.Identifier.GetLocation(), name, "the method must be static"); return null; }
            if (method.ReturnType.SpecialType != SpecialType.System_Double || method.Parameters.Length < variables
                || method.Parameters.Any(p => p.Type.SpecialType != SpecialType.System_Double || p.RefKind != RefKind.None))
            {
                Fail(syntax.ParameterList, name, variables == 2
                    ? "the method must take and return double: static double L(double y, double t, double p1, …)"
                    : "the method must take and return double: static double F(double x, double p1, …)");
                return null;
            }
            var scope = new Dictionary<ISymbol, Expr>(SymbolEqualityComparer.Default);
            scope[method.Parameters[0]] = Expr.X;
            if (variables == 2) scope[method.Parameters[1]] = Expr.Target;
            for (int i = variables; i < method.Parameters.Length; i++) scope[method.Parameters[i]] = arguments[i - variables];
            SemanticModel model = compilation.GetSemanticModel(syntax.SyntaxTree);

            if (syntax.ExpressionBody is { } arrow) return Expression(arrow.Expression, model, scope, depth);
            if (syntax.Body is not { } block) { Fail(syntax, name, "the method needs a body"); return null; }
            for (int i = 0; i < block.Statements.Count; i++)
            {
                StatementSyntax statement = block.Statements[i];
                bool last = i == block.Statements.Count - 1;
                if (statement is LocalDeclarationStatementSyntax { IsConst: false } local && !last)
                {
                    foreach (VariableDeclaratorSyntax variable in local.Declaration.Variables)
                    {
                        if (variable.Initializer is null) { Fail(variable, variable.Identifier.Text, "a local needs an initializer"); return null; }
                        Expr? value = Expression(variable.Initializer.Value, model, scope, depth);
                        if (value is null) return null;
                        if (model.GetDeclaredSymbol(variable, cancellationToken) is { } symbol) scope[symbol] = value;
                    }
                    continue;
                }
                if (statement is ReturnStatementSyntax { Expression: { } returned } && last) return Expression(returned, model, scope, depth);
                Fail(statement, statement.Kind().ToString(), "the body must be locals ('var a = …;') followed by one 'return …;'");
                return null;
            }
            Fail(block, name, "the body must end with 'return …;'");
            return null;
        }

        private Expr? Expression(ExpressionSyntax e, SemanticModel model, Dictionary<ISymbol, Expr> scope, int depth)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_failed) return null;
            switch (e)
            {
                case ParenthesizedExpressionSyntax p:
                    return Expression(p.Expression, model, scope, depth);
                case CheckedExpressionSyntax c:
                    return Expression(c.Expression, model, scope, depth);
                case LiteralExpressionSyntax { Token.Value: var v } literal when literal.IsKind(SyntaxKind.NumericLiteralExpression):
                    return v switch { double d => Expr.C(d), int i => Expr.C(i), long l => Expr.C(l), float f => Expr.C(f), decimal m => Expr.C((double)m), _ => Unsupported(e, "this literal") };
                case PrefixUnaryExpressionSyntax u when u.IsKind(SyntaxKind.UnaryMinusExpression):
                    return Map(Expression(u.Operand, model, scope, depth), Expr.Neg);
                case PrefixUnaryExpressionSyntax u when u.IsKind(SyntaxKind.UnaryPlusExpression):
                    return Expression(u.Operand, model, scope, depth);
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.AddExpression) || b.IsKind(SyntaxKind.SubtractExpression)
                    || b.IsKind(SyntaxKind.MultiplyExpression) || b.IsKind(SyntaxKind.DivideExpression):
                {
                    Expr? l = Expression(b.Left, model, scope, depth), r = l is null ? null : Expression(b.Right, model, scope, depth);
                    if (l is null || r is null) return null;
                    return b.Kind() switch
                    {
                        SyntaxKind.AddExpression => Expr.Add(l, r),
                        SyntaxKind.SubtractExpression => Expr.Sub(l, r),
                        SyntaxKind.MultiplyExpression => Expr.Mul(l, r),
                        _ => Expr.Div(l, r),
                    };
                }
                case ConditionalExpressionSyntax c:
                    return Conditional(c, model, scope, depth);
                case IdentifierNameSyntax or MemberAccessExpressionSyntax when e is not InvocationExpressionSyntax:
                {
                    ISymbol? symbol = model.GetSymbolInfo(e, cancellationToken).Symbol;
                    if (symbol is not null && scope.TryGetValue(symbol, out Expr? bound)) return bound;
                    if (symbol is IFieldSymbol { HasConstantValue: true, ConstantValue: var constant })
                        return constant switch { double d => Expr.C(d), int i => Expr.C(i), float f => Expr.C(f), long l => Expr.C(l), _ => Unsupported(e, "this constant") };
                    if (symbol is ILocalSymbol { IsConst: true, ConstantValue: var local })
                        return local switch { double d => Expr.C(d), int i => Expr.C(i), float f => Expr.C(f), _ => Unsupported(e, "this constant") };
                    return Unsupported(e, symbol is IFieldSymbol or IPropertySymbol ? $"'{e}' (only const fields are constants)" : $"'{e}'");
                }
                case InvocationExpressionSyntax call:
                    return Call(call, model, scope, depth);
                case CastExpressionSyntax cast when model.GetTypeInfo(cast.Type, cancellationToken).Type?.SpecialType == SpecialType.System_Double:
                    return Expression(cast.Expression, model, scope, depth);
                default:
                    return Unsupported(e, $"'{Short(e)}'");
            }
        }

        private Expr? Conditional(ConditionalExpressionSyntax c, SemanticModel model, Dictionary<ISymbol, Expr> scope, int depth)
        {
            ExpressionSyntax condition = c.Condition;
            while (condition is ParenthesizedExpressionSyntax p) condition = p.Expression;
            if (condition is not BinaryExpressionSyntax b || !(b.IsKind(SyntaxKind.LessThanExpression) || b.IsKind(SyntaxKind.LessThanOrEqualExpression)
                || b.IsKind(SyntaxKind.GreaterThanExpression) || b.IsKind(SyntaxKind.GreaterThanOrEqualExpression)))
                return Unsupported(c.Condition, $"the condition '{Short(c.Condition)}' (a condition compares two expressions with <, <=, > or >=)");
            Expr? l = Expression(b.Left, model, scope, depth), r = l is null ? null : Expression(b.Right, model, scope, depth);
            Expr? t = r is null ? null : Expression(c.WhenTrue, model, scope, depth), f = t is null ? null : Expression(c.WhenFalse, model, scope, depth);
            if (l is null || r is null || t is null || f is null) return null;
            return b.Kind() switch
            {
                SyntaxKind.GreaterThanExpression => Expr.Select(l, r, t, f),     // l > r ? t : f
                SyntaxKind.LessThanExpression => Expr.Select(r, l, t, f),        // r > l ? t : f
                SyntaxKind.GreaterThanOrEqualExpression => Expr.Select(r, l, f, t), // !(r > l) ? t : f
                _ => Expr.Select(l, r, f, t),                                    // l <= r  ⇔ !(l > r)
            };
        }

        private Expr? Call(InvocationExpressionSyntax call, SemanticModel model, Dictionary<ISymbol, Expr> scope, int depth)
        {
            if (model.GetSymbolInfo(call, cancellationToken).Symbol is not IMethodSymbol method)
                return Unsupported(call, $"'{Short(call)}'");
            var args = new List<Expr>();
            foreach (ArgumentSyntax argument in call.ArgumentList.Arguments)
            {
                if (argument.NameColon is not null || argument.RefKindKeyword.RawKind != 0) return Unsupported(argument, "named or ref arguments");
                Expr? value = Expression(argument.Expression, model, scope, depth);
                if (value is null) return null;
                args.Add(value);
            }
            string container = method.ContainingType.ToDisplayString();
            if (container == "System.Math" && method.Parameters.All(p => p.Type.SpecialType == SpecialType.System_Double))
            {
                switch (method.Name, args.Count)
                {
                    case ("Exp", 1): return Expr.Unary(ExprOp.Exp, args[0]);
                    case ("Log", 1): return Expr.Unary(ExprOp.Log, args[0]);
                    case ("Log1P", 1): return Expr.Unary(ExprOp.Log1p, args[0]);
                    case ("Sqrt", 1): return Expr.Unary(ExprOp.Sqrt, args[0]);
                    case ("Tanh", 1): return Expr.Unary(ExprOp.Tanh, args[0]);
                    case ("Abs", 1): return Expr.Unary(ExprOp.Abs, args[0]);
                    case ("Max", 2): return Expr.Max(args[0], args[1]);
                    case ("Min", 2): return Expr.Min(args[0], args[1]);
                    case ("Clamp", 3): return Expr.Min(Expr.Max(args[0], args[1]), args[2]);
                    case ("Pow", 2):
                        if (!args[1].IsConst) return Unsupported(call.ArgumentList.Arguments[1], "a variable exponent (Math.Pow needs a constant exponent)");
                        double n = args[1].Value;
                        if (n == System.Math.Floor(n) && System.Math.Abs(n) <= 16) return Expr.PowInt(args[0], (int)n);
                        // a^c = e^(c·log a): Math.Pow's value for a ≥ 0 (NaN for a < 0, as Math.Pow with a non-integer c).
                        return Expr.Unary(ExprOp.Exp, Expr.Mul(args[1], Expr.Unary(ExprOp.Log, args[0])));
                }
            }
            if (container == "KernelGen.ActivationMath" && args.Count == 1)
            {
                switch (method.Name)
                {
                    case "Sigmoid": return Expr.Unary(ExprOp.Sigmoid, args[0]);
                    case "Erf": return Expr.Unary(ExprOp.Erf, args[0]);
                    case "Expm1": return Expr.Unary(ExprOp.Expm1, args[0]);
                    case "Log1p": return Expr.Unary(ExprOp.Log1p, args[0]);
                    case "Softplus":
                        // log(1 + e^a) = max(a, 0) + log1p(e^(−|a|)): no overflow.
                        return Expr.Add(Expr.Max(args[0], Expr.Zero), Expr.Unary(ExprOp.Log1p, Expr.Unary(ExprOp.Exp, Expr.Neg(Expr.Unary(ExprOp.Abs, args[0])))));
                }
            }
            if (HasMarker(method))
            {
                if (depth >= MaxCallDepth) return Unsupported(call, $"calls nested more than {MaxCallDepth} deep (recursion?)");
                if (args.Count != method.Parameters.Length) return Unsupported(call, "a call with optional or params arguments");
                for (int i = 1; i < args.Count; i++)
                    if (!args[i].IsConst) return Unsupported(call.ArgumentList.Arguments[i], "a non-constant argument after the first (only x varies)");
                Expr? body = Method(method, args.Skip(1).ToList(), depth + 1, LocationInfo.From(call.GetLocation()));
                if (body is null) { _failed = true; return null; }
                return Substitute(body, args[0]);
            }
            return Unsupported(call, $"the call '{Short(call)}'");
        }

        private static Expr Substitute(Expr e, Expr x)
        {
            if (e.Op == ExprOp.X) return x;
            if (e.Args.Count == 0) return e;
            var args = e.Args.Select(a => Substitute(a, x)).ToArray();
            return e.Op switch
            {
                ExprOp.Add => Expr.Add(args[0], args[1]),
                ExprOp.Sub => Expr.Sub(args[0], args[1]),
                ExprOp.Mul => Expr.Mul(args[0], args[1]),
                ExprOp.Div => Expr.Div(args[0], args[1]),
                ExprOp.Neg => Expr.Neg(args[0]),
                ExprOp.Max => Expr.Max(args[0], args[1]),
                ExprOp.Min => Expr.Min(args[0], args[1]),
                ExprOp.Select => Expr.Select(args[0], args[1], args[2], args[3]),
                ExprOp.PowInt => Expr.PowInt(args[0], (int)e.Value),
                _ => Expr.Unary(e.Op, args[0]),
            };
        }

        private static Expr? Map(Expr? e, System.Func<Expr, Expr> f) => e is null ? null : f(e);

        private Expr? Unsupported(SyntaxNode node, string what)
        {
            Fail(node, what, Grammar);
            return null;
        }

        private static string Short(SyntaxNode node)
        {
            string text = node.ToString();
            return text.Length > 60 ? text.Substring(0, 57) + "..." : text;
        }
    }
}
