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
        string? lastTransform = null; // the last non-linear output transform (activation or softmax layer), for KG0014
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind is LayerKind.Dense or LayerKind.Maxout)
            {
                if (layer.Units <= 0)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SizeMustBePositive, layer.Location, $"width of layer '{resolved[i]}'", Str(layer.Units)));
                width = layer.Units;
                lastTransform = null;
                if (!Enum.IsDefined(typeof(Init), layer.InitValue))
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownOptionValue, layer.Location, Str(layer.InitValue), nameof(Init)));
                Check(diagnostics, layer.Location, "L1", layer.L1, NonNegativeOrUnset);
                Check(diagnostics, layer.Location, "L2", layer.L2, NonNegativeOrUnset);
                Check(diagnostics, layer.Location, "ActivityL1", layer.ActivityL1, NonNegativeOrUnset);
                Check(diagnostics, layer.Location, "BiasInit", layer.BiasInit, v => !double.IsNaN(v) && !double.IsInfinity(v), "finite");
            }
            switch (layer.Kind)
            {
                case LayerKind.Maxout:
                    if (layer.Pieces < 2)
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, layer.Location, "number of pieces", "at least 2", Str(layer.Pieces)));
                    else if (layer.Units > 0 && (long)layer.Units * layer.Pieces > int.MaxValue / 4)
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, layer.Location, spec.Type.Name, ((long)layer.Units * layer.Pieces).ToString(CultureInfo.InvariantCulture)));
                    break;
                case LayerKind.BatchNorm:
                    Check(diagnostics, layer.Location, "Momentum", layer.Momentum, v => double.IsNaN(v) || (v > 0 && v <= 1), "in (0, 1]");
                    Check(diagnostics, layer.Location, "Epsilon", layer.Epsilon, PositiveOrUnset, "positive and finite");
                    break;
                case LayerKind.LayerNorm:
                    Check(diagnostics, layer.Location, "Epsilon", layer.Epsilon, PositiveOrUnset, "positive and finite");
                    break;
                case LayerKind.GroupNorm:
                    Check(diagnostics, layer.Location, "Epsilon", layer.Epsilon, PositiveOrUnset, "positive and finite");
                    if (layer.Groups < 1 || (width > 0 && width % layer.Groups != 0))
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, layer.Location, "number of groups",
                            $"a positive divisor of the {Str(width)} features", Str(layer.Groups)));
                    break;
                case LayerKind.Dropout:
                    Check(diagnostics, layer.Location, "drop probability", layer.DropProbability, v => v >= 0 && v < 1, "in [0, 1)");
                    break;
                case LayerKind.Softmax:
                    lastTransform = "Softmax";
                    break;
            }
            if (!Enum.IsDefined(typeof(Activation), layer.ActivationValue))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownOptionValue, layer.Location, Str(layer.ActivationValue), nameof(Activation)));
            else if ((Activation)layer.ActivationValue != Activation.Identity)
            {
                lastTransform = ((Activation)layer.ActivationValue).ToString();
                if ((Activation)layer.ActivationValue == Activation.LeakyReLU)
                    Check(diagnostics, layer.Location, "slope", layer.ActivationParameter, v => double.IsNaN(v) || (v >= 0 && v < 1), "in [0, 1)");
                if ((Activation)layer.ActivationValue == Activation.ELU)
                    Check(diagnostics, layer.Location, "alpha", layer.ActivationParameter, PositiveOrUnset, "positive and finite");
            }

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
            if (loss.Kind is LossKind.SoftmaxCrossEntropy or LossKind.KLDivergence or LossKind.Hinge)
            {
                if (width < 2)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossDoesNotFitOutput, loss.Location, loss.AttributeName,
                        $"it needs at least 2 classes, but the output has {Str(width)} feature(s)"));
                else if (lastTransform is not null && loss.Kind != LossKind.Hinge)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossExpectsRawOutputs, loss.Location, loss.AttributeName, lastTransform));
            }
            if (loss.Kind == LossKind.SoftmaxCrossEntropy)
                Check(diagnostics, loss.Location, "LabelSmoothing", loss.Parameter, v => double.IsNaN(v) || (v >= 0 && v < 1), "in [0, 1)");
            if (loss.Kind == LossKind.Hinge)
                Check(diagnostics, loss.Location, "Margin", loss.Parameter, PositiveOrUnset, "positive and finite");
        }
        Check(diagnostics, spec.RegularizationLocation, "regularization strength", spec.L1, v => v >= 0 && !double.IsInfinity(v));
        Check(diagnostics, spec.RegularizationLocation, "regularization strength", spec.L2, v => v >= 0 && !double.IsInfinity(v));

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
            if (w <= 0) break;
            if (layer.Kind is LayerKind.BatchNorm or LayerKind.LayerNorm or LayerKind.GroupNorm) arena += 2L * w + 32;
            if (layer.Kind is not (LayerKind.Dense or LayerKind.Maxout) || layer.Units <= 0) continue;
            long outputs = layer.Kind == LayerKind.Maxout ? (long)layer.Units * System.Math.Max(1, layer.Pieces) : layer.Units;
            arena += w * outputs + outputs + 32;
            w = layer.Units;
        }
        if (arena > MaxArena)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, spec.Location, spec.Type.Name, arena.ToString(CultureInfo.InvariantCulture)));

        // The generated members may not take the type's own name (CS0542).
        if (Catalog.GeneratedMembers.Contains(spec.Type.Name) || GeneratedLayerMembers(resolved, spec.Layers).Contains(spec.Type.Name) || IsBufferField(spec.Type.Name))
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
            LayerSpec layer = layers[i];
            var suffixes = new List<string>();
            if (layer.Kind is LayerKind.Dense or LayerKind.Maxout) suffixes.AddRange(new[] { "Weights", "Bias", "WeightsGradient", "BiasGradient", "ActivationParameter" });
            if (layer.Kind is LayerKind.BatchNorm or LayerKind.LayerNorm or LayerKind.GroupNorm) suffixes.AddRange(new[] { "Gamma", "Beta" });
            if (layer.Kind is LayerKind.BatchNorm) suffixes.AddRange(new[] { "RunningMean", "RunningVariance" });
            if (layer.Kind is LayerKind.Activation) suffixes.Add("ActivationParameter");
            foreach (string suffix in suffixes) members.Add(names[i] + suffix);
        }
        return members;
    }

    /// <summary>Per-step buffer offset fields: _out3, _pre3, _norm3, _istd3, _mask3.</summary>
    private static bool IsBufferField(string name)
    {
        foreach (string prefix in new[] { "_out", "_pre", "_norm", "_istd", "_mask" })
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length == prefix.Length) continue;
            bool digits = true;
            for (int k = prefix.Length; k < name.Length; k++) digits &= char.IsDigit(name[k]);
            if (digits) return true;
        }
        return false;
    }

    private static void CheckOption(List<DiagnosticInfo> diagnostics, LocationInfo? location, OptionSpec option, Catalog.Range? range)
    {
        if (range is null || range.Contains(option.Value)) return;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, location, option.Name, range.Describe(),
            option.Value.ToString("R", CultureInfo.InvariantCulture)));
    }

    private static bool NonNegativeOrUnset(double v) => double.IsNaN(v) || (v >= 0 && !double.IsInfinity(v));
    private static bool PositiveOrUnset(double v) => double.IsNaN(v) || (v > 0 && !double.IsInfinity(v));

    private static void Check(List<DiagnosticInfo> diagnostics, LocationInfo? location, string name, double value, Func<double, bool> valid, string range = "non-negative and finite")
    {
        if (!valid(value))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, location, name, range, value.ToString("R", CultureInfo.InvariantCulture)));
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
