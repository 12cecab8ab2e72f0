using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// The harness must be able to fail: the object-graph walk finds compilation objects wherever they hide, and the
/// markup parser finds the spans the diagnostic tests rely on.
/// </summary>
public sealed class HarnessTests
{
    private sealed record Holder(object? Value, Holder? Next = null);

    private sealed class Cycle
    {
        public Cycle? Self;
        public object? Payload;
    }

    private static readonly SyntaxTree Tree = CSharpSyntaxTree.ParseText("class C { }", TestHelper.ParseOptions, "/src/C.cs");

    public static TheoryData<string> ForbiddenKinds => ["tree", "node", "location", "compilation", "symbol", "model"];

    private static object Make(string kind)
    {
        CSharpCompilation compilation = TestHelper.CreateCompilation("class C { }");
        return kind switch
        {
            "tree" => Tree,
            "node" => Tree.GetRoot(),
            "location" => Tree.GetRoot().GetLocation(),
            "compilation" => compilation,
            "symbol" => compilation.GetTypeByMetadataName("C")!,
            "model" => compilation.GetSemanticModel(compilation.SyntaxTrees[0]),
            _ => throw new System.ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(ForbiddenKinds))]
    public void Walk_FindsForbiddenObjects_NestedInRecordsArraysAndStructs(string kind)
    {
        object forbidden = Make(kind);

        Assert.NotNull(TestHelper.FindForbidden(forbidden, "root"));
        Assert.NotNull(TestHelper.FindForbidden(new Holder(1, new Holder(new object[] { "x", forbidden })), "root"));
        Assert.NotNull(TestHelper.FindForbidden(new Holder(ImmutableArray.Create(forbidden)), "root"));
        Assert.NotNull(TestHelper.FindForbidden(new Holder(new List<object> { forbidden }), "root"));
        Assert.NotNull(TestHelper.FindForbidden(new Holder(new KeyValuePair<int, object>(1, forbidden)), "root"));
    }

    [Fact]
    public void Walk_NamesThePathToTheForbiddenObject()
    {
        string? path = TestHelper.FindForbidden(new Holder(null, new Holder(Tree)), "spec");

        Assert.NotNull(path);
        Assert.StartsWith("spec.<Next>k__BackingField.<Value>k__BackingField is ", path, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Walk_AcceptsModelsOfPrimitivesAndLocationInfo_AndTerminatesOnCycles()
    {
        var location = new LocationInfo("/src/a.cs", new TextSpan(1, 2), new LinePositionSpan(new LinePosition(0, 1), new LinePosition(0, 3)));
        var spec = new NetworkSpec(
            new TypeSpec("Demo", "Net", new[] { new ContainingTypeSpec("class", "Outer") }.ToEquatableArray()),
            location, new[] { 4 }.ToEquatableArray(), location,
            new[] { new LayerSpec(LayerKind.Dense, "Dense", "Hidden", new[] { new OptionSpec("Units", 2) }.ToEquatableArray(), location) }.ToEquatableArray(),
            EquatableArray<LossSpec>.Empty, EquatableArray<OptimizerSpec>.Empty, EquatableArray<TrainingOptionSpec>.Empty, EquatableArray<PenaltySpec>.Empty);
        var cycle = new Cycle { Payload = spec };
        cycle.Self = cycle;

        Assert.Null(TestHelper.FindForbidden(spec, "spec"));
        Assert.Null(TestHelper.FindForbidden(cycle, "cycle"));
        cycle.Payload = new Holder(Tree);
        Assert.NotNull(TestHelper.FindForbidden(cycle, "cycle"));
    }

    [Fact]
    public void Markup_StripsMarkersAndReturnsSpans()
    {
        (string source, ImmutableArray<TextSpan> spans) = Markup.Parse("[[|Network(0)|]] class [|Net|];");

        Assert.Equal("[Network(0)] class Net;", source);
        Assert.Equal(new[] { new TextSpan(1, 10), new TextSpan(19, 3) }, spans.ToArray());
        Assert.Equal("Network(0)", source.Substring(spans[0].Start, spans[0].Length));
        Assert.Equal("Net", source.Substring(spans[1].Start, spans[1].Length));
    }
}
