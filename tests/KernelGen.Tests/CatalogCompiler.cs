using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using KernelGen.Catalog;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelGen.Tests;

/// <summary>
/// Builds a small network around every entry of the op catalog — each layer kind's <see cref="LayerDescriptor.TestNetwork"/>,
/// each activation fused into a dense layer and standalone, each loss, the penalties — runs the KernelGen generator on
/// them at test time (Roslyn, in memory), compiles the result and loads it. A new catalog entry is therefore checked by
/// every test that enumerates <see cref="Networks"/>, without a test network written by hand.
/// Shared by the kernel tests and the toolkit tests (linked source).
/// </summary>
internal static class CatalogCompiler
{
    /// <summary>One network of the catalog's tests: its class name, what it exercises, its spec and how it is checked.</summary>
    public sealed record Entry(string ClassName, string Subject, string Attributes, LabelKind Labels, GradientTolerance Tolerance)
    {
        /// <summary>For a loss's network: the loss.</summary>
        public LossKind? Loss { get; init; }
        /// <summary>For a loss's network: its reduction.</summary>
        public LossReduction Reduction { get; init; }

        public override string ToString() => Subject;
    }

    private static readonly Lazy<Assembly> s_assembly = new(Compile);

    /// <summary>Every network, in catalog order.</summary>
    public static IReadOnlyList<Entry> Networks { get; } = BuildEntries();

    /// <summary>The compiled networks (compiled once per test process).</summary>
    public static Assembly Assembly => s_assembly.Value;

    /// <summary>A new instance of <paramref name="entry"/>'s network on double.</summary>
    public static INeuralNetwork<double> CreateFloat64(Entry entry, int maxBatchSize, ulong seed) =>
        (INeuralNetwork<double>)Activator.CreateInstance(Assembly.GetType($"CatalogNetworks.{entry.ClassName}+Float64", throwOnError: true)!, maxBatchSize, seed)!;

    /// <summary>A new instance of <paramref name="entry"/>'s network on float.</summary>
    public static INeuralNetwork<float> CreateFloat32(Entry entry, int maxBatchSize, ulong seed) =>
        (INeuralNetwork<float>)Activator.CreateInstance(Assembly.GetType($"CatalogNetworks.{entry.ClassName}", throwOnError: true)!, maxBatchSize, seed)!;

    private static IReadOnlyList<Entry> BuildEntries()
    {
        var entries = new List<Entry>();
        foreach (LayerDescriptor layer in OpCatalog.Layers)
            if (layer.TestNetwork.Length > 0)
                entries.Add(new Entry("Layer" + layer.Kind, "layer " + layer.Name, layer.TestNetwork + " [L2Loss]", LabelKind.Targets, layer.Tolerance));
        foreach (ActivationDescriptor activation in OpCatalog.Activations)
        {
            if (activation.Activation == Activation.Identity) continue;
            string attribute = AttributeUsage(activation);
            // Fused into a dense layer (with the default parameter), then standalone after another layer (with the usage's).
            entries.Add(new Entry("Activation" + activation.Name, "activation " + activation.Name,
                $"[Network(6)] [Dense(8, Activation.{activation.Name})] [Dense(7)] [{attribute}] [Dense(3)] [L2Loss]", LabelKind.Targets, activation.Tolerance));
        }
        // Each loss with each reduction: the default batch mean, and PyTorch's mean over elements and sum.
        // (A user's loss has no fixed form: CustomLossTests check it with user functions.)
        foreach (LossDescriptor loss in OpCatalog.Losses.Where(l => l.Kind != LossKind.Custom))
            foreach (LossReduction reduction in Enum.GetValues<LossReduction>())
            {
                string suffix = reduction == LossReduction.BatchMean ? "" : reduction.ToString();
                string options = reduction == LossReduction.BatchMean ? "" : $"(Reduction = LossReduction.{reduction})";
                entries.Add(new Entry("Loss" + loss.Kind + suffix, ("loss " + loss.Kind + " " + suffix).TrimEnd(),
                    $"[Network(4)] {loss.TestLayers} [{Short(loss.AttributeType)}{options}]", loss.Labels, loss.Tolerance) { Loss = loss.Kind, Reduction = reduction });
            }
        entries.Add(new Entry("Penalties", "weight and activity penalties",
            "[Network(5)] [Dense(8, Activation.Tanh, L1 = 0.002, ActivityL1 = 0.01)] [Dense(3)] [L2Loss] [L2Regularization(0.03)]",
            LabelKind.Targets, GradientTolerance.Default));
        return entries;
    }

    /// <summary>How a test writes the activation's attribute: with a non-default parameter when it has one (so the
    /// parameter's path is exercised too), e.g. <c>LeakyReLU(0.3)</c>, <c>Gelu(Approximate = true)</c>.</summary>
    private static string AttributeUsage(ActivationDescriptor activation)
    {
        string name = Short(activation.AttributeType);
        if (activation.Parameter is not { } p) return name;
        string value = p.Type == OptionType.Boolean ? "true"
            : (p.Range?.Contains(0.3) ?? true) && p.Default != 0.3 ? "0.3" : (p.Default * 0.5).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        bool constructor = activation.AttributeType.GetConstructors().Any(c => c.GetParameters().Length == 1);
        return constructor ? $"{name}({value})" : $"{name}({p.Name} = {value})";
    }

    private static string Short(Type attribute) => attribute.Name[..^"Attribute".Length];

    private static Assembly Compile()
    {
        var source = new StringBuilder("using KernelGen;\nnamespace CatalogNetworks;\n");
        foreach (Entry e in Networks) source.Append(e.Attributes).Append(" public partial class ").Append(e.ClassName).Append(";\n");

        var references = new List<MetadataReference>();
        string tpa = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        foreach (string path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            references.Add(MetadataReference.CreateFromFile(path));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        CSharpCompilation compilation = CSharpCompilation.Create("KernelGen.CatalogNetworks",
            [CSharpSyntaxTree.ParseText(source.ToString(), parse)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Enable));

        // The generator ships beside the tests (copied from its build output): run it as the compiler would.
        Assembly generatorAssembly = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "generator", "KernelGen.Generators.dll"));
        var generator = (IIncrementalGenerator)Activator.CreateInstance(generatorAssembly.GetType("KernelGen.Generators.KernelGenerator", throwOnError: true)!)!;
        CSharpGeneratorDriver.Create([generator.AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        if (!generatorDiagnostics.IsEmpty) throw new InvalidOperationException("The generator reported: " + string.Join("\n", generatorDiagnostics));

        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        if (!emitted.Success || problems.Length > 0) throw new InvalidOperationException("The catalog networks do not compile cleanly:\n" + string.Join("\n", problems));
        return Assembly.Load(image.ToArray());
    }
}
