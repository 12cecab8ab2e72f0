using System;

namespace KernelGen.Optimization;

/// <summary>
/// Every hyperparameter of every rule, with PyTorch's defaults. Only the fields the chosen
/// <see cref="OptimizerKind"/> reads matter; <see cref="Validate"/> checks those.
/// </summary>
/// <remarks>
/// Weight decay applies to weight tensors only (never biases), as CS231n recommends; PyTorch applies it to every
/// parameter unless parameter groups say otherwise.
/// </remarks>
public sealed record OptimizerSettings
{
    /// <summary>The rule.</summary>
    public OptimizerKind Kind { get; init; }
    /// <summary>The base learning rate η (before any schedule).</summary>
    public double LearningRate { get; init; } = 0.01;
    /// <summary>SGD and RMSProp momentum μ (0 = none).</summary>
    public double Momentum { get; init; }
    /// <summary>SGD dampening.</summary>
    public double Dampening { get; init; }
    /// <summary>SGD: Nesterov momentum.</summary>
    public bool Nesterov { get; init; }
    /// <summary>SGD: CS231n's velocity form v ← μv − ηg, θ ← θ + v instead of PyTorch's buffer form.</summary>
    public bool VelocityForm { get; init; }
    /// <summary>Adam, AdamW, NAdam β1.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Adam, AdamW, NAdam β2.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>ε of the rule (PyTorch defaults: 1e-8 for Adam, AdamW, NAdam and RMSProp, 1e-10 for AdaGrad, 1e-6 for AdaDelta).</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Weight decay λ: coupled (added to the gradient as λθ) except for AdamW, where θ ← θ(1 − ηλ).</summary>
    public double WeightDecay { get; init; }
    /// <summary>RMSProp smoothing α.</summary>
    public double Alpha { get; init; } = 0.99;
    /// <summary>RMSProp: normalize by the centered variance estimate.</summary>
    public bool Centered { get; init; }
    /// <summary>RMSProp: CS231n's √(v + ε) instead of PyTorch's √v + ε.</summary>
    public bool EpsilonInsideSqrt { get; init; }
    /// <summary>AdaDelta ρ.</summary>
    public double Rho { get; init; } = 0.9;
    /// <summary>NAdam momentum decay ψ.</summary>
    public double MomentumDecay { get; init; } = 0.004;
    /// <summary>AdaGrad learning-rate decay: η_t = η / (1 + (t − 1)·decay).</summary>
    public double LearningRateDecay { get; init; }
    /// <summary>AdaGrad's initial accumulator value.</summary>
    public double InitialAccumulator { get; init; }

    /// <summary>Settings for <paramref name="kind"/> with PyTorch's defaults for that rule (ε: 1e-10 for AdaGrad, 1e-6 for
    /// AdaDelta, 1e-8 otherwise; AdamW's weight decay 0.01).</summary>
    public static OptimizerSettings Create(OptimizerKind kind, double learningRate) => kind switch
    {
        OptimizerKind.AdaGrad => new() { Kind = kind, LearningRate = learningRate, Epsilon = 1e-10 },
        OptimizerKind.AdaDelta => new() { Kind = kind, LearningRate = learningRate, Epsilon = 1e-6 },
        OptimizerKind.AdamW => new() { Kind = kind, LearningRate = learningRate, WeightDecay = 0.01 },
        _ => new() { Kind = kind, LearningRate = learningRate },
    };

    /// <summary>How many state arenas (each as long as the parameter arena) the rule keeps.</summary>
    public int StateSlots => Kind switch
    {
        OptimizerKind.Sgd => Momentum > 0 ? 1 : 0,
        OptimizerKind.AdaGrad => 1,
        OptimizerKind.RmsProp => 1 + (Centered ? 1 : 0) + (Momentum > 0 ? 1 : 0),
        OptimizerKind.AdaDelta => 2,
        _ => 2,
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a hyperparameter outside its range.</summary>
    public void Validate()
    {
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "positive and finite");
        Check(Momentum >= 0 && Momentum < 1, nameof(Momentum), Momentum, "in [0, 1)");
        Check(Dampening >= 0 && Dampening <= 1, nameof(Dampening), Dampening, "in [0, 1]");
        Check(!(Nesterov && (Momentum <= 0 || Dampening != 0)) || Kind != OptimizerKind.Sgd, nameof(Nesterov), Nesterov, "used with momentum > 0 and zero dampening");
        Check(Beta1 >= 0 && Beta1 < 1, nameof(Beta1), Beta1, "in [0, 1)");
        Check(Beta2 >= 0 && Beta2 < 1, nameof(Beta2), Beta2, "in [0, 1)");
        Check(Epsilon > 0 && double.IsFinite(Epsilon), nameof(Epsilon), Epsilon, "positive and finite");
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "non-negative and finite");
        Check(Alpha >= 0 && Alpha < 1, nameof(Alpha), Alpha, "in [0, 1)");
        Check(Rho >= 0 && Rho < 1, nameof(Rho), Rho, "in [0, 1)");
        Check(MomentumDecay >= 0 && double.IsFinite(MomentumDecay), nameof(MomentumDecay), MomentumDecay, "non-negative and finite");
        Check(LearningRateDecay >= 0 && double.IsFinite(LearningRateDecay), nameof(LearningRateDecay), LearningRateDecay, "non-negative and finite");
        Check(InitialAccumulator >= 0 && double.IsFinite(InitialAccumulator), nameof(InitialAccumulator), InitialAccumulator, "non-negative and finite");
    }

    private static void Check(bool ok, string name, object value, string range)
    {
        if (!ok) ThrowHelper.ThrowArgumentOutOfRange(name, value, $"{name} must be {range}.");
    }
}

/// <summary>Gradient clipping applied inside the update pass, before weight decay (PyTorch's order).</summary>
/// <param name="MaxNorm">Global L2 norm limit over all gradients: g ← g·min(1, MaxNorm/(‖g‖ + 1e-6)); +∞ = off.</param>
/// <param name="MaxValue">Element-wise limit: g ← clamp(g, −MaxValue, MaxValue); +∞ = off.</param>
public readonly record struct GradientClipping(double MaxNorm, double MaxValue)
{
    /// <summary>No clipping.</summary>
    public static GradientClipping None => new(double.PositiveInfinity, double.PositiveInfinity);
}
