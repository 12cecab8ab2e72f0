// Compiled into both the runtime library and the generator (linked file): netstandard2.0-compatible. Optimizer,
// schedule, warm-up and clipping attributes and their catalog entries. Defaults documented here are PyTorch's and are
// applied by the runtime (KernelGen.Optimization.OptimizerSettings.Create); the generator passes on only what the user sets.
using System;
using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Optimization;

namespace KernelGen
{
    /// <summary>
    /// Stochastic gradient descent. Without momentum: θ ← θ − η·g. With momentum μ (PyTorch's form):
    /// b ← μ·b + (1 − dampening)·g (b ← g on the first step), θ ← θ − η·b, or with Nesterov θ ← θ − η·(g + μ·b).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class SgdAttribute : OptimizerAttribute
    {
        /// <summary>SGD with learning rate <paramref name="learningRate"/>.</summary>
        public SgdAttribute(double learningRate) : base(learningRate) { }
        /// <summary>Momentum μ in [0, 1); default 0.</summary>
        public double Momentum { get; set; }
        /// <summary>Dampening in [0, 1]; default 0.</summary>
        public double Dampening { get; set; }
        /// <summary>Nesterov momentum (needs momentum &gt; 0 and zero dampening); default false.</summary>
        public bool Nesterov { get; set; }
        /// <summary>
        /// Use the velocity form of CS231n v ← μ·v − η·g, θ ← θ + v (Nesterov: θ ← θ − μ·v_prev + (1 + μ)·v). It equals
        /// PyTorch's form while η is constant and differs under a schedule, where η is folded into the velocity.
        /// Default false.
        /// </summary>
        public bool VelocityForm { get; set; }
    }

    /// <summary>AdaGrad: s ← s + g², θ ← θ − η_t·g/(√s + ε) with η_t = η/(1 + (t − 1)·decay).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class AdaGradAttribute : OptimizerAttribute
    {
        /// <summary>AdaGrad with learning rate <paramref name="learningRate"/> (PyTorch's default is 0.01).</summary>
        public AdaGradAttribute(double learningRate) : base(learningRate) { }
        /// <summary>ε, outside the square root; default 1e-10.</summary>
        public double Epsilon { get; set; } = 1e-10;
        /// <summary>Learning-rate decay; default 0.</summary>
        public double LearningRateDecay { get; set; }
        /// <summary>Initial value of the accumulator s; default 0.</summary>
        public double InitialAccumulator { get; set; }
    }

    /// <summary>
    /// RMSProp: v ← α·v + (1 − α)·g², θ ← θ − η·g/(√v + ε); centered uses √(v − ḡ²) with ḡ the running mean of g; with
    /// momentum μ: b ← μ·b + g/d, θ ← θ − η·b.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class RmsPropAttribute : OptimizerAttribute
    {
        /// <summary>RMSProp with learning rate <paramref name="learningRate"/> (PyTorch's default is 0.01).</summary>
        public RmsPropAttribute(double learningRate) : base(learningRate) { }
        /// <summary>Smoothing α (CS231n's decay rate) in [0, 1); default 0.99.</summary>
        public double Alpha { get; set; } = 0.99;
        /// <summary>ε; default 1e-8.</summary>
        public double Epsilon { get; set; } = 1e-8;
        /// <summary>Momentum μ in [0, 1); default 0.</summary>
        public double Momentum { get; set; }
        /// <summary>Centered RMSProp; default false.</summary>
        public bool Centered { get; set; }
        /// <summary>CS231n's √(v + ε) instead of PyTorch's √v + ε; default false.</summary>
        public bool EpsilonInsideSqrt { get; set; }
    }

    /// <summary>
    /// Adam with bias correction: m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
    /// θ ← θ − η/(1 − β1^t)·m/(√v/√(1 − β2^t) + ε) (ε outside the root, as PyTorch). Weight decay is coupled (L2).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class AdamAttribute : OptimizerAttribute
    {
        /// <summary>Adam with learning rate <paramref name="learningRate"/> (PyTorch's default is 0.001).</summary>
        public AdamAttribute(double learningRate) : base(learningRate) { }
        /// <summary>β1 in [0, 1); default 0.9.</summary>
        public double Beta1 { get; set; } = 0.9;
        /// <summary>β2 in [0, 1); default 0.999.</summary>
        public double Beta2 { get; set; } = 0.999;
        /// <summary>ε; default 1e-8.</summary>
        public double Epsilon { get; set; } = 1e-8;
    }

