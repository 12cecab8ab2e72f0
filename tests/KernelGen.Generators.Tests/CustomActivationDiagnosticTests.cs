using System;
using System.Linq;
using KernelGen.Generators.Custom;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// KG0026: every construct a user's activation function may not use is reported at its own syntax, with what is
/// supported; the network gets no code. And the accepted grammar generates code that compiles without warnings.
/// </summary>
public sealed class CustomActivationDiagnosticTests
{
    private static string Net(string function, string attribute = "[CustomActivation(typeof(F), nameof(F.G))]") => $$"""
        using System;
        using KernelGen;
        public static class F
        {
            {{function}}
        }
        [Network(4)]
        [Dense(3)]
        {{attribute}}
        [L2Loss]
        public partial class Net;
        """;

    private static string Unsupported(string what) => $"{what} cannot be compiled into vector code: {FunctionParser.Grammar}";

    [Theory]
    [InlineData("[ActivationFunction] public static double G(double x) => [|Math.Sin(x)|];", "the call 'Math.Sin(x)'")]
    [InlineData("[ActivationFunction] public static double G(double x) => x * [|Console.Out.Encoding.CodePage|];", "'Console.Out.Encoding.CodePage' (only const fields are constants)")]
    [InlineData("static double s = 2; [ActivationFunction] public static double G(double x) => [|s|] * x;", "'s' (only const fields are constants)")]
    [InlineData("[ActivationFunction] public static double G(double x) => [|x == 0|] ? 1 : x;", "the condition 'x == 0' (a condition compares two expressions with <, <=, > or >=)")]
    [InlineData("[ActivationFunction] public static double G(double x) => [|x % new double[] { 2 }[0]|];", "'x % new double[] { 2 }[0]'")]
    [InlineData("[ActivationFunction] public static double G(double x) => [|Math.Round(x)|];", "the call 'Math.Round(x)'")]
    [InlineData("[ActivationFunction] public static double G(double x) => [|\"1\".Length|] * x;", "'\"1\".Length' (only const fields are constants)")]
    public void KG0026_UnsupportedExpression_AtTheSubExpression(string function, string what) =>
        DiagnosticTests.AssertError(Net(function), "KG0026", Unsupported(what));

    [Fact]
    public void KG0026_VariableExponent_AtTheArgument() => DiagnosticTests.AssertError(Net(
        "[ActivationFunction] public static double G(double x) => Math.Pow(2, [|x|]);"), "KG0026",
        Unsupported("a variable exponent (Math.Pow needs a constant exponent)"));

    [Fact]
    public void KG0026_Statement_AtTheStatement() => DiagnosticTests.AssertError(Net("""
        [ActivationFunction] public static double G(double x)
            {
                double y = x;
                [|for (int i = 0; i < 2; i++) y *= x;|]
                return y;
            }
        """), "KG0026", "ForStatement cannot be compiled into vector code: the body must be locals ('var a = …;') followed by one 'return …;'");

    [Fact]
    public void KG0026_InstanceMethod_AtItsName() => DiagnosticTests.AssertError(Net(
        "[ActivationFunction] public double [|G|](double x) => x;").Replace("public static class F", "public class F"), "KG0026",
        "F.G cannot be compiled into vector code: the method must be static");

    [Fact]
    public void KG0026_FloatSignature_AtTheParameters() => DiagnosticTests.AssertError(Net(
        "[ActivationFunction] public static double G[|(float x)|] => x;"), "KG0026",
        "F.G cannot be compiled into vector code: the method must take and return double: static double F(double x, double p1, …)");

    [Fact]
    public void KG0026_MethodWithoutMarker_AtTheLayer() => DiagnosticTests.AssertError(Net(
        "public static double G(double x) => x;", "[[|CustomActivation(typeof(F), nameof(F.G))|]]"), "KG0026",
        "F.G cannot be compiled into vector code: the method is not marked [ActivationFunction]");

    [Fact]
    public void KG0026_UnknownMethod_AtTheLayer() => DiagnosticTests.AssertError(Net(
        "[ActivationFunction] public static double G(double x) => x;", "[[|CustomActivation(typeof(F), \"H\")|]]"), "KG0026",
        "F.H cannot be compiled into vector code: F has no method named 'H'");

    [Fact]
    public void KG0026_ArgumentCount_AtTheLayer() => DiagnosticTests.AssertError(Net(
        "[ActivationFunction] public static double G(double x, double a) => a * x;", "[[|CustomActivation(typeof(F), nameof(F.G))|]]"), "KG0026",
        "F.G cannot be compiled into vector code: the method takes 1 constant argument(s) after x, but the attribute gives 0");

    [Fact]
    public void KG0026_Recursion_IsCutAtTheDepthLimit()
    {
        GeneratorRun run = TestHelper.Run(Net("[ActivationFunction] public static double G(double x) => x + G(x * 0.5);"));
        Diagnostic d = Assert.Single(run.KgDiagnostics);
        Assert.Equal("KG0026", d.Id);
        Assert.Contains("nested more than 8 deep", d.GetMessage());
        Assert.Empty(run.Sources);
    }

