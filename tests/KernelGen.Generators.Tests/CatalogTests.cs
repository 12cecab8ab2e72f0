extern alias KernelGenRuntime;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using KernelGen.Generators.Model;
using Xunit;
using Opt = KernelGenRuntime::KernelGen.Optimization;
using Runtime = KernelGenRuntime::KernelGen;

namespace KernelGen.Generators.Tests;

/// <summary>
/// <see cref="Catalog"/> is the generator's copy of three contracts it does not own: the attributes' properties (what
/// the parser reads), OptimizerSettings and the schedule factories (what the emitter writes), and their run-time
/// validation (what the validator must mirror so generated constructors never throw). Each is checked here by
/// reflection against the run-time library, so drift on either side fails a test instead of producing code that does
/// not compile or throws when constructed.
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

    public static TheoryData<string> OptimizerKinds => [.. Enum.GetNames<OptimizerKind>()];

    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void OptimizerOptions_AreTheAttributesProperties_AndSettingsOfTheSameType(string name)
    {
        OptimizerKind kind = Enum.Parse<OptimizerKind>(name);
        IReadOnlyDictionary<string, Catalog.Range> options = Catalog.Optimizers[kind];

        // The learning rate is read separately (and checked against Catalog.LearningRate).
        Assert.Equal(ReadableNames(AttributeType(name), "LearningRate"), new SortedSet<string>(options.Keys, StringComparer.Ordinal));
        foreach ((string option, Catalog.Range range) in options)
        {
            PropertyInfo? setting = typeof(Opt.OptimizerSettings).GetProperty(option);
            Assert.True(setting is { SetMethod: not null }, $"OptimizerSettings has no settable {option}, which the emitter writes in 'with {{ }}'.");
            Assert.Equal(range.IsBool ? typeof(bool) : typeof(double), setting!.PropertyType);
            Assert.Equal(range.IsBool, AttributeType(name).GetProperty(option)!.PropertyType == typeof(bool));
        }
        // The names line up with the run time's enum, which the emitted code names.
        Assert.True(Enum.IsDefined(Enum.Parse<Opt.OptimizerKind>(name)));
    }

    [Fact]
    public void OptimizerKinds_MatchTheRunTimeKinds()
    {
        Assert.Equal(Enum.GetNames<Opt.OptimizerKind>(), Enum.GetNames<OptimizerKind>());
        Assert.Equal(Enum.GetNames<OptimizerKind>().Order(StringComparer.Ordinal), Catalog.Optimizers.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal));
    }

    /// <summary>The run-time factory each training option is emitted as (clipping is a positional constructor).</summary>
    private static MethodInfo? Factory(TrainingOptionKind kind) => kind switch
    {
        TrainingOptionKind.StepDecay => typeof(Opt.LearningRateSchedule).GetMethod(nameof(Opt.LearningRateSchedule.StepDecay)),
        TrainingOptionKind.ExponentialDecay => typeof(Opt.LearningRateSchedule).GetMethod(nameof(Opt.LearningRateSchedule.Exponential)),
        TrainingOptionKind.InverseTimeDecay => typeof(Opt.LearningRateSchedule).GetMethod(nameof(Opt.LearningRateSchedule.InverseTime)),
        TrainingOptionKind.CosineAnnealing => typeof(Opt.LearningRateSchedule).GetMethod(nameof(Opt.LearningRateSchedule.Cosine)),
        TrainingOptionKind.WarmRestarts => typeof(Opt.LearningRateSchedule).GetMethod(nameof(Opt.LearningRateSchedule.WarmRestarts)),
        TrainingOptionKind.LinearWarmup => typeof(Opt.LearningRateSchedule).GetMethod(nameof(Opt.LearningRateSchedule.WithWarmup)),
        _ => null,
    };

    public static TheoryData<string> TrainingOptionKinds => [.. Enum.GetNames<TrainingOptionKind>()];

    [Theory]
    [MemberData(nameof(TrainingOptionKinds))]
    public void TrainingOptionValues_AreTheAttributesValues_AndFactoryArguments(string name)
    {
        TrainingOptionKind kind = Enum.Parse<TrainingOptionKind>(name);
        IReadOnlyDictionary<string, (Catalog.Range Range, string Argument)> values = Catalog.TrainingOptions[kind];

        Assert.Equal(ReadableNames(AttributeType(name)), new SortedSet<string>(values.Keys, StringComparer.Ordinal));
        MethodInfo? factory = Factory(kind);
        if (factory is null)
        {
            Assert.True(name.StartsWith("ClipGradient", StringComparison.Ordinal), name);
            Assert.Single(values);
            return;
        }
        foreach ((string value, (Catalog.Range range, string argument)) in values)
        {
            ParameterInfo? parameter = factory.GetParameters().SingleOrDefault(p => p.Name == argument);
            Assert.True(parameter is not null, $"{factory.Name} has no parameter '{argument}' for {name}.{value}.");
            // Integer-valued options go to long parameters (emitted as integer literals), the rest to doubles.
            Assert.Equal(range.IsInteger ? typeof(long) : typeof(double), parameter!.ParameterType);
        }
    }

    [Fact]
    public void TrainingOptionKinds_AreAllInTheCatalog() =>
        Assert.Equal(Enum.GetNames<TrainingOptionKind>().Order(StringComparer.Ordinal), Catalog.TrainingOptions.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal));

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
        OptimizerKind kind = Enum.Parse<OptimizerKind>(name);
        var mismatches = new List<string>();
        foreach (double lr in Probes)
        {
            bool runtime = !Throws(() => Opt.OptimizerSettings.Create(Enum.Parse<Opt.OptimizerKind>(name), lr).Validate());
            if (Catalog.LearningRate.Contains(lr) != runtime) mismatches.Add($"LearningRate = {lr.ToString("R", CultureInfo.InvariantCulture)}: catalog {!runtime}, run time {runtime}");
        }
        foreach ((string option, Catalog.Range range) in Catalog.Optimizers[kind])
        {
            if (range.IsBool) continue;
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
        TrainingOptionKind kind = Enum.Parse<TrainingOptionKind>(name);
        MethodInfo factory = Factory(kind)!;
        var unsafeValues = new List<string>();
        var stricter = new SortedSet<string>(StringComparer.Ordinal);
        foreach ((string option, (Catalog.Range range, string argument)) in Catalog.TrainingOptions[kind])
        {
            foreach (double value in range.IsInteger ? IntegerProbes : Probes)
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
        foreach (TrainingOptionKind kind in new[] { TrainingOptionKind.ClipGradientNorm, TrainingOptionKind.ClipGradientValue })
        {
            Catalog.Range range = Assert.Single(Catalog.TrainingOptions[kind]).Value.Range;
            Assert.Equal(Probes.Select(v => v > 0 && double.IsFinite(v)), Probes.Select(range.Contains));
        }
    }
}
