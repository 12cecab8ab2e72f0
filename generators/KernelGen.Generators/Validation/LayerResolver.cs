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
    /// <summary>The layers it reads (indices into the resolved list; −1 for the network input), in order; empty when an
    /// input cannot be resolved (<see cref="InputError"/>).</summary>
    public List<int> Inputs { get; } = new List<int>();
    /// <summary>Why an input named by <c>From</c> or a merge cannot be read (completes "Layer '…' reads …").</summary>
    public string? InputError { get; set; }
    /// <summary>The input shapes, in order (null entries when unknown).</summary>
    public List<TensorShape?> InputShapes { get; } = new List<TensorShape?>();
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
        TensorShape? networkInput = InputShape(spec);
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
            var resolved = new ResolvedLayer(layer, names[i], descriptor, activation, values);
            ResolveInputs(resolved, i, names);
            bool known = resolved.InputError is null;
            foreach (int input in resolved.Inputs)
            {
                TensorShape? shape = input < 0 ? networkInput : result[input].Output;
                resolved.InputShapes.Add(shape);
                known &= shape is not null;
            }
            if (known && SizesReadable(resolved))
            {
                ShapeResult output = descriptor.Merge != MergeKind.None && descriptor.MergeShape is { } merge
                    ? merge(resolved.InputShapes.ConvertAll(x => x!))
                    : descriptor.OutputShape(resolved.InputShapes[0]!, values);
                if (output.Shape is { IsValid: true } s) resolved.Output = s;
                else resolved.ShapeError = output.Error;
            }
            resolved.Input = resolved.InputShapes.Count > 0 ? resolved.InputShapes[0] : null;
            result.Add(resolved);
        }
        return result;
    }

    /// <summary>The layers a layer reads: a merge layer's named inputs, the layer named by <c>From</c>, or the layer written
    /// before it (the network input for the first). A name refers to a layer written before this one, or to
    /// <see cref="LayerAttribute.NetworkInput"/>.</summary>
    private static void ResolveInputs(ResolvedLayer layer, int index, IReadOnlyList<string> names)
    {
        LayerSpec spec = layer.Spec;
        if (layer.Descriptor.Merge != MergeKind.None && spec.HasFrom)
        {
            layer.InputError = "its inputs from the names it lists, so it takes no From";
            return;
        }
        IEnumerable<string?>? wanted = layer.Descriptor.Merge != MergeKind.None ? spec.Inputs : spec.HasFrom ? new[] { spec.From } : null;
        if (wanted is null)
        {
            layer.Inputs.Add(index - 1);
            return;
        }
        foreach (string? name in wanted)
        {
            if (name is null || name.Length == 0)
            {
                layer.InputError = "a layer without a name; name a layer written before it, or \"" + LayerAttribute.NetworkInput + "\" for the network input";
                layer.Inputs.Clear();
                return;
            }
            if (name == LayerAttribute.NetworkInput)
            {
                layer.Inputs.Add(-1);
                continue;
            }
            int found = -1;
            for (int k = index - 1; k >= 0; k--)
                if (names[k] == name) { found = k; break; }
            if (found < 0)
            {
                int later = -1;
                for (int k = index; k < names.Count; k++)
                    if (names[k] == name) { later = k; break; }
                layer.InputError = later == index ? $"'{name}', which is itself; a layer reads layers written before it"
                    : later > index ? $"'{name}', which is written after it; a layer reads layers written before it"
                    : $"'{name}', but no layer before it has that name";
                layer.Inputs.Clear();
                return;
            }
            layer.Inputs.Add(found);
        }
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