    [Theory]
    [InlineData("x * Math.Tanh(Math.Log(1 + Math.Exp(x)))")]
    [InlineData("x > 0 ? x : 0.01 * x")]
    [InlineData("x >= -1 ? (x <= 1 ? x : 1) : -1")]
    [InlineData("Math.Clamp(x, -2.5, 2.5) + Math.Abs(x) / 3")]
    [InlineData("Math.Pow(x, 3) - Math.Pow(x, -2) + Math.Pow(Math.Abs(x) + 1, 0.5)")]
    [InlineData("ActivationMath.Sigmoid(x) * ActivationMath.Softplus(-x) + ActivationMath.Erf(x) - ActivationMath.Expm1(x / 9) + ActivationMath.Log1p(x * x)")]
    [InlineData("Math.Max(Math.Min(x, 3), -3) * Math.PI / Math.E + (double)2 + K")]
    public void Accepted_functions_generate_code_that_compiles_without_warnings(string body)
    {
        GeneratorRun run = TestHelper.Run(Net($"const double K = 0.25; [ActivationFunction] public static double G(double x) => {body};"));
        Assert.Empty(run.KgDiagnostics);
        Assert.Single(run.Sources);
        run.AssertCompilesWithoutWarnings();
        Assert.Contains("IInputActivationOp<T>", run.Sources[0].SourceText.ToString());
    }

    /// <summary>Random expressions over the grammar and outside it: the generator reports or generates, never throws, and
    /// what it generates compiles without warnings.</summary>
    [Fact]
    public void Fuzzed_functions_never_crash_the_generator()
    {
        string[] leaves = ["x", "1", "2.5", "-x", "K", "s", "x[0]", "\"a\"", "default", "a"];
        string[] unary = ["Math.Exp", "Math.Log", "Math.Sqrt", "Math.Tanh", "Math.Abs", "Math.Sin", "ActivationMath.Sigmoid", "ActivationMath.Softplus", "G", "Math.Floor", ""];
        string[] binary = ["+", "-", "*", "/", "%", "==", "<", ">=", "&&"];
        var random = new Random(26);
        int generated = 0, reported = 0;
        for (int i = 0; i < 120; i++)
        {
            string Build(int depth)
            {
                int pick = random.Next(depth > 3 ? 1 : 5);
                return pick switch
                {
                    0 => leaves[random.Next(leaves.Length)],
                    1 => $"{unary[random.Next(unary.Length)]}({Build(depth + 1)})",
                    2 => $"({Build(depth + 1)} {binary[random.Next(binary.Length)]} {Build(depth + 1)})",
                    3 => $"({Build(depth + 1)} < {Build(depth + 1)} ? {Build(depth + 1)} : {Build(depth + 1)})",
                    _ => $"Math.{(random.Next(2) == 0 ? "Max" : "Pow")}({Build(depth + 1)}, {Build(depth + 1)})",
                };
            }
            string source = Net($"const double K = 3; public static double s = 1; [ActivationFunction] public static double H(double x) => {Build(0)};",
                "[CustomActivation(typeof(F), nameof(F.H))]");
            GeneratorRun run = TestHelper.Run(source); // throws if the generator throws
            if (run.KgDiagnostics.IsEmpty && !run.Sources.IsEmpty && !run.Input.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error))
            {
                run.AssertCompilesWithoutWarnings();
                generated++;
            }
            else reported++;
        }
        Assert.True(generated >= 10 && reported >= 10, $"generated {generated}, reported {reported}");
    }

    /// <summary>The function lives in another file: editing it regenerates the network (its derivative changes), and an
    /// unrelated edit leaves the output as it was.</summary>
    [Fact]
    public void Editing_the_function_in_another_file_regenerates_the_network()
    {
        const string network = """
            using KernelGen;
            [Network(4)] [Dense(3)] [CustomActivation(typeof(F), nameof(F.G))] [L2Loss]
            public partial class Net;
            """;
        static string Functions(string body) => "using System; using KernelGen; public static class F { [ActivationFunction] public static double G(double x) => " + body + "; }";
        CSharpCompilation compilation = TestHelper.CreateCompilation(network, Functions("x * Math.Tanh(x)"));
        GeneratorRun run = TestHelper.Run(compilation);
        string before = run.Sources.Single().SourceText.ToString();
        Assert.Contains("f(x) = x * tanh(x)", before);

        SyntaxTree old = compilation.SyntaxTrees.Last();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(old, TestHelper.ParseTree(Functions("x * Math.Tanh(2 * x)"), old.FilePath));
        (GeneratorDriver driver, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);
        string after = result.GeneratedSources.Single().SourceText.ToString();
        Assert.Contains("f(x) = x * tanh(2 * x)", after);
        Assert.NotEqual(before, after);

        CSharpCompilation unrelated = edited.AddSyntaxTrees(TestHelper.ParseTree("public static class Other { public static int N => 1; }", "/src/Other.cs"));
        (_, GeneratorRunResult third) = TestHelper.Rerun(driver, unrelated);
        Assert.Equal(after, third.GeneratedSources.Single().SourceText.ToString());
    }
}
