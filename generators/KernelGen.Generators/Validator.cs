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
            double momentum = 0, dampening = 0;
            bool nesterov = false;
            foreach (OptionSpec option in optimizer.Options)
            {
                CheckOption(diagnostics, optimizer.Location, option, Catalog.Optimizers[optimizer.Kind].TryGetValue(option.Name, out var range) ? range : null);
                if (option.Name == "Momentum") momentum = option.Value;
                if (option.Name == "Dampening") dampening = option.Value;
                if (option.Name == "Nesterov") nesterov = option.Value != 0;
            }
            if (optimizer.Kind == OptimizerKind.Sgd && nesterov && (momentum <= 0 || dampening != 0))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, optimizer.Location, "Nesterov option",
                    "used with Momentum > 0 and Dampening = 0", "set without them"));
        }

        int schedules = 0, warmups = 0;
        foreach (TrainingOptionSpec option in spec.TrainingOptions)
        {
            if (spec.Optimizers.Count == 0)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TrainingOptionRequiresOptimizer, option.Location, option.AttributeName));
            if (option.IsSchedule && ++schedules > 1)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, option.Location, spec.Type.Name, "learning-rate schedule"));
            if (option.Kind == TrainingOptionKind.LinearWarmup && ++warmups > 1)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, option.Location, spec.Type.Name, "warm-up"));
            foreach (OptionSpec value in option.Values)
                CheckOption(diagnostics, option.Location, value, Catalog.TrainingOptions[option.Kind].TryGetValue(value.Name, out var entry) ? entry.Range : null);
        }

        // Sizes: the arena (with 16-element alignment per tensor) and the widest layer must fit in an array.
        long arena = 0;
        int w = spec.InputSize;
        foreach (LayerSpec layer in spec.Layers)
        {
            if (layer.Kind != LayerKind.Dense || layer.Units <= 0 || w <= 0) continue;
            arena += (long)w * layer.Units + layer.Units + 32;
            w = layer.Units;
        }
        if (arena > MaxArena)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, spec.Location, spec.Type.Name, arena.ToString(CultureInfo.InvariantCulture)));

        // The generated members may not take the type's own name (CS0542).
        if (Catalog.GeneratedMembers.Contains(spec.Type.Name) || GeneratedLayerMembers(resolved, spec.Layers).Contains(spec.Type.Name))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReservedTypeName, spec.TypeLocation, spec.Type.Name));

        bool hasError = false;
        foreach (DiagnosticInfo d in diagnostics) hasError |= d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;
        return new Result<NetworkSpec>(hasError ? null : spec, diagnostics.ToEquatableArray());
    }

    /// <summary>The largest arena the generated code can hold: arrays top out at 0x7FFFFFC7 elements.</summary>
    public const long MaxArena = 0x7FFFFFC7 - 64;

    private static HashSet<string> GeneratedLayerMembers(IReadOnlyList<string> names, EquatableArray<LayerSpec> layers)
    {
        var members = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Kind != LayerKind.Dense) continue;
            foreach (string suffix in new[] { "Weights", "Bias", "WeightsGradient", "BiasGradient" }) members.Add(names[i] + suffix);
        }
        return members;
    }

    private static void CheckOption(List<DiagnosticInfo> diagnostics, LocationInfo? location, OptionSpec option, Catalog.Range? range)
    {
        if (range is null || range.Contains(option.Value)) return;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, location, option.Name, range.Describe(),
            option.Value.ToString("R", CultureInfo.InvariantCulture)));
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
