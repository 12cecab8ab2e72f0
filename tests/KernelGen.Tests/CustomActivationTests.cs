using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>Well-known activations written as ordinary C#: KernelGen differentiates and vectorizes them at compile time.</summary>
public static class UserFunctions
{
    private const double SeluAlpha = 1.6732632423543772848170429916717;
    private const double SeluScale = 1.0507009873554804934193349852946;

    [ActivationFunction] public static double Mish(double x) => x * Math.Tanh(Math.Log(1 + Math.Exp(x)));
    [ActivationFunction] public static double Selu(double x) => x > 0 ? SeluScale * x : SeluScale * SeluAlpha * (Math.Exp(x) - 1);
    [ActivationFunction] public static double HardSwish(double x) => x * Math.Clamp(x + 3, 0, 6) / 6;
    [ActivationFunction] public static double HardSigmoid(double x) => Math.Clamp(x / 6 + 0.5, 0, 1);
    [ActivationFunction] public static double Swish(double x, double beta) => x * ActivationMath.Sigmoid(beta * x);
    [ActivationFunction] public static double Softsign(double x) => x / (1 + Math.Abs(x));
    [ActivationFunction] public static double Squareplus(double x, double b) => (x + Math.Sqrt(x * x + b)) / 2;
    [ActivationFunction] public static double Piecewise(double x) => x < -1 ? 0.1 * x - 0.9 : x > 1 ? 0.1 * x + 0.9 : x;
    [ActivationFunction] public static double Silu(double x) => x * ActivationMath.Sigmoid(x);
    [ActivationFunction] public static double Relu(double x) => Math.Max(x, 0);
    [ActivationFunction]
    public static double WithLocals(double x)
    {
        var s = ActivationMath.Sigmoid(x);
        double t = x * s;
        return t * Math.Pow(s, 2) + ActivationMath.Erf(x / 4);
    }
    [ActivationFunction] public static double TwiceSoftsign(double x) => 2 * Softsign(x) - Math.Pow(Softsign(x), 3);
}

// The functions applied alone (a network of one activation layer), in float and double.
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Mish))] public partial class MishOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Selu))] public partial class SeluOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.HardSwish))] public partial class HardSwishOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.HardSigmoid))] public partial class HardSigmoidOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Swish), 1.7)] public partial class SwishOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Softsign))] public partial class SoftsignOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Squareplus), 4.0)] public partial class SquareplusOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Piecewise))] public partial class PiecewiseOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.WithLocals))] public partial class WithLocalsOnly;
[Network(16)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.TwiceSoftsign))] public partial class TwiceSoftsignOnly;

// Fused into a dense layer, and standalone after a normalization, inside networks the gradient check runs on.
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Mish))] [Dense(3)] [L2Loss] public partial class MishNet;
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Selu))] [Dense(3)] [L2Loss] public partial class SeluNet;
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.HardSwish))] [Dense(3)] [L2Loss] public partial class HardSwishNet;
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.HardSigmoid))] [Dense(3)] [L2Loss] public partial class HardSigmoidNet;
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Swish), 1.7)] [Dense(3)] [L2Loss] public partial class SwishNet;
[Network(5)] [Dense(8)] [LayerNorm] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Softsign))] [Dense(3)] [L2Loss] public partial class SoftsignNet;
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Squareplus), 4.0)] [Dense(3)] [L2Loss] public partial class SquareplusNet;
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Piecewise))] [Dense(3)] [L2Loss] public partial class PiecewiseNet;
[Network(5)] [Dense(8)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.WithLocals))] [Dense(3)] [L2Loss] public partial class WithLocalsNet;
[Network(5)] [Dense(8)] [LayerNorm] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.TwiceSoftsign))] [Dense(3)] [L2Loss] public partial class TwiceSoftsignNet;

// The same network with a user's and the built-in SiLU and ReLU (the same initialization: Init.Auto picks He for a
// built-in ReLU family but cannot know a user's function).
[Network(6)] [Dense(16, Init = Init.XavierUniform)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Silu))] [Dense(4)] [SoftmaxCrossEntropyLoss] [Adam(0.01)] public partial class UserSiluNet;
[Network(6)] [Dense(16, Activation.SiLU, Init = Init.XavierUniform)] [Dense(4)] [SoftmaxCrossEntropyLoss] [Adam(0.01)] public partial class BuiltInSiluNet;
[Network(6)] [Dense(16, Init = Init.HeUniform)] [CustomActivation(typeof(UserFunctions), nameof(UserFunctions.Relu))] [Dense(4)] [SoftmaxCrossEntropyLoss] [Adam(0.01)] public partial class UserReluNet;
[Network(6)] [Dense(16, Activation.ReLU, Init = Init.HeUniform)] [Dense(4)] [SoftmaxCrossEntropyLoss] [Adam(0.01)] public partial class BuiltInReluNet;

// The README's example network.
public static class ReadmeFunctions
{
    [ActivationFunction] public static double Swish(double x, double beta) => x * ActivationMath.Sigmoid(beta * x);
    [ActivationFunction] public static double HardSwish(double x) => x * Math.Clamp(x + 3, 0, 6) / 6;
}