    /// <summary>AdamW: Adam with decoupled weight decay θ ← θ·(1 − η·λ) before the Adam step (default λ 0.01).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class AdamWAttribute : OptimizerAttribute
    {
        /// <summary>AdamW with learning rate <paramref name="learningRate"/> (PyTorch's default is 0.001).</summary>
        public AdamWAttribute(double learningRate) : base(learningRate) { WeightDecay = 0.01; }
        /// <summary>β1 in [0, 1); default 0.9.</summary>
        public double Beta1 { get; set; } = 0.9;
        /// <summary>β2 in [0, 1); default 0.999.</summary>
        public double Beta2 { get; set; } = 0.999;
        /// <summary>ε; default 1e-8.</summary>
        public double Epsilon { get; set; } = 1e-8;
    }

    /// <summary>
    /// NAdam (PyTorch): Adam with Nesterov momentum and the momentum schedule μ_t = β1·(1 − ½·0.96^(t·ψ)).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class NAdamAttribute : OptimizerAttribute
    {
        /// <summary>NAdam with learning rate <paramref name="learningRate"/> (PyTorch's default is 0.002).</summary>
        public NAdamAttribute(double learningRate) : base(learningRate) { }
        /// <summary>β1 in [0, 1); default 0.9.</summary>
        public double Beta1 { get; set; } = 0.9;
        /// <summary>β2 in [0, 1); default 0.999.</summary>
        public double Beta2 { get; set; } = 0.999;
        /// <summary>ε; default 1e-8.</summary>
        public double Epsilon { get; set; } = 1e-8;
        /// <summary>Momentum decay ψ ≥ 0; default 0.004.</summary>
        public double MomentumDecay { get; set; } = 0.004;
    }

    /// <summary>AdaDelta: v ← ρ·v + (1 − ρ)·g², Δ = √(u + ε)/√(v + ε)·g, u ← ρ·u + (1 − ρ)·Δ², θ ← θ − η·Δ.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class AdaDeltaAttribute : OptimizerAttribute
    {
        /// <summary>AdaDelta with learning rate <paramref name="learningRate"/> (PyTorch's default is 1.0).</summary>
        public AdaDeltaAttribute(double learningRate) : base(learningRate) { }
        /// <summary>ρ in [0, 1); default 0.9.</summary>
        public double Rho { get; set; } = 0.9;
        /// <summary>ε; default 1e-6.</summary>
        public double Epsilon { get; set; } = 1e-6;
    }

    /// <summary>Step decay, evaluated per update t = 0, 1, …: η_t = η·γ^⌊t / stepSize⌋ (PyTorch StepLR).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class StepDecayAttribute : ScheduleAttribute
    {
        /// <summary>Decay by <see cref="Gamma"/> every <paramref name="stepSize"/> updates.</summary>
        public StepDecayAttribute(int stepSize) { StepSize = stepSize; }
        /// <summary>Updates between decays (≥ 1).</summary>
        public int StepSize { get; }
        /// <summary>γ in (0, 1]; default 0.1.</summary>
        public double Gamma { get; set; } = 0.1;
    }

    /// <summary>Exponential decay: η_t = η·γ^t (PyTorch ExponentialLR).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class ExponentialDecayAttribute : ScheduleAttribute
    {
        /// <summary>Decay by <paramref name="gamma"/> ∈ (0, 1] per update.</summary>
        public ExponentialDecayAttribute(double gamma) { Gamma = gamma; }
        /// <summary>γ.</summary>
        public double Gamma { get; }
    }

    /// <summary>1/t decay: η_t = η/(1 + k·t).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class InverseTimeDecayAttribute : ScheduleAttribute
    {
        /// <summary>Decay with rate <paramref name="k"/> ≥ 0.</summary>
        public InverseTimeDecayAttribute(double k) { K = k; }
        /// <summary>k.</summary>
        public double K { get; }
    }

