using System;
using System.Collections.Generic;
using System.Globalization;
using KernelGen.Catalog;
using KernelGen.Generators.Diagnostics;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelGen.Generators.Validation;

/// <summary>
/// Checks a parsed <see cref="NetworkSpec"/> against the op catalog and reports every problem at the attribute that
/// causes it: each written option against its entry's type and range (in float too where it becomes an element
/// constant), each layer's shape rule, the loss against the output, the training options against the optimizer, and the
/// sizes. A pure function of the spec: the result's spec is null whenever an error was found (no code is generated then).
/// </summary>
internal static class Validator
{
    /// <summary>The largest arena the generated code can hold: arrays top out at 0x7FFFFFC7 elements.</summary>
    public const long MaxArena = 0x7FFFFFC7 - 64;

    public static Result<NetworkSpec> Validate(Result<NetworkSpec> parsed) => Validate(parsed, EquatableArray<string>.Empty);

    /// <param name="parsed">The parser's result.</param>
    /// <param name="shadowing">Global types of the compilation named like a namespace the generated code uses.</param>
    public static Result<NetworkSpec> Validate(Result<NetworkSpec> parsed, EquatableArray<string> shadowing)
    {
        if (parsed.Spec is not { } spec) return parsed;
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        foreach (string name in shadowing)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NamespaceHiddenByType, spec.Location, name));

        if (LayerResolver.InputShape(spec) is null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SizeMustBePositive, spec.Location,
                spec.InputShape.Count == 1 ? "input size" : "input shape", LayerResolver.Describe(spec.InputShape)));
        if (spec.Layers.IsEmpty)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkHasNoLayers, spec.Location, spec.Type.Name));

        List<ResolvedLayer> layers = LayerResolver.Resolve(spec);
        var names = new HashSet<string>(StringComparer.Ordinal);
        string? lastTransform = null; // the last non-linear output transform (activation or softmax layer), for KG0014
        foreach (ResolvedLayer layer in layers)
        {
            LayerSpec written = layer.Spec;
            if (written.Kind == LayerKind.Activation && layer.Activation is null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownOptionValue, written.Location, Str(written.Activation), nameof(Activation)));
            IReadOnlyList<OptionDescriptor> options = written.Kind == LayerKind.Activation
                ? (layer.Activation?.Parameter is { } p ? new[] { p } : new OptionDescriptor[0])
                : layer.Descriptor.Options;
            foreach (OptionSpec option in written.Options)
                if (Find(options, option.Name) is { } descriptor)
                    CheckOption(diagnostics, written.Location, descriptor, option.Value, layer.Name);
            if (layer.InputError is { } inputError)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerInputNotFound, written.Location, layer.Name, inputError));
            if (layer.ShapeError is { } error)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerDoesNotFitInput, written.Location, layer.Name, error));

            if (HasWeights(layer.Descriptor))
                lastTransform = layer.Activation is { Activation: not Activation.Identity } a ? a.Name : null;
            else if (written.Kind == LayerKind.Activation && layer.Activation is { Activation: not Activation.Identity } standalone)
                lastTransform = standalone.Name;
            else if (layer.Descriptor.NormalizesToProbabilities)
                lastTransform = layer.Descriptor.Name;
            else if (written.Custom is { } custom)
                lastTransform = custom.Display;

            if (written.Name is { } explicitName && !SyntaxFacts.IsValidIdentifier(explicitName))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLayerName, written.Location, explicitName, "is not a valid C# identifier"));
            else if (layer.Name == LayerAttribute.NetworkInput)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLayerName, written.Location, layer.Name, "names the network's input in From, [Add] and [Concat]"));
            else if (!names.Add(layer.Name))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLayerName, written.Location, layer.Name, "is used by more than one layer"));
        }
        // Every layer but the last feeds a later one (a dangling branch would get no gradient).
        var read = new bool[layers.Count];
        foreach (ResolvedLayer layer in layers) foreach (int input in layer.Inputs) if (input >= 0) read[input] = true;
        bool inputsKnown = true;
        foreach (ResolvedLayer layer in layers) inputsKnown &= layer.InputError is null;
        for (int i = 0; inputsKnown && i < layers.Count - 1; i++)
            if (!read[i])
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerOutputUnused, layers[i].Spec.Location, layers[i].Name));

        for (int i = 1; i < spec.Losses.Count; i++)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, spec.Losses[i].Location, spec.Type.Name, "loss"));
        for (int i = 1; i < spec.Optimizers.Count; i++)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, spec.Optimizers[i].Location, spec.Type.Name, "optimizer"));

        TensorShape? output = layers.Count == 0 ? LayerResolver.InputShape(spec) : layers[layers.Count - 1].Output;
        if (spec.Losses.Count > 0)
        {
            LossSpec loss = spec.Losses[0];
            LossDescriptor descriptor = OpCatalog.Get(loss.Kind);
            if (output is not null && output.Size < descriptor.MinimumOutputs)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossDoesNotFitOutput, loss.Location, loss.AttributeName,
                    $"it needs at least {Str(descriptor.MinimumOutputs)} classes, but the output has {Str(output.Size)} feature(s)"));
            else if (output is not null && lastTransform is not null && descriptor.WantsRawOutputs)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossExpectsRawOutputs, loss.Location, loss.AttributeName, lastTransform,
                    descriptor.Labels == LabelKind.Probabilities ? "sigmoid" : "softmax"));
            if (output is not null && descriptor.WantsLogProbabilities && !(layers.Count > 0 && layers[layers.Count - 1].Descriptor.OutputsLogProbabilities))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossExpectsLogProbabilities, loss.Location, loss.AttributeName,
                    layers.Count == 0 ? "the input" : $"layer '{layers[layers.Count - 1].Name}'"));
            foreach (OptionSpec option in loss.Options)
            {
                if (descriptor.Parameter is { } parameter && parameter.Name == option.Name)
                    CheckOption(diagnostics, loss.Location, parameter, option.Value, null);
                if (option.Name == OpCatalog.Reduction.Name)
                    CheckOption(diagnostics, loss.Location, OpCatalog.Reduction, option.Value, null);
            }
        }
        var penaltyKinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (PenaltySpec penalty in spec.Penalties)
        {
            if (!ValueRange.NonNegative.Contains(penalty.Lambda) || float.IsInfinity((float)penalty.Lambda))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, penalty.Location, "regularization strength",
                    ValueRange.NonNegative.Describe() + (ValueRange.NonNegative.Contains(penalty.Lambda) ? " (also as a float, which the float network uses)" : ""), Number(penalty.Lambda)));
            if (!penaltyKinds.Add(penalty.Option))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, penalty.Location, spec.Type.Name, $"network-wide {penalty.Option} penalty"));
        }

        foreach (OptimizerSpec optimizer in spec.Optimizers)
        {
            if (spec.Losses.Count == 0)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OptimizerRequiresLoss, optimizer.Location, spec.Type.Name));
            // The float variant stores η as a float: it must stay positive and finite after that conversion too.
            float asFloat = (float)optimizer.LearningRate;
            if (!OpCatalog.LearningRate.Contains(optimizer.LearningRate) || !(asFloat > 0) || float.IsInfinity(asFloat))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, optimizer.Location, "learning rate",
                    "positive and finite in both float and double", Number(optimizer.LearningRate)));
            OptimizerDescriptor descriptor = OpCatalog.Get(optimizer.Kind);
            double momentum = 0, dampening = 0;
            bool nesterov = false;
            foreach (OptionSpec option in optimizer.Options)
            {
                if (Find(descriptor.Options, option.Name) is { } d) CheckOption(diagnostics, optimizer.Location, d, option.Value, null);
                if (option.Name == "Momentum") momentum = option.Value;
                if (option.Name == "Dampening") dampening = option.Value;
                if (option.Name == "Nesterov") nesterov = option.Value != 0;
            }
            if (optimizer.Kind == Optimization.OptimizerKind.Sgd && nesterov && (momentum <= 0 || dampening != 0))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, optimizer.Location, "Nesterov option",
                    "used with Momentum > 0 and Dampening = 0", "set without them"));
        }

        int schedules = 0, warmups = 0;
        var trainingOptions = new HashSet<string>(StringComparer.Ordinal);
        foreach (TrainingOptionSpec option in spec.TrainingOptions)
        {
            if (!OpCatalog.TryFindAttribute(option.Attribute, out object? entry) || entry is not TrainingOptionDescriptor descriptor) continue;
            if (descriptor.Role is TrainingOptionRole.ClipNorm or TrainingOptionRole.ClipValue && !trainingOptions.Add(option.Attribute))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, option.Location, spec.Type.Name, $"[{option.AttributeName}]"));
            if (spec.Optimizers.Count == 0)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TrainingOptionRequiresOptimizer, option.Location, option.AttributeName));
            if (descriptor.Role == TrainingOptionRole.Schedule && ++schedules > 1)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, option.Location, spec.Type.Name, "learning-rate schedule"));
            if (descriptor.Role == TrainingOptionRole.Warmup && ++warmups > 1)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLossOrOptimizer, option.Location, spec.Type.Name, "warm-up"));
            foreach (OptionSpec value in option.Values)
                if (Find(descriptor.Options, value.Name) is { } d) CheckOption(diagnostics, option.Location, d, value.Value, null);
        }

        CheckSizes(diagnostics, spec, layers);

        // The generated members may not take the type's own name (CS0542), nor the names of the user's own members.
        HashSet<string> reserved = ReservedNames.For(spec, layers);
        if (reserved.Contains(spec.Type.Name))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReservedTypeName, spec.TypeLocation, spec.Type.Name));
        foreach (MemberSpec member in spec.Members)
            if (reserved.Contains(member.Name))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberNameClash, member.Location, member.Name, spec.Type.Name));

        bool hasError = false;
        foreach (DiagnosticInfo d in diagnostics) hasError |= d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;
        return new Result<NetworkSpec>(hasError ? null : spec, diagnostics.ToEquatableArray());
    }

    /// <summary>Sizes: the parameter arena (each tensor padded to 16 elements) must fit in one array.</summary>
    private static void CheckSizes(List<DiagnosticInfo> diagnostics, NetworkSpec spec, List<ResolvedLayer> layers)
    {
        long arena = 0;
        foreach (ResolvedLayer layer in layers)
        {
            if (layer.Input is null || layer.Output is null) break;
            foreach (TensorDescriptor tensor in layer.Descriptor.Tensors)
            {
                if (tensor.IsState) continue;
                long length;
                try { length = tensor.Shape(layer.Input, layer.Output, layer.Options).LongSize; }
                catch (OverflowException) { length = long.MaxValue / 4; }
                arena += length + 16;
            }
        }
        if (arena > MaxArena)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, spec.Location, spec.Type.Name, arena.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Checks a written value against its catalog entry: enum membership, range, an explicit NaN (never valid), and
    /// for element constants the value after rounding to float.</summary>
    private static void CheckOption(List<DiagnosticInfo> diagnostics, LocationInfo? location, OptionDescriptor option, double value, string? layer)
    {
        if (option.Type == OptionType.Enumeration)
        {
            if (option.EnumType is { } type && !(value >= int.MinValue && value <= int.MaxValue && Enum.IsDefined(type, (int)value)))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownOptionValue, location, Number(value), type.Name));
            return;
        }
        if (option.Range is not { } range) return;
        if (!range.Contains(value))
        {
            if (option.Type == OptionType.Integer && option.Name == "Units" && layer is not null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SizeMustBePositive, location, $"width of layer '{layer}'", Number(value)));
            else
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, location, option.Name, range.Describe(), Number(value)));
            return;
        }
        if (option.Type == OptionType.Real)
        {
            // The float network computes with the value as a float (element constants are baked in as floats, optimizer and
            // schedule settings are converted every step): it must stay finite there, and must not round to 0 where 0 is
            // outside the range (an ε of 1e-50 would divide by zero) or where the value is baked in as a constant.
            float single = (float)value;
            bool lost = value != 0 && single == 0 && (option.ElementConstant || !range.Contains(0));
            if (float.IsInfinity(single) || lost)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHyperparameter, location, option.Name,
                    range.Describe() + " (also as a float, which the float network uses)", Number(value)));
        }
    }

    private static bool HasWeights(LayerDescriptor descriptor)
    {
        foreach (TensorDescriptor t in descriptor.Tensors) if (t.Role == TensorRole.Weight) return true;
        return false;
    }

    private static OptionDescriptor? Find(IReadOnlyList<OptionDescriptor> options, string name)
    {
        foreach (OptionDescriptor o in options) if (o.Name == name) return o;
        return null;
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Names the generated network declares or inherits, which the network type itself cannot take (CS0542), layer
/// names must not produce, and the user's members must not use (KG0021). The inherited lists equal the runtime base
/// classes' non-private members, level by level (a test compares them by reflection).</summary>
internal static class ReservedNames
{
    /// <summary>Declared by <c>KernelGen.Runtime.NetworkBase&lt;T&gt;</c>: every network.</summary>
    public static readonly string[] Network =
    {
        "Backward", "DropoutSeed", "DropoutStep", "Fingerprint", "Forward", "Gradients", "Infer", "Initialize", "InputShape", "InputSize",
        "IsFrozen", "LayerOutput", "Layers", "MaxBatchSize", "Model", "OnInitialize", "OutputShape", "OutputSize", "Parameters", "ParameterTensors",
        "Predict", "Propagate", "RunningStatistics", "SetEvaluationMode", "SetFrozen", "State", "Train",
    };

    /// <summary>Added by <c>LossNetworkBase&lt;T, TLabel&gt;</c>: networks with a loss.</summary>
    public static readonly string[] Loss = { "ComputeGradients", "EvaluateLoss", "LastDataLoss", "Loss" };

    /// <summary>Added by <c>TrainableNetworkBase&lt;T, TLabel&gt;</c>: networks with a loss and an optimizer.</summary>
    public static readonly string[] Trainable = { "ApplyGradients", "LearningRate", "OnInitialize", "Optimizer", "SetLearningRateMultiplier", "TrainStep" };

    /// <summary>Declared by the generated half itself (besides the per-layer tensor views).</summary>
    public static readonly string[] Generated =
    {
        "Float64", "Inference", "CreateInference", "KernelGenCode", "InputFeatures", "OutputFeatures", "ParameterCount", "ArenaLength", "SpecFingerprint",
    };

    /// <summary>Every name the network described by <paramref name="spec"/> declares or inherits.</summary>
    public static HashSet<string> For(NetworkSpec spec, List<ResolvedLayer> layers)
    {
        var names = new HashSet<string>(Generated, StringComparer.Ordinal);
        names.UnionWith(Network);
        if (spec.Losses.Count > 0)
        {
            names.UnionWith(Loss);
            if (spec.Optimizers.Count > 0) names.UnionWith(Trainable);
        }
        foreach (ResolvedLayer layer in layers)
            foreach (TensorDescriptor tensor in layer.Descriptor.Tensors)
            {
                names.Add(layer.Name + tensor.Suffix);
                if (!tensor.IsState) names.Add(layer.Name + tensor.Suffix + "Gradient");
            }
        return names;
    }
}
