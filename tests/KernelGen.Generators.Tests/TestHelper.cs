extern alias KernelGenRuntime;

using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// The shared generator harness (NetEscapades.EnumGenerators style, see STYLE.md A6 and item 16). Every run helper
/// runs the driver twice, the second time on a cloned compilation, and asserts that
/// <list type="bullet">
/// <item>the generator threw nothing (no exception in the run result, no CS8784/CS8785);</item>
/// <item>in the second run every tracked step (<see cref="TrackedStepNames"/>) and every output is Cached or Unchanged,
/// and the tracked values equal those of the first run;</item>
/// <item>no <see cref="ISymbol"/>, <see cref="SyntaxNode"/>, <see cref="SyntaxTree"/>, <see cref="SemanticModel"/>,
/// <see cref="Location"/> or <see cref="Compilation"/> is reachable from any tracked step's output.</item>
/// </list>
/// Every test that runs the generator is therefore also a caching test.
/// </summary>
internal static class TestHelper
{
    /// <summary>
    /// The steps the generator names with <c>WithTrackingName</c>: every constant of <see cref="TrackingNames"/>, read by
    /// reflection so a step added there is checked here without touching the harness.
    /// </summary>
    public static readonly ImmutableArray<string> TrackedStepNames =
        [.. typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)];

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    // Loaded once: metadata references are immutable and shared by every test compilation.
    private static readonly ImmutableArray<MetadataReference> References = LoadReferences();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        // The runtime library (the attributes and kernels the generated code calls). The generator assembly compiles
        // the same attribute sources, so it is excluded: a compilation seeing both would report CS0433.
        string runtime = typeof(KernelGenRuntime::KernelGen.NetworkAttribute).Assembly.Location;
        string generator = typeof(KernelGenerator).Assembly.Location;
        string tpa = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        var paths = new SortedSet<string>(StringComparer.Ordinal) { runtime };
        foreach (string path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(Path.GetFullPath(path), Path.GetFullPath(generator), StringComparison.Ordinal)) continue;
            if (string.Equals(Path.GetFileName(path), Path.GetFileName(runtime), StringComparison.Ordinal)) continue;
            paths.Add(path);
        }
        return [.. paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    /// <summary>A compilation of <paramref name="sources"/>, the i-th at path <c>/src/Test{i}.cs</c>.</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CreateCompilation(sources.Select((text, i) => ($"/src/Test{i}.cs", text)));

    public static CSharpCompilation CreateCompilation(IEnumerable<(string Path, string Text)> sources) =>
        CSharpCompilation.Create(
            "KernelGen.TestAssembly",
            sources.Select(s => ParseTree(s.Text, s.Path)),
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                // Every warning wave: "compiles without warnings" should hold for any analysis level a user picks.
                warningLevel: 9999));

    public static SyntaxTree ParseTree(string text, string path) =>
        CSharpSyntaxTree.ParseText(text, ParseOptions, path, Encoding.UTF8);

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new KernelGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator twice over <paramref name="sources"/> with every harness assertion.</summary>
    public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

    /// <summary>Runs the generator twice over <paramref name="compilation"/> with every harness assertion.</summary>
    public static GeneratorRun Run(CSharpCompilation compilation)
    {
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        GeneratorDriverRunResult first = driver.GetRunResult();
        AssertHealthy(first, diagnostics, compilation);
        AssertNoCompilationObjects(first);

        GeneratorDriver again = driver.RunGenerators(compilation.Clone());
        GeneratorDriverRunResult second = again.GetRunResult();
        AssertHealthy(second, second.Diagnostics, compilation);
        AssertNoCompilationObjects(second);
        AssertAllCachedOrUnchanged(second, compilation);
        AssertSameTrackedValues(first, second, compilation);
        AssertSameSources(first, second);

        return new GeneratorRun(compilation, output, driver, first);
    }

    /// <summary>
    /// Runs an existing driver (from <see cref="GeneratorRun.Driver"/>) over an edited compilation, for incrementality
    /// tests: asserts health and a clean object graph, but no step reasons (those are the test's business).
    /// </summary>
    public static (GeneratorDriver Driver, GeneratorRunResult Result) Rerun(GeneratorDriver driver, CSharpCompilation compilation)
    {
        GeneratorDriver next = driver.RunGenerators(compilation);
        GeneratorDriverRunResult result = next.GetRunResult();
        AssertHealthy(result, result.Diagnostics, compilation);
        AssertNoCompilationObjects(result);
        return (next, result.Results[0]);
    }

    private static void AssertHealthy(GeneratorDriverRunResult run, ImmutableArray<Diagnostic> diagnostics, Compilation input)
    {
        Assert.Single(run.Results);
        GeneratorRunResult result = run.Results[0];
        Assert.True(result.Exception is null, $"The generator threw {result.Exception}\n--- source ---\n{Sources(input)}");
        Diagnostic? crash = diagnostics.Concat(result.Diagnostics).FirstOrDefault(d => d.Id is "CS8784" or "CS8785");
        Assert.True(crash is null, $"The generator failed: {crash}\n--- source ---\n{Sources(input)}");
    }

    /// <summary>
    /// In a run over an unchanged compilation, every tracked step and every output must come from the cache, with one
    /// exception by design: the output that reports diagnostics is combined with the compilation (to turn each
    /// <c>LocationInfo</c> back into a source location, so <c>#pragma</c> suppression works), so it re-runs on every new
    /// compilation. It may re-run only if it is fed by <see cref="TrackingNames.Diagnostics"/> and adds no source.
    /// </summary>
    private static void AssertAllCachedOrUnchanged(GeneratorDriverRunResult run, Compilation input)
    {
        GeneratorRunResult result = run.Results[0];
        var failures = new List<string>();
        foreach (string name in TrackedStepNames)
        {
            if (!result.TrackedSteps.TryGetValue(name, out ImmutableArray<IncrementalGeneratorRunStep> steps)) continue;
            CollectNotCached(name, steps, failures, exempt: null);
        }
        foreach (KeyValuePair<string, ImmutableArray<IncrementalGeneratorRunStep>> output in result.TrackedOutputSteps)
            CollectNotCached(output.Key, output.Value, failures, exempt: step => IsFedBy(step, TrackingNames.Diagnostics) && AddsNoSource(step));
        Assert.True(failures.Count == 0,
            "A second run on a cloned compilation re-computed:\n" + string.Join("\n", failures) + $"\n--- source ---\n{Sources(input)}");
    }

    private static void CollectNotCached(string name, ImmutableArray<IncrementalGeneratorRunStep> steps, List<string> failures, Func<IncrementalGeneratorRunStep, bool>? exempt)
    {
        for (int s = 0; s < steps.Length; s++)
        {
            if (exempt is not null && exempt(steps[s])) continue;
            for (int o = 0; o < steps[s].Outputs.Length; o++)
            {
                IncrementalStepRunReason reason = steps[s].Outputs[o].Reason;
                if (reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
                    failures.Add($"  step '{name}' #{s}, output #{o}: {reason}");
            }
        }
    }

    /// <summary>Whether a step named <paramref name="name"/> is among the inputs of <paramref name="step"/>, transitively.</summary>
    public static bool IsFedBy(IncrementalGeneratorRunStep step, string name)
    {
        var pending = new Stack<IncrementalGeneratorRunStep>([step]);
        var seen = new HashSet<IncrementalGeneratorRunStep>(ReferenceEqualityComparer.Instance);
        while (pending.Count > 0)
        {
            IncrementalGeneratorRunStep current = pending.Pop();
            if (!seen.Add(current)) continue;
            foreach ((IncrementalGeneratorRunStep source, int _) in current.Inputs)
            {
                if (source.Name == name) return true;
                pending.Push(source);
            }
        }
        return false;
    }

    /// <summary>A source-output step's values are (generated sources, diagnostics) tuples; true when no source was added.</summary>
    private static bool AddsNoSource(IncrementalGeneratorRunStep step) =>
        step.Outputs.All(o => o.Value is ITuple { Length: 2 } t && t[0] is IEnumerable sources && !sources.Cast<object>().Any());

    private static void AssertSameTrackedValues(GeneratorDriverRunResult first, GeneratorDriverRunResult second, Compilation input)
    {
        foreach (string name in TrackedStepNames)
        {
            object?[] a = Values(first.Results[0], name), b = Values(second.Results[0], name);
            Assert.True(a.Length == b.Length, $"Step '{name}' produced {a.Length} values, then {b.Length}\n--- source ---\n{Sources(input)}");
            for (int i = 0; i < a.Length; i++)
                Assert.True(Equals(a[i], b[i]), $"Step '{name}' value #{i} differs between identical runs:\n{a[i]}\n{b[i]}");
        }
    }

    private static void AssertSameSources(GeneratorDriverRunResult first, GeneratorDriverRunResult second)
    {
        string[] a = first.Results[0].GeneratedSources.Select(s => s.HintName + "\n" + s.SourceText).ToArray();
        string[] b = second.Results[0].GeneratedSources.Select(s => s.HintName + "\n" + s.SourceText).ToArray();
        Assert.Equal(a, b);
    }

    /// <summary>The output values of the tracked step <paramref name="name"/>, in order.</summary>
    public static object?[] Values(GeneratorRunResult result, string name) =>
        result.TrackedSteps.TryGetValue(name, out ImmutableArray<IncrementalGeneratorRunStep> steps)
            ? steps.SelectMany(s => s.Outputs).Select(o => o.Value).ToArray()
            : [];

    /// <summary>The reasons of the tracked step <paramref name="name"/>'s outputs, in order.</summary>
    public static IncrementalStepRunReason[] Reasons(GeneratorRunResult result, string name) =>
        result.TrackedSteps.TryGetValue(name, out ImmutableArray<IncrementalGeneratorRunStep> steps)
            ? steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray()
            : [];

    /// <summary>
    /// The reasons of the source-output steps fed by the tracked step <paramref name="inputStep"/> (the generator
    /// registers two outputs: one from <see cref="TrackingNames.Diagnostics"/>, one from <see cref="TrackingNames.Lower"/>).
    /// </summary>
    public static IncrementalStepRunReason[] OutputReasons(GeneratorRunResult result, string inputStep) =>
        result.TrackedOutputSteps.SelectMany(p => p.Value)
            .Where(step => IsFedBy(step, inputStep))
            .SelectMany(step => step.Outputs)
            .Select(o => o.Reason)
            .ToArray();

    // ---- Object-graph walk -------------------------------------------------------------------------------------

    private static readonly Type[] Forbidden =
        [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel), typeof(Location), typeof(Compilation)];

    private static void AssertNoCompilationObjects(GeneratorDriverRunResult run)
    {
        foreach (string name in TrackedStepNames)
        {
            object?[] values = Values(run.Results[0], name);
            for (int i = 0; i < values.Length; i++)
            {
                string? path = FindForbidden(values[i], $"{name}[{i}]");
                Assert.True(path is null, $"A compilation object is reachable from a pipeline model: {path}");
            }
        }
    }

    /// <summary>
    /// Walks every instance field (so auto-property backing fields too) of <paramref name="root"/>, recursively, and
    /// returns the path to the first forbidden object, or null. Public so tests can prove the walk finds what it should.
    /// </summary>
    public static string? FindForbidden(object? root, string rootName)
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<(object Value, string Path)>();
        if (root is not null) pending.Push((root, rootName));
        while (pending.Count > 0)
        {
            (object value, string path) = pending.Pop();
            Type type = value.GetType();
            if (Forbidden.Any(f => f.IsAssignableFrom(type))) return $"{path} is a {type.FullName}";
            if (IsLeaf(type)) continue;
            if (!type.IsValueType && !visited.Add(value)) continue;

            if (value is Array array)
            {
                int i = 0;
                foreach (object? item in array)
                {
                    if (item is not null) pending.Push((item, $"{path}[{i}]"));
                    i++;
                }
                continue;
            }
            for (Type? t = type; t is not null && t != typeof(object); t = t.BaseType)
                foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType.IsPointer || field.FieldType.IsByRef || field.FieldType.IsByRefLike) continue;
                    object? child = field.GetValue(value);
                    if (child is not null) pending.Push((child, $"{path}.{field.Name}"));
                }
        }
        return null;
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type.IsPointer || type == typeof(string) || type == typeof(decimal)
        || typeof(Type).IsAssignableFrom(type) || typeof(MemberInfo).IsAssignableFrom(type)
        || typeof(Delegate).IsAssignableFrom(type) || typeof(Assembly).IsAssignableFrom(type);

    // ---- Formatting ---------------------------------------------------------------------------------------------

    /// <summary>The source of every tree of <paramref name="compilation"/>, for failure messages.</summary>
    public static string Sources(Compilation compilation) =>
        string.Join("\n", compilation.SyntaxTrees.Select(t => $"// {t.FilePath}\n{t}"));
}