    /// <summary>Cosine annealing, PyTorch's CosineAnnealingLR: η_t = η_min + ½(η − η_min)(1 + cos(π·t/T)) for every update t
    /// (past T the rate rises again along the same cosine; train for T updates, or use warm restarts).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class CosineAnnealingAttribute : ScheduleAttribute
    {
        /// <summary>Anneal over <paramref name="period"/> updates (≥ 1).</summary>
        public CosineAnnealingAttribute(int period) { Period = period; }
        /// <summary>T.</summary>
        public int Period { get; }
        /// <summary>η_min ≥ 0; default 0.</summary>
        public double MinLearningRate { get; set; }
    }

    /// <summary>SGDR warm restarts: cosine annealing restarted after T_0, T_0·m, T_0·m², … updates (PyTorch CosineAnnealingWarmRestarts).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class WarmRestartsAttribute : ScheduleAttribute
    {
        /// <summary>First cycle of <paramref name="firstPeriod"/> updates (≥ 1).</summary>
        public WarmRestartsAttribute(int firstPeriod) { FirstPeriod = firstPeriod; }
        /// <summary>T_0.</summary>
        public int FirstPeriod { get; }
        /// <summary>Cycle growth m ≥ 1; default 1.</summary>
        public double PeriodMultiplier { get; set; } = 1;
        /// <summary>η_min ≥ 0; default 0.</summary>
        public double MinLearningRate { get; set; }
    }

    /// <summary>
    /// Linear warm-up before the schedule (or a constant rate): η_t = η·(s + (1 − s)·t/W) for t &lt; W, then the schedule
    /// runs from its own step 0.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class LinearWarmupAttribute : Attribute
    {
        /// <summary>Warm up over <paramref name="steps"/> updates (≥ 1).</summary>
        public LinearWarmupAttribute(int steps) { Steps = steps; }
        /// <summary>W.</summary>
        public int Steps { get; }
        /// <summary>s in [0, 1]; default 0.</summary>
        public double StartFactor { get; set; }
    }

    /// <summary>Clips the gradients by their global L2 norm over all parameters: g ← g·min(1, max/(‖g‖ + 1e-6)) (PyTorch clip_grad_norm_).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class ClipGradientNormAttribute : Attribute
    {
        /// <summary>Limit the global norm to <paramref name="maxNorm"/> &gt; 0.</summary>
        public ClipGradientNormAttribute(double maxNorm) { MaxNorm = maxNorm; }
        /// <summary>The limit.</summary>
        public double MaxNorm { get; }
    }

    /// <summary>Clips every gradient element to [−max, max] (PyTorch clip_grad_value_).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class ClipGradientValueAttribute : Attribute
    {
        /// <summary>Limit each element to ±<paramref name="maxValue"/> (&gt; 0).</summary>
        public ClipGradientValueAttribute(double maxValue) { MaxValue = maxValue; }
        /// <summary>The limit.</summary>
        public double MaxValue { get; }
    }
}

namespace KernelGen.Catalog
{
    public static partial class OpCatalog
    {
        private static OptionDescriptor Real(string name, double defaultValue, ValueRange range, string doc) => new OptionDescriptor(name, OptionType.Real, defaultValue, range, doc);
        private static OptionDescriptor Flag(string name, string doc) => new OptionDescriptor(name, OptionType.Boolean, 0, null, doc);
        private static OptionDescriptor Steps(string name, string doc) => new OptionDescriptor(name, OptionType.Integer, double.NaN, ValueRange.Count, doc);

        /// <summary>The learning rate's range: positive and finite (in float too, checked by the validator).</summary>
        public static ValueRange LearningRate { get; } = ValueRange.Positive;