[Network(8)] [Dense(16)] [CustomActivation(typeof(ReadmeFunctions), nameof(ReadmeFunctions.Swish), 1.5)] [Dense(16)] [LayerNorm]
[CustomActivation(typeof(ReadmeFunctions), nameof(ReadmeFunctions.HardSwish))] [Dense(3)] [SoftmaxCrossEntropyLoss] [Adam(0.01)]
public partial class ReadmeSwishNet;

public sealed class CustomActivationTests(ITestOutputHelper output)
{
    [Fact]
    public void The_readme_example_prints_what_it_says()
    {
        var net = new ReadmeSwishNet(32, 1);
        Assert.StartsWith("f(x) = x * sigmoid(1.5 * x); f'(x) = ", net.Layers[0].CustomActivationFormula);
        Assert.Equal(LayerKind.Dense, net.Layers[0].Kind); // fused
        Assert.Equal(LayerKind.Activation, net.Layers[3].Kind);
        GradientCheckReport report = GradientCheck.Run(new ReadmeSwishNet.Float64(4, 1), [.. Enumerable.Range(0, 4 * 8).Select(i => Math.Cos(i))], [0, 1, 2, 0]);
        Assert.True(report.Passed, report.ToString());
        output.WriteLine(net.Layers[0].CustomActivationFormula);
    }

    public static TheoryData<string> Functions => ["Mish", "Selu", "HardSwish", "HardSigmoid", "Swish", "Softsign", "Squareplus", "Piecewise", "WithLocals", "TwiceSoftsign"];

    /// <summary>The user's method itself, run as plain C# in double: the reference.</summary>
    private static Func<double, double> Reference(string name) => name switch
    {
        "Swish" => x => UserFunctions.Swish(x, 1.7),
        "Squareplus" => x => UserFunctions.Squareplus(x, 4.0),
        _ => x => (double)typeof(UserFunctions).GetMethod(name)!.Invoke(null, [x])!,
    };

    private static T Create<T>(string type, ulong seed = 1) =>
        (T)Activator.CreateInstance(typeof(CustomActivationTests).Assembly.GetType("KernelGen.Tests." + type, throwOnError: true)!, 64, seed)!;

