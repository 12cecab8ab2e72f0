extern alias KernelGenRuntime;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using KernelGen.Catalog;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;
using Rt = KernelGenRuntime::KernelGen;

namespace KernelGen.Generators.Tests;

/// <summary>
/// Random specifications over every attribute of the op catalog and every constructor parameter and settable property
/// of each, with values typed after the parameter: plausible ones drawn from the option's catalog range, and hostile
/// ones (NaN, ±∞, double.MaxValue, values beyond float's range, subnormal and sub-float values, negative zero, int
/// extremes, undefined enum values). For every case: the generator does not throw; an error means no code; an accepted
/// specification compiles without any warning or error under C# 12 and the latest C#, and the network it defines runs:
/// Predict gives finite outputs and every training step either leaves finite parameters and statistics or throws
/// without a trace.
/// </summary>
public sealed class CatalogFuzzTests(ITestOutputHelper output)
{
    private static string Str(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Every attribute besides [Network], with its catalog entry.</summary>
    private static readonly Type[] Layers =
        [.. OpCatalog.Layers.Where(l => l.AttributeType is not null).Select(l => l.AttributeType!), .. OpCatalog.Activations.Select(a => a.AttributeType)];
    // ([CustomLoss] names a user method: CustomActivationDiagnosticTests fuzz those.)
    private static readonly Type[] Losses = [.. OpCatalog.Losses.Where(l => l.Kind.ToString() != "Custom").Select(l => l.AttributeType)];
    private static readonly Type[] Penalties = [.. OpCatalog.Penalties.Select(p => p.AttributeType)];
    private static readonly Type[] Optimizers = [.. OpCatalog.Optimizers.Select(o => o.AttributeType)];
    private static readonly Type[] TrainingOptions = [.. OpCatalog.TrainingOptions.Select(o => o.AttributeType)];

    private static readonly string[] HostileReals =
    [
        "double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "double.MaxValue", "-double.MaxValue", "1e39", "-1e39", "3.5e38",
        "1e300", "1e-39", "1e-46", "1e-50", "double.Epsilon", "1.4e-45", "-0.0", "0", "-1", "-1e-8", "1", "2", "0.5", "0.999999999999",
    ];

    private static readonly string[] HostileInts = ["0", "-1", "int.MinValue", "int.MaxValue", "1", "2", "3", "100000", "1 << 20"];

    /// <summary>The catalog's description of an attribute's option, by property name.</summary>
    private static OptionDescriptor? Describe(Type attribute, string option)
    {
        if (!OpCatalog.TryFindAttribute(attribute.FullName!, out object? entry)) return null;
        IEnumerable<OptionDescriptor> options = entry switch
        {
            LayerDescriptor l => l.Options,
            ActivationDescriptor a => a.Parameter is { } p ? [p] : [],
            LossDescriptor l => l.Parameter is { } p ? [p] : [],
            OptimizerDescriptor o => o.Options,
            TrainingOptionDescriptor t => t.Options,
            _ => [],
        };
        return options.FirstOrDefault(o => string.Equals(o.Name, option, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A value for an option of <paramref name="type"/>: in its range when plausible, anything when hostile.</summary>
    private static string Value(Random random, Type attribute, string option, Type type, bool hostile)
    {
        OptionDescriptor? d = Describe(attribute, option);
        ValueRange? range = d?.Range ?? (option == "LearningRate" || option == "Lambda" ? (option == "Lambda" ? ValueRange.NonNegative : OpCatalog.LearningRate) : null);
        if (type == typeof(string))
            return hostile && random.Next(4) == 0 ? new[] { "\"\"", "\"1x\"", "\"Float64\"", "\"Predict\"", "null" }[random.Next(5)] : $"\"L{random.Next(1000)}\"";
        if (type == typeof(bool)) return random.Next(2) == 0 ? "true" : "false";
        if (type.IsEnum)
        {
            string[] names = Enum.GetNames(type);
            return hostile && random.Next(5) == 0 ? $"({type.Name})({random.Next(-3, 100)})" : $"{type.Name}.{names[random.Next(names.Length)]}";
        }
        if (type == typeof(int))
        {
            if (hostile && random.Next(3) == 0) return HostileInts[random.Next(HostileInts.Length)];
            int low = range is { } r && !double.IsInfinity(r.Min) ? (int)Math.Max(r.Min + (r.MinExclusive ? 1 : 0), 1) : 1;
            return (low + random.Next(option is "Units" or "Period" or "StepSize" or "Steps" or "WarmupSteps" ? 12 : 3)).ToString(CultureInfo.InvariantCulture);
        }
        // Reals.
        if (hostile && random.Next(2) == 0) return HostileReals[random.Next(HostileReals.Length)];
        double[] candidates = [0.5, 0.1, 0.01, 0.9, 0.99, 1, 2, 1e-5, 1e-3, 0.25, 1.5, 3, d?.Default ?? 0.1];
        double[] valid = [.. candidates.Where(v => !double.IsNaN(v) && (range?.Contains(v) ?? true))];
        return valid.Length == 0 ? "0.5" : Str(valid[random.Next(valid.Length)]);
    }

    /// <summary>One attribute with a random constructor, its arguments and some named properties.</summary>
    private static string Attribute(Random random, Type attribute, bool hostile, bool plainName = false)
    {
        ConstructorInfo[] constructors = attribute.GetConstructors();
        ConstructorInfo constructor = constructors[random.Next(constructors.Length)];
        var parts = new List<string>();
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (ParameterInfo p in constructor.GetParameters())
        {
            parts.Add(Value(random, attribute, p.Name!, p.ParameterType, hostile));
            used.Add(p.Name!);
        }
        foreach (PropertyInfo property in attribute.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (property.SetMethod is not { IsPublic: true } || used.Contains(property.Name)) continue;
            if (plainName && property.Name == "Name") continue;
            if (random.Next(hostile ? 3 : 5) != 0) continue;
            parts.Add($"{property.Name} = {Value(random, attribute, property.Name, property.PropertyType, hostile)}");
        }
        string name = attribute.Name[..^"Attribute".Length];
        return parts.Count == 0 && random.Next(2) == 0 ? name : $"{name}({string.Join(", ", parts)})";
    }

    private static string Spec(int seed, bool hostile)
    {
        var random = new Random(seed);
        var attributes = new List<string>();
        bool image = random.Next(4) == 0;
        attributes.Add(image ? $"Network({1 + random.Next(3)}, {1 + random.Next(4)}, {1 + random.Next(4)})" : $"Network({1 + random.Next(16)})");
        if (image && random.Next(8) != 0) attributes.Add("Flatten");
        int layers = 1 + random.Next(4);
        for (int i = 0; i < layers; i++)
        {
            Type layer = random.Next(3) == 0 ? typeof(DenseAttribute) : Layers[random.Next(Layers.Length)];
            attributes.Add(Attribute(random, layer, hostile, plainName: true));
        }
        if (random.Next(3) != 0) attributes.Add($"Dense({2 + random.Next(4)})");
        bool loss = random.Next(4) != 0;
        if (loss) attributes.Add(Attribute(random, Losses[random.Next(Losses.Length)], hostile));
        if (random.Next(5) == 0) attributes.Add(Attribute(random, Penalties[random.Next(Penalties.Length)], hostile));
        if (loss && random.Next(4) != 0)
        {
            attributes.Add(Attribute(random, Optimizers[random.Next(Optimizers.Length)], hostile));
            for (int i = random.Next(3); i > 0; i--) attributes.Add(Attribute(random, TrainingOptions[random.Next(TrainingOptions.Length)], hostile));
        }
        var text = new StringBuilder("using KernelGen;\n\n");
        foreach (string a in attributes) text.Append('[').Append(a).Append("]\n");
        text.Append("public partial class Net;\n");
        return text.ToString();
    }

    private sealed class Tally
    {
        public int Accepted, Rejected, Unbindable, Trained, Diverged;
        public readonly HashSet<string> Ids = new(StringComparer.Ordinal);
        public readonly HashSet<string> AttributesAccepted = new(StringComparer.Ordinal);
        public override string ToString() =>
            $"accepted {Accepted} (trained {Trained}, stopped by a clear divergence error {Diverged}), rejected {Rejected}, unbindable {Unbindable}; " +
            $"IDs {string.Join(" ", Ids.Order(StringComparer.Ordinal))}; attributes in accepted specs: {AttributesAccepted.Count}";
    }

    private static void Check(string source, Tally tally)
    {
        GeneratorRun run = TestHelper.Run(source);
        string context = "\n--- source ---\n" + source;
        foreach (Diagnostic d in run.Diagnostics)
        {
            Assert.True(d.Id.StartsWith("KG", StringComparison.Ordinal), $"Unexpected generator diagnostic {d}{context}");
            Assert.True(d.Location.GetLineSpan().Path == "/src/Test0.cs", $"{d.Id} is not located in the source: {d.Location}{context}");
            tally.Ids.Add(d.Id);
        }
        if (run.HasKgError)
        {
            Assert.True(run.Sources.IsEmpty, $"Code was generated despite {string.Join(", ", run.KgDiagnostics.Select(d => d.Id))}{context}");
            tally.Rejected++;
            return;
        }
        ImmutableArray<Diagnostic> userErrors = [.. run.Input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)];
        if (run.Sources.IsEmpty)
        {
            Assert.False(userErrors.IsEmpty, "The generator generated nothing and reported nothing, but every attribute binds." + context);
            tally.Unbindable++;
            return;
        }
        Assert.True(userErrors.IsEmpty, $"Code was generated for a source with compiler errors: {string.Join(", ", userErrors)}{context}");

        // Accepted: the whole compilation is clean under the latest C# and under C# 12.
        run.AssertCompilesWithoutWarnings();
        var csharp12 = new CSharpParseOptions(LanguageVersion.CSharp12);
        Compilation older = run.Output.RemoveAllSyntaxTrees().AddSyntaxTrees(
            run.Output.SyntaxTrees.Select(t => CSharpSyntaxTree.ParseText(t.GetText(), csharp12, t.FilePath)));
        Diagnostic[] olderProblems = [.. older.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];
        Assert.True(olderProblems.Length == 0, "Under C# 12: " + string.Join("\n", olderProblems.Select(d => d.ToString())) + context);
        tally.Accepted++;
        foreach (string line in source.Split('\n').Where(l => l.StartsWith('[')))
            tally.AttributesAccepted.Add(line[1..].Split('(', ']')[0]);

        // And the network runs.
        using var stream = new MemoryStream();
        var emitted = run.Output.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics) + context);
        var context2 = new AssemblyLoadContext("fuzz", isCollectible: true);
        try
        {
            stream.Position = 0;
            Assembly assembly = context2.LoadFromStream(stream);
            Type net = assembly.GetType("Net", throwOnError: true)!;
            Exercise((Rt.IInferenceNetwork<float>)Activator.CreateInstance(net, 4, 1UL)!, tally, context);
            Exercise((Rt.IInferenceNetwork<double>)Activator.CreateInstance(net.GetNestedType("Float64")!, 4, 1UL)!, tally, context);
        }
        finally
        {
            context2.Unload();
        }
    }

    private static void Exercise<T>(Rt.IInferenceNetwork<T> network, Tally tally, string context) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        var net = (Rt.INeuralNetwork<T>)network;
        const int batch = 4;
        var random = new Random(7);
        T[] inputs = [.. Enumerable.Range(0, batch * net.InputSize).Select(_ => T.CreateTruncating(random.NextDouble() * 4 - 2))];
        var outputs = new T[batch * net.OutputSize];
        net.Predict(inputs, outputs);
        Assert.True(outputs.All(T.IsFinite), $"Predict gave non-finite outputs: {string.Join(", ", outputs)}{context}");

        int[] classes = [.. Enumerable.Range(0, batch).Select(_ => random.Next(net.OutputSize))];
        T[] targets = [.. Enumerable.Range(0, batch * net.OutputSize).Select(_ => T.One / T.CreateTruncating(net.OutputSize))];
        for (int step = 0; step < 4; step++)
        {
            T[] before = [.. net.Parameters];
            T[] statisticsBefore = [.. net.RunningStatistics];
            try
            {
                T loss = network switch
                {
                    Rt.ITrainableNetwork<T, int> t => t.TrainStep(inputs, classes),
                    Rt.ITrainableNetwork<T, T> t => t.TrainStep(inputs, targets),
                    Rt.ILossNetwork<T, int> l => l.ComputeGradients(inputs, classes),
                    Rt.ILossNetwork<T, T> l => l.ComputeGradients(inputs, targets),
                    _ => Forward(net, inputs),
                };
                Assert.True(T.IsFinite(loss), $"A step returned the loss {loss}{context}");
            }
            catch (ArithmeticException)
            {
                // Training diverged: allowed, if nothing changed.
                Assert.Equal(before, net.Parameters.ToArray());
                Assert.Equal(statisticsBefore, net.RunningStatistics.ToArray());
                tally.Diverged++;
                return;
            }
            Assert.True(net.Parameters.ToArray().All(T.IsFinite), $"Step {step} left non-finite parameters{context}");
            Assert.True(net.RunningStatistics.ToArray().All(T.IsFinite), $"Step {step} left non-finite running statistics{context}");
            Assert.True(net.Gradients.ToArray().All(T.IsFinite), $"Step {step} left non-finite gradients{context}");
        }
        net.Predict(inputs, outputs);
        Assert.True(outputs.All(T.IsFinite), $"Predict after training gave non-finite outputs: {string.Join(", ", outputs)}{context}");
        tally.Trained++;
    }

