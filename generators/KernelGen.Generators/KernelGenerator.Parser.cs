using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using KernelGen.Generators.Diagnostics;
using KernelGen.Generators.Helpers;
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
        private static readonly string DenseName = typeof(DenseAttribute).FullName!;
        private static readonly string ReLUName = typeof(ReLUAttribute).FullName!;
        private static readonly string SigmoidName = typeof(SigmoidAttribute).FullName!;
        private static readonly string TanhName = typeof(TanhAttribute).FullName!;
        private static readonly string IdentityName = typeof(IdentityAttribute).FullName!;
        private static readonly string SoftmaxCrossEntropyName = typeof(SoftmaxCrossEntropyLossAttribute).FullName!;
        private static readonly string L2Name = typeof(L2LossAttribute).FullName!;
        private static readonly string SgdName = typeof(SgdAttribute).FullName!;

        /// <summary>The nested double-precision variant's name, which the network type itself cannot take.</summary>
        public const string ReservedName = "Float64";

        public static string NetworkAttributeName => NetworkName;

        public static Result<NetworkSpec> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var node = (TypeDeclarationSyntax)context.TargetNode;
            var type = (INamedTypeSymbol)context.TargetSymbol;
            LocationInfo? identifier = LocationInfo.From(node.Identifier.GetLocation());

            // Structural checks on the declaration itself.
            if (node is not ClassDeclarationSyntax || type.IsStatic || type.IsAbstract)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTypeMustBeClass, identifier, type.Name));
            if (type.Name == ReservedName)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReservedTypeName, identifier, type.Name));
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

            // The [Network] attribute.
            AttributeData network = context.Attributes[0];
            int inputSize = network.ConstructorArguments.Length == 1 && network.ConstructorArguments[0].Value is int i ? i : 0;
            LocationInfo? networkLocation = Locate(network, cancellationToken) ?? identifier;

            // Every other KernelGen attribute, on any part of the type, ordered by source position.
            var layers = new List<(SyntaxReference Ref, LayerSpec Spec)>();
            var losses = new List<LossSpec>();
            var optimizers = new List<OptimizerSpec>();
            bool split = false;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (attribute.AttributeClass is not { } attributeClass || attribute.AttributeConstructor is null) continue;
                string name = attributeClass.ToDisplayString();
                SyntaxReference? reference = attribute.ApplicationSyntaxReference;
                LocationInfo? location = Locate(attribute, cancellationToken);

                LayerSpec? layer = ParseLayer(name, attribute, location);
                if (layer is not null)
                {
                    if (reference is null) continue;
                    if (reference.SyntaxTree != node.SyntaxTree || !node.Span.Contains(reference.Span)) split = true;
                    layers.Add((reference, layer));
                    continue;
                }
                bool isLossOrOptimizer = name == SoftmaxCrossEntropyName || name == L2Name || name == SgdName;
                if (isLossOrOptimizer && reference is not null && (reference.SyntaxTree != node.SyntaxTree || !node.Span.Contains(reference.Span))) split = true;
                if (name == SoftmaxCrossEntropyName) losses.Add(new LossSpec(LossKind.SoftmaxCrossEntropy, "SoftmaxCrossEntropyLoss", location));
                else if (name == L2Name) losses.Add(new LossSpec(LossKind.L2, "L2Loss", location));
                else if (name == SgdName)
                {
                    double lr = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is double d ? d : double.NaN;
                    optimizers.Add(new OptimizerSpec(OptimizerKind.Sgd, "Sgd", lr, location));
                }
            }

            if (split)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersSplitAcrossDeclarations, networkLocation, type.Name));

            var ordered = layers
                .OrderBy(l => l.Ref.SyntaxTree.FilePath, System.StringComparer.Ordinal)
                .ThenBy(l => l.Ref.Span.Start)
                .Select(l => l.Spec)
                .ToEquatableArray();

            var spec = new NetworkSpec(typeSpec, inputSize, networkLocation, ordered, losses.ToEquatableArray(), optimizers.ToEquatableArray());
            return new Result<NetworkSpec>(spec, diagnostics.ToEquatableArray());
        }

        private static LayerSpec? ParseLayer(string name, AttributeData attribute, LocationInfo? location)
        {
            string? layerName = null;
            int init = 0;
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                if (named.Key == nameof(LayerAttribute.Name)) layerName = named.Value.Value as string;
                else if (named.Key == nameof(DenseAttribute.Init) && named.Value.Value is int v) init = v;
            }

            if (name == DenseName)
            {
                ImmutableArray<TypedConstant> args = attribute.ConstructorArguments;
                int units = args.Length >= 1 && args[0].Value is int u ? u : 0;
                int activation = args.Length >= 2 && args[1].Value is int a ? a : (int)Activation.Identity;
                return new LayerSpec(LayerKind.Dense, "Dense", units, activation, init, layerName, location);
            }
            if (name == ReLUName) return Act(KernelGen.Activation.ReLU, "ReLU");
            if (name == SigmoidName) return Act(KernelGen.Activation.Sigmoid, "Sigmoid");
            if (name == TanhName) return Act(KernelGen.Activation.Tanh, "Tanh");
            if (name == IdentityName) return Act(KernelGen.Activation.Identity, "Identity");

            return null;

            LayerSpec Act(KernelGen.Activation kind, string attributeName) =>
                new(LayerKind.Activation, attributeName, 0, (int)kind, 0, layerName, location);
        }

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
