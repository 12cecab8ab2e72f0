extern alias KernelGenRuntime;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Generators.Tests;

/// <summary>
/// Random, often malformed, specifications: attribute sequences with hostile arguments (0, negatives, int.MinValue,
/// int.MaxValue, wrong types, missing arguments, unknown enum values), odd layer names, every optimizer with random
/// hyperparameters, schedules, warm-up and clipping, and random modifiers, kinds, generics, nesting and namespaces.
/// Whatever the input, the generator must not throw; when it reports no error the code it generates must compile
/// without errors; and when it generates nothing without a word, the compiler must be reporting an attribute that
/// does not bind (STYLE.md item 9: the generator never throws).
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    /// <summary>One generated test source and what the generator must make of it.</summary>
    public sealed record Case(string Source, bool HasNetworkAttribute)
    {
        public override string ToString() => Source;
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static Gen<bool> Chance(int percent) => Gen.Int[0, 99].Select(i => i < percent);

    private static readonly Gen<string> IntArg = Gen.Frequency(
        (6, Gen.Int[1, 40].Select(Str)),
        (2, Gen.Int[-3, 0].Select(Str)),
        (2, Gen.OneOf("int.MinValue", "int.MaxValue", "-2147483648", "2147483647", "1 << 20", "100000", "1000000000")),
        (1, Gen.Int.Select(Str)),
        // Wrong types: the attribute does not bind (CS1503 and friends), the generator must cope.
        (1, Gen.OneOf("\"ten\"", "1.5", "null", "true", "'x'", "Activation.ReLU")));

    private static readonly Gen<string> ActivationArg = Gen.Frequency(
        (6, Gen.OneOf("Activation.ReLU", "Activation.Tanh", "Activation.Sigmoid", "Activation.Identity")),
        (2, Gen.OneOf(-1, 4, 42, int.MinValue, int.MaxValue).Select(v => $"(Activation)({Str(v)})")),
        (1, Gen.OneOf("1", "\"relu\"", "Init.HeNormal")));

    private static readonly Gen<string> InitArg = Gen.Frequency(
        (4, Gen.OneOf("Init.Auto", "Init.XavierUniform", "Init.XavierNormal", "Init.HeUniform", "Init.HeNormal")),
        (2, Gen.OneOf(-1, 5, 99, int.MinValue).Select(v => $"(Init)({Str(v)})")),
        (1, Gen.OneOf("3", "Activation.ReLU")))
        .Select(v => "Init = " + v);

    private static readonly Gen<string> NameArg = Gen.OneOf(
        "\"Hidden\"", "\"Hidden\"", "\"Out\"", "\"Dense1\"", "\"Dense2\"", "\"ReLU1\"", "\"class\"", "\"int\"", "\"\"", "\" \"",
        "\"a b\"", "\"1st\"", "\"_\"", "\"é\"", "\"Float64\"", "\"x-y\"", "null", "42")
        .Select(v => "Name = " + v);

    private static readonly Gen<string> NoArg = Gen.Const("");

    private static string Args(params string[] parts)
    {
        string[] present = parts.Where(p => p.Length > 0).ToArray();
        return present.Length == 0 ? "" : "(" + string.Join(", ", present) + ")";
    }

    private static readonly Gen<string> Dense =
        from units in IntArg
        from form in Gen.Int[0, 9]
        from activation in ActivationArg
        from init in Gen.Frequency((4, NoArg), (1, InitArg))
        from name in Gen.Frequency((3, NoArg), (1, NameArg))
        select form switch
        {
            0 => "Dense",                                    // missing arguments
            1 => "Dense()",
            2 => $"Dense({units}, {activation}, {units})",   // too many arguments
            < 6 => "Dense" + Args(units, init, name),
            _ => "Dense" + Args(units, activation, init, name),
        };

    private static readonly Gen<string> ActivationLayer =
        from kind in Gen.OneOf("ReLU", "Sigmoid", "Tanh", "Identity")
        from name in Gen.Frequency((3, NoArg), (1, NameArg))
        from parens in Gen.Bool
        select kind + (name.Length > 0 ? $"({name})" : parens ? "()" : "");

    private static readonly Gen<string> Loss = Gen.OneOf("SoftmaxCrossEntropyLoss", "L2Loss", "SoftmaxCrossEntropyLoss()", "L2Loss()", "L2Loss(1)");

    private static readonly Gen<string> Sgd =
        from rate in Gen.Frequency(
            (3, Gen.OneOf("0.1", "0.05", "1e-3", "1", "2.5")),
            (1, IntArg),
            // Invalid or extreme rates, including finite doubles outside float's range (+∞ or 0 once stored as float).
            (2, Gen.OneOf("0", "-0.1", "-0.0", "double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "double.Epsilon", "1e38", "1e300", "1e-50", "double.MaxValue", "\"fast\"")))
        from form in Gen.Int[0, 5]
        select form switch { 0 => "Sgd", 1 => "Sgd()", _ => $"Sgd({rate})" };

    // ---- Optimizers, schedules, warm-up and clipping ----------------------------------------------------------------

    /// <summary>The optimizer attributes and their settable options (bool or double), read from the attribute types
    /// themselves, so a new option is fuzzed without touching this file.</summary>
    private static readonly (string Name, (string Option, bool IsBool)[] Options)[] Optimizers =
        [.. typeof(KernelGenRuntime::KernelGen.OptimizerAttribute).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && typeof(KernelGenRuntime::KernelGen.OptimizerAttribute).IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (t.Name[..^"Attribute".Length],
                t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.SetMethod is { IsPublic: true })
                    .Select(p => (p.Name, p.PropertyType == typeof(bool)))
                    .OrderBy(p => p.Name, StringComparer.Ordinal).ToArray()))];

    /// <summary>Hyperparameter values: typical ones, the edges of the ranges, out-of-range and non-finite values, and
    /// the odd wrong type (the option then does not bind: CS0029 on the user's side).</summary>
    private static readonly Gen<string> HostileDouble = Gen.Frequency(
        (6, Gen.OneOf("0.9", "0.99", "0.5", "1e-8", "1e-3", "0.1", "2", "0.25")),
        (3, Gen.OneOf("0", "1", "0.999", "-0.1", "1.5", "-1", "1e300", "double.Epsilon", "-0.0", "3")),
        (1, Gen.OneOf("double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "double.MaxValue")),
        (1, Gen.OneOf("\"x\"", "true", "null")));

    private static readonly Gen<string> HostileBool = Gen.Frequency((8, Gen.OneOf("true", "false")), (1, Gen.OneOf("1", "\"yes\"")));

    /// <summary>Valid in every double option's range except PeriodMultiplier (≥ 1), which plausible specs set apart.</summary>
    private static readonly Gen<string> PlausibleDouble = Gen.OneOf("0.9", "0.99", "0.5", "1e-8", "1e-4", "0.1", "0.25", "0.999");

    private static Gen<string> OptimizerAttribute(Gen<string> rate, Gen<string> number, Gen<string> flag, int maxOptions, bool hostileForms) =>
        from which in Gen.Int[0, Optimizers.Length - 1]
        from r in rate
        from picks in Gen.Select(Gen.Int[0, 99], number, flag).Array[0, maxOptions]
        from form in Gen.Int[0, hostileForms ? 9 : 2]
        select OptimizerText(Optimizers[which], r, picks, form);

    private static string OptimizerText((string Name, (string Option, bool IsBool)[] Options) optimizer, string rate,
        (int Index, string Number, string Flag)[] picks, int form)
    {
        // Each option at most once: a repeated named argument is CS0643 already (and the generator does not guard it).
        string[] options = [.. picks
            .Select(p => optimizer.Options[p.Index % optimizer.Options.Length])
            .Zip(picks, (o, p) => (o.Option, Value: o.IsBool ? p.Flag : p.Number))
            .DistinctBy(o => o.Option)
            .Select(o => $"{o.Option} = {o.Value}")];
        return form switch
        {
            8 => optimizer.Name,                         // missing learning rate (CS7036)
            9 => optimizer.Name + "()",
            _ => $"{optimizer.Name}({string.Join(", ", new[] { rate }.Concat(options))})",
        };
    }

    /// <summary>Schedules, warm-up and clipping with the values each takes; steps are ints, the rest doubles.</summary>
    private static Gen<string> TrainingOption(Gen<string> steps, Gen<string> number, Gen<string> multiplier, bool hostileForms) =>
        from kind in Gen.Int[0, 7]
        from n in steps
        from a in number
        from b in number
        from m in multiplier
        from named in Gen.Int[0, 3]
        from bare in Chance(hostileForms ? 5 : 0)
        select bare ? new[] { "StepDecay", "CosineAnnealing()", "LinearWarmup", "ClipGradientNorm()", "ExponentialDecay", "WarmRestarts(1, 2)", "ClipGradientValue(1, 2)", "InverseTimeDecay" }[kind]
            : kind switch
            {
                0 => $"StepDecay({n}{((named & 1) != 0 ? $", Gamma = {a}" : "")})",
                1 => $"ExponentialDecay({a})",
                2 => $"InverseTimeDecay({a})",
                3 => $"CosineAnnealing({n}{((named & 1) != 0 ? $", MinLearningRate = {b}" : "")})",
                4 => $"WarmRestarts({n}{((named & 1) != 0 ? $", PeriodMultiplier = {m}" : "")}{((named & 2) != 0 ? $", MinLearningRate = {b}" : "")})",
                5 => $"LinearWarmup({n}{((named & 1) != 0 ? $", StartFactor = {a}" : "")})",
                6 => $"ClipGradientNorm({a})",
                _ => $"ClipGradientValue({a})",
            };

    private static readonly Gen<string> HostileOptimizer = OptimizerAttribute(
        Gen.Frequency((3, Gen.OneOf("0.1", "0.001", "1", "2.5")), (1, IntArg), (1, Gen.OneOf("0", "-0.1", "double.NaN", "1e300", "1e-50", "\"fast\""))),
        HostileDouble, HostileBool, maxOptions: 4, hostileForms: true);

    private static readonly Gen<string> HostileTrainingOption = TrainingOption(IntArg, HostileDouble, Gen.OneOf("1", "2", "0.5", "1.5", "double.NaN"), hostileForms: true);

    private static readonly Gen<string> Network =
        from size in IntArg
        from form in Gen.Int[0, 7]
        select form switch { 0 => "Network", 1 => "Network()", 2 => $"Network({size}, {size})", _ => $"Network({size})" };

    /// <summary>Sometimes written qualified or with the Attribute suffix, as users may.</summary>
    private static Gen<string> Spelled(Gen<string> attribute) =>
        from a in attribute
        from prefix in Gen.Frequency((8, Gen.Const("")), (1, Gen.Const("KernelGen.")), (1, Gen.Const("global::KernelGen.")))
        from suffix in Gen.Frequency((9, Gen.Const(false)), (1, Gen.Const(true)))
        select prefix + (suffix ? a.Insert(a.IndexOf('(') is var i and >= 0 ? i : a.Length, "Attribute") : a);

    private static readonly Gen<string> Other = Spelled(Gen.Frequency(
        (5, Dense), (3, ActivationLayer), (1, Loss), (1, Sgd), (1, HostileOptimizer), (2, HostileTrainingOption)));

    private static readonly Gen<string[]> AttributeList =
        from others in Other.Array[0, 8]
        from hasNetwork in Gen.Frequency((9, Gen.Const(true)), (1, Gen.Const(false)))
        from twice in Chance(5)
        from position in Gen.Int[0, 8]
        from network in Spelled(Network)
        select Insert(others, hasNetwork ? (twice ? [network, network] : [network]) : [], position);

    private static string[] Insert(string[] items, string[] inserted, int position)
    {
        var list = new List<string>(items);
        list.InsertRange(Math.Min(position, list.Count), inserted);
        return [.. list];
    }

    private static string Render(string[] attributes, bool grouped, string indent)
    {
        var text = new StringBuilder();
        for (int i = 0; i < attributes.Length; i++)
        {
            if (grouped && i + 1 < attributes.Length) { text.Append(indent).Append('[').Append(attributes[i]).Append(", ").Append(attributes[i + 1]).Append("]\n"); i++; }
            else text.Append(indent).Append('[').Append(attributes[i]).Append("]\n");
        }
        return text.ToString();
    }

    private sealed record Container(string Header);

    private static readonly Gen<Container> ContainerGen =
        from access in Gen.OneOf("public ", "internal ", "")
        from isStatic in Chance(10)
        from partial in Chance(85)
        from kind in Gen.Frequency((6, Gen.Const("class")), (1, Gen.Const("struct")), (1, Gen.Const("record")), (1, Gen.Const("record struct")), (1, Gen.Const("interface")))
        select new Container($"{access}{(isStatic && kind == "class" ? "static " : "")}{(partial ? "partial " : "")}{kind}");

    /// <summary>Anything goes: hostile arguments and modifiers; most of these are rejected with a KG error.</summary>
    private static readonly Gen<Case> HostileCase =
        from attributes in AttributeList
        from grouped in Chance(20)
        from containers in ContainerGen.Array[0, 2]
        from genericContainer in Gen.Int[0, 9]
        from access in Gen.OneOf("public ", "internal ", "", "file ", "private ")
        from isStatic in Chance(8)
        from isAbstract in Chance(8)
        from isSealed in Chance(10)
        from partial in Chance(85)
        from kind in Gen.Frequency((14, Gen.Const("class")), (1, Gen.Const("record")), (1, Gen.Const("record class")), (1, Gen.Const("struct")), (1, Gen.Const("record struct")), (1, Gen.Const("interface")))
        from generic in Chance(10)
        from semicolonBody in Gen.Bool
        from ns in Gen.Int[0, 3]
        from split in Chance(10)
        from splitAttributes in Other.Array[1, 2]
        from typeName in Gen.Frequency((17, Gen.Const("Net")), (1, Gen.OneOf("Float64", "Predict", "Optimizer", "Dense1Weights", "Dense1Bias")), (1, Gen.OneOf("@class", "@event")))
        select Build(attributes, grouped, containers, genericContainer, access, isStatic, isAbstract, isSealed, partial, kind, generic, semicolonBody, ns,
            split ? splitAttributes : null, typeName);

    // Plausible specifications: well-typed arguments on a partial class, so a good share is valid and the
    // "no error ⇒ the generated code compiles" property is exercised often. Edge cases remain (1-wide softmax outputs,
    // duplicate names, an optimizer without loss, activations before the loss, odd containers and namespaces).
    private static readonly Gen<string> PlausibleDense =
        from units in Gen.Frequency((4, Gen.Int[1, 40]), (1, Gen.OneOf(1, 2, 16, 17, 64, 1000)))
        from activation in Gen.OneOf("", ", Activation.ReLU", ", Activation.Tanh", ", Activation.Sigmoid", ", Activation.Identity")
        from init in Gen.Frequency((3, Gen.Const("")), (1, Gen.OneOf(", Init = Init.Auto", ", Init = Init.HeNormal", ", Init = Init.XavierNormal", ", Init = Init.HeUniform", ", Init = Init.XavierUniform")))
        from name in Gen.Frequency((3, Gen.Const("")), (1, Gen.OneOf(", Name = \"Hidden\"", ", Name = \"Out\"", ", Name = \"_\"", ", Name = \"é\"", ", Name = \"Float64\"", ", Name = \"Predict\"", ", Name = null")))
        select $"Dense({Str(units)}{activation}{init}{name})";

    private static readonly Gen<string> PlausibleLayer = Spelled(Gen.Frequency(
        (5, PlausibleDense),
        (2, Gen.OneOf("ReLU", "Sigmoid", "Tanh", "Identity", "ReLU(Name = \"Squash\")"))));

    private static readonly Gen<string> PlausibleOptimizer = Spelled(Gen.Frequency(
        (1, Gen.OneOf("Sgd(0.1)", "Sgd(1)", "Sgd(1e-4)", "Sgd(2.5)", "Sgd(3e38)", "Sgd(0.1, Momentum = 0.9, Nesterov = true)")),
        (4, OptimizerAttribute(Gen.OneOf("0.1", "0.01", "1e-3", "1"), PlausibleDouble, Gen.OneOf("true", "false"), maxOptions: 3, hostileForms: false))));

    private static readonly Gen<string> PlausibleTrainingOption = Spelled(TrainingOption(
        Gen.Frequency((8, Gen.Int[1, 1000].Select(Str)), (1, Gen.OneOf("int.MaxValue", "0"))),
        PlausibleDouble, Gen.OneOf("1", "2", "1.5"), hostileForms: false));

    private static readonly Gen<Case> PlausibleCase =
        from size in Gen.Int[1, 40]
        from layers in PlausibleLayer.Array[1, 5]
        from loss in Gen.Frequency((2, Gen.Const("")), (1, Gen.Const("L2Loss")), (2, Gen.Const("SoftmaxCrossEntropyLoss")))
        from optimizer in Gen.Frequency((1, Gen.Const("")), (3, PlausibleOptimizer))
        from training in Gen.Frequency((2, Gen.Const(Array.Empty<string>())), (3, PlausibleTrainingOption.Array[1, 3]))
        from grouped in Chance(20)
        from containers in Gen.OneOf("public partial class", "internal static partial class", "public partial struct", "partial record", "partial record struct", "public partial interface")
            .Select(h => new Container(h)).Array[0, 2]
        from access in Gen.Frequency((9, Gen.OneOf("public ", "internal ", "")), (1, Gen.Const("file ")))
        from isSealed in Chance(30)
        from semicolonBody in Gen.Bool
        from ns in Gen.Int[0, 3]
        // Names of generated members (KG0015) and keywords (escaped in code, plain in hint names).
        from typeName in Gen.Frequency((16, Gen.Const("Net")), (2, Gen.OneOf("Float64", "Predict", "Optimizer", "LearningRate", "Dense1Weights", "HiddenBias")), (2, Gen.OneOf("@class", "@event", "@int")))
        select Build([$"Network({Str(size)})", .. layers, .. new[] { loss, optimizer }.Where(a => a.Length > 0), .. training], grouped, containers, genericContainer: -1,
            access, isStatic: false, isAbstract: false, isSealed, partial: true, "class", generic: false, semicolonBody, ns, split: null, typeName);

    private static readonly Gen<Case> CaseGen = Gen.Frequency((2, PlausibleCase), (3, HostileCase));

    private static Case Build(string[] attributes, bool grouped, Container[] containers, int genericContainer, string access, bool isStatic, bool isAbstract,
        bool isSealed, bool partial, string kind, bool generic, bool semicolonBody, int ns, string[]? split, string typeName = "Net")
    {
        // 'file' only applies to top-level types and 'private' only to nested ones; other misuse is fair game.
        if (access == "file " && containers.Length > 0) access = "";
        if (access == "private " && containers.Length == 0) access = "internal ";
        string header = $"{access}{(isStatic ? "static " : "")}{(isAbstract ? "abstract " : "")}{(isSealed ? "sealed " : "")}{(partial ? "partial " : "")}{kind} {typeName}{(generic ? "<T>" : "")}";
        string body = semicolonBody && kind == "class" ? ";" : " { }";

        var text = new StringBuilder("using KernelGen;\n\n");
        string indent = "";
        if (ns == 1) text.Append("namespace Demo;\n\n");
        if (ns >= 2) { text.Append("namespace Demo.Inner\n{\n"); indent += "    "; }
        for (int i = 0; i < containers.Length; i++)
        {
            text.Append(indent).Append(containers[i].Header).Append(" Outer").Append(i).Append(genericContainer == i ? "<U>" : "").Append('\n');
            text.Append(indent).Append("{\n");
            indent += "    ";
        }
        text.Append(Render(attributes, grouped, indent));
        text.Append(indent).Append(header).Append(body).Append('\n');
        if (split is not null)
        {
            text.Append('\n').Append(Render(split, grouped: false, indent));
            text.Append(indent).Append(header).Append(" { }\n");
        }
        while (indent.Length > 0)
        {
            indent = indent[4..];
            text.Append(indent).Append("}\n");
        }
        return new Case(text.ToString(), attributes.Any(a => a.Contains("Network", StringComparison.Ordinal)));
    }

    /// <summary>How often each outcome was reached, so the weights above cannot silently stop exercising one.</summary>
    private sealed class Coverage
    {
        public int Valid, Invalid, Silent, Unbindable, Trainable;
        public readonly HashSet<string> Ids = new(StringComparer.Ordinal);
    }

    /// <summary>The properties every generated case must satisfy.</summary>
    private static void Check(Case c, Coverage coverage)
    {
        // TestHelper.Run asserts: no exception, no CS8784/CS8785, second run cached, no compilation objects in models.
        GeneratorRun run = TestHelper.Run(c.Source);
        string context = "\n--- source ---\n" + c.Source;

        foreach (Diagnostic d in run.Diagnostics)
        {
            Assert.True(d.Id.StartsWith("KG", StringComparison.Ordinal), $"Unexpected generator diagnostic {d}{context}");
            FileLinePositionSpan span = d.Location.GetLineSpan();
            Assert.True(span.Path == "/src/Test0.cs" && d.Location.SourceSpan.End <= c.Source.Length, $"{d.Id} is not located in the source: {d.Location}{context}");
            string message = d.GetMessage(CultureInfo.InvariantCulture);
            Assert.False(message.Contains("{0}", StringComparison.Ordinal) || message.Contains("{1}", StringComparison.Ordinal), $"Unformatted message: {message}{context}");
        }
        lock (coverage)
            foreach (Diagnostic d in run.Diagnostics) coverage.Ids.Add(d.Id);

        if (!c.HasNetworkAttribute)
        {
            Assert.True(run.Sources.IsEmpty && run.Diagnostics.IsEmpty, "Without [Network] the generator must stay silent." + context);
            Interlocked.Increment(ref coverage.Silent);
            return;
        }

        if (run.HasKgError)
        {
            Assert.True(run.Sources.IsEmpty, $"Code was generated despite {string.Join(", ", run.KgDiagnostics.Select(d => d.Id))}{context}");
            Interlocked.Increment(ref coverage.Invalid);
            return;
        }

        // Nothing generated and nothing reported: only right when an attribute does not bind, which the compiler reports.
        if (run.Sources.IsEmpty)
        {
            Assert.True(run.KgDiagnostics.IsEmpty, $"Only warnings, yet no code: {string.Join(", ", run.KgDiagnostics)}{context}");
            SyntaxTree tree = run.Input.SyntaxTrees.Single();
            TextSpanSet attributes = new(tree.GetRoot().DescendantNodes().OfType<AttributeSyntax>().Select(a => a.Span));
            Assert.True(run.Input.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error && attributes.Contains(d.Location.SourceSpan)),
                "The generator generated nothing and reported nothing, but every attribute binds." + context);
            Interlocked.Increment(ref coverage.Unbindable);
            return;
        }

        // A network without error gets its file, and it compiles.
        Assert.True(run.Sources.Length == 1, $"Expected 1 generated file, got [{string.Join(", ", run.Sources.Select(s => s.HintName))}]{context}");
        ImmutableArray<Diagnostic> errors = run.GeneratedFileDiagnostics(DiagnosticSeverity.Error);
        Assert.True(errors.IsEmpty, "The generator reported no error but its code does not compile:\n"
            + string.Join("\n", errors.Select(e => "  " + e)) + context);
        Interlocked.Increment(ref coverage.Valid);
        if (run.Sources.Any(s => s.SourceText.ToString().Contains("global::KernelGen.Runtime.TrainableNetworkBase<", StringComparison.Ordinal)))
            Interlocked.Increment(ref coverage.Trainable);
    }

    /// <summary>Whether a span lies inside one of a few spans.</summary>
    private sealed class TextSpanSet(IEnumerable<Microsoft.CodeAnalysis.Text.TextSpan> spans)
    {
        private readonly Microsoft.CodeAnalysis.Text.TextSpan[] _spans = [.. spans];

        public bool Contains(Microsoft.CodeAnalysis.Text.TextSpan span) => _spans.Any(s => s.Contains(span));
    }

    [Fact]
    public void RandomSpecifications_NeverCrashTheGenerator_AndValidOnesCompile()
    {
        const int iterations = 300;
        var coverage = new Coverage();

        var clock = Stopwatch.StartNew();
        CaseGen.Sample(c => Check(c, coverage), iter: iterations, print: c => c.Source);

        // The fuzzer is only useful while it reaches every outcome often.
        string summary = $"{iterations} cases in {clock.Elapsed.TotalSeconds:F1} s: valid {coverage.Valid} (with an optimizer {coverage.Trainable}), invalid {coverage.Invalid}, unbindable {coverage.Unbindable}, "
            + $"without [Network] {coverage.Silent}; IDs {string.Join(" ", coverage.Ids.Order(StringComparer.Ordinal))}";
        output.WriteLine(summary);
        Assert.True(coverage.Valid >= iterations / 20, "Too few valid specifications: " + summary);
        Assert.True(coverage.Trainable >= iterations / 40, "Too few valid specifications with an optimizer: " + summary);
        Assert.True(coverage.Invalid >= iterations / 3, "Too few invalid specifications: " + summary);
        Assert.True(coverage.Unbindable >= 1, "No specification with an attribute that does not bind: " + summary);
        Assert.True(coverage.Silent >= 1, "No specification without [Network]: " + summary);
        Assert.True(coverage.Ids.Count >= 14, "Too few distinct diagnostics reached: " + summary);
        foreach (string id in new[] { "KG0010", "KG0011", "KG0015", "KG0016" })
            Assert.True(coverage.Ids.Contains(id), $"{id} was never reached: " + summary);
    }
}
