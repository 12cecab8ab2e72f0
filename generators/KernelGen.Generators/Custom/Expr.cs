using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Generators.Helpers;

namespace KernelGen.Generators.Custom;

/// <summary>The operations of a user's activation function after parsing (see <see cref="FunctionParser"/>).</summary>
internal enum ExprOp
{
    /// <summary>The input x (a loss's output y).</summary>
    X,
    /// <summary>A loss's target t (constant for the derivative, which is with respect to x).</summary>
    T,
    /// <summary>A constant (<see cref="Expr.Value"/>).</summary>
    Const,
    Add, Sub, Mul, Div, Neg,
    Exp, Log, Log1p, Expm1, Sqrt, Tanh, Sigmoid, Erf, Abs,
    Max, Min,
    /// <summary>Args[0] &gt; Args[1] ? Args[2] : Args[3].</summary>
    Select,
    /// <summary>Args[0] to the integer power <see cref="Expr.Value"/>.</summary>
    PowInt,
}

/// <summary>
/// An expression of one variable x: a value-equal tree (so equal sub-expressions are found by equality, which the
/// emitter uses to compute each once), built through the simplifying constructors below.
/// </summary>
internal sealed record Expr(ExprOp Op, double Value, EquatableArray<Expr> Args)
{
    public static readonly Expr X = new(ExprOp.X, 0, EquatableArray<Expr>.Empty);
    public static readonly Expr Target = new(ExprOp.T, 0, EquatableArray<Expr>.Empty);
    public static readonly Expr Zero = C(0);
    public static readonly Expr One = C(1);

    /// <summary>Nodes in the tree (shared sub-trees counted each time), for the size limit.</summary>
    public int Size
    {
        get
        {
            int n = 1;
            foreach (Expr a in Args) n += a.Size;
            return n;
        }
    }

    public bool IsConst => Op == ExprOp.Const;
    public bool Is(double value) => Op == ExprOp.Const && Value.Equals(value);

    public static Expr C(double value) => new(ExprOp.Const, value, EquatableArray<Expr>.Empty);

    private static Expr Node(ExprOp op, params Expr[] args) => new(op, 0, args.ToEquatableArray());

    public static Expr Add(Expr a, Expr b)
    {
        if (a.IsConst && b.IsConst) return C(a.Value + b.Value);
        if (a.Is(0)) return b;
        if (b.Is(0)) return a;
        if (b.Op == ExprOp.Neg) return Sub(a, b.Args[0]);
        return Node(ExprOp.Add, a, b);
    }

    public static Expr Sub(Expr a, Expr b)
    {
        if (a.IsConst && b.IsConst) return C(a.Value - b.Value);
        if (b.Is(0)) return a;
        if (a.Is(0)) return Neg(b);
        if (b.Op == ExprOp.Neg) return Add(a, b.Args[0]);
        return Node(ExprOp.Sub, a, b);
    }

    public static Expr Mul(Expr a, Expr b)
    {
        if (a.IsConst && b.IsConst) return C(a.Value * b.Value);
        if (a.Is(0) || b.Is(0)) return Zero;
        if (a.Is(1)) return b;
        if (b.Is(1)) return a;
        if (a.Is(-1)) return Neg(b);
        if (b.Is(-1)) return Neg(a);
        if (b.IsConst) return Node(ExprOp.Mul, b, a); // constants first: c·(…)
        return Node(ExprOp.Mul, a, b);
    }

    public static Expr Div(Expr a, Expr b)
    {
        if (a.IsConst && b.IsConst && b.Value != 0) return C(a.Value / b.Value);
        if (b.Is(1)) return a;
        if (a.Is(0)) return Zero;
        return Node(ExprOp.Div, a, b);
    }

    public static Expr Neg(Expr a)
    {
        if (a.IsConst) return C(-a.Value);
        if (a.Op == ExprOp.Neg) return a.Args[0];
        return Node(ExprOp.Neg, a);
    }

    public static Expr Unary(ExprOp op, Expr a)
    {
        if (a.IsConst)
        {
            double v = a.Value;
            switch (op)
            {
                case ExprOp.Exp: return C(Math.Exp(v));
                case ExprOp.Log: return C(Math.Log(v));
                case ExprOp.Sqrt: return C(Math.Sqrt(v));
                case ExprOp.Tanh: return C(Math.Tanh(v));
                case ExprOp.Abs: return C(Math.Abs(v));
            }
        }
        return Node(op, a);
    }

    public static Expr Max(Expr a, Expr b) => a.IsConst && b.IsConst ? C(Math.Max(a.Value, b.Value)) : a.Equals(b) ? a : Node(ExprOp.Max, a, b);

    public static Expr Min(Expr a, Expr b) => a.IsConst && b.IsConst ? C(Math.Min(a.Value, b.Value)) : a.Equals(b) ? a : Node(ExprOp.Min, a, b);

    /// <summary>a &gt; b ? t : f.</summary>
    public static Expr Select(Expr a, Expr b, Expr t, Expr f)
    {
        if (a.IsConst && b.IsConst) return a.Value > b.Value ? t : f;
        if (t.Equals(f)) return t;
        return Node(ExprOp.Select, a, b, t, f);
    }

    public static Expr PowInt(Expr a, int n)
    {
        if (n == 0) return One;
        if (n == 1) return a;
        if (a.IsConst) return C(Math.Pow(a.Value, n));
        return new Expr(ExprOp.PowInt, n, new[] { a }.ToEquatableArray());
    }

    // ---- derivative --------------------------------------------------------------------------------------------------

