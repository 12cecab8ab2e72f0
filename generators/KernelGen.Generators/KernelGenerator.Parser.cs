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

        private static readonly Dictionary<string, OptimizerKind> OptimizerNames = new()
        {
            [typeof(SgdAttribute).FullName!] = OptimizerKind.Sgd,
            [typeof(AdaGradAttribute).FullName!] = OptimizerKind.AdaGrad,
            [typeof(RmsPropAttribute).FullName!] = OptimizerKind.RmsProp,
            [typeof(AdamAttribute).FullName!] = OptimizerKind.Adam,
            [typeof(AdamWAttribute).FullName!] = OptimizerKind.AdamW,
            [typeof(NAdamAttribute).FullName!] = OptimizerKind.NAdam,
            [typeof(AdaDeltaAttribute).FullName!] = OptimizerKind.AdaDelta,
        };

        private static readonly Dictionary<string, TrainingOptionKind> TrainingOptionNames = new()
        {
            [typeof(StepDecayAttribute).FullName!] = TrainingOptionKind.StepDecay,
            [typeof(ExponentialDecayAttribute).FullName!] = TrainingOptionKind.ExponentialDecay,
            [typeof(InverseTimeDecayAttribute).FullName!] = TrainingOptionKind.InverseTimeDecay,
            [typeof(CosineAnnealingAttribute).FullName!] = TrainingOptionKind.CosineAnnealing,
            [typeof(WarmRestartsAttribute).FullName!] = TrainingOptionKind.WarmRestarts,
            [typeof(LinearWarmupAttribute).FullName!] = TrainingOptionKind.LinearWarmup,
            [typeof(ClipGradientNormAttribute).FullName!] = TrainingOptionKind.ClipGradientNorm,
            [typeof(ClipGradientValueAttribute).FullName!] = TrainingOptionKind.ClipGradientValue,
        };

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

            // The [Network] attribute.
            AttributeData network = context.Attributes[0];
            int inputSize = network.ConstructorArguments.Length == 1 && network.ConstructorArguments[0].Value is int i ? i : 0;
            // (An unreadable [Network] argument is the compiler's error to report; no KG0005 on top of it.)
            LocationInfo? networkLocation = Locate(network, cancellationToken) ?? identifier;

            // Every other KernelGen attribute, on any part of the type, ordered by source position.
            var layers = new List<(SyntaxReference Ref, LayerSpec Spec)>();
            var losses = new List<LossSpec>();
            var optimizers = new List<OptimizerSpec>();
            var options = new List<TrainingOptionSpec>();
            bool split = false, unreadable = network.AttributeConstructor is null || !(network.ConstructorArguments.Length == 1 && network.ConstructorArguments[0].Value is int);
            foreach (AttributeData attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (attribute.AttributeClass is not { } attributeClass) continue;
                string name = attributeClass.ToDisplayString();
                if (!name.StartsWith(KernelGenNamespace, System.StringComparison.Ordinal)) continue;
                if (attribute.AttributeConstructor is null)
                {
                    // The compiler already reports the bad arguments; generating code without this attribute would mislead.
                    unreadable = true;
                    continue;
                }
                SyntaxReference? reference = attribute.ApplicationSyntaxReference;
                LocationInfo? location = Locate(attribute, cancellationToken);
                bool elsewhere = reference is not null && (reference.SyntaxTree != node.SyntaxTree || !node.Span.Contains(reference.Span));

                LayerSpec? layer = ParseLayer(name, attribute, location);
                if (layer is not null)
                {
                    if (reference is null) continue;
                    split |= elsewhere;
                    layers.Add((reference, layer));
                }
                else if (name == SoftmaxCrossEntropyName || name == L2Name)
                {
                    split |= elsewhere;
                    losses.Add(name == L2Name ? new LossSpec(LossKind.L2, "L2Loss", location) : new LossSpec(LossKind.SoftmaxCrossEntropy, "SoftmaxCrossEntropyLoss", location));
                }
                else if (OptimizerNames.TryGetValue(name, out OptimizerKind kind))
                {
                    split |= elsewhere;
                    EquatableArray<OptionSpec> values = ReadOptions(attribute);
                    double lr = double.NaN;
                    var rest = new List<OptionSpec>();
                    foreach (OptionSpec o in values) { if (o.Name == nameof(OptimizerAttribute.LearningRate)) lr = o.Value; else rest.Add(o); }
                    optimizers.Add(new OptimizerSpec(kind, attributeClass.Name.Substring(0, attributeClass.Name.Length - "Attribute".Length), lr, rest.ToEquatableArray(), location));
                }
                else if (TrainingOptionNames.TryGetValue(name, out TrainingOptionKind optionKind))
                {
                    split |= elsewhere;
                    options.Add(new TrainingOptionSpec(optionKind, attributeClass.Name.Substring(0, attributeClass.Name.Length - "Attribute".Length), ReadOptions(attribute), location));
                }
            }

            if (split)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersSplitAcrossDeclarations, networkLocation, type.Name));

            var ordered = layers
                .OrderBy(l => l.Ref.SyntaxTree.FilePath, System.StringComparer.Ordinal)
                .ThenBy(l => l.Ref.Span.Start)
                .Select(l => l.Spec)
                .ToEquatableArray();

            var spec = new NetworkSpec(typeSpec, identifier, inputSize, networkLocation, ordered, losses.ToEquatableArray(), optimizers.ToEquatableArray(), options.ToEquatableArray());
            return new Result<NetworkSpec>(unreadable ? null : spec, diagnostics.ToEquatableArray());
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
                if (ToDouble(named.Value.Value) is { } v)
                    values.Add(new OptionSpec(named.Key, v));
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
