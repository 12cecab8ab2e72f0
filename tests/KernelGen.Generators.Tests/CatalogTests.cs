extern alias KernelGenRuntime;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using KernelGen.Catalog;
using KernelGen.Generators.Ops;
using Xunit;
using Opt = KernelGenRuntime::KernelGen.Optimization;
using Runtime = KernelGenRuntime::KernelGen;

namespace KernelGen.Generators.Tests;

/// <summary>
/// The op catalog (src/KernelGen/Catalog, compiled into both the generator and the runtime) against the contracts it
/// describes: the attributes' properties (what the parser reads), OptimizerSettings and the schedule factories (what the
/// emitter writes), their run-time validation (what the validator must mirror so generated constructors never throw),
/// the operator structs and layer generators every entry names. Each is checked by reflection against the run-time
/// library, so drift on either side fails a test instead of producing code that does not compile or throws.
/// </summary>
public sealed class CatalogTests
{
    private static readonly Assembly RuntimeAssembly = typeof(Runtime.NetworkAttribute).Assembly;

    private static Type AttributeType(string name) => RuntimeAssembly.GetType($"KernelGen.{name}Attribute", throwOnError: true)!;

    /// <summary>What the parser reads from an attribute: constructor parameters (capitalized) and settable properties.</summary>
    private static SortedSet<string> ReadableNames(Type attribute, params string[] except)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (ConstructorInfo ctor in attribute.GetConstructors())
            foreach (ParameterInfo p in ctor.GetParameters()) names.Add(char.ToUpperInvariant(p.Name![0]) + p.Name[1..]);
        foreach (PropertyInfo p in attribute.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.SetMethod is { IsPublic: true }) names.Add(p.Name);
        names.ExceptWith(except);
        return names;
    }

    public static TheoryData<string> OptimizerKinds => [.. Enum.GetNames<Optimization.OptimizerKind>()];

    private static OptimizerDescriptor Optimizer(string name) => OpCatalog.Get(Enum.Parse<Optimization.OptimizerKind>(name));

    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void OptimizerOptions_AreTheAttributesProperties_AndSettingsOfTheSameType(string name)
    {
        OptimizerDescriptor descriptor = Optimizer(name);

        // The learning rate is read separately (and checked against OpCatalog.LearningRate).
        Assert.Equal(ReadableNames(AttributeType(name), "LearningRate"), new SortedSet<string>(descriptor.Options.Select(o => o.Name), StringComparer.Ordinal));
        Assert.Equal($"KernelGen.{name}Attribute", descriptor.Attribute);
        foreach (OptionDescriptor option in descriptor.Options)
        {
            PropertyInfo? setting = typeof(Opt.OptimizerSettings).GetProperty(option.Name);
            Assert.True(setting is { SetMethod: not null }, $"OptimizerSettings has no settable {option.Name}, which the emitter writes in 'with {{ }}'.");
            bool isBool = option.Type == OptionType.Boolean;
            Assert.Equal(isBool ? typeof(bool) : typeof(double), setting!.PropertyType);
            Assert.Equal(isBool, AttributeType(name).GetProperty(option.Name)!.PropertyType == typeof(bool));
        }
    }

    [Fact]
    public void EveryOptimizerKind_HasOneCatalogEntry() =>
        Assert.Equal(Enum.GetValues<Optimization.OptimizerKind>(), OpCatalog.Optimizers.Select(o => o.Kind));

    /// <summary>The run-time factory of a schedule or warm-up entry (clipping is a positional constructor).</summary>
    private static MethodInfo? Factory(TrainingOptionDescriptor d) => d.Role switch
    {
        TrainingOptionRole.Schedule => typeof(Opt.LearningRateSchedule).GetMethod(d.Factory[(d.Factory.LastIndexOf('.') + 1)..]),
        TrainingOptionRole.Warmup => typeof(Opt.LearningRateSchedule).GetMethod(d.Factory),
        _ => null,
    };

    public static TheoryData<string> TrainingOptionNames => [.. OpCatalog.TrainingOptions.Select(o => o.Name)];

    private static TrainingOptionDescriptor TrainingOption(string name) => OpCatalog.TrainingOptions.Single(o => o.Name == name);

    [Theory]
    [MemberData(nameof(TrainingOptionNames))]
    public void TrainingOptionValues_AreTheAttributesValues_AndFactoryArguments(string name)
    {
        TrainingOptionDescriptor descriptor = TrainingOption(name);

        Assert.Equal(ReadableNames(AttributeType(name)), new SortedSet<string>(descriptor.Options.Select(o => o.Name), StringComparer.Ordinal));
        Assert.Equal(descriptor.Options.Count, descriptor.Arguments.Count);
        MethodInfo? factory = Factory(descriptor);
        if (factory is null)
        {
            Assert.True(name.StartsWith("ClipGradient", StringComparison.Ordinal), name);
            Assert.Single(descriptor.Options);
            return;
        }
        for (int i = 0; i < descriptor.Options.Count; i++)
        {
            ParameterInfo? parameter = factory.GetParameters().SingleOrDefault(p => p.Name == descriptor.Arguments[i]);
            Assert.True(parameter is not null, $"{factory.Name} has no parameter '{descriptor.Arguments[i]}' for {name}.{descriptor.Options[i].Name}.");
            // Integer-valued options go to long parameters (emitted as integer literals), the rest to doubles.
            Assert.Equal(descriptor.Options[i].Type == OptionType.Integer ? typeof(long) : typeof(double), parameter!.ParameterType);
        }
    }

    [Fact]
    public void EveryScheduleAttribute_IsInTheCatalog() =>
        Assert.Equal(
            RuntimeAssembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Runtime.ScheduleAttribute))).Select(t => t.FullName).Order(StringComparer.Ordinal),
            OpCatalog.TrainingOptions.Where(o => o.Role == TrainingOptionRole.Schedule).Select(o => o.Attribute).Order(StringComparer.Ordinal));

    // ---- Layers and activations ----------------------------------------------------------------------------

    /// <summary>Every layer attribute of the runtime is some catalog entry's (an activation's or a layer kind's), and each
    /// entry's options are exactly what the parser can read from its attribute (besides Name).</summary>
    [Fact]
    public void EveryLayerAttribute_IsDescribed_WithAllItsOptions()
    {
        var described = new Dictionary<string, IEnumerable<string>>(StringComparer.Ordinal);
        foreach (ActivationDescriptor a in OpCatalog.Activations)
            described.Add(a.Attribute, a.Parameter is { } p ? [p.Name] : []);
        foreach (LayerDescriptor l in OpCatalog.Layers)
            if (l.Attribute is { } name) described.Add(name, l.Options.Select(o => o.Name));
        // [CustomActivation] is the one layer attribute outside the catalog: the user's method is its entry (FunctionParser).
        Assert.Equal(KernelGen.Generators.Custom.FunctionParser.AttributeName, typeof(Runtime.CustomActivationAttribute).FullName);
        Type[] layerAttributes = [.. RuntimeAssembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Runtime.LayerAttribute)) && !t.IsAbstract && t != typeof(Runtime.CustomActivationAttribute))];
        foreach (Type attribute in layerAttributes)
        {
            Assert.True(described.TryGetValue(attribute.FullName!, out IEnumerable<string>? options), $"{attribute.Name} has no catalog entry.");
            // Name and From (which layer it reads) are every layer's; a merge's constructor names its inputs (LayerSpec.Inputs).
            bool merge = OpCatalog.Layers.Any(l => l.Attribute == attribute.FullName && l.Merge != MergeKind.None);
            string[] notOptions = merge ? ["Name", "From", "First", "Second", "More"] : ["Name", "From"];
            Assert.Equal(ReadableNames(attribute, notOptions), new SortedSet<string>(options!, StringComparer.Ordinal));
        }
        Assert.Equal(described.Count, layerAttributes.Length);
    }

    [Fact]
    public void EveryLossAndPenaltyAttribute_IsDescribed_WithAllItsOptions()
    {
        foreach (LossDescriptor loss in OpCatalog.Losses)
        {
            // [CustomLoss] names the user's method (Type, Method, Arguments), which FunctionParser reads, besides its Reduction.
            SortedSet<string> expected = new(loss.Options.Select(o => o.Name), StringComparer.Ordinal);
            if (loss.Kind.ToString() == nameof(Runtime.LossKind.Custom)) expected.UnionWith(["Type", "Method", "Arguments"]);
            Assert.Equal(ReadableNames(loss.AttributeType), expected);
        }
        Assert.Equal(Enum.GetValues<Runtime.LossKind>().Select(k => (int)k), OpCatalog.Losses.Select(l => (int)l.Kind));
        Assert.Equal(RuntimeAssembly.GetTypes().Count(t => t.IsSubclassOf(typeof(Runtime.LossAttribute))), OpCatalog.Losses.Count);
        foreach (PenaltyDescriptor penalty in OpCatalog.Penalties)
            Assert.Equal(["Lambda"], ReadableNames(penalty.AttributeType));
    }

    [Fact]
    public void EveryLayerKind_HasOneCatalogEntry_AndOneGenerator()
    {
        Assert.Equal(Enum.GetValues<LayerKind>(), OpCatalog.Layers.Select(l => l.Kind));
        foreach (LayerKind kind in Enum.GetValues<LayerKind>()) Assert.Equal(kind, OpGenerator.For(kind).Kind);
    }

    /// <summary>Every activation names an operator struct of the runtime that implements the interface its backward needs
    /// (IActivationOp reads the output, IInputActivationOp the input), with one more type argument when the parameter is one.</summary>
    [Fact]
    public void EveryActivation_NamesAnOperatorStructOfTheRightShape()
    {
        Assert.Equal(Enum.GetValues<Activation>(), OpCatalog.Activations.Select(a => a.Activation));
        foreach (ActivationDescriptor a in OpCatalog.Activations)
            foreach (double parameter in new[] { a.Parameter?.Default ?? 0, 1.0 })
            {
                int arity = a.ParameterIsTypeArgument ? 2 : 1;
                Type? op = RuntimeAssembly.GetType($"KernelGen.Operators.{a.OperatorFor(parameter)}`{arity}");
                Assert.True(op is not null, $"{a.Name}: no operator struct {a.OperatorFor(parameter)} with {arity} type parameters.");
                string expected = a.Backward == BackwardInput.Output ? "IActivationOp`1" : "IInputActivationOp`1";
                Assert.Contains(op!.GetInterfaces(), i => i.Name == expected);
            }
    }

    // ---- Ranges against the run-time validation ----------------------------------------------------------------

    private static readonly double[] Probes =
    [
        double.NegativeInfinity, -1e300, -2, -1, -0.5, -double.Epsilon, 0, double.Epsilon, 1e-300, 1e-8, 0.5, 0.99,
        Math.BitDecrement(1.0), 1, Math.BitIncrement(1.0), 1.5, 2, 1e300, double.MaxValue, double.PositiveInfinity, double.NaN,
    ];

    private static readonly double[] IntegerProbes = [int.MinValue, -1, 0, 1, 2, 1000, int.MaxValue];

    private static bool Throws(Action action)
    {
        try { action(); return false; }
        catch (ArgumentOutOfRangeException) { return true; }
    }

    /// <summary>
    /// For every numeric hyperparameter and probe value: the validator accepts it exactly when the run-time settings
    /// accept it, so no accepted spec throws in the generated constructor and no constructible one is rejected.
    /// </summary>
    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void OptimizerRanges_AreTheRunTimeRanges(string name)
    {
        var mismatches = new List<string>();
        foreach (double lr in Probes)
        {
            bool runtime = !Throws(() => Opt.OptimizerSettings.Create(Enum.Parse<Opt.OptimizerKind>(name), lr).Validate());
            if (OpCatalog.LearningRate.Contains(lr) != runtime) mismatches.Add($"LearningRate = {lr.ToString("R", CultureInfo.InvariantCulture)}: catalog {!runtime}, run time {runtime}");
        }
        foreach (OptionDescriptor descriptor in Optimizer(name).Options)
        {
            if (descriptor.Range is not { } range) continue;
            string option = descriptor.Name;
            PropertyInfo property = typeof(Opt.OptimizerSettings).GetProperty(option)!;
            foreach (double value in Probes)
            {
                Opt.OptimizerSettings settings = Opt.OptimizerSettings.Create(Enum.Parse<Opt.OptimizerKind>(name), 0.1);
                property.SetValue(settings, value);
                bool runtime = !Throws(settings.Validate);
                if (range.Contains(value) != runtime) mismatches.Add($"{option} = {value.ToString("R", CultureInfo.InvariantCulture)}: catalog {range.Contains(value)}, run time {runtime}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{name}:\n" + string.Join("\n", mismatches));
    }

    /// <summary>
    /// For schedules and warm-up: whatever the validator accepts, the run-time schedule accepts (the generated
    /// constructor must not throw). The catalog may be stricter, and is in two documented places, listed here.
    /// </summary>
    [Theory]
    [InlineData("StepDecay")]
    [InlineData("ExponentialDecay")]
    [InlineData("InverseTimeDecay")]
    [InlineData("CosineAnnealing")]
    [InlineData("WarmRestarts")]
    [InlineData("LinearWarmup")]
    public void ScheduleRanges_AcceptOnlyWhatTheRunTimeAccepts(string name)
    {
        TrainingOptionDescriptor descriptor = TrainingOption(name);
        MethodInfo factory = Factory(descriptor)!;
        var unsafeValues = new List<string>();
        var stricter = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < descriptor.Options.Count; i++)
        {
            string option = descriptor.Options[i].Name, argument = descriptor.Arguments[i];
            ValueRange range = descriptor.Options[i].Range!;
            foreach (double value in range.Integer ? IntegerProbes : Probes)
            {
                // Every other argument at a valid value (its default, or 1 for a required one).
                object?[] args = [.. factory.GetParameters().Select(p =>
                    p.Name == argument ? (p.ParameterType == typeof(long) ? (object)(long)value : value)
                    : p.HasDefaultValue ? p.DefaultValue
                    : p.ParameterType == typeof(long) ? 1L : (object)1.0)];
                object target = Opt.LearningRateSchedule.Constant;
                bool runtime = !Throws(() =>
                {
                    var schedule = (Opt.LearningRateSchedule)factory.Invoke(factory.IsStatic ? null : target, args)!;
                    schedule.Validate();
                });
                string shown = $"{option} = {value.ToString("R", CultureInfo.InvariantCulture)}";
                if (range.Contains(value) && !runtime) unsafeValues.Add(shown);
                if (!range.Contains(value) && runtime) stricter.Add(shown);
            }
        }
        Assert.True(unsafeValues.Count == 0, $"{name}: accepted by the validator but rejected at run time: " + string.Join(", ", unsafeValues));
        // Documented extra strictness: a warm-up of 0 steps is no warm-up (the attribute says ≥ 1); a minimum rate
        // must be finite (the run time only asks for ≥ 0). And NaN as the start factor, which the run time's range
        // check (s < 0 || s > 1) lets through: the validator rightly rejects it.
        string[] allowed = name switch
        {
            "LinearWarmup" => ["Steps = 0", "StartFactor = NaN"],
            "CosineAnnealing" or "WarmRestarts" => ["MinLearningRate = Infinity"],
            _ => [],
        };
        Assert.True(stricter.All(s => allowed.Contains(s)), $"{name}: rejected by the validator but valid at run time: " + string.Join(", ", stricter));
    }

    /// <summary>The clipping limits: positive and finite (+∞ is the run time's "off", never written by the user).</summary>
    [Fact]
    public void ClippingRanges_ArePositiveAndFinite()
    {
        foreach (TrainingOptionDescriptor clipping in OpCatalog.TrainingOptions.Where(o => o.Role is TrainingOptionRole.ClipNorm or TrainingOptionRole.ClipValue))
        {
            ValueRange range = Assert.Single(clipping.Options).Range!;
            Assert.Equal(Probes.Select(v => v > 0 && double.IsFinite(v)), Probes.Select(range.Contains));
        }
    }
}