        /// <summary>Every optimizer, in enum order. Each option is the <c>OptimizerSettings</c> property of the same name.</summary>
        public static IReadOnlyList<OptimizerDescriptor> Optimizers { get; } = new[]
        {
            new OptimizerDescriptor(OptimizerKind.Sgd, typeof(SgdAttribute),
                Real("WeightDecay", 0, ValueRange.NonNegative, "weight decay λ"), Real("Momentum", 0, ValueRange.UnitOpen, "momentum μ"),
                Real("Dampening", 0, ValueRange.UnitClosed, "dampening"), Flag("Nesterov", "Nesterov momentum"), Flag("VelocityForm", "velocity form v ← μv − ηg"))
            {
                Formula = "θ ← θ − η·b, b ← μ·b + (1 − dampening)·g (Nesterov: θ ← θ − η·(g + μ·b))",
                PyTorch = "torch.optim.SGD({groups}, lr={lr}, momentum={Momentum}, dampening={Dampening}, nesterov={Nesterov})",
                PyTorchLacks = new[] { "VelocityForm" },
            },
            new OptimizerDescriptor(OptimizerKind.AdaGrad, typeof(AdaGradAttribute),
                Real("WeightDecay", 0, ValueRange.NonNegative, "weight decay λ"), Real("Epsilon", 1e-10, ValueRange.Positive, "ε"),
                Real("LearningRateDecay", 0, ValueRange.NonNegative, "learning-rate decay"), Real("InitialAccumulator", 0, ValueRange.NonNegative, "initial accumulator"))
            {
                Formula = "s ← s + g², θ ← θ − η_t·g/(√s + ε)",
                PyTorch = "torch.optim.Adagrad({groups}, lr={lr}, lr_decay={LearningRateDecay}, initial_accumulator_value={InitialAccumulator}, eps={Epsilon})",
            },
            new OptimizerDescriptor(OptimizerKind.RmsProp, typeof(RmsPropAttribute),
                Real("WeightDecay", 0, ValueRange.NonNegative, "weight decay λ"), Real("Alpha", 0.99, ValueRange.UnitOpen, "smoothing α"),
                Real("Epsilon", 1e-8, ValueRange.Positive, "ε"), Real("Momentum", 0, ValueRange.UnitOpen, "momentum μ"),
                Flag("Centered", "centered variance"), Flag("EpsilonInsideSqrt", "√(v + ε) instead of √v + ε"))
            {
                Formula = "v ← α·v + (1 − α)·g², θ ← θ − η·g/(√v + ε)",
                PyTorch = "torch.optim.RMSprop({groups}, lr={lr}, alpha={Alpha}, eps={Epsilon}, momentum={Momentum}, centered={Centered})",
                PyTorchLacks = new[] { "EpsilonInsideSqrt" },
            },
            new OptimizerDescriptor(OptimizerKind.Adam, typeof(AdamAttribute),
                Real("WeightDecay", 0, ValueRange.NonNegative, "weight decay λ (coupled)"), Real("Beta1", 0.9, ValueRange.UnitOpen, "β1"),
                Real("Beta2", 0.999, ValueRange.UnitOpen, "β2"), Real("Epsilon", 1e-8, ValueRange.Positive, "ε"))
            {
                Formula = "m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², θ ← θ − η·m̂/(√v̂ + ε)",
                PyTorch = "torch.optim.Adam({groups}, lr={lr}, betas=({Beta1}, {Beta2}), eps={Epsilon})",
            },
            new OptimizerDescriptor(OptimizerKind.AdamW, typeof(AdamWAttribute),
                Real("WeightDecay", 0.01, ValueRange.NonNegative, "decoupled weight decay λ"), Real("Beta1", 0.9, ValueRange.UnitOpen, "β1"),
                Real("Beta2", 0.999, ValueRange.UnitOpen, "β2"), Real("Epsilon", 1e-8, ValueRange.Positive, "ε"))
            {
                Formula = "θ ← θ·(1 − η·λ), then Adam",
                PyTorch = "torch.optim.AdamW({groups}, lr={lr}, betas=({Beta1}, {Beta2}), eps={Epsilon})",
            },
            new OptimizerDescriptor(OptimizerKind.NAdam, typeof(NAdamAttribute),
                Real("WeightDecay", 0, ValueRange.NonNegative, "weight decay λ"), Real("Beta1", 0.9, ValueRange.UnitOpen, "β1"),
                Real("Beta2", 0.999, ValueRange.UnitOpen, "β2"), Real("Epsilon", 1e-8, ValueRange.Positive, "ε"),
                Real("MomentumDecay", 0.004, ValueRange.NonNegative, "momentum decay ψ"))
            {
                Formula = "Adam with Nesterov momentum and μ_t = β1·(1 − ½·0.96^(t·ψ))",
                // foreach=True: PyTorch before 2.0 multiplies μ_t into the next product twice on its single-tensor path
                // (pytorch/pytorch#92699); the multi-tensor path is right in every version.
                PyTorch = "torch.optim.NAdam({groups}, lr={lr}, betas=({Beta1}, {Beta2}), eps={Epsilon}, momentum_decay={MomentumDecay}, foreach=True)",
            },
            new OptimizerDescriptor(OptimizerKind.AdaDelta, typeof(AdaDeltaAttribute),
                Real("WeightDecay", 0, ValueRange.NonNegative, "weight decay λ"), Real("Rho", 0.9, ValueRange.UnitOpen, "ρ"),
                Real("Epsilon", 1e-6, ValueRange.Positive, "ε"))
            {
                Formula = "v ← ρ·v + (1 − ρ)·g², Δ = √(u + ε)/√(v + ε)·g, u ← ρ·u + (1 − ρ)·Δ², θ ← θ − η·Δ",
                PyTorch = "torch.optim.Adadelta({groups}, lr={lr}, rho={Rho}, eps={Epsilon})",
            },
        };

