using System;
using System.Globalization;
using KernelGen.Training;
using Spectre.Console;

namespace KernelGen.Demo;

/// <summary>
/// Renders a trainer's progress reports: a live progress bar (epoch, batch, running loss, throughput, time left) on an
/// interactive terminal, and a plain line every <see cref="LogEvery"/> epochs (and for the last) everywhere, with losses
/// to six significant digits.
/// </summary>
internal sealed class TrainingDisplay(string title, int logEvery) : IProgress<TrainingProgress>
{
    private ProgressTask? _task;

    /// <summary>Epochs between two printed lines (the last epoch is always printed).</summary>
    public int LogEvery { get; } = Math.Max(1, logEvery);

    /// <summary>Runs <paramref name="fit"/> under the live display when the terminal is interactive.</summary>
    public TrainingResult Run(Func<TrainingResult> fit)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive) return fit();
        TrainingResult result = null!;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                _task = context.AddTask(Markup.Escape(title));
                result = fit();
                _task.StopTask();
            });
        _task = null;
        return result;
    }

    /// <inheritdoc/>
    public void Report(TrainingProgress p)
    {
        if (_task is { } task)
        {
            task.MaxValue = (double)p.Epochs * p.BatchesPerEpoch;
            task.Value = (double)(p.Epoch - 1) * p.BatchesPerEpoch + p.Batch;
            task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{title}: epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.BatchesPerEpoch}, loss {p.Loss:G6}, {p.SamplesPerSecond:N0} samples/s"));
        }
        if (p.EpochEnd is { } m && (m.Epoch % LogEvery == 0 || m.Epoch == p.Epochs))
        {
            string validation = double.IsNaN(m.ValidationLoss) ? "" : string.Create(CultureInfo.InvariantCulture, $"  validation loss {m.ValidationLoss:G6} accuracy {m.ValidationAccuracy:F4}");
            string line = string.Create(CultureInfo.InvariantCulture,
                $"epoch {m.Epoch}/{p.Epochs}  loss {m.TrainingLoss:G6} accuracy {m.TrainingAccuracy:F4}{validation}  lr {m.LearningRate:G4}  {m.Seconds:F3} s");
            if (_task is not null) AnsiConsole.WriteLine(line); else Console.WriteLine(line);
        }
    }
}
