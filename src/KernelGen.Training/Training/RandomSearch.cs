using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Data;
using KernelGen.Optimization;

namespace KernelGen.Training;

/// <summary>A range sampled log-uniformly: exp(U(ln Min, ln Max)) (CS231n: search learning rates and strengths on a log scale).</summary>
/// <param name="Min">Smallest value, positive.</param>
/// <param name="Max">Largest value, at least <paramref name="Min"/>.</param>
public readonly record struct LogRange(double Min, double Max)
{
    /// <summary>Draws one value.</summary>
    public double Sample(ref KernelRandom random) => Math.Exp(Math.Log(Min) + random.NextDouble() * (Math.Log(Max) - Math.Log(Min)));

    internal void Validate(string name)
    {
        if (!(Min > 0 && Max >= Min && double.IsFinite(Max))) ThrowHelper.ThrowArgumentOutOfRange(name, this, "A log range needs 0 < Min ≤ Max < ∞.");
    }
}

/// <summary>What a random search samples and how it refines.</summary>
public sealed record SearchOptions
{
    /// <summary>Base learning rate η.</summary>
    public LogRange LearningRate { get; init; } = new(1e-4, 1e-1);
    /// <summary>Regularization strength: the optimizer's weight decay (L2 for SGD/Adam, decoupled for AdamW); null: leave it.</summary>
    public LogRange? WeightDecay { get; init; } = new(1e-6, 1e-2);
    /// <summary>1 − β₁ for the Adam family, 1 − μ for SGD with momentum (sampled instead of β so that 0.9, 0.99 and 0.999 are equally likely); null: leave it.</summary>
    public LogRange? OneMinusBeta { get; init; } = new(0.02, 0.5);
    /// <summary>Coarse-to-fine rounds: each round after the first samples within the log-span of the previous round's best trials.</summary>
    public int Rounds { get; init; } = 2;
    /// <summary>Trials per round.</summary>
    public int TrialsPerRound { get; init; } = 8;
    /// <summary>How many of a round's best trials define the next round's ranges.</summary>
    public int KeepBest { get; init; } = 3;
    /// <summary>Training options of every trial (epochs, batch size...); progress is silenced and early stopping is off.
    /// A trial is scored on the validation data with the parameters of its best validation epoch (the trial's network
    /// is thrown away, so restoring them misleads no one) unless <see cref="TrainerOptions.RestoreBestParameters"/> is
    /// false, which scores its last epoch.</summary>
    public TrainerOptions Training { get; init; } = new() { Epochs = 2 };
    /// <summary>Seed of the sampling.</summary>
    public ulong Seed { get; init; }
}

/// <summary>One trial: the sampled hyperparameters and how the network did on the held-out validation data.</summary>
public sealed record SearchTrial(int Round, int Trial, double LearningRate, double WeightDecay, double OneMinusBeta, double ValidationLoss,
    double ValidationAccuracy, StopReason Reason);

/// <summary>The trials of a search, best first (highest validation accuracy, then lowest validation loss).</summary>
public sealed class SearchResult
{
    internal SearchResult(List<SearchTrial> ranked) => Ranked = ranked;

    /// <summary>All trials, best first.</summary>
    public IReadOnlyList<SearchTrial> Ranked { get; }
    /// <summary>The best trial.</summary>
    public SearchTrial Best => Ranked[0];

    /// <summary>A plain-text ranked table.</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine("rank  round  learning rate  weight decay  1−β      val loss  val acc  end");
        for (int i = 0; i < Ranked.Count; i++)
        {
            SearchTrial t = Ranked[i];
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,4}  {t.Round,5}  {t.LearningRate,13:E2}  {t.WeightDecay,12:E2}  {t.OneMinusBeta,7:F3}  {t.ValidationLoss,8:F4}  {t.ValidationAccuracy,7:F4}  {t.Reason}"));
        }
        return text.ToString();
    }
}

