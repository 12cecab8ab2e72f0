using System;
using System.Collections.Generic;
using System.Globalization;
using KernelGen.Generators.Diagnostics;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelGen.Generators;

/// <summary>
/// Checks a parsed <see cref="NetworkSpec"/> and reports every problem at the attribute that causes it. A pure
/// function of the spec: the result's spec is null whenever an error was found (no code is generated then).
/// </summary>
internal static class Validator
{
    public static Result<NetworkSpec> Validate(Result<NetworkSpec> parsed)
    {
        if (parsed.Spec is not { } spec) return parsed;
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);

        if (spec.InputSize <= 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SizeMustBePositive, spec.Location, "input size", Str(spec.InputSize)));
        if (spec.Layers.IsEmpty)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkHasNoLayers, spec.Location, spec.Type.Name));

        var names = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyList<string> resolved = LayerNames.Resolve(spec.Layers);
        int width = spec.InputSize;
        Activation lastActivation = Activation.Identity;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind == LayerKind.Dense)
            {
                if (layer.Units <= 0)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SizeMustBePositive, layer.Location, $"width of layer '{resolved[i]}'", Str(layer.Units)));
                width = layer.Units;
                lastActivation = Activation.Identity;
                if (!Enum.IsDefined(typeof(Init), layer.InitValue))
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownOptionValue, layer.Location, Str(layer.InitValue), nameof(Init)));
            }
            if (!Enum.IsDefined(typeof(Activation), layer.ActivationValue))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownOptionValue, layer.Location, Str(layer.ActivationValue), nameof(Activation)));
            else if ((Activation)layer.ActivationValue != Activation.Identity)
                lastActivation = (Activation)layer.ActivationValue;

            if (layer.Name is { } explicitName && !SyntaxFacts.IsValidIdentifier(explicitName))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLayerName, layer.Location, explicitName, "is not a valid C# identifier"));
            else if (!names.Add(resolved[i]))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLayerName, layer.Location, resolved[i], "is used by more than one layer"));
        }

        for (int i = 1; i < spec.Losses.Count; i++)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, spec.Losses[i].Location, spec.Type.Name, "loss"));
        for (int i = 1; i < spec.Optimizers.Count; i++)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, spec.Optimizers[i].Location, spec.Type.Name, "optimizer"));

        if (spec.Losses.Count > 0 && spec.InputSize > 0)
        {
            LossSpec loss = spec.Losses[0];
            if (loss.Kind == LossKind.SoftmaxCrossEntropy)
            {
                if (width < 2)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossDoesNotFitOutput, loss.Location, "SoftmaxCrossEntropyLoss",
                        $"it needs at least 2 classes, but the output has {Str(width)} feature(s)"));
                else if (lastActivation != Activation.Identity)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossExpectsRawOutputs, loss.Location, "SoftmaxCrossEntropyLoss", lastActivation.ToString()));
            }
        }

        foreach (OptimizerSpec optimizer in spec.Optimizers)
        {
            if (spec.Losses.Count == 0)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OptimizerRequiresLoss, optimizer.Location, spec.Type.Name));
            // The float variant stores η as a float: it must stay positive and finite after that conversion too.
            float asFloat = (float)optimizer.LearningRate;
            if (!(optimizer.LearningRate > 0) || double.IsInfinity(optimizer.LearningRate) || !(asFloat > 0) || float.IsInfinity(asFloat))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, optimizer.Location, "learning rate",
                    "positive and finite in both float and double", optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture)));
        }

        bool hasError = false;
        foreach (DiagnosticInfo d in diagnostics) hasError |= d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;
        return new Result<NetworkSpec>(hasError ? null : spec, diagnostics.ToEquatableArray());
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Resolves each layer's name: its explicit Name, or its attribute name and 1-based rank among its kind.</summary>
internal static class LayerNames
{
    public static IReadOnlyList<string> Resolve(EquatableArray<LayerSpec> layers)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new string[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            string kind = layers[i].AttributeName;
            counts.TryGetValue(kind, out int n);
            counts[kind] = ++n;
            result[i] = layers[i].Name ?? kind + n.ToString(CultureInfo.InvariantCulture);
        }
        return result;
    }
}
