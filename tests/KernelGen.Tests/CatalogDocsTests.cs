using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using KernelGen.Catalog;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The op tables of generators/ARCHITECTURE.md and the op list of README.md are generated from the op catalog: each lies
/// between <c>&lt;!-- catalog: name --&gt;</c> and <c>&lt;!-- /catalog --&gt;</c> and must equal what these functions
/// write, so the documents cannot drift from the catalog. Run with KERNELGEN_UPDATE_SNAPSHOTS=1 to rewrite them.
/// </summary>
public sealed class CatalogDocsTests
{
    public static TheoryData<string, string> Regions => new()
    {
        { "generators/ARCHITECTURE.md", "activations" },
        { "generators/ARCHITECTURE.md", "layers" },
        { "generators/ARCHITECTURE.md", "losses" },
        { "generators/ARCHITECTURE.md", "optimizers" },
        { "generators/ARCHITECTURE.md", "training-options" },
        { "README.md", "ops" },
    };

    [Theory]
    [MemberData(nameof(Regions))]
    public void Documentation_tables_are_generated_from_the_op_catalog(string file, string region)
    {
        string path = Path.Combine(RepositoryRoot(), file);
        string text = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        string open = $"<!-- catalog: {region} -->\n", close = "<!-- /catalog -->";
        int start = text.IndexOf(open, StringComparison.Ordinal);
        Assert.True(start >= 0, $"{file} has no '{open.Trim()}' marker.");
        start += open.Length;
        int end = text.IndexOf(close, start, StringComparison.Ordinal);
        Assert.True(end >= 0, $"{file}: the {region} region is not closed.");
        string expected = Generate(region);
        if (Environment.GetEnvironmentVariable("KERNELGEN_UPDATE_SNAPSHOTS") == "1" && text[start..end] != expected)
        {
            File.WriteAllText(path, text[..start] + expected + text[end..]);
            return;
        }
        Assert.Equal(expected, text[start..end]);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "KernelGen.sln"))) return d.FullName;
        throw new InvalidOperationException("The tests run outside the repository: KernelGen.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Generate(string region) => region switch
    {
        "activations" => Activations(),
        "layers" => Layers(),
        "losses" => Losses(),
        "optimizers" => Optimizers(),
        "training-options" => TrainingOptions(),
        "ops" => Ops(),
        _ => throw new ArgumentOutOfRangeException(nameof(region)),
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Code(string text) => "`" + text.Replace("|", "\\|", StringComparison.Ordinal) + "`";

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Attribute(Type attribute) => attribute.Name[..^"Attribute".Length];

    private static string Option(OptionDescriptor o)
    {
        string value = double.IsNaN(o.Default) ? (o.NaNInherits ? "inherit" : "required")
            : o.Type == OptionType.Boolean ? (o.Default != 0 ? "true" : "false")
            : o.EnumType is { } e ? Enum.GetName(e, (int)o.Default) ?? Number(o.Default)
            : Number(o.Default);
        return $"{o.Name} = {value}" + (o.Range is { } r && !double.IsNaN(o.Default) ? $" ({r.Describe()})" : o.Range is { } r2 ? $" ({r2.Describe()})" : "");
    }

    private static string Activations()
    {
        var text = new StringBuilder();
        text.Append("| Activation | Standalone | y = f(x) | Backward reads | Parameter | ONNX (opset 17) | PyTorch |\n|---|---|---|---|---|---|---|\n");
        foreach (ActivationDescriptor a in OpCatalog.Activations)
        {
            double p = a.ResolveParameter(double.NaN);
            text.Append(CultureInfo.InvariantCulture,
                $"| {a.Name} | {Code("[" + Attribute(a.AttributeType) + "]")} | {Cell(a.Formula)} | {(a.Backward == BackwardInput.Output ? "output" : "input (kept)")} | " +
                $"{(a.Parameter is { } o ? Cell(Option(o)) : "—")} | {Code(a.Parameter is { } named ? System.Text.RegularExpressions.Regex.Replace(a.Onnx(p), @"\bp\b", named.Name) : a.Onnx(p))} | {Code(PyTorchTemplate(a))} |\n");
        }
        return text.ToString();
    }

    /// <summary>The activation's PyTorch module with the parameter named: <c>{p}</c> becomes the option's name and
    /// <c>{p?a:b}</c> becomes Python's <c>a if Name else b</c>.</summary>
    private static string PyTorchTemplate(ActivationDescriptor a)
    {
        string name = a.Parameter?.Name ?? "p";
        string text = System.Text.RegularExpressions.Regex.Replace(a.PyTorch, @"\{p\?([^:}]*):([^}]*)\}", m => $"{m.Groups[1].Value} if {name} else {m.Groups[2].Value}");
        return text.Replace("{p}", name, StringComparison.Ordinal);
    }

    private static string Layers()
    {
        var text = new StringBuilder();
        text.Append("| Layer | Attribute | Computes | Options | Tensors (weight-file names) | ONNX (opset 17) | PyTorch |\n|---|---|---|---|---|---|---|\n");
        foreach (LayerDescriptor l in OpCatalog.Layers)
        {
            string attribute = l.AttributeType is { } t ? Code("[" + Attribute(t) + "]") : "the activations' attributes";
            string options = l.Options.Count == 0 ? "—" : string.Join("; ", l.Options.Select(o => Cell(Option(o))));
            string tensors = l.Tensors.Count == 0 ? "—" : string.Join(", ", l.Tensors.Select(x => x.FileName + (x.Layout == FileLayout.Transposed ? " (transposed)" : "") + (x.IsState ? " (state)" : "")));
            string onnx = l.Onnx is { } mapping ? Code(mapping) : "the activation's mapping";
            text.Append(CultureInfo.InvariantCulture, $"| {l.Name} | {attribute} | {Cell(l.Summary)} | {options} | {tensors} | {onnx} | {(l.PyTorch.Length == 0 ? "the activation's module" : Code(l.PyTorch))} |\n");
        }
        return text.ToString();
    }

    private static string Losses()
    {
        var text = new StringBuilder();
        text.Append("| Loss | Attribute | Labels | L (default reduction BatchMean) | Option | `Reduction = Mean` divides the sum by | Semantics |\n|---|---|---|---|---|---|---|\n");
        foreach (LossDescriptor l in OpCatalog.Losses)
            text.Append(CultureInfo.InvariantCulture,
                $"| {l.Kind} | {Code("[" + Attribute(l.AttributeType) + "]")} | {l.Labels} | {Cell(l.Formula)} | {(l.Parameter is { } o ? Cell(Option(o)) : "—")} | {(l.ElementwiseTerms ? "B·K (every element)" : "B (one term per sample: as BatchMean)")} | {Cell(l.Source)} |\n");
        return text.ToString();
    }

    private static string Optimizers()
    {
        var text = new StringBuilder();
        text.Append("| Optimizer | Attribute | Update | Options (PyTorch's defaults) |\n|---|---|---|---|\n");
        foreach (OptimizerDescriptor o in OpCatalog.Optimizers)
            text.Append(CultureInfo.InvariantCulture,
                $"| {o.Kind} | {Code("[" + Attribute(o.AttributeType) + "(learningRate)]")} | {Cell(o.Formula)} | {string.Join("; ", o.Options.Select(x => Cell(Option(x))))} |\n");
        return text.ToString();
    }

    private static string TrainingOptions()
    {
        var text = new StringBuilder();
        text.Append("| Attribute | Role | Rule | Values | Runtime |\n|---|---|---|---|---|\n");
        foreach (TrainingOptionDescriptor o in OpCatalog.TrainingOptions)
            text.Append(CultureInfo.InvariantCulture,
                $"| {Code("[" + o.Name + "]")} | {o.Role} | {Cell(o.Formula)} | {string.Join("; ", o.Options.Select(x => Cell(Option(x))))} | {Code(o.Factory.Replace("global::KernelGen.Optimization.", "", StringComparison.Ordinal))} |\n");
        return text.ToString();
    }

    /// <summary>README: every op by family, with its attribute.</summary>
    private static string Ops()
    {
        var text = new StringBuilder();
        text.Append("| family | ops (attribute) |\n|---|---|\n");
        text.Append("| Layers | ").Append(string.Join(", ", OpCatalog.Layers.Where(l => l.AttributeType is not null).Select(l => Code("[" + Attribute(l.AttributeType!) + "]")))).Append(" |\n");
        text.Append("| Activations (standalone, or fused into `[Dense(n, Activation.X)]`) | ")
            .Append(string.Join(", ", OpCatalog.Activations.Select(a => $"{a.Name} {Code("[" + Attribute(a.AttributeType) + "]")}"))).Append(" |\n");
        text.Append("| Losses | ").Append(string.Join(", ", OpCatalog.Losses.Select(l => Code("[" + Attribute(l.AttributeType) + "]")))).Append(" |\n");
        text.Append("| Penalties | ").Append(string.Join(", ", OpCatalog.Penalties.Select(p => Code("[" + Attribute(p.AttributeType) + "(λ)]")))).Append(", per layer `L1`, `L2`, `ActivityL1` |\n");
        text.Append("| Optimizers | ").Append(string.Join(", ", OpCatalog.Optimizers.Select(o => Code("[" + Attribute(o.AttributeType) + "(η)]")))).Append(" |\n");
        text.Append("| Schedules, warm-up, clipping | ").Append(string.Join(", ", OpCatalog.TrainingOptions.Select(o => Code("[" + o.Name + "]")))).Append(" |\n");
        return text.ToString();
    }
}
