using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;
using KernelGen.Generators.Validation;
using Microsoft.CodeAnalysis;

namespace KernelGen.Generators;

/// <summary>
/// The KernelGen incremental generator: [Network] type → <see cref="NetworkSpec"/> (parser) → validated spec and
/// diagnostics (validator) → <see cref="GraphPlan"/> (lowering) → C# source (emitter). See generators/ARCHITECTURE.md.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class KernelGenerator : IIncrementalGenerator
{
    /// <summary>The version written into [GeneratedCode].</summary>
    public const string Version = "0.1.0";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // The predicate and transform do the minimum and return equatable data free of compilation objects, so the
        // driver can cache every later step. Only one FAWMN query: the [Network] marker attribute.
        // A global type named System or KernelGen would capture the generated code's global::System / global::KernelGen
        // names; it is looked up once per compilation (an equal answer leaves every later step cached).
        IncrementalValueProvider<EquatableArray<string>> shadowing = context.CompilationProvider
            .Select(static (compilation, _) => Parser.ShadowingTypes(compilation))
            .WithTrackingName(TrackingNames.Shadowing);
        IncrementalValuesProvider<Result<NetworkSpec>> validated = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.NetworkAttributeName,
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax,
                Parser.Parse)
            .WithTrackingName(TrackingNames.Parse)
            .Combine(shadowing)
            .Select(static (pair, _) => Validator.Validate(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Validate);

        // Diagnostics come from their own branch, so a change of position re-reports them without re-emitting code.
        // Only non-empty lists meet the compilation, whose syntax trees turn each LocationInfo back into a source
        // location (so #pragma and .editorconfig suppressions apply); a valid spec never reaches that node.
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = validated
            .Select(static (result, _) => result.Diagnostics)
            .Where(static list => !list.IsEmpty)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (spc, pair) =>
        {
            foreach (DiagnosticInfo diagnostic in pair.Left) spc.ReportDiagnostic(diagnostic.ToDiagnostic(pair.Right));
        });

        // Source comes from the plan alone (no locations), so edits that only move attributes do not re-emit.
        IncrementalValuesProvider<GraphPlan> plans = validated
            .Where(static result => result.Spec is not null)
            .WithTrackingName(TrackingNames.ValidSpecs)
            .Select(static (result, _) => Lowerer.Lower(result.Spec!))
            .WithTrackingName(TrackingNames.Lower);
        context.RegisterSourceOutput(plans, static (spc, plan) => Emitter.Emit(spc, plan));
    }
}