    private static T Forward<T>(Rt.INeuralNetwork<T> net, T[] inputs) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> y = net.Forward(inputs);
        T sum = T.Zero;
        foreach (T v in y) sum += v;
        return sum;
    }

    [Theory]
    [InlineData(false, 150)]
    [InlineData(true, 300)]
    public void Every_catalog_attribute_with_random_values_is_rejected_or_compiles_cleanly_and_runs(bool hostile, int cases)
    {
        var tally = new Tally();
        var clock = Stopwatch.StartNew();
        for (int seed = 0; seed < cases; seed++)
        {
            string source = Spec(hostile ? 1_000_000 + seed : seed, hostile);
            try { Check(source, tally); }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"Case {seed} threw {e}\n--- source ---\n{source}");
            }
        }
        output.WriteLine($"{(hostile ? "hostile" : "plausible")}: {cases} cases in {clock.Elapsed.TotalSeconds:F1} s: {tally}");
        Assert.True(tally.Accepted >= cases / (hostile ? 20 : 3), "Too few accepted specifications: " + tally);
        Assert.True(tally.Rejected >= cases / (hostile ? 2 : 20), "Too few rejected specifications: " + tally);
        Assert.True(tally.Trained >= tally.Accepted, "Too few networks ran: " + tally);
        if (!hostile)
            Assert.True(tally.AttributesAccepted.Count >= Layers.Length + Losses.Length + Optimizers.Length, "Too few attributes reached an accepted spec: " + tally);
    }
}
