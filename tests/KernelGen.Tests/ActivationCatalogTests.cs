using System;
using System.Linq;
using System.Numerics;
using System.Reflection;
using KernelGen.Catalog;
using KernelGen.Operators;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Every activation of the op catalog, at the kernel level: its operator struct (found by the name the catalog gives)
/// run by the element-wise drivers at every vector width (Vector512, Vector256, scalar) in float and double, forward
/// and backward, against the catalog's own double reference f and f′ — a separate, plain scalar implementation. An
/// activation added to the catalog is checked here with no test code of its own. Points within 1e-4 of a kink are
/// left out of the derivative comparison (the derivative is one-sided there).
/// </summary>
public sealed class ActivationCatalogTests
{
    public static TheoryData<string, double> Cases()
    {
        var data = new TheoryData<string, double>();
        foreach (ActivationDescriptor a in OpCatalog.Activations)
        {
            double p = a.ResolveParameter(double.NaN);
            data.Add(a.Name, p);
            if (a.Parameter is { } option)
                data.Add(a.Name, option.Type == OptionType.Boolean ? 1 - p : option.Range?.Contains(0.3) ?? true ? 0.3 : p * 0.5);
        }
        return data;
    }

    /// <summary>The parameter the tests pass to parameterized operators (a type argument read at run time).</summary>
    private readonly struct TestParameter<T> : IScalarParameter<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public static T Value => T.CreateTruncating(Current);
    }

    private static double Current;
    private static readonly object Gate = new();

    private static readonly double[] Grid = [.. Enumerable.Range(-400, 801).Select(i => i / 50.0),
        -1e4, -100, -40, -30, -20, -12, 12, 20, 30, 40, 100, 1e4, 1e-6, -1e-6, 1e-30, -1e-30, 0];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Operator_matches_the_catalog_reference_at_every_width(string name, double parameter)
    {
        ActivationDescriptor d = OpCatalog.Get(Enum.Parse<Activation>(name));
        lock (Gate)
        {
            Current = parameter;
            foreach (Type element in new[] { typeof(float), typeof(double) })
                foreach (string width in new[] { "Simd512", "Simd256", "SimdScalar" })
                {
                    Type vector = typeof(SimdScalar<>).Assembly.GetType($"KernelGen.Operators.{width}`1", throwOnError: true)!.MakeGenericType(element);
                    Type op = OperatorType(d, parameter, element);
                    string runner = d.Backward == BackwardInput.Output ? nameof(RunOutputOp) : nameof(RunInputOp);
                    MethodInfo run = typeof(ActivationCatalogTests).GetMethod(runner, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(element, op, vector);
                    run.Invoke(null, [d, parameter, $"{name}({parameter}) {element.Name} {width}"]);
                }
        }
    }

    private static Type OperatorType(ActivationDescriptor d, double parameter, Type element)
    {
        string name = d.OperatorFor(parameter);
        Assembly runtime = typeof(ReluOp<>).Assembly;
        return d.ParameterIsTypeArgument
            ? runtime.GetType($"KernelGen.Operators.{name}`2", throwOnError: true)!.MakeGenericType(element, typeof(TestParameter<>).MakeGenericType(element))
            : runtime.GetType($"KernelGen.Operators.{name}`1", throwOnError: true)!.MakeGenericType(element);
    }

    private static void RunOutputOp<T, TOp, TV>(ActivationDescriptor d, double p, string label)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        T[] y = Grid.Select(T.CreateTruncating).ToArray(), g = Ones<T>();
        Elementwise.Forward<T, TOp, TV>(ref y[0], (nuint)y.Length);
        Elementwise.Backward<T, TOp, TV>(ref y[0], ref g[0], (nuint)g.Length);
        Compare(d, p, y, g, label);
    }

    private static void RunInputOp<T, TOp, TV>(ActivationDescriptor d, double p, string label)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IInputActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        T[] x = Grid.Select(T.CreateTruncating).ToArray(), y = new T[x.Length], g = Ones<T>();
        Elementwise.ForwardInputCore<T, TOp, TV>(ref x[0], ref y[0], (nuint)x.Length);
        Elementwise.BackwardInputCore<T, TOp, TV>(ref x[0], ref g[0], (nuint)g.Length);
        Compare(d, p, y, g, label);
    }

    private static T[] Ones<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> => Enumerable.Repeat(T.One, Grid.Length).ToArray();

    /// <summary>Forward within a few units of the element type's precision of the reference, relative to max(1, |f|);
    /// the derivative (backward of dy = 1) likewise, away from kinks.</summary>
    private static void Compare<T>(ActivationDescriptor d, double p, T[] y, T[] g, string label) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        bool single = typeof(T) == typeof(float);
        double tolerance = single ? 4e-6 : 4e-14;
        double[] kinks = d.Kinks(p);
        for (int i = 0; i < Grid.Length; i++)
        {
            double x = double.CreateTruncating(T.CreateTruncating(Grid[i])); // the input as the element type holds it
            double expected = d.Reference(x, p), actual = double.CreateTruncating(y[i]);
            Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Max(1, Math.Abs(expected)), $"{label}: f({x:R}) = {actual:R}, reference {expected:R}");
            if (kinks.Any(k => Math.Abs(x - k) < 1e-4)) continue;
            double slope = d.ReferenceDerivative(x, p), got = double.CreateTruncating(g[i]);
            // Backward from the output rounds through y: allow the derivative's own scale of error in float.
            Assert.True(Math.Abs(got - slope) <= 4 * tolerance * Math.Max(1, Math.Abs(slope)), $"{label}: f′({x:R}) = {got:R}, reference {slope:R}");
        }
    }
}
