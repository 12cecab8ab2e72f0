extern alias KernelGenRuntime;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;
using Xunit;
using Opt = KernelGenRuntime::KernelGen.Optimization;
using Runtime = KernelGenRuntime::KernelGen;

namespace KernelGen.Generators.Tests;

/// <summary>
/// Every optimizer, schedule, warm-up and clipping attribute: the generated code compiles without any diagnostic, and,
/// loaded and run, the network's optimizer carries exactly the rule, hyperparameters, schedule and clipping the spec
/// says (the defaults the user did not set coming from the run-time library, equal to the attributes' documented
/// defaults). Expected settings are written out by hand from the attributes, never read from the generator.
/// </summary>
public sealed class TrainingSpecTests
{
    private static string Source(params string[] trainingAttributes) => $"""
        using KernelGen;

        namespace Demo;

        [Network(4)]
        [Dense(3, Activation.Tanh)]
        [Dense(2)]
        [L2Loss]
        {string.Join("\n", trainingAttributes.Select(a => $"[{a}]"))}
        public partial class Net;
        """;

    // ---- Optimizers ------------------------------------------------------------------------------------------

    /// <summary>Each optimizer with every hyperparameter set away from its default, and the settings that must result.</summary>
    private static readonly Dictionary<string, Opt.OptimizerSettings> OptimizerCases = new()
    {
        ["Sgd(0.05, Momentum = 0.8, Dampening = 0.1, VelocityForm = true, WeightDecay = 0.001)"] =
            new() { Kind = Opt.OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.8, Dampening = 0.1, VelocityForm = true, WeightDecay = 0.001 },
        ["Sgd(0.1, Momentum = 0.9, Nesterov = true)"] =
            new() { Kind = Opt.OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9, Nesterov = true },
        ["AdaGrad(0.02, Epsilon = 1e-9, LearningRateDecay = 0.01, InitialAccumulator = 0.1, WeightDecay = 0.001)"] =
            new() { Kind = Opt.OptimizerKind.AdaGrad, LearningRate = 0.02, Epsilon = 1e-9, LearningRateDecay = 0.01, InitialAccumulator = 0.1, WeightDecay = 0.001 },
        ["RmsProp(0.01, Alpha = 0.9, Epsilon = 1e-6, Momentum = 0.5, Centered = true, EpsilonInsideSqrt = true, WeightDecay = 0.001)"] =
            new() { Kind = Opt.OptimizerKind.RmsProp, LearningRate = 0.01, Alpha = 0.9, Epsilon = 1e-6, Momentum = 0.5, Centered = true, EpsilonInsideSqrt = true, WeightDecay = 0.001 },
        ["Adam(0.001, Beta1 = 0.8, Beta2 = 0.99, Epsilon = 1e-7, WeightDecay = 1e-4)"] =
            new() { Kind = Opt.OptimizerKind.Adam, LearningRate = 0.001, Beta1 = 0.8, Beta2 = 0.99, Epsilon = 1e-7, WeightDecay = 1e-4 },
        ["AdamW(0.003, Beta1 = 0.85, Beta2 = 0.98, Epsilon = 1e-6, WeightDecay = 0.05)"] =
            new() { Kind = Opt.OptimizerKind.AdamW, LearningRate = 0.003, Beta1 = 0.85, Beta2 = 0.98, Epsilon = 1e-6, WeightDecay = 0.05 },
        ["AdamW(0.003, WeightDecay = 0)"] =                 // an explicit 0 overrides AdamW's default of 0.01
            new() { Kind = Opt.OptimizerKind.AdamW, LearningRate = 0.003, WeightDecay = 0 },
        ["NAdam(0.002, Beta1 = 0.8, Beta2 = 0.99, Epsilon = 1e-7, MomentumDecay = 0.005, WeightDecay = 0.001)"] =
            new() { Kind = Opt.OptimizerKind.NAdam, LearningRate = 0.002, Beta1 = 0.8, Beta2 = 0.99, Epsilon = 1e-7, MomentumDecay = 0.005, WeightDecay = 0.001 },
        ["AdaDelta(1.0, Rho = 0.95, Epsilon = 1e-5, WeightDecay = 0.001)"] =
            new() { Kind = Opt.OptimizerKind.AdaDelta, LearningRate = 1.0, Rho = 0.95, Epsilon = 1e-5, WeightDecay = 0.001 },
    };

