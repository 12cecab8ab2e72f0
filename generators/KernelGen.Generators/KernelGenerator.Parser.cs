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
                if (outerSyntax is null || !outerSyntax.Modifiers.Any(SyntaxKind.PartialKeyword) || outer.IsFileLocal)
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

            // Constructors of the user's must chain to the generated one, which allocates the buffers (else CS7036 or CS0111).
            foreach (IMethodSymbol constructor in type.InstanceConstructors)
            {
                if (constructor.IsImplicitlyDeclared) continue;
                bool generatedSignature = constructor.Parameters.Length == 2
                    && constructor.Parameters[0].Type.SpecialType == SpecialType.System_Int32
                    && constructor.Parameters[1].Type.SpecialType == SpecialType.System_UInt64;
                foreach (SyntaxReference reference in constructor.DeclaringSyntaxReferences)
                    if (reference.GetSyntax(cancellationToken) is ConstructorDeclarationSyntax declaration
                        && (generatedSignature || declaration.Initializer is not { RawKind: (int)SyntaxKind.ThisConstructorInitializer }))
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ConstructorMustChain, LocationInfo.From(declaration.Identifier.GetLocation()), type.Name));
            }

            // The members the user declared (the generated half is not part of this compilation), for the name check.
            var members = new List<MemberSpec>();
            foreach (ISymbol member in type.GetMembers())
            {
                if (member.IsImplicitlyDeclared || member is IMethodSymbol { MethodKind: not MethodKind.Ordinary }) continue;
                foreach (Location location in member.Locations)
                    if (location.IsInSource) members.Add(new MemberSpec(member.Name, LocationInfo.From(location)));
            }

            // The [Network] attribute: one size, or channels, height and width.
            AttributeData network = context.Attributes[0];
            LocationInfo? networkLocation = Locate(network, cancellationToken) ?? identifier;

            // [Network] on more than one declaration (the compiler reports CS0579): the first one reports, no code at all.
            var networkAttributes = type.GetAttributes().Where(a => a.AttributeClass?.ToDisplayString() == NetworkName).ToList();
            if (networkAttributes.Count > 1)
            {
                SyntaxReference? first = networkAttributes[0].ApplicationSyntaxReference;
                if (first is null || first.SyntaxTree != node.SyntaxTree || !node.Span.Contains(first.Span))
                    return new Result<NetworkSpec>(null, EquatableArray<DiagnosticInfo>.Empty);
                for (int i = 1; i < networkAttributes.Count; i++)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersSplitAcrossDeclarations, Locate(networkAttributes[i], cancellationToken) ?? identifier,
                        type.Name, "[Network] is declared more than once; keep one, on the declaration with the layers"));
                return new Result<NetworkSpec>(null, diagnostics.ToEquatableArray());
            }

            // The generated code implements static abstract interface members: C# 11.
            if (node.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: var version } && version < LanguageVersion.CSharp11)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LanguageVersionTooLow, networkLocation, version.ToDisplayString()));

            var shape = new List<int>();
            bool unreadable = network.AttributeConstructor is null;
            foreach (TypedConstant argument in network.ConstructorArguments)
                if (argument.Value is int dimension) shape.Add(dimension); else unreadable = true;
            // (An unreadable [Network] argument is the compiler's error to report; no KG diagnostic on top of it.)

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
                if (name == Custom.FunctionParser.AttributeName && attribute.AttributeConstructor is not null && attribute.ApplicationSyntaxReference is { } customReference)
                {
                    // A user's activation: parsed (and differentiated later) from the method's own syntax.
                    LocationInfo? customLocation = Locate(attribute, cancellationToken);
                    split |= customReference.SyntaxTree != node.SyntaxTree || !node.Span.Contains(customReference.Span);
                    Custom.CustomFunction? function = Custom.FunctionParser.Read(attribute, context.SemanticModel.Compilation, customLocation, diagnostics, cancellationToken);
                    layers.Add((customReference, new LayerSpec(LayerKind.Activation, "CustomActivation", LayerName(attribute), EquatableArray<OptionSpec>.Empty, customLocation)
                        { Activation = (int)Activation.Identity, Custom = function, HasFrom = HasFrom(attribute), From = From(attribute) }));
                    continue;
                }
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
                        layers.Add((reference, new LayerSpec(LayerKind.Activation, shortName, LayerName(attribute), values, location) { Activation = (int)activation.Activation, HasFrom = HasFrom(attribute), From = From(attribute) }));
                        break;
                    case LayerDescriptor layer when reference is not null:
                        layers.Add((reference, new LayerSpec(layer.Kind, shortName, LayerName(attribute), values, location) { Inputs = layer.Merge != MergeKind.None ? LayerInputs(attribute) : EquatableArray<string>.Empty, HasFrom = HasFrom(attribute), From = From(attribute) }));
                        break;
                    case LossDescriptor loss when loss.Kind == LossKind.Custom:
                    {
                        // A user's loss: parsed (and differentiated later) from the method's own syntax; only Reduction is an option.
                        Custom.CustomFunction? function = Custom.FunctionParser.Read(attribute, context.SemanticModel.Compilation, location, diagnostics, cancellationToken, loss: true);
                        var reduction = values.Where(o => o.Name == OpCatalog.Reduction.Name).ToEquatableArray();
                        losses.Add(new LossSpec(loss.Kind, shortName, reduction, location) { Custom = function });
                        break;
                    }
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
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersSplitAcrossDeclarations, networkLocation, type.Name,
                    "layer order would be ambiguous; declare every layer, loss and optimizer attribute on the declaration that carries [Network]"));

            var ordered = layers
                .OrderBy(l => l.Ref.SyntaxTree.FilePath, System.StringComparer.Ordinal)
                .ThenBy(l => l.Ref.Span.Start)
                .Select(l => l.Spec)
                .ToEquatableArray();

            var spec = new NetworkSpec(typeSpec, identifier, shape.ToEquatableArray(), networkLocation, ordered, losses.ToEquatableArray(),
                optimizers.ToEquatableArray(), options.ToEquatableArray(), penalties.ToEquatableArray()) { Members = members.ToEquatableArray() };
            return new Result<NetworkSpec>(unreadable ? null : spec, diagnostics.ToEquatableArray());
        }

        /// <summary>The namespaces the generated code names from the global namespace, which a global type of the same name
        /// would capture (<c>global::System</c> would bind to the type).</summary>
        private static readonly string[] GeneratedCodeNamespaces = { "System", "KernelGen" };

        /// <summary>The global types of <paramref name="compilation"/> (in source or referenced) named like a namespace the
        /// generated code uses.</summary>
        public static EquatableArray<string> ShadowingTypes(Compilation compilation)
        {
            var found = new List<string>();
            foreach (string name in GeneratedCodeNamespaces)
                if (!compilation.GlobalNamespace.GetTypeMembers(name).IsEmpty) found.Add(name);
            return found.ToEquatableArray();
        }

        private static string? LayerName(AttributeData attribute)
        {
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
                if (named.Key == nameof(LayerAttribute.Name)) return named.Value.Value as string;
            return null;
        }

        /// <summary>A merge layer's inputs by name: its constructor strings and its params array.</summary>
        private static EquatableArray<string> LayerInputs(AttributeData attribute)
        {
            var inputs = new List<string>();
            foreach (TypedConstant argument in attribute.ConstructorArguments)
            {
                if (argument.Kind == TypedConstantKind.Array)
                {
                    if (!argument.IsNull) foreach (TypedConstant item in argument.Values) inputs.Add(item.Value as string ?? "");
                }
                else if (argument.Type?.SpecialType == SpecialType.System_String) inputs.Add(argument.Value as string ?? "");
            }
            return inputs.ToEquatableArray();
        }

        private static bool HasFrom(AttributeData attribute)
        {
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
                if (named.Key == nameof(LayerAttribute.From)) return true;
            return false;
        }

        private static string? From(AttributeData attribute)
        {
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
                if (named.Key == nameof(LayerAttribute.From)) return named.Value.Value as string;
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
                if (attribute.ConstructorArguments[i].Kind != TypedConstantKind.Array && ToDouble(attribute.ConstructorArguments[i].Value) is { } v)
                    values.Add(new OptionSpec(char.ToUpperInvariant(parameters[i].Name[0]) + parameters[i].Name.Substring(1), v));
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                if (named.Value.Kind == TypedConstantKind.Array || ToDouble(named.Value.Value) is not { } v) continue;
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
