using System.Collections.Generic;
using System.Globalization;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;

namespace KernelGen.Generators.Validation;

/// <summary>One layer of a spec with what the op catalog says about it: its entry, its option values (written or
/// default), its resolved name, and the shapes it reads and writes (or why it cannot apply to its input).</summary>
internal sealed class ResolvedLayer
{
    public ResolvedLayer(LayerSpec spec, string name, LayerDescriptor descriptor, ActivationDescriptor? activation, OptionValues options)
    {
        Spec = spec; Name = name; Descriptor = descriptor; Activation = activation; Options = options;
    }

    public LayerSpec Spec { get; }
    public string Name { get; }
    public LayerDescriptor Descriptor { get; }
    /// <summary>The activation applied by an activation layer, or fused by a layer that takes one (null when the written
    /// enum value is unknown, or the layer has none).</summary>
    public ActivationDescriptor? Activation { get; }
    public OptionValues Options { get; }
    /// <summary>The input shape (null when an earlier layer's shape is unknown).</summary>
    public TensorShape? Input { get; set; }
    /// <summary>The output shape (null when unknown).</summary>
    public TensorShape? Output { get; set; }
    /// <summary>Why the layer does not fit its input (completes "Layer '…' needs …").</summary>
    public string? ShapeError { get; set; }
}

/// <summary>
/// Resolves each layer of a spec against the op catalog and walks the shapes from the network's input: the one place
/// the validator and the lowerer agree on names, options and shapes. A pure function of the spec; never throws.
/// </summary>
internal static class LayerResolver
{
    public static List<ResolvedLayer> Resolve(NetworkSpec spec)
    {
        IReadOnlyList<string> names = LayerNames.Resolve(spec.Layers);
        var result = new List<ResolvedLayer>(spec.Layers.Count);
        TensorShape? shape = InputShape(spec);
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            LayerDescriptor descriptor = OpCatalog.Get(layer.Kind);
            ActivationDescriptor? activation = null;
            IReadOnlyList<OptionDescriptor> options = descriptor.Options;
            if (layer.Kind == LayerKind.Activation)
            {
                if (OpCatalog.IsKnown((Activation)layer.Activation)) activation = OpCatalog.Get((Activation)layer.Activation);
                options = activation?.Parameter is { } p ? new[] { p } : new OptionDescriptor[0];
            }
            var written = new Dictionary<string, double>(System.StringComparer.Ordinal);
            foreach (OptionSpec o in layer.Options) written[o.Name] = o.Value;
            var values = new OptionValues(options, written);
            if (descriptor.FusesActivation)
            {
                double value = values["Activation"];
                if (value >= int.MinValue && value <= int.MaxValue && OpCatalog.IsKnown((Activation)(int)value)) activation = OpCatalog.Get((Activation)(int)value);
            }
            var resolved = new ResolvedLayer(layer, names[i], descriptor, activation, values) { Input = shape };
            if (shape is not null && SizesReadable(resolved))
            {
                ShapeResult output = descriptor.OutputShape(shape, values);
                if (output.Shape is { IsValid: true } s) resolved.Output = s;
                else resolved.ShapeError = output.Error;
            }
            result.Add(resolved);
            shape = resolved.Output;
        }
        return result;
    }

    /// <summary>The declared input shape, or null when it is not a valid one (rank 1 or 3, positive dimensions).</summary>
    public static TensorShape? InputShape(NetworkSpec spec)
    {
        var shape = new TensorShape(spec.InputShape.ToArray());
        return shape.IsValid && (shape.Rank == 1 || shape.Rank == 3) && shape.LongSize <= int.MaxValue ? shape : null;
    }

    /// <summary>Whether the layer's integer options are usable for shapes (sizes positive and whole): otherwise the
    /// option check reports them and the shape is unknown.</summary>
    private static bool SizesReadable(ResolvedLayer layer)
    {
        foreach (OptionDescriptor o in layer.Descriptor.Options)
            if (o.Type == OptionType.Integer && o.Range is { } range && !range.Contains(layer.Options[o.Name])) return false;
        return true;
    }

    /// <summary>The shape as the attribute would be written, e.g. "[1, 28, 28]", or the single size.</summary>
    public static string Describe(EquatableArray<int> shape)
    {
        if (shape.Count == 1) return shape[0].ToString(CultureInfo.InvariantCulture);
        return new TensorShape(shape.ToArray()).ToString();
    }
}

/// <summary>Resolves each layer's name: its explicit Name, or its attribute name and 1-based rank among its kind.</summary>
internal static class LayerNames
{
    public static IReadOnlyList<string> Resolve(EquatableArray<LayerSpec> layers)
    {
        var counts = new Dictionary<string, int>(System.StringComparer.Ordinal);
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
