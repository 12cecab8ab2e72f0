using System;

namespace KernelGen.Toolkit.Tests;

/// <summary>User-written activations for the export tests: every operator of the supported grammar appears in one.</summary>
public static class ExportFunctions
{
    [ActivationFunction] public static double Mish(double x) => x * Math.Tanh(ActivationMath.Softplus(x));
    [ActivationFunction] public static double HardSwish(double x) => x * Math.Clamp(x + 3, 0, 6) / 6;
    [ActivationFunction] public static double Piecewise(double x) => x < -1 ? 0.1 * x - 0.9 : x >= 1 ? 0.1 * x + 0.9 : x;
    [ActivationFunction] public static double Softsign(double x) => x / (1 + Math.Abs(x));
    [ActivationFunction]
    public static double Mixed(double x, double a)
    {
        var s = ActivationMath.Sigmoid(a * x);
        return Math.Pow(s, 3) - Math.Sqrt(x * x + 1) + ActivationMath.Erf(x / 2) + ActivationMath.Expm1(-Math.Abs(x)) + ActivationMath.Log1p(s) + Math.Exp(-x * x) * Math.Log(2 + x * x);
    }
}

/// <summary>Fused and standalone user activations, with every operator of the grammar, for the ONNX and PyTorch tests.</summary>
[Network(5)]
[Dense(8)] [CustomActivation(typeof(ExportFunctions), nameof(ExportFunctions.Mish))]
[Dense(8)] [CustomActivation(typeof(ExportFunctions), nameof(ExportFunctions.HardSwish))]
[Dense(8)] [LayerNorm] [CustomActivation(typeof(ExportFunctions), nameof(ExportFunctions.Piecewise))]
[Dense(8)] [CustomActivation(typeof(ExportFunctions), nameof(ExportFunctions.Softsign))]
[Dense(6)] [CustomActivation(typeof(ExportFunctions), nameof(ExportFunctions.Mixed), 1.5)]
[Dense(3)]
[L2Loss] [Adam(0.01)]
public partial class UserActivationExportNet;

/// <summary>User-written element-wise losses for the export and trainer tests.</summary>
public static class ExportLosses
{
    [LossFunction]
    public static double Huber(double y, double t, double delta)
    {
        var a = Math.Abs(y - t);
        return a <= delta ? 0.5 * (y - t) * (y - t) : delta * (a - 0.5 * delta);
    }

    [LossFunction] public static double LogCosh(double y, double t) => y - t + ActivationMath.Softplus(-2 * (y - t)) - Math.Log(2);
}

[Network(5)] [Dense(8, Activation.Tanh)] [Dense(3)] [CustomLoss(typeof(ExportLosses), nameof(ExportLosses.LogCosh), Reduction = LossReduction.Mean)] [Adam(0.01)]
public partial class UserLossExportNet;

[Network(4)] [Dense(32, Activation.Tanh)] [Dense(1)] [CustomLoss(typeof(ExportLosses), nameof(ExportLosses.Huber), 1.0)] [Adam(0.01)]
public partial class HuberRegressionNet;