    /// <summary>d/dx of this expression, simplified; at a comparison the derivative takes the branch the comparison selects.</summary>
    public Expr Derivative()
    {
        var memo = new Dictionary<Expr, Expr>();
        return D(this, memo);
    }

    private static Expr D(Expr e, Dictionary<Expr, Expr> memo)
    {
        if (memo.TryGetValue(e, out Expr? known)) return known;
        Expr a = e.Args.Count > 0 ? e.Args[0] : Zero;
        Expr b = e.Args.Count > 1 ? e.Args[1] : Zero;
        Expr da() => D(a, memo);
        Expr db() => D(b, memo);
        Expr result = e.Op switch
        {
            ExprOp.X => One,
            ExprOp.Const => Zero,
            ExprOp.Add => Add(da(), db()),
            ExprOp.Sub => Sub(da(), db()),
            ExprOp.Neg => Neg(da()),
            ExprOp.Mul => Add(Mul(da(), b), Mul(a, db())),
            // (a/b)′ = (a′ − (a/b)·b′)/b: reuses the quotient itself.
            ExprOp.Div => Div(Sub(da(), Mul(e, db())), b),
            ExprOp.Exp => Mul(e, da()),
            ExprOp.Log => Div(da(), a),
            ExprOp.Log1p => Div(da(), Add(One, a)),
            ExprOp.Expm1 => Mul(Add(e, One), da()),
            ExprOp.Sqrt => Div(da(), Mul(C(2), e)),
            ExprOp.Tanh => Mul(Sub(One, Mul(e, e)), da()),
            ExprOp.Sigmoid => Mul(Mul(e, Sub(One, e)), da()),
            ExprOp.Erf => Mul(Mul(C(1.1283791670955125739), Unary(ExprOp.Exp, Neg(Mul(a, a)))), da()),
            // sign(a) with sign(0) = 0 (PyTorch's subgradient of |x| at 0).
            ExprOp.Abs => Mul(Select(a, Zero, One, Select(Zero, a, C(-1), Zero)), da()),
            ExprOp.Max => Select(a, b, da(), db()),
            ExprOp.Min => Select(b, a, da(), db()),
            ExprOp.Select => Select(a, b, D(e.Args[2], memo), D(e.Args[3], memo)),
            ExprOp.PowInt => Mul(Mul(C(e.Value), PowInt(a, (int)e.Value - 1)), da()),
            _ => Zero,
        };
        memo[e] = result;
        return result;
    }

    /// <summary>The comparisons (left &gt; right) the value or derivative switches on: conditionals, |a| (at 0), max and min.</summary>
    public List<(Expr Left, Expr Right)> Comparisons()
    {
        var list = new List<(Expr, Expr)>();
        var seen = new HashSet<Expr>();
        void Walk(Expr e)
        {
            if (!seen.Add(e)) return;
            foreach (Expr a in e.Args) Walk(a);
            switch (e.Op)
            {
                case ExprOp.Select: Add(e.Args[0], e.Args[1]); break;
                case ExprOp.Abs: Add(e.Args[0], Zero); Add(Zero, e.Args[0]); break;
                case ExprOp.Max: Add(e.Args[0], e.Args[1]); break;
                case ExprOp.Min: Add(e.Args[1], e.Args[0]); break;
            }
        }
        void Add(Expr l, Expr r)
        {
            if (!list.Contains((l, r))) list.Add((l, r));
        }
        Walk(this);
        return list;
    }

    // ---- text ----------------------------------------------------------------------------------------------------------

    /// <summary>Infix text for documentation, e.g. <c>x * tanh(softplus(x))</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        Write(text, 0);
        return text.ToString();
    }

    private void Write(StringBuilder text, int context)
    {
        switch (Op)
        {
            case ExprOp.X: text.Append('x'); return;
            case ExprOp.T: text.Append('t'); return;
            case ExprOp.Const:
                if (Value < 0 && context > 0) text.Append('(').Append(Number(Value)).Append(')');
                else text.Append(Number(Value));
                return;
            case ExprOp.Add: Infix(text, context, 1, " + ", 1, 1); return;
            case ExprOp.Sub: Infix(text, context, 1, " - ", 1, 2); return;
            case ExprOp.Mul: Infix(text, context, 2, " * ", 2, 2); return;
            case ExprOp.Div: Infix(text, context, 2, " / ", 2, 3); return;
            case ExprOp.Neg:
                if (context > 2) text.Append('(');
                text.Append('-');
                Args[0].Write(text, 3);
                if (context > 2) text.Append(')');
                return;
            case ExprOp.Select:
                if (context > 0) text.Append('(');
                Args[0].Write(text, 1); text.Append(" > "); Args[1].Write(text, 1);
                text.Append(" ? "); Args[2].Write(text, 1); text.Append(" : "); Args[3].Write(text, 1);
                if (context > 0) text.Append(')');
                return;
            case ExprOp.PowInt:
                text.Append("pow(");
                Args[0].Write(text, 0);
                text.Append(", ").Append(Number(Value)).Append(')');
                return;
            default:
                text.Append(Op.ToString().ToLowerInvariant()).Append('(');
                for (int i = 0; i < Args.Count; i++)
                {
                    if (i > 0) text.Append(", ");
                    Args[i].Write(text, 0);
                }
                text.Append(')');
                return;
        }
    }

    private void Infix(StringBuilder text, int context, int precedence, string op, int left, int right)
    {
        if (context > precedence) text.Append('(');
        Args[0].Write(text, left);
        text.Append(op);
        Args[1].Write(text, right);
        if (context > precedence) text.Append(')');
    }

    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
