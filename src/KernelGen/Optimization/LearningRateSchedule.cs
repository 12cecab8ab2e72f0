using System;

namespace KernelGen.Optimization;

/// <summary>Schedule shapes.</summary>
public enum ScheduleKind
{
    /// <summary>η_t = η.</summary>
    Constant,
    /// <summary>Step decay: η_t = η·γ^⌊t / stepSize⌋.</summary>
    StepDecay,
    /// <summary>Exponential decay: η_t = η·γ^t.</summary>
    Exponential,
    /// <summary>1/t decay: η_t = η / (1 + k·t).</summary>
    InverseTime,
    /// <summary>
    /// Cosine annealing as PyTorch's <c>CosineAnnealingLR</c>: η_t = η_min + ½(η − η_min)(1 + cos(π·t/T)) for every t. It
    /// reaches η_min at t = T and, past T, keeps following the cosine: back up to η at 2T, periodic with period 2T
    /// (PyTorch's recursive form and its closed form agree on this). To stay at η_min after T, use
    /// <see cref="CosineThenMinimum"/>; for restarts that jump back to η, <see cref="WarmRestarts"/>.
    /// </summary>
    Cosine,
    /// <summary>SGDR warm restarts: cosine annealing over periods T_0, T_0·m, T_0·m², … (PyTorch's CosineAnnealingWarmRestarts).</summary>
    WarmRestarts,
    /// <summary>Cosine annealing that stops at its minimum: η_t = η_min + ½(η − η_min)(1 + cos(π·t/T)) for t ≤ T, then
    /// η_min (not a PyTorch scheduler; the shape of a run that anneals once and then fine-tunes at η_min).</summary>
    CosineThenMinimum,
}