/// <summary>
/// Hyperparameter random search (Bergstra and Bengio, 2012: it finds good settings in fewer trials than a grid): sample learning rate,
/// regularization strength and 1 − β log-uniformly, train each candidate briefly, judge it on held-out validation data,
/// and refine coarse to fine.
/// </summary>
public static class RandomSearch
{
    /// <summary>Runs the search; <paramref name="createNetwork"/> makes a fresh network per trial (seed it identically to
    /// compare hyperparameters alone).</summary>
    public static SearchResult Run(Func<ITrainableNetwork<float, int>> createNetwork, Dataset training, Dataset validation, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(createNetwork);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(validation);
        options ??= new SearchOptions();
        if (options.Rounds < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(options.Rounds), options.Rounds, "At least one round.");
        if (options.TrialsPerRound < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(options.TrialsPerRound), options.TrialsPerRound, "At least one trial per round.");
        if (options.KeepBest < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(options.KeepBest), options.KeepBest, "Keep at least one trial.");
        options.LearningRate.Validate(nameof(options.LearningRate));
        options.WeightDecay?.Validate(nameof(options.WeightDecay));
        options.OneMinusBeta?.Validate(nameof(options.OneMinusBeta));

        var random = new KernelRandom(options.Seed, 0x5EA4C4);
        LogRange rate = options.LearningRate;
        LogRange? decay = options.WeightDecay, beta = options.OneMinusBeta;
        var all = new List<SearchTrial>();
        TrainerOptions training0 = options.Training with { Progress = null, Patience = 0, RestoreBestParameters = options.Training.RestoreBestParameters ?? true };
        for (int round = 1; round <= options.Rounds; round++)
        {
            var trials = new List<SearchTrial>();
            for (int t = 1; t <= options.TrialsPerRound; t++)
            {
                ITrainableNetwork<float, int> network = createNetwork();
                Optimizer<float> optimizer = network.Optimizer;
                double lr = rate.Sample(ref random);
                double wd = decay is { } d ? d.Sample(ref random) : optimizer.Settings.WeightDecay;
                double oneMinusBeta = double.NaN;
                OptimizerSettings settings = optimizer.Settings with { WeightDecay = wd };
                if (beta is { } b)
                {
                    double sample = b.Sample(ref random);
                    if (settings.Kind is OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.NAdam) { settings = settings with { Beta1 = 1 - sample }; oneMinusBeta = sample; }
                    else if (settings.Kind == OptimizerKind.Sgd && settings.Momentum > 0) { settings = settings with { Momentum = 1 - sample }; oneMinusBeta = sample; }
                }
                optimizer.Settings = settings;
                network.LearningRate = (float)lr;
                TrainingResult result = new Trainer(network, training0).Fit(training, validation);
                Evaluation score = result.Reason == StopReason.Exploded ? new Evaluation(double.PositiveInfinity, 0) : Trainer.Evaluate(network, validation);
                trials.Add(new SearchTrial(round, t, lr, wd, oneMinusBeta, score.Loss, score.Accuracy, result.Reason));
            }
            all.AddRange(trials);
            trials.Sort(Compare);
            // Next round: the log-span of the best trials, widened by a factor 2 each way.
            int keep = Math.Min(options.KeepBest, trials.Count);
            rate = Span(trials, keep, x => x.LearningRate);
            if (decay is not null) decay = Span(trials, keep, x => x.WeightDecay);
            if (beta is not null && !double.IsNaN(trials[0].OneMinusBeta)) beta = Clamp(Span(trials, keep, x => x.OneMinusBeta), 0.999);
        }
        all.Sort(Compare);
        return new SearchResult(all);
    }

    private static int Compare(SearchTrial a, SearchTrial b)
    {
        int c = b.ValidationAccuracy.CompareTo(a.ValidationAccuracy);
        return c != 0 ? c : a.ValidationLoss.CompareTo(b.ValidationLoss);
    }

    private static LogRange Span(List<SearchTrial> sorted, int keep, Func<SearchTrial, double> value)
    {
        double lo = double.PositiveInfinity, hi = 0;
        for (int i = 0; i < keep; i++) { double v = value(sorted[i]); lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        return new LogRange(lo / 2, hi * 2);
    }

    private static LogRange Clamp(LogRange range, double max) => new(Math.Min(range.Min, max), Math.Min(range.Max, max));
}
