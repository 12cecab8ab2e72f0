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
        private static readonly string L2RegularizationName = typeof(L2RegularizationAttribute).FullName!;
        private static readonly string L1RegularizationName = typeof(L1RegularizationAttribute).FullName!;

        private static readonly Dictionary<string, LossKind> LossNames = new()
        {
            [typeof(SoftmaxCrossEntropyLossAttribute).FullName!] = LossKind.SoftmaxCrossEntropy,
            [typeof(L2LossAttribute).FullName!] = LossKind.L2,
            [typeof(KLDivergenceLossAttribute).FullName!] = LossKind.KLDivergence,
            [typeof(HingeLossAttribute).FullName!] = LossKind.Hinge,
            [typeof(BinaryCrossEntropyLossAttribute).FullName!] = LossKind.BinaryCrossEntropy,
        };

        /// <summary>Standalone activation attributes and the activation each applies.</summary>
        private static readonly Dictionary<string, Activation> ActivationNames = new()
        {
            [typeof(ReLUAttribute).FullName!] = Activation.ReLU,
            [typeof(SigmoidAttribute).FullName!] = Activation.Sigmoid,
            [typeof(TanhAttribute).FullName!] = Activation.Tanh,
            [typeof(IdentityAttribute).FullName!] = Activation.Identity,
            [typeof(LeakyReLUAttribute).FullName!] = Activation.LeakyReLU,
            [typeof(EluAttribute).FullName!] = Activation.ELU,
            [typeof(SoftplusAttribute).FullName!] = Activation.Softplus,
            [typeof(SiLUAttribute).FullName!] = Activation.SiLU,
            [typeof(GeluAttribute).FullName!] = Activation.GELU,
        };

        private static readonly Dictionary<string, LayerKind> OtherLayerNames = new()
        {
            [typeof(MaxoutAttribute).FullName!] = LayerKind.Maxout,
            [typeof(BatchNormAttribute).FullName!] = LayerKind.BatchNorm,
            [typeof(LayerNormAttribute).FullName!] = LayerKind.LayerNorm,
            [typeof(GroupNormAttribute).FullName!] = LayerKind.GroupNorm,
            [typeof(DropoutAttribute).FullName!] = LayerKind.Dropout,
            [typeof(SoftmaxAttribute).FullName!] = LayerKind.Softmax,
        };

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
            double l1 = 0, l2 = 0;
            LocationInfo? regularizationLocation = null;
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
                else if (LossNames.TryGetValue(name, out LossKind lossKind))
                {
                    split |= elsewhere;
                    double parameter = double.NaN;
                    foreach (OptionSpec o in ReadOptions(attribute))
                        if (o.Name is nameof(SoftmaxCrossEntropyLossAttribute.LabelSmoothing) or nameof(HingeLossAttribute.Margin)) parameter = o.Value;
                    losses.Add(new LossSpec(lossKind, Short(attributeClass.Name), location) { Parameter = parameter });
                }
                else if (name == L2RegularizationName || name == L1RegularizationName)
                {
                    split |= elsewhere;
                    double lambda = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is double l ? l : double.NaN;
                    if (name == L2RegularizationName) l2 = lambda; else l1 = lambda;
                    regularizationLocation ??= location;
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

            var spec = new NetworkSpec(typeSpec, identifier, inputSize, networkLocation, ordered, losses.ToEquatableArray(), optimizers.ToEquatableArray(), options.ToEquatableArray())
            {
                L1 = l1,
                L2 = l2,
                RegularizationLocation = regularizationLocation,
            };
            return new Result<NetworkSpec>(unreadable ? null : spec, diagnostics.ToEquatableArray());
        }

        private static LayerSpec? ParseLayer(string name, AttributeData attribute, LocationInfo? location)
        {
            bool isActivation = ActivationNames.TryGetValue(name, out Activation activation);
            bool isOther = OtherLayerNames.TryGetValue(name, out LayerKind otherKind);
            if (name != DenseName && !isActivation && !isOther) return null;

            var values = new Dictionary<string, double>();
            foreach (OptionSpec o in ReadOptions(attribute)) values[o.Name] = o.Value;
            string? layerName = null;
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
                if (named.Key == nameof(LayerAttribute.Name)) layerName = named.Value.Value as string;
            double Get(string key) => values.TryGetValue(key, out double v) ? v : double.NaN;
            int GetInt(string key) => values.TryGetValue(key, out double v) ? (int)v : 0;
            string attributeName = Short(attribute.AttributeClass!.Name);

            if (name == DenseName)
            {
                return new LayerSpec(LayerKind.Dense, "Dense", GetInt("Units"), values.TryGetValue("Activation", out double a) ? (int)a : (int)Activation.Identity,
                    GetInt("Init"), layerName, location)
                { L1 = Get("L1"), L2 = Get("L2"), ActivityL1 = values.TryGetValue("ActivityL1", out double al) ? al : 0, BiasInit = values.TryGetValue("BiasInit", out double bi) ? bi : 0 };
            }
            if (isActivation)
            {
                double parameter = activation switch
                {
                    Activation.LeakyReLU => Get("Slope"),
                    Activation.ELU => Get("Alpha"),
                    Activation.GELU => Get("Approximate"),
                    _ => double.NaN,
                };
                return new LayerSpec(LayerKind.Activation, attributeName, 0, (int)activation, 0, layerName, location) { ActivationParameter = parameter };
            }
            return otherKind switch
            {
                LayerKind.Maxout => new LayerSpec(LayerKind.Maxout, attributeName, GetInt("Units"), 0, GetInt("Init"), layerName, location) { Pieces = GetInt("Pieces") },
                LayerKind.BatchNorm => new LayerSpec(otherKind, attributeName, 0, 0, 0, layerName, location) { Epsilon = Get("Epsilon"), Momentum = Get("Momentum") },
                LayerKind.LayerNorm => new LayerSpec(otherKind, attributeName, 0, 0, 0, layerName, location) { Epsilon = Get("Epsilon") },
                LayerKind.GroupNorm => new LayerSpec(otherKind, attributeName, 0, 0, 0, layerName, location) { Epsilon = Get("Epsilon"), Groups = GetInt("Groups") },
                LayerKind.Dropout => new LayerSpec(otherKind, attributeName, 0, 0, 0, layerName, location) { DropProbability = Get("DropProbability") },
                _ => new LayerSpec(otherKind, attributeName, 0, 0, 0, layerName, location),
            };
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