/// <summary>One checked generator run: the input, the updated compilation, the driver after it, and its result.</summary>
internal sealed record GeneratorRun(CSharpCompilation Input, Compilation Output, GeneratorDriver Driver, GeneratorDriverRunResult RunResult)
{
    public GeneratorRunResult Result => RunResult.Results[0];

    /// <summary>Every diagnostic the generator reported.</summary>
    public ImmutableArray<Diagnostic> Diagnostics => Result.Diagnostics;

    /// <summary>The KernelGen diagnostics (KG…), ordered by position.</summary>
    public ImmutableArray<Diagnostic> KgDiagnostics =>
        [.. Result.Diagnostics.Where(d => d.Id.StartsWith("KG", StringComparison.Ordinal)).OrderBy(d => d.Location.SourceSpan.Start)];

    public bool HasKgError => KgDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Generated sources by hint name.</summary>
    public ImmutableArray<GeneratedSourceResult> Sources => Result.GeneratedSources;

    public string Source(string hintName) =>
        Sources.SingleOrDefault(s => s.HintName == hintName) is { HintName: not null } s
            ? s.SourceText.ToString()
            : throw new Xunit.Sdk.XunitException($"No generated source '{hintName}'; generated: {string.Join(", ", Sources.Select(x => x.HintName))}");

