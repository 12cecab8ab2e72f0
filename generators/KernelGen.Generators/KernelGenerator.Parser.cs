using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using KernelGen.Generators.Diagnostics;
using KernelGen.Generators.Helpers;
using KernelGen.Catalog;
using KernelGen.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Generators;

public sealed partial class KernelGenerator
{
    /// <summary>
    /// Reads a [Network] type into a <see cref="NetworkSpec"/>. It does the minimum: structural checks that need the
    /// syntax or symbols (partial, generic, class), and a faithful copy of every KernelGen attribute, invalid values
    /// included. No symbol, syntax node or location leaves this class.
    /// </summary>
    internal static class Parser
    {
        private static readonly string NetworkName = typeof(NetworkAttribute).FullName!;
        private const string KernelGenNamespace = "KernelGen.";

        public static string NetworkAttributeName => NetworkName;

        public static Result<NetworkSpec> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var node = (TypeDeclarationSyntax)context.TargetNode;
            var type = (INamedTypeSymbol)context.TargetSymbol;
            LocationInfo? identifier = LocationInfo.From(node.Identifier.GetLocation());

            // Structural checks on the declaration itself.
            if (node is not ClassDeclarationSyntax || type.IsStatic || type.IsAbstract || type.IsFileLocal)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTypeMustBeClass, identifier, type.Name));
            if (node is ClassDeclarationSyntax { ParameterList: not null })
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PrimaryConstructorNotSupported, identifier, type.Name));
            if (!node.Modifiers.Any(SyntaxKind.PartialKeyword))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTypeMustBePartial, identifier, type.Name));

            bool generic = type.TypeParameters.Length > 0;
            var containing = new List<ContainingTypeSpec>();
            for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            {
                generic |= outer.TypeParameters.Length > 0;
                var outerSyntax = outer.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>().FirstOrDefault();
                if (outerSyntax is null || !outerSyntax.Modifiers.Any(SyntaxKind.PartialKeyword))
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeMustBePartial, identifier, outer.Name, type.Name));
                containing.Insert(0, new ContainingTypeSpec(Keyword(outerSyntax), outer.Name));
            }
            if (generic)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTypeMustNotBeGeneric, identifier, type.Name));

            string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
            var typeSpec = new TypeSpec(ns, type.Name, containing.ToEquatableArray());

            // A base class would clash with the runtime base class the generated declaration names (CS0263).
            if (node is ClassDeclarationSyntax && type.BaseType is { SpecialType: not SpecialType.System_Object } baseType && baseType.TypeKind == TypeKind.Class)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTypeHasBaseClass, identifier, type.Name, baseType.ToDisplayString()));

            // The [Network] attribute: one size, or channels, height and width.
            AttributeData network = context.Attributes[0];
            var shape = new List<int>();
            bool unreadable = network.AttributeConstructor is null;
            foreach (TypedConstant argument in network.ConstructorArguments)
                if (argument.Value is int dimension) shape.Add(dimension); else unreadable = true;
            // (An unreadable [Network] argument is the compiler's error to report; no KG diagnostic on top of it.)
            LocationInfo? networkLocation = Locate(network, cancellationToken) ?? identifier;

            // Every other KernelGen attribute, on any part of the type: the op catalog says what each one is.
            var layers = new List<(SyntaxReference Ref, LayerSpec Spec)>();
            var losses = new List<LossSpec>();
            var optimizers = new List<OptimizerSpec>();
            var options = new List<TrainingOptionSpec>();
            var penalties = new List<PenaltySpec>();
            bool split = false;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (attribute.AttributeClass is not { } attributeClass) continue;
                string name = attributeClass.ToDisplayString();
                if (!name.StartsWith(KernelGenNamespace, System.StringComparison.Ordinal) || !OpCatalog.TryFindAttribute(name, out object? entry)) continue;
                if (attribute.AttributeConstructor is null)
                {
                    // The compiler already reports the bad arguments; generating code without this attribute would mislead.
                    unreadable = true;
                    continue;
                }
                SyntaxReference? reference = attribute.ApplicationSyntaxReference;
                LocationInfo? location = Locate(attribute, cancellationToken);
                split |= reference is not null && (reference.SyntaxTree != node.SyntaxTree || !node.Span.Contains(reference.Span));
                string shortName = Short(attributeClass.Name);
                EquatableArray<OptionSpec> values = ReadOptions(attribute);
                switch (entry)
                {
                    case ActivationDescriptor activation when reference is not null:
                        layers.Add((reference, new LayerSpec(LayerKind.Activation, shortName, LayerName(attribute), values, location) { Activation = (int)activation.Activation }));
                        break;
                    case LayerDescriptor layer when reference is not null:
                        layers.Add((reference, new LayerSpec(layer.Kind, shortName, LayerName(attribute), values, location)));
                        break;
                    case LossDescriptor loss:
                        losses.Add(new LossSpec(loss.Kind, shortName, values, location));
                        break;
                    case OptimizerDescriptor optimizer:
                    {
                        double learningRate = double.NaN;
                        var rest = new List<OptionSpec>();
                        foreach (OptionSpec o in values) { if (o.Name == nameof(OptimizerAttribute.LearningRate)) learningRate = o.Value; else rest.Add(o); }
                        optimizers.Add(new OptimizerSpec(optimizer.Kind, shortName, learningRate, rest.ToEquatableArray(), location));
                        break;
                    }
                    case TrainingOptionDescriptor option:
                        options.Add(new TrainingOptionSpec(option.Attribute, shortName, values, location));
                        break;
                    case PenaltyDescriptor penalty:
                    {
                        double lambda = double.NaN;
                        foreach (OptionSpec o in values) if (o.Name == nameof(L2RegularizationAttribute.Lambda)) lambda = o.Value;
                        penalties.Add(new PenaltySpec(penalty.Option, lambda, location));
                        break;
                    }
                }
            }

            if (split)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersSplitAcrossDeclarations, networkLocation, type.Name));

            var ordered = layers
                .OrderBy(l => l.Ref.SyntaxTree.FilePath, System.StringComparer.Ordinal)
                .ThenBy(l => l.Ref.Span.Start)
                .Select(l => l.Spec)
                .ToEquatableArray();

            var spec = new NetworkSpec(typeSpec, identifier, shape.ToEquatableArray(), networkLocation, ordered, losses.ToEquatableArray(),
                optimizers.ToEquatableArray(), options.ToEquatableArray(), penalties.ToEquatableArray());
            return new Result<NetworkSpec>(unreadable ? null : spec, diagnostics.ToEquatableArray());
        }

        private static string? LayerName(AttributeData attribute)
        {
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
                if (named.Key == nameof(LayerAttribute.Name)) return named.Value.Value as string;
            return null;
        }

        private static string Short(string attributeClassName) =>
            attributeClassName.EndsWith("Attribute", System.StringComparison.Ordinal) ? attributeClassName.Substring(0, attributeClassName.Length - "Attribute".Length) : attributeClassName;

        /// <summary>Constructor arguments (named after their parameters, capitalized to the property names) and named
        /// arguments, as doubles: ints and doubles as they are, bools as 0 or 1.</summary>
        private static EquatableArray<OptionSpec> ReadOptions(AttributeData attribute)
        {
            var values = new List<OptionSpec>();
            var parameters = attribute.AttributeConstructor!.Parameters;
            for (int i = 0; i < attribute.ConstructorArguments.Length && i < parameters.Length; i++)
                if (ToDouble(attribute.ConstructorArguments[i].Value) is { } v)
                    values.Add(new OptionSpec(char.ToUpperInvariant(parameters[i].Name[0]) + parameters[i].Name.Substring(1), v));
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                if (ToDouble(named.Value.Value) is not { } v) continue;
                // A repeated named argument (already a compiler error) keeps its last value, so the output stays valid C#.
                values.RemoveAll(o => o.Name == named.Key);
                values.Add(new OptionSpec(named.Key, v));
            }
            return values.ToEquatableArray();
        }

        private static double? ToDouble(object? value) => value switch
        {
            int i => i,
            double d => d,
            bool b => b ? 1 : 0,
            _ => null,
        };

        private static LocationInfo? Locate(AttributeData attribute, CancellationToken cancellationToken) =>
            attribute.ApplicationSyntaxReference is { } reference ? LocationInfo.From(reference.GetSyntax(cancellationToken)) : null;

        private static string Keyword(TypeDeclarationSyntax? syntax) => syntax switch
        {
            RecordDeclarationSyntax r when r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
            RecordDeclarationSyntax => "record",
            StructDeclarationSyntax => "struct",
            InterfaceDeclarationSyntax => "interface",
            _ => "class",
        };
    }
}