/// <summary>
/// A learning-rate schedule evaluated per optimizer step t = 0, 1, 2, … (t counts completed updates), with an optional
/// linear warm-up: for t &lt; W, η_t = η·(s + (1 − s)·t/W), after which the schedule runs on t − W. A value type
/// evaluated without allocation; any schedule works with any optimizer.
/// </summary>
public readonly record struct LearningRateSchedule(ScheduleKind Kind, double Period, double Factor, double MinimumRate, long WarmupSteps, double WarmupStartFactor)
{
    /// <summary>η_t = η.</summary>
    public static LearningRateSchedule Constant => new(ScheduleKind.Constant, 0, 1, 0, 0, 0);

    /// <summary>η·γ^⌊t/stepSize⌋ (PyTorch StepLR).</summary>
    public static LearningRateSchedule StepDecay(long stepSize, double gamma = 0.1) => new(ScheduleKind.StepDecay, stepSize, gamma, 0, 0, 0);

    /// <summary>η·γ^t (PyTorch ExponentialLR).</summary>
    public static LearningRateSchedule Exponential(double gamma) => new(ScheduleKind.Exponential, 0, gamma, 0, 0, 0);

    /// <summary>η/(1 + k·t) (1/t decay).</summary>
    public static LearningRateSchedule InverseTime(double k) => new(ScheduleKind.InverseTime, 0, k, 0, 0, 0);

    /// <summary>Cosine annealing from η to <paramref name="minimumRate"/> over <paramref name="period"/> steps and, past
    /// them, on along the cosine (back to η at twice the period): PyTorch's CosineAnnealingLR (see <see cref="ScheduleKind.Cosine"/>).</summary>
    public static LearningRateSchedule Cosine(long period, double minimumRate = 0) => new(ScheduleKind.Cosine, period, 1, minimumRate, 0, 0);

    /// <summary>Cosine annealing from η to <paramref name="minimumRate"/> over <paramref name="period"/> steps, then
    /// <paramref name="minimumRate"/> for good (see <see cref="ScheduleKind.CosineThenMinimum"/>).</summary>
    public static LearningRateSchedule CosineThenMinimum(long period, double minimumRate = 0) => new(ScheduleKind.CosineThenMinimum, period, 1, minimumRate, 0, 0);

    /// <summary>SGDR: cosine cycles of <paramref name="firstPeriod"/>·<paramref name="periodMultiplier"/>^i steps (PyTorch CosineAnnealingWarmRestarts).</summary>
    public static LearningRateSchedule WarmRestarts(long firstPeriod, double periodMultiplier = 1, double minimumRate = 0) =>
        new(ScheduleKind.WarmRestarts, firstPeriod, periodMultiplier, minimumRate, 0, 0);

    /// <summary>This schedule preceded by <paramref name="steps"/> of linear warm-up from <paramref name="startFactor"/>·η.</summary>
    public LearningRateSchedule WithWarmup(long steps, double startFactor = 0) => this with { WarmupSteps = steps, WarmupStartFactor = startFactor };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for parameters outside their ranges.</summary>
    public void Validate()
    {
        bool ok = Kind switch
        {
            ScheduleKind.Constant => true,
            ScheduleKind.StepDecay => Period >= 1 && Factor > 0 && Factor <= 1,
            ScheduleKind.Exponential => Factor > 0 && Factor <= 1,
            ScheduleKind.InverseTime => Factor >= 0 && double.IsFinite(Factor),
            ScheduleKind.Cosine or ScheduleKind.CosineThenMinimum => Period >= 1 && MinimumRate >= 0,
            ScheduleKind.WarmRestarts => Period >= 1 && Factor >= 1 && double.IsFinite(Factor) && MinimumRate >= 0,
            _ => false,
        };
        if (!ok) ThrowHelper.ThrowArgumentOutOfRange(nameof(LearningRateSchedule), this, "Schedule parameters out of range.");
        if (WarmupSteps < 0 || !(WarmupStartFactor >= 0 && WarmupStartFactor <= 1))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(WarmupSteps), this, "Warm-up needs steps ≥ 0 and a start factor in [0, 1].");
    }

    /// <summary>The learning rate for update number <paramref name="step"/> (0 for the first update) given the base rate.</summary>
    public double LearningRate(double baseRate, long step)
    {
        if (step < WarmupSteps) return baseRate * (WarmupStartFactor + (1 - WarmupStartFactor) * step / WarmupSteps);
        long t = step - WarmupSteps;
        switch (Kind)
        {
            case ScheduleKind.StepDecay: return baseRate * Math.Pow(Factor, Math.Floor(t / Period));
            case ScheduleKind.Exponential: return baseRate * Math.Pow(Factor, t);
            case ScheduleKind.InverseTime: return baseRate / (1 + Factor * t);
            case ScheduleKind.Cosine:
                // Periodic: cos(π·t/T) for every t, as PyTorch (η_min at T, η again at 2T, …).
                return MinimumRate + 0.5 * (baseRate - MinimumRate) * (1 + Math.Cos(Math.PI * t / Period));
            case ScheduleKind.CosineThenMinimum:
                return t >= Period ? MinimumRate : MinimumRate + 0.5 * (baseRate - MinimumRate) * (1 + Math.Cos(Math.PI * t / Period));
            case ScheduleKind.WarmRestarts:
            {
                double period = Period, current = t;
                if (Factor == 1) current = t % (long)Period;
                else
                {
                    // Cycle i spans T_0·m^i steps; find the cycle containing t.
                    int cycle = (int)Math.Floor(Math.Log(t / Period * (Factor - 1) + 1, Factor));
                    double t0 = Period, m = Factor;
                    double Start(int i) => t0 * (Math.Pow(m, i) - 1) / (m - 1);
                    // The logarithm may land one cycle off at a boundary: settle it exactly.
                    while (cycle > 0 && Start(cycle) > t) cycle--;
                    while (Start(cycle + 1) <= t) cycle++;
                    period = Period * Math.Pow(Factor, cycle);
                    current = t - Start(cycle);
                }
                return MinimumRate + 0.5 * (baseRate - MinimumRate) * (1 + Math.Cos(Math.PI * current / period));
            }
            default: return baseRate;
        }
    }
}