    /// <summary>Diagnostics of the output compilation at or above <paramref name="severity"/>.</summary>
    public ImmutableArray<Diagnostic> OutputDiagnostics(DiagnosticSeverity severity) =>
        [.. Output.GetDiagnostics().Where(d => d.Severity >= severity)];

    /// <summary>Diagnostics at or above <paramref name="severity"/> located in generated files only.</summary>
    public ImmutableArray<Diagnostic> GeneratedFileDiagnostics(DiagnosticSeverity severity)
    {
        var builder = ImmutableArray.CreateBuilder<Diagnostic>();
        foreach (SyntaxTree tree in Result.GeneratedSources.Select(s => s.SyntaxTree))
        {
            SyntaxTree inOutput = Output.SyntaxTrees.Single(t => t.FilePath == tree.FilePath);
            builder.AddRange(Output.GetSemanticModel(inOutput).GetDiagnostics().Where(d => d.Severity >= severity));
        }
        return builder.ToImmutable();
    }

    /// <summary>Asserts the output compilation has no warning or error at all.</summary>
    public void AssertCompilesWithoutWarnings()
    {
        ImmutableArray<Diagnostic> problems = OutputDiagnostics(DiagnosticSeverity.Warning);
        Assert.True(problems.IsEmpty,
            "The compilation after generation has diagnostics:\n" + string.Join("\n", problems.Select(d => "  " + d))
            + "\n--- generated ---\n" + string.Join("\n", Sources.Select(s => $"// {s.HintName}\n{s.SourceText}")));
    }
}

/// <summary>
/// Test sources with spans marked as <c>[|…|]</c>: <see cref="Parse"/> strips the markers and returns the spans in the
/// stripped text.
/// </summary>
internal static class Markup
{
    public static (string Source, ImmutableArray<TextSpan> Spans) Parse(string markup)
    {
        var text = new StringBuilder(markup.Length);
        var spans = ImmutableArray.CreateBuilder<TextSpan>();
        int? open = null;
        for (int i = 0; i < markup.Length; i++)
        {
            if (string.CompareOrdinal(markup, i, "[|", 0, 2) == 0)
            {
                Assert.True(open is null, "Nested [| markers are not supported.");
                open = text.Length;
                i++;
            }
            else if (string.CompareOrdinal(markup, i, "|]", 0, 2) == 0)
            {
                Assert.True(open is not null, "|] without [|.");
                spans.Add(TextSpan.FromBounds(open!.Value, text.Length));
                open = null;
                i++;
            }
            else
            {
                text.Append(markup[i]);
            }
        }
        Assert.True(open is null, "[| without |].");
        return (text.ToString(), spans.ToImmutable());
    }
}