        private const string Schedule = "global::KernelGen.Optimization.LearningRateSchedule.";

        /// <summary>Every schedule, warm-up and clipping attribute.</summary>
        public static IReadOnlyList<TrainingOptionDescriptor> TrainingOptions { get; } = new[]
        {
            new TrainingOptionDescriptor(typeof(StepDecayAttribute), TrainingOptionRole.Schedule, Schedule + "StepDecay",
                new[] { Steps("StepSize", "updates between decays"), Real("Gamma", 0.1, ValueRange.UnitPositive, "decay factor γ") }, new[] { "stepSize", "gamma" })
            { Formula = "η_t = η·γ^⌊t / stepSize⌋" },
            new TrainingOptionDescriptor(typeof(ExponentialDecayAttribute), TrainingOptionRole.Schedule, Schedule + "Exponential",
                new[] { Real("Gamma", double.NaN, ValueRange.UnitPositive, "decay factor γ") }, new[] { "gamma" })
            { Formula = "η_t = η·γ^t" },
            new TrainingOptionDescriptor(typeof(InverseTimeDecayAttribute), TrainingOptionRole.Schedule, Schedule + "InverseTime",
                new[] { Real("K", double.NaN, ValueRange.NonNegative, "rate k") }, new[] { "k" })
            { Formula = "η_t = η/(1 + k·t)" },
            new TrainingOptionDescriptor(typeof(CosineAnnealingAttribute), TrainingOptionRole.Schedule, Schedule + "Cosine",
                new[] { Steps("Period", "period T"), Real("MinLearningRate", 0, ValueRange.NonNegative, "η_min") }, new[] { "period", "minimumRate" })
            { Formula = "η_t = η_min + ½(η − η_min)(1 + cos(π·t/T))" },
            new TrainingOptionDescriptor(typeof(WarmRestartsAttribute), TrainingOptionRole.Schedule, Schedule + "WarmRestarts",
                new[] { Steps("FirstPeriod", "first cycle T_0"), Real("PeriodMultiplier", 1, new ValueRange(1, false, double.PositiveInfinity, false), "cycle growth m"),
                        Real("MinLearningRate", 0, ValueRange.NonNegative, "η_min") }, new[] { "firstPeriod", "periodMultiplier", "minimumRate" })
            { Formula = "cosine annealing restarted after T_0, T_0·m, T_0·m², … updates" },
            new TrainingOptionDescriptor(typeof(LinearWarmupAttribute), TrainingOptionRole.Warmup, "WithWarmup",
                new[] { Steps("Steps", "warm-up updates W"), Real("StartFactor", 0, ValueRange.UnitClosed, "start factor s") }, new[] { "steps", "startFactor" })
            { Formula = "η_t = η·(s + (1 − s)·t/W) for t < W" },
            new TrainingOptionDescriptor(typeof(ClipGradientNormAttribute), TrainingOptionRole.ClipNorm, "maxNorm",
                new[] { Real("MaxNorm", double.NaN, ValueRange.Positive, "largest global norm") }, new[] { "maxNorm" })
            { Formula = "g ← g·min(1, max/(‖g‖ + 1e-6))" },
            new TrainingOptionDescriptor(typeof(ClipGradientValueAttribute), TrainingOptionRole.ClipValue, "maxValue",
                new[] { Real("MaxValue", double.NaN, ValueRange.Positive, "largest element magnitude") }, new[] { "maxValue" })
            { Formula = "g ← clamp(g, −max, max)" },
        };
    }
}