    /// <summary>Inputs from −60 to 60 (saturation on both sides) with a fine grid around the origin and the kinks.</summary>
    private static double[] Inputs()
    {
        var xs = new List<double>();
        for (int i = -600; i <= 600; i++) xs.Add(i * 0.1);
        for (int i = -400; i <= 400; i++) xs.Add(i * 0.01 + 0.003);
        foreach (double k in new[] { -3.0, -1, 0, 1, 3 }) xs.AddRange([k, Math.BitDecrement(k), Math.BitIncrement(k), k + 1e-9, k - 1e-9]);
        while (xs.Count % 16 != 0) xs.Add(0.5);
        return [.. xs];
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void The_generated_function_computes_the_users_method(string name)
    {
        Func<double, double> f = Reference(name);
        double[] xs = Inputs();
        var net64 = Create<INeuralNetwork<double>>(name + "Only+Float64");
        var net32 = Create<INeuralNetwork<float>>(name + "Only");
        double worst64 = 0, worst32 = 0;
        for (int start = 0; start < xs.Length; start += 64 * 16)
        {
            int batch = Math.Min(64, (xs.Length - start) / 16);
            double[] x = xs[start..(start + batch * 16)];
            var y64 = new double[x.Length];
            net64.Predict(x, y64);
            float[] x32 = [.. x.Select(v => (float)v)];
            var y32 = new float[x.Length];
            net32.Predict(x32, y32);
            for (int i = 0; i < x.Length; i++)
            {
                double expected = f(x[i]);
                // Errors in units of the result's magnitude (at least 1: absolute near zero crossings).
                worst64 = Math.Max(worst64, Math.Abs(y64[i] - expected) / Math.Max(1, Math.Abs(expected)));
                // Squareplus as written cancels for x ≪ 0 (x + √(x² + b) with both terms near |x|): in float no code can
                // match the double value, so its float reference is the same formula evaluated in float.
                double expected32 = name == "Squareplus" ? (x32[i] + MathF.Sqrt(x32[i] * x32[i] + 4f)) / 2f : f(x32[i]);
                worst32 = Math.Max(worst32, Math.Abs(y32[i] - expected32) / Math.Max(1, Math.Abs(expected32)));
            }
        }
        output.WriteLine($"{name}: worst error {worst64 / Math.Pow(2, -52):F1} double ulps, {worst32 / Math.Pow(2, -23):F1} float ulps (relative to max(1, |f|))");
        Assert.True(worst64 <= 8 * Math.Pow(2, -52), $"{name}: double error {worst64:R}");
        Assert.True(worst32 <= 8 * Math.Pow(2, -23), $"{name}: float error {worst32:R}");
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void The_derived_gradient_passes_the_gradient_check_inside_a_network(string name)
    {
        foreach (ulong seed in new ulong[] { 1, 2, 3, 4 })
        {
            var net = Create<ILossNetwork<double, double>>(name + "Net+Float64", seed);
            var random = new KernelRandom(seed, 5);
            double[] x = [.. Enumerable.Range(0, 6 * 5).Select(_ => random.NextGaussian() * 2)];
            double[] t = [.. Enumerable.Range(0, 6 * 3).Select(_ => random.NextGaussian())];
            GradientCheckReport loss = GradientCheck.Run(net, x, t, new GradientCheckOptions { Seed = seed, Epsilon = 1e-5 });
            Assert.True(loss.Passed, $"{name} seed {seed}:\n{loss}");
            GradientCheckReport backward = GradientCheck.Run((INeuralNetwork<double>)net, x, new GradientCheckOptions { Seed = seed, Epsilon = 1e-5 });
            Assert.True(backward.Passed, $"{name} seed {seed}, Backward:\n{backward}");
        }
    }

    [Fact]
    public void Kinks_are_known_to_the_gradient_check()
    {
        // Inputs that put pre-activations on HardSwish's kinks at −3 and 3 would make a finite difference average two
        // slopes: the layer's branch signature tells the engine, which leaves those coordinates out.
        var net = new HardSwishNet.Float64(4, seed: 3);
        LayerInfo layer = net.Layers[0];
        Assert.Equal("UserFunctions.HardSwish(x)", layer.CustomActivation);
        Assert.NotNull(layer.CustomActivationBranch);
        Assert.NotEqual(layer.CustomActivationBranch!(-3.5), layer.CustomActivationBranch(-2.5));
        Assert.NotEqual(layer.CustomActivationBranch(2.5), layer.CustomActivationBranch(3.5));
        Assert.Equal(layer.CustomActivationBranch(-1), layer.CustomActivationBranch(1));
        Assert.Contains("f'(x) =", layer.CustomActivationFormula);
        Assert.Null(new MishNet.Float64(4, 1).Layers[0].CustomActivationBranch); // smooth: no branches
    }

    [Fact]
    public void A_users_silu_and_relu_train_as_the_built_in_ones()
    {
        AssertSameTraining(new UserSiluNet.Float64(32, 7), new BuiltInSiluNet.Float64(32, 7), 1e-12);
        AssertSameTraining(new UserReluNet.Float64(32, 7), new BuiltInReluNet.Float64(32, 7), 0);
    }

    private static void AssertSameTraining(ITrainableNetwork<double, int> user, ITrainableNetwork<double, int> builtIn, double tolerance)
    {
        var random = new KernelRandom(11);
        double[] x = [.. Enumerable.Range(0, 32 * 6).Select(_ => random.NextGaussian())];
        int[] labels = [.. Enumerable.Range(0, 32).Select(_ => random.NextInt(4))];
        Assert.Equal(builtIn.Parameters.ToArray(), user.Parameters.ToArray());
        for (int step = 0; step < 20; step++)
        {
            double a = user.TrainStep(x, labels), b = builtIn.TrainStep(x, labels);
            Assert.True(Math.Abs(a - b) <= tolerance * Math.Max(1, Math.Abs(b)), $"step {step}: loss {a:R} vs {b:R}");
        }
        double[] pu = user.Parameters.ToArray(), pb = builtIn.Parameters.ToArray();
        for (int i = 0; i < pu.Length; i++) Assert.True(Math.Abs(pu[i] - pb[i]) <= 1e3 * tolerance + 0 * pb[i], $"parameter {i}: {pu[i]:R} vs {pb[i]:R}");
    }

    /// <summary>The inference form fuses a user's activation as the network does (standalone after LayerNorm, fused after
    /// Dense) and computes Predict's outputs.</summary>
    [Theory]
    [InlineData("Mish")]
    [InlineData("Softsign")]
    [InlineData("TwiceSoftsign")]
    public void The_inference_form_computes_what_predict_computes(string name)
    {
        var net = Create<INeuralNetwork<float>>(name + "Net", 3);
        var random = new KernelRandom(8);
        float[] x = [.. Enumerable.Range(0, 16 * 5).Select(_ => (float)random.NextGaussian())];
        var expected = new float[16 * 3];
        net.Predict(x, expected);
        dynamic inference = ((dynamic)net).CreateInference(16);
        var actual = new float[16 * 3];
        ((IInferenceNetwork<float>)inference).Predict(x, actual);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    [Fact]
    public void Training_with_a_users_activation_allocates_nothing()
    {
        var net = new MishNet(16, seed: 2);
        var random = new KernelRandom(3);
        float[] x = [.. Enumerable.Range(0, 16 * 5).Select(_ => (float)random.NextGaussian())];
        float[] t = [.. Enumerable.Range(0, 16 * 3).Select(_ => (float)random.NextGaussian())];
        var y = new float[16 * 3];
        var adam = new UserSiluNet(16, 1);
        int[] labels = new int[16];
        float[] x6 = [.. Enumerable.Range(0, 16 * 6).Select(_ => (float)random.NextGaussian())];
        for (int i = 0; i < 3; i++) { net.Predict(x, y); net.ComputeGradients(x, t); adam.TrainStep(x6, labels); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) { net.Predict(x, y); net.ComputeGradients(x, t); adam.TrainStep(x6, labels); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