    public static TheoryData<string> Optimizers => [.. OptimizerCases.Keys];

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Optimizer_CompilesAndCarriesItsHyperparameters(string optimizer)
    {
        GeneratorRun run = TestHelper.Run(Source(optimizer));

        Assert.Empty(run.Diagnostics);
        string kind = optimizer[..optimizer.IndexOf('(')];
        Assert.Contains($"; {kind}, learning rate ", run.Source("Demo.Net.Network.g.cs"), StringComparison.Ordinal);
        run.AssertCompilesWithoutWarnings();

        Opt.OptimizerSettings expected = OptimizerCases[optimizer];
        using var network = LoadedNetwork.Load(run);
        Assert.Equal(expected, network.Float.Optimizer.Settings);
        Assert.Equal(expected, network.Double.Optimizer.Settings);
        network.AssertTrains();
    }

    public static TheoryData<string> OptimizerAttributeNames => ["Sgd", "AdaGrad", "RmsProp", "Adam", "AdamW", "NAdam", "AdaDelta"];

    /// <summary>
    /// With only a learning rate, the generator passes no hyperparameter: each one the run time then uses must equal the
    /// default the attribute documents (read from an attribute instance, e.g. AdamW's weight decay 0.01).
    /// </summary>
    [Theory]
    [MemberData(nameof(OptimizerAttributeNames))]
    public void OptimizerDefaults_AreTheAttributesDefaults(string name)
    {
        GeneratorRun run = TestHelper.Run(Source($"{name}(0.25)"));
        Assert.Empty(run.Diagnostics);
        Assert.Contains($"OptimizerKind.{name}, 0.25);", run.Source("Demo.Net.Network.g.cs"), StringComparison.Ordinal);
        run.AssertCompilesWithoutWarnings();

        Type attributeType = typeof(Runtime.NetworkAttribute).Assembly.GetType($"KernelGen.{name}Attribute", throwOnError: true)!;
        object attribute = Activator.CreateInstance(attributeType, 0.25)!;
        using var network = LoadedNetwork.Load(run);
        Opt.OptimizerSettings settings = network.Float.Optimizer.Settings;
        Assert.Equal(Enum.Parse<Opt.OptimizerKind>(name), settings.Kind);
        PropertyInfo[] properties = attributeType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != nameof(Attribute.TypeId)).ToArray();
        Assert.Contains(properties, p => p.Name == "LearningRate");
        foreach (PropertyInfo property in properties)
        {
            PropertyInfo? setting = typeof(Opt.OptimizerSettings).GetProperty(property.Name);
            Assert.True(setting is not null, $"{name}Attribute.{property.Name} has no counterpart in OptimizerSettings.");
            Assert.True(Equals(property.GetValue(attribute), setting!.GetValue(settings)),
                $"{name}: the attribute documents {property.Name} = {property.GetValue(attribute)}, the run time uses {setting.GetValue(settings)}.");
        }
        Assert.Equal(network.Float.Optimizer.Settings, network.Double.Optimizer.Settings);
        network.AssertTrains();
    }

    // ---- Schedules, warm-up and clipping ---------------------------------------------------------------------

    private static readonly Opt.GradientClipping NoClipping = new(double.PositiveInfinity, double.PositiveInfinity);

    /// <summary>Training attributes (after [Sgd(0.1)]) and the schedule and clipping that must result.</summary>
    private static readonly Dictionary<string, (Opt.LearningRateSchedule Schedule, Opt.GradientClipping Clipping)> TrainingOptionCases = new()
    {
        // Defaults not set in the spec are the attributes' documented ones: γ 0.1, multiplier 1, minimum 0, start factor 0.
        ["StepDecay(30)"] = (Opt.LearningRateSchedule.StepDecay(30, 0.1), NoClipping),
        ["StepDecay(30, Gamma = 0.5)"] = (Opt.LearningRateSchedule.StepDecay(30, 0.5), NoClipping),
        ["ExponentialDecay(0.95)"] = (Opt.LearningRateSchedule.Exponential(0.95), NoClipping),
        ["InverseTimeDecay(0.01)"] = (Opt.LearningRateSchedule.InverseTime(0.01), NoClipping),
        ["CosineAnnealing(1000)"] = (Opt.LearningRateSchedule.Cosine(1000, 0), NoClipping),
        ["CosineAnnealing(1000, MinLearningRate = 1e-5)"] = (Opt.LearningRateSchedule.Cosine(1000, 1e-5), NoClipping),
        ["WarmRestarts(10)"] = (Opt.LearningRateSchedule.WarmRestarts(10, 1, 0), NoClipping),
        ["WarmRestarts(10, PeriodMultiplier = 2, MinLearningRate = 1e-4)"] = (Opt.LearningRateSchedule.WarmRestarts(10, 2, 1e-4), NoClipping),
        ["LinearWarmup(100)"] = (Opt.LearningRateSchedule.Constant.WithWarmup(100, 0), NoClipping),
        ["LinearWarmup(100, StartFactor = 0.25)|ExponentialDecay(0.9)"] = (Opt.LearningRateSchedule.Exponential(0.9).WithWarmup(100, 0.25), NoClipping),
        ["ClipGradientNorm(5)"] = (Opt.LearningRateSchedule.Constant, new(5, double.PositiveInfinity)),
        ["ClipGradientValue(0.5)"] = (Opt.LearningRateSchedule.Constant, new(double.PositiveInfinity, 0.5)),
        ["ClipGradientValue(0.5)|ClipGradientNorm(5)"] = (Opt.LearningRateSchedule.Constant, new(5, 0.5)),
        ["StepDecay(int.MaxValue)|LinearWarmup(int.MaxValue, StartFactor = 1)"] =
            (Opt.LearningRateSchedule.StepDecay(int.MaxValue, 0.1).WithWarmup(int.MaxValue, 1), NoClipping),
    };

    public static TheoryData<string> TrainingOptions => [.. TrainingOptionCases.Keys];

    [Theory]
    [MemberData(nameof(TrainingOptions))]
    public void TrainingOption_CompilesAndConfiguresTheOptimizer(string attributes)
    {
        GeneratorRun run = TestHelper.Run(Source(["Sgd(0.1)", .. attributes.Split('|')]));

        Assert.Empty(run.Diagnostics);
        run.AssertCompilesWithoutWarnings();

        (Opt.LearningRateSchedule schedule, Opt.GradientClipping clipping) = TrainingOptionCases[attributes];
        using var network = LoadedNetwork.Load(run);
        foreach (Opt.LearningRateSchedule actual in new[] { network.Float.Optimizer.Schedule, network.Double.Optimizer.Schedule })
            Assert.Equal(schedule, actual);
        foreach (Opt.GradientClipping actual in new[] { network.Float.Optimizer.Clipping, network.Double.Optimizer.Clipping })
            Assert.Equal(clipping, actual);
        Assert.Equal(new Opt.OptimizerSettings { Kind = Opt.OptimizerKind.Sgd, LearningRate = 0.1 }, network.Float.Optimizer.Settings);
        network.AssertTrains();
    }

    /// <summary>Every attribute kind appears above, so a new one cannot be added without a compile test.</summary>
    [Fact]
    public void EveryTrainingAttribute_IsCovered()
    {
        string[] covered = [.. OptimizerCases.Keys.Concat(TrainingOptionCases.Keys).SelectMany(k => k.Split('|')).Select(a => a[..a.IndexOf('(')]).Distinct().Order(StringComparer.Ordinal)];
        string[] declared = [.. typeof(Runtime.NetworkAttribute).Assembly.GetTypes()
            .Where(t => t.Namespace == "KernelGen" && t.IsPublic && !t.IsAbstract && typeof(Attribute).IsAssignableFrom(t))
            .Where(t => typeof(Runtime.OptimizerAttribute).IsAssignableFrom(t) || typeof(Runtime.ScheduleAttribute).IsAssignableFrom(t)
                || t.Name is "LinearWarmupAttribute" or "ClipGradientNormAttribute" or "ClipGradientValueAttribute")
            .Select(t => t.Name[..^"Attribute".Length]).Order(StringComparer.Ordinal)];

        Assert.Equal(15, declared.Length);   // 7 optimizers, 5 schedules, warm-up and 2 clippings
        Assert.Equal(declared, covered);
    }

    /// <summary>The specs of the snapshot tests with every training feature, run: the configuration the baselines show.</summary>
    [Fact]
    public void SnapshotSpecs_ConfigureTheirOptimizers()
    {
        using (var adam = LoadedNetwork.Load(TestHelper.Run(SnapshotTests.AdamNet), "Demo.Training.AdamNet"))
        {
            Assert.Equal(new Opt.OptimizerSettings { Kind = Opt.OptimizerKind.Adam, LearningRate = 0.001, Beta2 = 0.99, WeightDecay = 1e-4 }, adam.Double.Optimizer.Settings);
            Assert.Equal(Opt.LearningRateSchedule.Cosine(1000, 1e-5).WithWarmup(100), adam.Double.Optimizer.Schedule);
            Assert.Equal(new Opt.GradientClipping(5, double.PositiveInfinity), adam.Double.Optimizer.Clipping);
        }
        using (var sgd = LoadedNetwork.Load(TestHelper.Run(SnapshotTests.SgdNet), "Demo.Training.SgdNet"))
        {
            Assert.Equal(new Opt.OptimizerSettings { Kind = Opt.OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9, Nesterov = true }, sgd.Double.Optimizer.Settings);
            Assert.Equal(Opt.LearningRateSchedule.StepDecay(30, 0.5), sgd.Double.Optimizer.Schedule);
            Assert.Equal(new Opt.GradientClipping(double.PositiveInfinity, 1), sgd.Double.Optimizer.Clipping);
            sgd.AssertTrains();
        }
    }

    // ---- Loading the generated code --------------------------------------------------------------------------

    /// <summary>The output compilation emitted into a collectible load context, with both variants of one network.</summary>
    private sealed class LoadedNetwork : IDisposable
    {
        private readonly AssemblyLoadContext _context;
        private readonly object _float, _double;

        private LoadedNetwork(AssemblyLoadContext context, object single, object @double)
        {
            _context = context;
            _float = single;
            _double = @double;
        }

        /// <summary>The float variant's optimizer (through ITrainableNetwork, whatever the label type).</summary>
        public (Opt.Optimizer<float> Optimizer, object Network) Float => (OptimizerOf<float>(_float), _float);
        public (Opt.Optimizer<double> Optimizer, object Network) Double => (OptimizerOf<double>(_double), _double);

        private static Opt.Optimizer<T> OptimizerOf<T>(object network) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
        {
            Type contract = network.GetType().GetInterfaces().Single(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(Runtime.ITrainableNetwork<,>));
            Assert.Equal(typeof(T), contract.GetGenericArguments()[0]);
            return (Opt.Optimizer<T>)contract.GetProperty(nameof(Runtime.ITrainableNetwork<float, float>.Optimizer))!.GetValue(network)!;
        }

        public static LoadedNetwork Load(GeneratorRun run, string typeName = "Demo.Net")
        {
            using var image = new MemoryStream();
            EmitResult result = run.Output.Emit(image);
            Assert.True(result.Success, string.Join("\n", result.Diagnostics));
            image.Position = 0;
            // The runtime library is not in this context, so it resolves to the test's copy: the types are shared.
            var context = new AssemblyLoadContext("KernelGen.TrainingSpecTests", isCollectible: true);
            Assembly assembly = context.LoadFromStream(image);
            Type type = assembly.GetType(typeName, throwOnError: true)!;
            Type nested = type.GetNestedType("Float64")!;
            return new LoadedNetwork(context,
                Activator.CreateInstance(type, 2, 7UL)!,
                Activator.CreateInstance(nested, 2, 7UL)!);
        }

        /// <summary>One training step through the generated TrainStep of an L2 network: the loss is finite, the optimizer
        /// counted the step, and the parameters moved unless the step's learning rate was 0 (a warm-up from 0).</summary>
        public void AssertTrains()
        {
            Step((Runtime.ITrainableNetwork<float, float>)_float);
            Step((Runtime.ITrainableNetwork<double, double>)_double);
        }

        private static void Step<T>(Runtime.ITrainableNetwork<T, T> network) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
        {
            int batch = 2;
            T[] inputs = [.. Enumerable.Range(0, batch * network.InputSize).Select(i => T.CreateTruncating(0.25 * (i % 5) - 0.5))];
            T[] targets = [.. Enumerable.Range(0, batch * network.OutputSize).Select(i => T.CreateTruncating(i % 2 == 0 ? 1.0 : -1.0))];
            T[] before = network.Parameters.ToArray();

            T loss = network.TrainStep(inputs, targets);

            Assert.True(T.IsFinite(loss) && loss > T.Zero, $"loss {loss}");
            Assert.Equal(1, network.Optimizer.StepCount);
            double rate = network.Optimizer.CurrentLearningRate;
            Assert.Equal(network.Optimizer.Schedule.LearningRate(network.Optimizer.LearningRate, 0), rate);
            Assert.True(before.AsSpan().SequenceEqual(network.Parameters) == (rate == 0),
                $"After one step at learning rate {rate} the parameters {(rate == 0 ? "moved" : "did not move")}.");
        }

        public void Dispose() => _context.Unload();
    }
}
