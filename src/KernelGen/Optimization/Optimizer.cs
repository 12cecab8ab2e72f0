using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Kernels;

namespace KernelGen.Optimization;

/// <summary>
/// An optimizer bound to one network's parameter arena: its settings, schedule and clipping, its state arenas
/// (moments, velocities, accumulators; 64-byte aligned, laid out like the parameters) and its step count. Every
/// <see cref="Step"/> is one fused pass per parameter tensor (weights with weight decay, biases without) and
/// allocates nothing. The whole state (<see cref="State"/>, <see cref="StepCount"/>, <see cref="MomentumProduct"/>)
/// can be saved and restored exactly.
/// </summary>
public sealed class Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly AlignedBuffer<T>[] _state;
    private readonly (int Offset, int Length, bool IsWeight)[] _segments;
    private readonly int _length;
    // The two-thread update: where the worker's part starts (0: too small to split) and the reusable hand-off object.
    private readonly int _split;
    private readonly UpdateWork? _work;
    private double _learningRate;
    private LearningRateSchedule _schedule;
    private GradientClipping _clipping;

    /// <summary>Creates an optimizer for an arena of <paramref name="arenaLength"/> elements holding <paramref name="tensors"/>.</summary>
    public Optimizer(OptimizerSettings settings, int arenaLength, IReadOnlyList<ParameterTensor> tensors,
        LearningRateSchedule? schedule = null, GradientClipping? clipping = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(tensors);
        settings.Validate();
        if (arenaLength < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(arenaLength), arenaLength, "Must not be negative.");
        _settings = settings;
        _length = arenaLength;
        _learningRate = settings.LearningRate;
        _segments = new (int, int, bool)[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            ParameterTensor t = tensors[i];
            if (t.Offset < 0 || t.Length < 0 || t.Offset + t.Length > arenaLength)
                ThrowHelper.ThrowArgumentOutOfRange(nameof(tensors), t, $"Tensor {t.Name} lies outside the arena of {arenaLength}.");
            _segments[i] = (t.Offset, t.Length, t.IsWeight);
        }
        if (arenaLength >= KernelParallelism.MinimumSplitElements)
        {
            _split = SplitPoint(arenaLength, _segments);
            _work = new UpdateWork(this);
        }
        _state = new AlignedBuffer<T>[settings.StateSlots];
        for (int i = 0; i < _state.Length; i++) _state[i] = new AlignedBuffer<T>(arenaLength);
        Schedule = schedule ?? LearningRateSchedule.Constant;
        Clipping = clipping ?? GradientClipping.None;
        Reset();
    }

    /// <summary>
    /// The rule and its hyperparameters. May be replaced between steps (hyperparameter search, fine-tuning) by settings of
    /// the same <see cref="OptimizerSettings.Kind"/> and state layout; the state and step count are kept, and the base
    /// <see cref="LearningRate"/> is left as it is (set it separately).
    /// </summary>
    /// <exception cref="ArgumentException">The new settings are invalid or of another kind or state layout.</exception>
    public OptimizerSettings Settings
    {
        get => _settings;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            if (value.Kind != _settings.Kind || value.StateSlots != _settings.StateSlots || value.Centered != _settings.Centered || (value.Momentum > 0) != (_settings.Momentum > 0))
                throw new ArgumentException($"The optimizer is {_settings.Kind} with {_settings.StateSlots} state slots; settings of kind {value.Kind} with {value.StateSlots} cannot replace them.", nameof(value));
            _settings = value;
        }
    }

    private OptimizerSettings _settings;

    /// <summary>The base learning rate η (the schedule scales it per step); positive and finite.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0 && double.IsFinite(value))) ThrowHelper.ThrowArgumentOutOfRange(nameof(value), value, "The learning rate must be positive and finite.");
            _learningRate = value;
        }
    }

    /// <summary>The learning-rate schedule, evaluated at every step.</summary>
    public LearningRateSchedule Schedule
    {
        get => _schedule;
        set { value.Validate(); _schedule = value; }
    }

    /// <summary>Gradient clipping applied in the update pass.</summary>
    public GradientClipping Clipping
    {
        get => _clipping;
        set
        {
            if (!(value.MaxNorm > 0) || !(value.MaxValue > 0)) ThrowHelper.ThrowArgumentOutOfRange(nameof(value), value, "Clipping limits must be positive (+∞ turns a limit off).");
            _clipping = value;
        }
    }

    /// <summary>Updates completed so far (the next update is number StepCount + 1).</summary>
    public long StepCount { get; set; }

    /// <summary>NAdam's running product Π μ_i (1 before the first step).</summary>
    public double MomentumProduct { get; set; }

    /// <summary>The learning rate the last step used (after the schedule).</summary>
    public double CurrentLearningRate { get; private set; }

    /// <summary>The global gradient norm measured by the last step (when norm clipping is on; otherwise NaN).</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>Number of state arenas.</summary>
    public int StateSlots => _state.Length;

    /// <summary>State arena <paramref name="slot"/>: SGD momentum buffer or velocity; AdaGrad sum; RMSProp square average, then gradient average (centered), then momentum buffer; Adam/AdamW/NAdam m then v; AdaDelta square average then delta average.</summary>
    public Span<T> State(int slot) => _state[slot].Span;

    /// <summary>Clears the state and the step count (AdaGrad's accumulator starts at its initial value).</summary>
    public void Reset()
    {
        foreach (AlignedBuffer<T> s in _state) s.Span.Clear();
        if (Settings.Kind == OptimizerKind.AdaGrad && Settings.InitialAccumulator != 0) _state[0].Span.Fill(T.CreateTruncating(Settings.InitialAccumulator));
        StepCount = 0;
        MomentumProduct = 1;
        CurrentLearningRate = _schedule.LearningRate(_learningRate, 0);
    }

    /// <summary>One update of <paramref name="parameters"/> from <paramref name="gradients"/> (both the whole arena).</summary>
    public void Step(Span<T> parameters, ReadOnlySpan<T> gradients)
    {
        ThrowHelper.ThrowIfLengthNotEqual(parameters.Length, _length, nameof(parameters));
        ThrowHelper.ThrowIfLengthNotEqual(gradients.Length, _length, nameof(gradients));
        OptimizerSettings s = Settings;
        long t = StepCount + 1;
        double lr = _schedule.LearningRate(_learningRate, StepCount);
        CurrentLearningRate = lr;

        double scale = 1;
        if (!double.IsPositiveInfinity(_clipping.MaxNorm))
        {
            double norm = Math.Sqrt(Regularization.SumOfSquares<T>(gradients));
            LastGradientNorm = norm;
            scale = Math.Min(1, _clipping.MaxNorm / (norm + 1e-6));
        }
        T tScale = T.CreateTruncating(scale), tClip = T.CreateTruncating(_clipping.MaxValue);
        bool decoupled = s.Kind == OptimizerKind.AdamW;
        double muProduct = MomentumProduct;
        if (s.Kind == OptimizerKind.NAdam) muProduct *= Optimizers.NAdamMu(s.Beta1, s.MomentumDecay, t);

        var step = new StepArguments(s, lr, tScale, tClip, decoupled, t, muProduct);
        if (!(_split > 0 && KernelParallelism.ShouldSplitElements(_length, KernelParallelism.MinimumSplitElements) && KernelParallelism.TryEnter()))
            UpdateRange(parameters, gradients, 0, _length, step);
        else
            _work!.Run(parameters, gradients, step);
        MomentumProduct = muProduct;
        StepCount = t;
    }

    /// <summary>The arguments of one update, computed once per step.</summary>
    private readonly record struct StepArguments(OptimizerSettings Settings, double LearningRate, T Scale, T Clip, bool Decoupled, long Step, double MomentumProduct);

    /// <summary>Updates arena elements [<paramref name="from"/>, <paramref name="to"/>): the part of each segment inside
    /// the range (the kernels are element-wise, so a part of a segment updates exactly as in the whole).</summary>
    private void UpdateRange(Span<T> parameters, ReadOnlySpan<T> gradients, int from, int to, in StepArguments a)
    {
        OptimizerSettings s = a.Settings;
        double baseRate = a.LearningRate, muProduct = a.MomentumProduct;
        T tScale = a.Scale, tClip = a.Clip;
        bool decoupled = a.Decoupled;
        long t = a.Step;
        for (int segment = 0; segment < _segments.Length; segment++)
        {
            (int segmentOffset, int segmentLength, bool isWeight) = _segments[segment];
            double multiplier = _multipliers?[segment] ?? 1.0;
            if ((_frozen is { } frozen && frozen[segment]) || multiplier == 0) continue; // frozen: parameters and state stay
            int offset = Math.Max(segmentOffset, from), length = Math.Min(segmentOffset + segmentLength, to) - offset;
            if (length <= 0) continue;
            double lr = baseRate * multiplier;
            double decay = isWeight ? s.WeightDecay : 0;
            var transform = new GradientTransform<T>(tScale, tClip, decoupled ? T.Zero : T.CreateTruncating(decay), T.Zero);
            Span<T> p = parameters.Slice(offset, length);
            ReadOnlySpan<T> g = gradients.Slice(offset, length);
            switch (s.Kind)
            {
                case OptimizerKind.Sgd:
                    if (s.Momentum == 0) Optimizers.SgdStep(p, g, T.CreateTruncating(lr), transform);
                    else if (s.VelocityForm) Optimizers.VelocityMomentumStep(p, g, Slot(0, offset, length), T.CreateTruncating(lr), T.CreateTruncating(s.Momentum), s.Nesterov, transform);
                    else Optimizers.MomentumStep(p, g, Slot(0, offset, length), T.CreateTruncating(lr), T.CreateTruncating(s.Momentum), T.CreateTruncating(s.Dampening), s.Nesterov, t == 1, transform);
                    break;
                case OptimizerKind.AdaGrad:
                    Optimizers.AdaGradStep(p, g, Slot(0, offset, length), T.CreateTruncating(lr / (1 + (t - 1) * s.LearningRateDecay)), T.CreateTruncating(s.Epsilon), transform);
                    break;
                case OptimizerKind.RmsProp:
                {
                    int slot = 1;
                    Span<T> average = s.Centered ? Slot(slot++, offset, length) : default;
                    Span<T> buffer = s.Momentum > 0 ? Slot(slot, offset, length) : default;
                    Optimizers.RmsPropStep(p, g, Slot(0, offset, length), average, buffer, T.CreateTruncating(lr), T.CreateTruncating(s.Alpha),
                        T.CreateTruncating(s.Epsilon), T.CreateTruncating(s.Momentum), s.Centered, s.EpsilonInsideSqrt, transform);
                    break;
                }
                case OptimizerKind.Adam:
                case OptimizerKind.AdamW:
                    Optimizers.AdamStep(p, g, Slot(0, offset, length), Slot(1, offset, length), lr, s.Beta1, s.Beta2, s.Epsilon, t,
                        decoupled ? 1 - lr * decay : 1, transform);
                    break;
                case OptimizerKind.NAdam:
                    Optimizers.NAdamStep(p, g, Slot(0, offset, length), Slot(1, offset, length), lr, s.Beta1, s.Beta2, s.Epsilon, t, s.MomentumDecay, muProduct, transform);
                    break;
                case OptimizerKind.AdaDelta:
                    Optimizers.AdaDeltaStep(p, g, Slot(0, offset, length), Slot(1, offset, length), T.CreateTruncating(lr), T.CreateTruncating(s.Rho), T.CreateTruncating(s.Epsilon), transform);
                    break;
            }
        }
    }

    private Span<T> Slot(int slot, int offset, int length) => _state[slot].Slice(offset, length);

    private double[]? _multipliers;
    private bool[]? _frozen;

    /// <summary>The segment (parameter tensor) starting at <paramref name="offset"/>.</summary>
    private int Segment(int offset)
    {
        for (int i = 0; i < _segments.Length; i++) if (_segments[i].Offset == offset) return i;
        throw new ArgumentException($"No parameter tensor starts at offset {offset}.", nameof(offset));
    }

    /// <summary>Scales the learning rate of the parameter tensor at <paramref name="offset"/> (default 1; 0: no update).</summary>
    public void SetLearningRateMultiplier(int offset, double multiplier)
    {
        if (!(multiplier >= 0 && double.IsFinite(multiplier))) ThrowHelper.ThrowArgumentOutOfRange(nameof(multiplier), multiplier, "The multiplier must be at least 0 and finite.");
        int segment = Segment(offset);
        if (_multipliers is null)
        {
            _multipliers = new double[_segments.Length];
            Array.Fill(_multipliers, 1.0);
        }
        _multipliers[segment] = multiplier;
    }

    /// <summary>The learning-rate multiplier of the parameter tensor at <paramref name="offset"/>.</summary>
    public double LearningRateMultiplier(int offset) => _multipliers?[Segment(offset)] ?? 1.0;

    /// <summary>Skips (or no longer skips) the parameter tensor at <paramref name="offset"/> in every step: its parameters and
    /// optimizer state stay as they are.</summary>
    public void SetFrozen(int offset, bool frozen) => (_frozen ??= new bool[_segments.Length])[Segment(offset)] = frozen;

    /// <summary>
    /// The first arena element of the second thread's part: about half the arena, moved down to a whole number of
    /// 64-byte blocks from the start of the segment it falls in, so both parts run every element in the same vector
    /// lane or scalar tail as one pass over the segment would (0: never split).
    /// </summary>
    private static int SplitPoint(int length, (int Offset, int Length, bool IsWeight)[] segments)
    {
        int half = length / 2, block = 64 / Unsafe.SizeOf<T>();
        foreach ((int offset, int segmentLength, _) in segments)
            if (half >= offset && half < offset + segmentLength)
                return offset + (half - offset) / block * block;
        return half; // between segments (padding): any point splits no segment
    }

    /// <summary>A step's update split at <see cref="_split"/>: elements below it here, the rest on the worker.</summary>
    private sealed unsafe class UpdateWork(Optimizer<T> optimizer) : ParallelWork
    {
        private T* _parameters, _gradients;
        private StepArguments _arguments;

        public void Run(Span<T> parameters, ReadOnlySpan<T> gradients, in StepArguments arguments)
        {
            fixed (T* p = parameters, g = gradients)
            {
                _parameters = p; _gradients = g; _arguments = arguments;
                try { KernelParallelism.Run(this); }
                finally { _parameters = null; _gradients = null; _arguments = default; }
            }
        }

        internal override void Execute(int part)
        {
            int length = optimizer._length, split = optimizer._split;
            optimizer.UpdateRange(new Span<T>(_parameters, length), new ReadOnlySpan<T>(_gradients, length),
                part == 0 ? 0 : split, part == 0 ? split : length, _arguments);
        }
    }
}
